import pytest
from hypothesis import given, strategies as st

from linkdesk.domain.cases import CaseStatus
from linkdesk.domain.workflow import (
    OPEN_STATUSES,
    TRANSITIONS,
    InvalidTransition,
    check_transition,
    next_statuses,
)

statuses = st.sampled_from(list(CaseStatus))


def test_lifecycle_path_is_allowed():
    path = [CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.RESOLVED, CaseStatus.CLOSED]
    for current, target in zip(path, path[1:]):
        check_transition(current, target)


def test_closed_and_resolved_cases_can_be_reopened():
    check_transition(CaseStatus.CLOSED, CaseStatus.OPEN)
    check_transition(CaseStatus.RESOLVED, CaseStatus.OPEN)


def test_nothing_goes_back_to_new_and_closed_needs_resolved_first():
    with pytest.raises(InvalidTransition, match="allowed"):
        check_transition(CaseStatus.OPEN, CaseStatus.NEW)
    with pytest.raises(InvalidTransition):
        check_transition(CaseStatus.OPEN, CaseStatus.CLOSED)


@given(st.lists(statuses, max_size=30))
def test_any_walk_through_allowed_moves_stays_in_the_machine(choices):
    current = CaseStatus.NEW
    for wanted in choices:
        allowed = next_statuses(current)
        assert CaseStatus.NEW not in allowed
        assert current not in allowed
        if wanted in allowed:
            check_transition(current, wanted)
            current = wanted
        else:
            with pytest.raises(InvalidTransition):
                check_transition(current, wanted)
    # from anywhere a case can reach closed
    seen, frontier = {current}, [current]
    while frontier:
        for nxt in TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert CaseStatus.CLOSED in seen


def test_open_statuses_are_the_unfinished_ones():
    assert OPEN_STATUSES == {CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.ON_HOLD}
