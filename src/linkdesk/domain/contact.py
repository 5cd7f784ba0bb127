"""The do-not-contact list and the contact check every contact action goes through."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class DoNotContactReason(enum.StrEnum):
    REASSIGNED = "reassigned"
    """The number was re-issued to someone else: calls would reach a stranger."""
    THIRD_PARTY_COMPLAINT = "third_party_complaint"
    """Whoever answers the number is not the borrower and asked not to be contacted."""


class DoNotContact(BaseModel):
    """One entry of the list; the number only masked."""

    model_config = ConfigDict(frozen=True)

    id: int
    phone: str
    """Masked, ``138****1234``."""
    reason: DoNotContactReason
    note: str = ""
    added_by: str
    """The agent, or ``system:monitor`` for the monitor."""
    added_at: datetime
    case: str | None = None
    """The case it was added under, ``LD-000123``."""
    binding: str | None = None
    """The binding whose number it is, ``P-12``."""


Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class DoNotContactCreate(BaseModel):
    """Put the number of a case (or of one of its borrower's bindings) on the list."""

    model_config = ConfigDict(extra="forbid")

    case: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    binding: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = Field(
        default=None, description="``P-12``: that binding's number instead of the case's own"
    )
    reason: DoNotContactReason
    note: Note = ""


class ContactRule(enum.StrEnum):
    """Why contact is refused."""

    DO_NOT_CONTACT = "do_not_contact"
    """The number is on the do-not-contact list."""
    STOP_CONTACT = "stop_contact"
    """The number's risk assessment says contact must stop (re-issued since binding)."""
    BINDING_INACTIVE = "binding_inactive"
    """The binding is no longer the borrower's (unbound or reassigned)."""
    NO_NUMBER = "no_number"
    """There is no number to contact, or it cannot be read."""
    NOT_DEBTOR = "not_debtor"
    """Collection contacts the debtor only, never relatives, friends, employers."""
    QUIET_HOURS = "quiet_hours"
    """No contact between 22:00 and 08:00 local time."""
    DAILY_CALL_LIMIT = "daily_call_limit"
    """At most 3 connected calls a (local) day to a borrower."""


class ContactChannel(enum.StrEnum):
    CALL = "call"
    SMS = "sms"
    APP_MESSAGE = "app_message"


class ContactParty(enum.StrEnum):
    """Who is (or would be) contacted: only the debtor may be, for collection."""

    DEBTOR = "debtor"
    THIRD_PARTY = "third_party"
    EMERGENCY_CONTACT = "emergency_contact"
    FAMILY = "family"
    EMPLOYER = "employer"


class ContactDirection(enum.StrEnum):
    OUTBOUND = "outbound"
    """The desk contacts the borrower: every rule applies."""
    INBOUND = "inbound"
    """The borrower contacted the desk: logged as it happened, no rule refuses it."""


class ContactOutcome(enum.StrEnum):
    CONNECTED = "connected"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REFUSED = "refused"
    """The borrower declined the call or the conversation."""
    VOICEMAIL = "voicemail"
    DELIVERED = "delivered"
    FAILED = "failed"


BindingRef = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]


class ContactCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    binding: BindingRef | None = Field(
        default=None, description="``P-12``: check that binding's number instead of the case's"
    )
    channel: ContactChannel = ContactChannel.CALL
    party: ContactParty = ContactParty.DEBTOR
    direction: ContactDirection = ContactDirection.OUTBOUND


class ContactCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    rule: ContactRule | None = None
    """The rule that refuses contact; None when allowed."""
    detail: str
    """Why, in words (the number only masked)."""
    binding: str | None = None
    """The binding whose number was checked (``P-12``), if the number is a binding's."""
    allowed_from: datetime | None = None
    """For ``quiet_hours`` (and ``daily_call_limit``): when contact becomes allowed again."""


class ContactCreate(BaseModel):
    """``POST /cases/{ref}/contacts``: one contact, logged at the desk's time."""

    model_config = ConfigDict(extra="forbid")

    channel: ContactChannel
    party: ContactParty = ContactParty.DEBTOR
    direction: ContactDirection = ContactDirection.OUTBOUND
    outcome: ContactOutcome
    binding: BindingRef | None = Field(
        default=None, description="``P-12``: the number used (default the case's, else the active one)"
    )
    note: Note = ""


class ContactEntry(BaseModel):
    """One line of a borrower's contact log; the number only by binding and masked."""

    model_config = ConfigDict(frozen=True)

    id: int
    case: str
    borrower: str | None = None
    binding: str | None = None
    phone: str | None = None
    """Masked, ``138****1234``."""
    channel: ContactChannel
    party: ContactParty
    direction: ContactDirection
    outcome: ContactOutcome
    note: str = ""
    agent: str
    contacted_at: datetime


class MaskedCallCreate(BaseModel):
    """``POST /cases/{ref}/masked-calls``: a privacy number X linking the agent's line (A)
    to the borrower's number (B) until it expires."""

    model_config = ConfigDict(extra="forbid")

    binding: BindingRef | None = Field(
        default=None, description="``P-12``: the borrower's number to reach (default the case's binding)"
    )
    agent_line: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)]
    """The agent's own work number: only calls from it through X reach the borrower."""
    expires_in: int = Field(default=30, ge=2, le=24 * 60)
    """Minutes until the privacy number stops connecting: 2 to 1440 (24 hours); providers
    refuse an expiry less than a minute ahead."""


class MaskedCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    case: str
    binding: str | None = None
    phone: str | None = None
    """The borrower's number, masked."""
    secret_no: str
    """The privacy number X the agent dials."""
    subscription_id: str
    provider: str
    agent: str
    agent_line: str
    """The agent's line, masked."""
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    active: bool


class MaskedCallList(BaseModel):
    items: list[MaskedCall]
