"""Errors the store raises; ``problems.py`` turns each into an RFC 9457 answer."""

from __future__ import annotations

from typing import Any

from linkdesk.domain import problems as p
from linkdesk.domain.problems import FieldError

BAD_REQUEST = p.problem_type("bad-request")
"""400: a malformed request the schema cannot catch (e.g. a cursor from another query)."""


class DeskProblem(Exception):
    status = 500
    type = p.INTERNAL
    title = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.extra = extra
        self.headers: dict[str, str] = {}


class BadRequest(DeskProblem):
    status, type, title = 400, BAD_REQUEST, "Bad request"


class Unauthorized(DeskProblem):
    status, type, title = 401, p.UNAUTHORIZED, "Unauthorized"


class Forbidden(DeskProblem):
    status, type, title = 403, p.FORBIDDEN, "Forbidden"


class Conflict(DeskProblem):
    status, type, title = 409, p.CONFLICT, "Conflict"


class CaseClosed(DeskProblem):
    status, type, title = 409, p.CASE_CLOSED, "Case closed"


class Undecryptable(DeskProblem):
    """A stored value fails to decrypt: altered, moved, or under a key the desk lacks."""

    status, type, title = 409, p.UNDECRYPTABLE, "Stored value cannot be decrypted"


class BorrowerErased(DeskProblem):
    """The borrower was erased: their data key is destroyed (privacy requests, issue 5)."""

    status, type, title = 410, p.ERASED, "Borrower erased"


class LegalHoldActive(DeskProblem):
    """An active legal hold refuses the erasure; the problem names the hold and its reason."""

    status, type, title = 409, p.LEGAL_HOLD, "Legal hold"


class RateLimited(DeskProblem):
    status, type, title = 429, p.RATE_LIMITED, "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}


class NotFound(DeskProblem):
    status, type, title = 404, p.NOT_FOUND, "Not found"


class InvalidTransitionProblem(DeskProblem):
    status, type, title = 409, p.INVALID_TRANSITION, "Invalid status transition"


class StaleVersion(DeskProblem):
    status, type, title = 412, p.STALE_VERSION, "Stale version"

    def __init__(self, current_version: int) -> None:
        super().__init__(
            f"the case changed since it was read (now version {current_version}); reload it",
            current_version=current_version,
        )


class VersionRequired(DeskProblem):
    status, type, title = 428, p.VERSION_REQUIRED, "Version required"


class ValidationProblem(DeskProblem):
    status, type, title = 422, p.VALIDATION, "Validation failed"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationProblem:
        return cls(f"{field}: {message}", errors=[FieldError(field=field, message=message)])


class IdempotencyConflict(DeskProblem):
    status, type, title = 422, p.IDEMPOTENCY_CONFLICT, "Idempotency key reused"


class NotLinked(ValidationProblem):
    """The subject asked about is not linked to the case it was asked under."""

    status, type, title = 422, p.NOT_LINKED, "Not linked to the case"
