"""Engines, sessions and migrations.

The schema is made and upgraded only by the Alembic migrations in
``linkdesk/server/migrations`` (never ``create_all``): call :func:`migrate` before
serving a database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def dialect_of(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def migrate(database_url: str | None = None, *, engine: Engine | None = None) -> None:
    """Create or upgrade the database to the newest schema (``alembic upgrade head``)."""
    from alembic import command

    if engine is None:
        if database_url is None:
            raise ValueError("migrate needs a database URL or an engine")
        owned = make_engine(database_url)
    else:
        owned = None
    try:
        with (engine or owned).begin() as connection:  # type: ignore[union-attr]
            command.upgrade(alembic_config(connection), "head")
    finally:
        if owned is not None:
            owned.dispose()


def refresh_statistics(engine: Engine) -> None:
    """Give SQLite's planner fresh statistics (a bounded ANALYZE: ~50 ms at 1M cases).

    Without them it takes ``is_open = 1`` for a selective condition and walks an inbox
    index where fetching a search's few matches by rowid is a hundred times faster.
    PostgreSQL keeps its own statistics (autovacuum).
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA analysis_limit=1000")
        connection.exec_driver_sql("ANALYZE")
