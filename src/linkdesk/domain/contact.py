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


class ContactCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    binding: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = Field(
        default=None, description="``P-12``: check that binding's number instead of the case's"
    )


class ContactCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    allowed: bool
    rule: ContactRule | None = None
    """The rule that refuses contact; None when allowed."""
    detail: str
    """Why, in words (the number only masked)."""
