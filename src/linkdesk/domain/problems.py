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
CONFLICT = problem_type("conflict")
INTERNAL = problem_type("internal")
