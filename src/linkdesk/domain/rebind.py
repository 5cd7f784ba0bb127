"""Rebinds (phone change, lost SIM): verification factors and the policy that decides.

Pure: the server records factors and asks :func:`decide`; the console shows the answer.

Independence rule. Every factor rests on one piece of evidence, its *group*:

* ``new_number`` — ``three_element`` (the carrier's register of the new number names the
  borrower) and ``otp_new`` (whoever answers the new number read back the code). Both
  only show that the new number is the borrower's; a thief holding the new SIM, or a
  register entry made with stolen papers, defeats both at once: they count as one.
* ``old_number`` — ``otp_old`` (a code sent to the old number, while it still works).
* ``id_document``, ``bank_card``, ``video`` — each its own group: none rests on either
  number.

A rebind may complete when the factors that passed (the latest record of each kind
counts) cover **at least two groups**, one of which is ``new_number`` (the new number
must be shown to be the borrower's — otherwise the desk would bind a number nobody
verified) and one of which is not (so at least one factor is independent of the new
number). Failed factors never count.

Four eyes. A supervisor other than the requester must also approve when any of these
holds (:class:`ApprovalTrigger`): the borrower's risk score is at the policy's *high*
level or above, the new number is actively bound to another borrower, the borrower was
rebound already within the last 90 days, or the three-element check failed (the number
is registered to someone else, although other factors passed).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CODE_DIGITS = 6
CODE_TTL_SECONDS = 5 * 60
CODE_MAX_ATTEMPTS = 5
CODE_RESEND_SECONDS = 60
MIN_NOTE = 4
REBIND_WINDOW_DAYS = 90


class FactorKind(enum.StrEnum):
    THREE_ELEMENT = "three_element"
    OTP_NEW = "otp_new"
    OTP_OLD = "otp_old"
    ID_DOCUMENT = "id_document"
    BANK_CARD = "bank_card"
    VIDEO = "video"


class FactorGroup(enum.StrEnum):
    NEW_NUMBER = "new_number"
    OLD_NUMBER = "old_number"
    ID_DOCUMENT = "id_document"
    BANK_CARD = "bank_card"
    VIDEO = "video"


GROUP_OF: dict[FactorKind, FactorGroup] = {
    FactorKind.THREE_ELEMENT: FactorGroup.NEW_NUMBER,
    FactorKind.OTP_NEW: FactorGroup.NEW_NUMBER,
    FactorKind.OTP_OLD: FactorGroup.OLD_NUMBER,
    FactorKind.ID_DOCUMENT: FactorGroup.ID_DOCUMENT,
    FactorKind.BANK_CARD: FactorGroup.BANK_CARD,
    FactorKind.VIDEO: FactorGroup.VIDEO,
}
CODE_FACTORS = frozenset({FactorKind.OTP_NEW, FactorKind.OTP_OLD})
"""Factors proved by a one-time code the borrower reads back."""
AGENT_FACTORS = frozenset({FactorKind.ID_DOCUMENT, FactorKind.BANK_CARD, FactorKind.VIDEO})
"""Factors the agent records by hand, with a note of at least :data:`MIN_NOTE` characters."""


class ApprovalTrigger(enum.StrEnum):
    HIGH_RISK = "high_risk"
    BOUND_ELSEWHERE = "bound_elsewhere"
    REPEATED_REBIND = "repeated_rebind"
    IDENTITY_MISMATCH = "identity_mismatch"


class Outcome(enum.StrEnum):
    ALLOWED = "allowed"
    """Enough factors, nothing calls for a supervisor: the agent may complete it."""
    NEEDS_APPROVAL = "needs_approval"
    """Enough factors; a supervisor other than the requester must approve."""
    INSUFFICIENT = "insufficient"
    """Not enough independent factors yet (refused if completed now)."""


class RebindStatus(enum.StrEnum):
    VERIFYING = "verifying"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({RebindStatus.VERIFYING, RebindStatus.AWAITING_APPROVAL})


@dataclass(frozen=True)
class Facts:
    """What the desk knows besides the factors."""

    risk_score: int | None = None
    high_from: int = 60
    bound_elsewhere: bool = False
    rebinds_90d: int = 0
    """Rebinds of the borrower in the 90 days before this one."""


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    groups: list[FactorGroup] = Field(default_factory=list)
    """The groups the passing factors cover."""
    missing: list[str] = Field(default_factory=list)
    """Why it is insufficient, in words (empty otherwise)."""
    approval: list[ApprovalTrigger] = Field(default_factory=list)
    """Why a supervisor must approve (also listed while insufficient)."""


TRIGGER_WORDS: dict[ApprovalTrigger, str] = {
    ApprovalTrigger.HIGH_RISK: "the borrower's risk score is high",
    ApprovalTrigger.BOUND_ELSEWHERE: "the new number is bound to another borrower",
    ApprovalTrigger.REPEATED_REBIND: "a second rebind within 90 days",
    ApprovalTrigger.IDENTITY_MISMATCH: "the three-element check of the new number failed",
}


def approval_triggers(facts: Facts, failed: Iterable[FactorKind] = ()) -> list[ApprovalTrigger]:
    found = []
    if facts.risk_score is not None and facts.risk_score >= facts.high_from:
        found.append(ApprovalTrigger.HIGH_RISK)
    if facts.bound_elsewhere:
        found.append(ApprovalTrigger.BOUND_ELSEWHERE)
    if facts.rebinds_90d >= 1:
        found.append(ApprovalTrigger.REPEATED_REBIND)
    if FactorKind.THREE_ELEMENT in set(failed):
        found.append(ApprovalTrigger.IDENTITY_MISMATCH)
    return found


def latest_results(records: Iterable[tuple[FactorKind, bool]]) -> dict[FactorKind, bool]:
    """The latest result of each kind, from records oldest first."""
    latest: dict[FactorKind, bool] = {}
    for kind, passed in records:
        latest[FactorKind(kind)] = passed
    return latest


def decide(records: Iterable[tuple[FactorKind, bool]], facts: Facts) -> Decision:
    """May the rebind complete with these factor records (oldest first)?"""
    latest = latest_results(records)
    passed = [kind for kind, ok in latest.items() if ok]
    failed = [kind for kind, ok in latest.items() if not ok]
    groups = sorted({GROUP_OF[kind] for kind in passed}, key=list(FactorGroup).index)
    missing = []
    if FactorGroup.NEW_NUMBER not in groups:
        missing.append("the new number is not verified: a three-element check or a code sent to it must pass")
    if not any(group is not FactorGroup.NEW_NUMBER for group in groups):
        missing.append(
            "no factor independent of the new number: a code to the old number, an ID document, "
            "a bank card or a video check must pass"
        )
    approval = approval_triggers(facts, failed)
    if missing:
        outcome = Outcome.INSUFFICIENT
    elif approval:
        outcome = Outcome.NEEDS_APPROVAL
    else:
        outcome = Outcome.ALLOWED
    return Decision(outcome=outcome, groups=groups, missing=missing, approval=approval)


# -- the API's shapes -------------------------------------------------------------------

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class RebindStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Annotated[str, StringConstraints(max_length=40)] = Field(
        description="The new number, any common format; never echoed"
    )


class CodeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    factor: FactorKind = Field(description="otp_new or otp_old")


class FactorCreate(BaseModel):
    """One verification factor. ``code`` for otp_new / otp_old (what the borrower read
    back); nothing more for three_element (the desk asks the provider); ``passed`` and a
    ``note`` of at least 4 characters for id_document, bank_card and video."""

    model_config = ConfigDict(extra="forbid")

    kind: FactorKind
    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=12)] | None = None
    passed: bool = True
    note: Note = ""


class RebindCancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Note = ""


class Factor(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FactorKind
    passed: bool
    detail: str = ""
    """What the check said (``identity match``, ``code confirmed``) or the agent's note."""
    recorded_by: str
    recorded_at: datetime


class CodeState(BaseModel):
    """The live one-time code of a factor (never the code itself)."""

    model_config = ConfigDict(frozen=True)

    factor: FactorKind
    to: str
    """The masked number it went to."""
    sent_at: datetime
    expires_at: datetime
    attempts_left: int
    resend_after: datetime


class Rebind(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    case: str
    borrower: str
    status: RebindStatus
    old_phone: str | None = None
    """Masked: the binding that ends (None when the borrower has no active number)."""
    old_binding: str | None = None
    new_phone: str
    """Masked."""
    new_binding: str | None = None
    """Set when completed."""
    bound_elsewhere: bool = False
    requested_by: str
    approved_by: str | None = None
    factors: list[Factor] = Field(default_factory=list)
    codes: list[CodeState] = Field(default_factory=list)
    decision: Decision
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    version: int = 1


class OutboxMessage(BaseModel):
    """One SMS the sandbox provider "sent": the recipient masked, the text as sent."""

    model_config = ConfigDict(frozen=True)

    id: int
    to: str
    text: str
    provider: str
    sent_at: datetime
    case: str | None = None
    rebind: int | None = None
