"""How a desk server is configured. A plain model: the CLI reads files and env, not us."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str
    """``sqlite:///path/desk.db`` or ``postgresql+psycopg://user@host/db``."""
    key_file: Path | None = None
    """Where the master key lives; created (mode 0600) on first use."""
    master_key: str | None = None
    """Base64 of 32 bytes; wins over ``key_file``."""
    local_agent: bool = True
    """True for the embedded desk: a request without a token runs as ``local`` (admin).
    False for ``linkdesk serve``: every request needs a bearer token."""
    thread_limit: int = 4
    """Worker threads for the sync endpoints (SQLite collapses with many threads)."""
