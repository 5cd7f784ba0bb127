"""Reveal: the one way a full number, name or ID number leaves the desk.

A reveal names the field, a reason code from a fixed list and free text; the server
checks the caller's role, that the case is open and that the subject is linked to it,
records it in the audit chain and answers the value once.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from linkdesk.domain.permissions import Permission


class RevealField(enum.StrEnum):
    PHONE = "phone"
    """The case's number, or with ``binding`` the number of one of the borrower's bindings."""
    NAME = "name"
    """The case's borrower's name."""
    ID_NUMBER = "id_number"
    """The case's borrower's national ID number."""


REVEAL_PERMISSION: dict[RevealField, Permission] = {
    RevealField.PHONE: Permission.REVEAL_PHONE,
    RevealField.NAME: Permission.REVEAL_NAME,
    RevealField.ID_NUMBER: Permission.REVEAL_ID_NUMBER,
}


class RevealReason(enum.StrEnum):
    BORROWER_ON_LINE = "borrower_on_line"
    """The borrower is on the line and the agent must read the value back to them."""
    IDENTITY_VERIFICATION = "identity_verification"
    """Comparing what a caller states with what the desk holds."""
    PRIVACY_REQUEST = "privacy_request"
    """Fulfilling a data subject's access, copy or correction request (PIPL arts. 45–46)."""
    LEGAL_REQUEST = "legal_request"
    """A court, police or regulator's written request."""
    INCIDENT_INVESTIGATION = "incident_investigation"
    """Investigating a suspected leak or misuse."""
    FRAUD_INVESTIGATION = "fraud_investigation"
    """Investigating impersonation or a loan taken with someone else's number."""


Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=500)]


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: RevealField
    binding: Annotated[str | None, StringConstraints(max_length=32)] = None
    """For ``phone``: a binding of the case's borrower (``P-12``) instead of the case's number."""
    reason: RevealReason
    note: Note
    """Why, in the agent's words (at least 4 characters): recorded with the reveal."""

    @model_validator(mode="after")
    def _binding_only_with_phone(self) -> RevealRequest:
        if self.binding is not None and self.field is not RevealField.PHONE:
            raise ValueError("binding goes with field 'phone' only")
        return self


class Revealed(BaseModel):
    """The value, once. The console shows it for ``display_seconds`` and forgets it."""

    model_config = ConfigDict(frozen=True)

    field: RevealField
    binding: str | None = None
    value: str = Field(repr=False)
    """Never in a repr: a log line or a traceback must not print it."""
    audit_seq: int
    """The audit record of this reveal."""
    display_seconds: int = Field(ge=1)
