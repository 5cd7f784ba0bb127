"""How a desk server is configured. A plain model: the CLI reads files and env, not us."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class ServerSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    database_url: str
    """``sqlite:///path/desk.db`` or ``postgresql+psycopg://user@host/db``."""
    key_file: Path | None = None
    """Where the master keys live (``<version> <base64>`` lines); created (mode 0600) with
    one key for a new desk, never for a desk that already has data under keys."""
    master_key: str | None = None
    """Base64 of 32 bytes (version 1), or ``1:<b64>,2:<b64>``; wins over ``key_file``."""
    local_agent: bool = True
    """True for the embedded desk: a request without a token runs as ``local`` (admin).
    False for ``linkdesk serve``: every request needs a bearer token."""
    thread_limit: int = 4
    """Worker threads for the sync endpoints (SQLite collapses with many threads)."""
    checkpoint_dir: Path | None = None
    """Where signed checkpoints of the audit chain's head are written and read
    (``linkdesk audit checkpoint``, ``linkdesk audit verify``, ``POST /audit/verify``):
    every file in it is checked on verification. ``None``: no checkpoints unless a
    command names a folder. Must be outside the database; better on other media."""
    index_planning_rows: int = 1_000_000
    """The least number of numbers (bindings + cases) a blind index is planned for: a key
    version registered on a small desk still gets an index length fit for growth."""
