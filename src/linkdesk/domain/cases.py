"""Cases, their events and the shapes in which they are created and changed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from linkdesk.domain.agents import AgentRef
from linkdesk.domain.borrowers import Borrower


class CaseCategory(enum.StrEnum):
    REBIND = "rebind"
    RECYCLED_NUMBER = "recycled_number"
    IMPERSONATION = "impersonation"
    UNREACHABLE = "unreachable"
    PRIVACY_REQUEST = "privacy_request"
    PRIVACY_INCIDENT = "privacy_incident"
    RISK_ALERT = "risk_alert"
    EXPOSURE = "exposure"


class CaseStatus(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for urgent … 3 for low: sorts most pressing first."""
        return list(Priority).index(self)


class EventKind(enum.StrEnum):
    CREATED = "created"
    COMMENT = "comment"
    NOTE = "note"
    STATUS = "status"
    PRIORITY = "priority"
    ASSIGNMENT = "assignment"
    SUBJECT = "subject"
    INTEL = "intel"
    REVEAL = "reveal"
    REBIND = "rebind"
    UNBIND = "unbind"
    """A binding ended (reassigned number, lost SIM) outside a rebind."""
    SLA_BREACH = "sla_breach"
    """A first-response or resolution target passed with the case still waiting."""
    SLA_PAUSE = "sla_pause"
    """The SLA clock stopped (pending on the customer) or started again."""
    CONTACT = "contact"
    """Contact with the borrower logged, or refused by a compliance rule."""
    MASKED_CALL = "masked_call"
    PLAYBOOK = "playbook"
    """A step of the recycled-number playbook."""
    CORRECTION = "correction"
    EXPORT = "export"
    DELETION = "deletion"
    LEGAL_HOLD = "legal_hold"
    TAGS = "tags"


Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(max_length=20_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class CaseSummary(BaseModel):
    """One inbox row: everything masked, nothing heavy."""

    model_config = ConfigDict(frozen=True)

    ref: str
    category: CaseCategory
    status: CaseStatus
    priority: Priority
    subject: str
    borrower_name: str | None = None
    phone: str | None = None
    assignee: str | None = None
    risk: int | None = None
    """The highest current risk score (0–100) of the case's numbers; None until scored."""
    sla_due_at: datetime
    """When the resolution is due (business time, moved out by pauses; docs/sla.md)."""
    first_response_due_at: datetime | None = None
    """When the first public reply is due; None for cases from before SLAs."""
    first_responded_at: datetime | None = None
    sla_paused: bool = False
    """Pending on the customer: the SLA clocks are stopped."""
    sla_soon_at: datetime | None = None
    """From when the resolution counts as due soon (the policy's ``soon_hours`` of
    business time before ``sla_due_at``): the console colours by it without a calendar."""
    created_at: datetime
    updated_at: datetime


class Case(BaseModel):
    """A case as the case screen shows it; ``version`` is the ETag for updates."""

    model_config = ConfigDict(frozen=True)

    ref: str
    category: CaseCategory
    status: CaseStatus
    priority: Priority
    subject: str
    body: str = ""
    borrower: Borrower | None = None
    phone: str | None = None
    assignee: AgentRef | None = None
    tags: list[str] = Field(default_factory=list)
    risk: int | None = None
    """The highest current risk score of the borrower's active numbers and the case's own
    number (see ``GET /cases/{ref}/intel`` for the signals); None until scored."""
    sla_due_at: datetime
    """When the resolution is due (business time, moved out by pauses; docs/sla.md)."""
    first_response_due_at: datetime | None = None
    """When the first public reply is due; None for cases from before SLAs."""
    first_responded_at: datetime | None = None
    sla_paused: bool = False
    """Pending on the customer: the SLA clocks are stopped."""
    sla_soon_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: CaseCategory
    subject: Subject
    body: Body = ""
    priority: Priority = Priority.NORMAL
    phone: str | None = Field(
        default=None, description="The borrower's number, any common format; looked up, never echoed"
    )
    borrower: str | None = Field(default=None, description="Borrower ref, e.g. B-000042")
    assignee: str | None = Field(default=None, description="Agent name")
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )


class CasePatch(BaseModel):
    """Fields to change; absent fields stay. ``assignee: null`` unassigns."""

    model_config = ConfigDict(extra="forbid")

    status: CaseStatus | None = None
    priority: Priority | None = None
    subject: Subject | None = None
    assignee: str | None = None
    tags: list[Tag] | None = Field(
        default=None, max_length=20, description="The whole new list of tags"
    )


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Annotated[EventKind, Field(description="comment (public) or note (internal)")]
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]


class CaseEvent(BaseModel):
    """One timeline entry."""

    model_config = ConfigDict(frozen=True)

    id: int
    case_ref: str
    kind: EventKind
    actor: str | None = None
    body: str = ""
    data: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    internal: bool = False
    created_at: datetime
