"""How a desk server is configured. A plain model: the CLI reads files and env, not us."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IntelProviderName = Literal["sandbox", "aliyun", "twilio"]


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
    intel_provider: IntelProviderName = "sandbox"
    """Who answers phone-intelligence checks: ``sandbox`` (the desk's own number-lifecycle
    registry, the default), ``aliyun`` or ``twilio`` (credentials from their
    ``LINKDESK_ALIYUN_*`` / ``LINKDESK_TWILIO_*`` variables)."""
    intel_timeout: float = Field(default=8.0, gt=0, le=60)
    """Seconds a check of one number may take before it is reported unavailable; under the
    console's 10 s request timeout, so a slow provider never looks like a dead desk."""
    risk_policy: Path | None = None
    """A TOML risk policy merged over the packaged one (``LINKDESK_RISK_POLICY``)."""
    sla_policy: Path | None = None
    """A TOML SLA policy merged over the packaged one (``LINKDESK_SLA_POLICY``; docs/sla.md)."""
    sla_sweep_every: float = Field(default=60.0, ge=0)
    """Seconds between the SLA breach sweeps (0: none). Every desk process sweeps; a
    conditional update keeps each breach to one timeline event."""
    monitor_every: float = Field(default=0.0, ge=0)
    """Minutes between the monitor's passes in ``linkdesk serve`` (0: no monitor). Only
    the process holding the monitor lease checks, however many workers or servers run."""
    monitor_recheck_after: float = Field(default=24 * 60.0, ge=0)
    """Minutes after which a binding's number is due to be checked again."""
    monitor_batch: int = Field(default=100, ge=1, le=10_000)
    """Bindings checked per batch (one short transaction each)."""
