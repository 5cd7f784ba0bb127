"""The case state machine, as data.

``new → open → pending | on_hold → resolved → closed``; resolved and closed cases may
be reopened. Anything not listed here is refused by the desk.
"""

from __future__ import annotations

from types import MappingProxyType

from linkdesk.domain.cases import CaseStatus

S = CaseStatus

TRANSITIONS: MappingProxyType[CaseStatus, frozenset[CaseStatus]] = MappingProxyType(
    {
        S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.RESOLVED}),
        S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.RESOLVED}),
        S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.RESOLVED}),
        S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
        S.RESOLVED: frozenset({S.CLOSED, S.OPEN}),
        S.CLOSED: frozenset({S.OPEN}),
    }
)

OPEN_STATUSES = frozenset({S.NEW, S.OPEN, S.PENDING, S.ON_HOLD})
"""Statuses in which a case still needs work (the inbox's open views)."""


class InvalidTransition(ValueError):
    def __init__(self, current: CaseStatus, target: CaseStatus) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        super().__init__(f"cannot move a case from {current} to {target} (allowed: {allowed})")
        self.current = current
        self.target = target


def next_statuses(current: CaseStatus) -> list[CaseStatus]:
    """The statuses a case in ``current`` may move to, in lifecycle order."""
    return [status for status in CaseStatus if status in TRANSITIONS[current]]


def check_transition(current: CaseStatus, target: CaseStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)


def is_open(status: CaseStatus) -> bool:
    return status in OPEN_STATUSES
