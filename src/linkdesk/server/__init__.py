"""The desk API: FastAPI app, SQLAlchemy store with Alembic migrations, field encryption.

Callers (the CLI, tests) use::

    from linkdesk.server.settings import ServerSettings
    from linkdesk.server.db import migrate, make_engine, make_session_factory
    from linkdesk.server.app import create_app
"""
