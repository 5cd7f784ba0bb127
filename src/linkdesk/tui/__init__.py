"""The Textual console of LinkDesk.

Importing this package stays light: no server stack (FastAPI, SQLAlchemy, uvicorn)
sits on the path to the first inbox rows.
"""
