"""What phone intelligence says about a number, in one shape whatever the provider.

Every field can be *unknown*, and unknown is an answer, never a guess: a provider that
cannot tell says so, and the risk engine treats unknown as no evidence either way.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class LineStatus(enum.StrEnum):
    NORMAL = "normal"
    SHUT_DOWN = "shut_down"
    """停机: barred by the carrier (unpaid, suspended, reported lost)."""
    POWER_OFF = "power_off"
    EMPTY = "empty"
    """空号: the number is not in service (cancelled, never issued)."""
    BUSY = "busy"
    ABNORMAL = "abnormal"
    UNKNOWN = "unknown"


class Tenure(enum.StrEnum):
    """How long the number has been with its current holder (在网时长), in buckets as
    carriers answer: [0,3) months, [3,6), [6,12), [12,24), 24 and more."""

    UNDER_3M = "under_3m"
    M3_TO_6 = "3_to_6m"
    M6_TO_12 = "6_to_12m"
    M12_TO_24 = "12_to_24m"
    OVER_24M = "over_24m"
    UNKNOWN = "unknown"


class Reassigned(enum.StrEnum):
    """Was the number cancelled and issued to someone else since the reference date?"""

    YES = "yes"
    NO = "no"
    CANCELLED = "cancelled"
    """Cancelled and not (yet) re-issued."""
    UNKNOWN = "unknown"


class IdentityMatch(enum.StrEnum):
    """Three-element check (name + ID number + phone number)."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_FOUND = "not_found"
    UNKNOWN = "unknown"


class Identity(BaseModel):
    """Who the number should belong to, for a three-element check. Plain values: they
    exist only inside the server, on their way to a provider (hashed where it allows)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(repr=False)
    id_number: str = Field(repr=False)


class IntelReport(BaseModel):
    """One provider's answer about one number, for one reference date."""

    model_config = ConfigDict(frozen=True)

    provider: str
    """``sandbox``, ``aliyun``, ``twilio``."""
    checked_at: datetime
    reference_date: date
    """The date the question was asked about: usually when the number was bound."""
    line_status: LineStatus = LineStatus.UNKNOWN
    tenure: Tenure = Tenure.UNKNOWN
    reassigned: Reassigned = Reassigned.UNKNOWN
    """Since ``reference_date``."""
    virtual: bool | None = None
    """A virtual or privacy number (虚拟号/小号, non-fixed VoIP)."""
    ported: bool | None = None
    """Moved to another carrier (携号转网)."""
    carrier: str | None = None
    """The current carrier (after porting), e.g. ``China Mobile``."""
    region: str | None = None
    recent_port_or_swap: bool | None = None
    """A port or SIM swap within the provider's recent window."""
    identity: IdentityMatch | None = None
    """``None`` when no three-element check was asked for."""
    unavailable: list[str] = Field(default_factory=list)
    """Checks the provider could not answer this time (rate limit, not supported…), so
    that "unknown because it failed" can be told from "unknown because no data"."""


class IntelUnavailable(Exception):
    """No answer at all: the provider is down, refused, or its circuit is open."""

    def __init__(self, provider: str, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.retry_after = retry_after
