"""Typed errors of the desk client: one class per thing a caller can act on."""

from __future__ import annotations

from datetime import datetime

from linkdesk.domain import problems
from linkdesk.domain.problems import FieldError, Problem


class DeskError(Exception):
    """Anything that went wrong talking to the desk."""


class DeskUnavailable(DeskError):
    """The desk could not be reached (refused, timed out, socket gone)."""


class DeskStartRefused(DeskError):
    """The local desk service refused to start (its key is wrong or missing): trying
    again will not help until the cause, which the message gives, is fixed."""


class ProblemError(DeskError):
    """The desk answered with an RFC 9457 problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status

    @property
    def title(self) -> str:
        return self.problem.title

    @property
    def field_errors(self) -> list[FieldError]:
        return self.problem.errors or []


class BadRequest(ProblemError):
    pass


class Unauthorized(ProblemError):
    pass


class Forbidden(ProblemError):
    pass


class NotFound(ProblemError):
    pass


class Conflict(ProblemError):
    """409: the change does not fit the case's state (e.g. an invalid transition)."""


class CaseClosed(Conflict):
    """409: the case is resolved or closed; reopen it first."""


class Undecryptable(Conflict):
    """409: a stored value fails to decrypt (altered, or under a key the desk lacks)."""


class BorrowerErased(ProblemError):
    """410: the borrower was erased (their data key destroyed); nothing of theirs reads."""


class LegalHoldActive(Conflict):
    """409: a legal hold blocks the erasure; the problem's ``reason`` says why."""


class ContactRefused(Conflict):
    """409: a collection rule refuses the contact; :attr:`rule` names it (``quiet_hours``,
    ``daily_call_limit``, ``not_debtor``, ``do_not_contact``, ``stop_contact``, …) and
    :attr:`allowed_from` says when it becomes allowed, for the time rules."""

    @property
    def rule(self) -> str | None:
        value = getattr(self.problem, "rule", None)
        return str(value) if value is not None else None

    @property
    def allowed_from(self) -> datetime | None:
        value = getattr(self.problem, "allowed_from", None)
        try:
            return datetime.fromisoformat(str(value)) if value else None
        except ValueError:
            return None


class CallingFailed(ProblemError):
    """502: the masked-calling provider could not bind or unbind; :attr:`code` is its code."""

    @property
    def code(self) -> str | None:
        value = getattr(self.problem, "code", None)
        return str(value) if value is not None else None


class RateLimited(ProblemError):
    """429: too many requests of this kind; :attr:`retry_after` says when to try again."""

    @property
    def retry_after(self) -> int | None:
        value = getattr(self.problem, "retry_after", None)
        return int(value) if value is not None else None


class StaleVersion(ProblemError):
    """412: someone changed the record since it was read; reload and retry."""

    @property
    def current_version(self) -> int | None:
        value = getattr(self.problem, "current_version", None)
        return int(value) if value is not None else None


class ValidationFailed(ProblemError):
    """422: the input was refused; :attr:`field_errors` names the fields at fault."""


class ServerError(ProblemError):
    pass


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: StaleVersion,
    422: ValidationFailed,
    428: BadRequest,
    429: RateLimited,
}
_BY_TYPE: dict[str, type[ProblemError]] = {
    problems.CASE_CLOSED: CaseClosed,
    problems.UNDECRYPTABLE: Undecryptable,
    problems.CONTACT_REFUSED: ContactRefused,
    problems.CALLING_FAILED: CallingFailed,
    problems.ERASED: BorrowerErased,
    problems.LEGAL_HOLD: LegalHoldActive,
}


def error_for(problem: Problem) -> ProblemError:
    if problem.status >= 500 and problem.type != problems.CALLING_FAILED:
        return ServerError(problem)
    return (_BY_TYPE.get(problem.type) or _BY_STATUS.get(problem.status, ProblemError))(problem)
