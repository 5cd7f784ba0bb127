"""RFC 9457 problem details: the one error shape of the desk API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_type(slug: str) -> str:
    return f"urn:linkdesk:problem:{slug}"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


# The stable types a client may branch on.
VALIDATION = problem_type("validation")
NOT_FOUND = problem_type("not-found")
STALE_VERSION = problem_type("stale-version")
VERSION_REQUIRED = problem_type("version-required")
INVALID_TRANSITION = problem_type("invalid-transition")
IDEMPOTENCY_CONFLICT = problem_type("idempotency-conflict")
UNAUTHORIZED = problem_type("unauthorized")
FORBIDDEN = problem_type("forbidden")
CASE_CLOSED = problem_type("case-closed")
NOT_LINKED = problem_type("not-linked")
UNDECRYPTABLE = problem_type("undecryptable")
RATE_LIMITED = problem_type("rate-limited")
ERASED = problem_type("erased")
"""410: the borrower was erased (their data key destroyed); nothing of theirs can be read."""
LEGAL_HOLD = problem_type("legal-hold")
"""409: a legal hold blocks the erasure; ``hold`` and ``reason`` name it."""
CONFLICT = problem_type("conflict")
INTERNAL = problem_type("internal")
CONTACT_REFUSED = problem_type("contact-refused")
"""409: a collection rule refuses the contact; ``rule`` names it (issue 5)."""
CALLING_FAILED = problem_type("calling-failed")
"""502: the masked-calling provider could not bind or unbind; ``code`` is its code."""
