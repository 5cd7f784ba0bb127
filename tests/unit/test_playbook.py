"""The playbook's state read back from its timeline records."""

from __future__ import annotations

from linkdesk.domain.playbook import (
    STEPS,
    Code,
    Outcome,
    Step,
    StepRecord,
    StepStatus,
    fold,
    record_data,
    record_of,
)


def rec(step: Step, outcome: Outcome = Outcome.DONE, **extra: str) -> StepRecord:
    return StepRecord(step=step, outcome=outcome, detail=f"{step} {outcome}", **extra)  # type: ignore[arg-type]


def statuses(records: list[StepRecord]) -> list[StepStatus]:
    return [s.status for s in fold("LD-000001", records).steps]


def test_a_new_playbook_starts_at_lookup() -> None:
    state = fold("LD-000001", [])
    assert state.next_step is Step.LOOKUP and not state.finished and state.stopped is None
    assert [s.step for s in state.steps] == list(STEPS)


def test_it_resumes_at_the_first_step_not_done() -> None:
    done = [rec(Step.LOOKUP, binding="P-7"), rec(Step.CONFIRM)]
    state = fold("LD-000001", done)
    assert state.next_step is Step.UNBIND and state.binding == "P-7"
    assert statuses(done)[:3] == [StepStatus.DONE, StepStatus.DONE, StepStatus.PENDING]


def test_a_failed_step_is_next_again_and_a_later_run_replaces_it() -> None:
    failed = [rec(Step.LOOKUP, binding="P-7"), rec(Step.CONFIRM, Outcome.FAILED, code=Code.UNAVAILABLE)]
    assert fold("LD-000001", failed).next_step is Step.CONFIRM
    assert statuses(failed)[1] is StepStatus.FAILED
    retried = [*failed, rec(Step.CONFIRM)]
    assert fold("LD-000001", retried).next_step is Step.UNBIND


def test_a_stopped_step_ends_the_playbook_with_its_reason() -> None:
    stopped = [rec(Step.LOOKUP, binding="P-7"),
               StepRecord(step=Step.CONFIRM, outcome=Outcome.STOPPED, detail="not confirmed — investigate")]
    state = fold("LD-000001", stopped)
    assert state.next_step is None and not state.finished and state.stopped == "not confirmed — investigate"


def test_no_binding_skips_the_binding_steps_but_not_the_list_and_the_reply() -> None:
    records = [rec(Step.LOOKUP, code=Code.NO_BINDING)]
    assert fold("LD-000001", records).next_step is Step.DO_NOT_CONTACT
    records += [rec(Step.DO_NOT_CONTACT)]
    assert fold("LD-000001", records).next_step is Step.REPLY
    records += [rec(Step.REPLY)]
    state = fold("LD-000001", records)
    assert state.finished and state.next_step is None
    assert statuses(records) == [StepStatus.DONE, StepStatus.SKIPPED, StepStatus.SKIPPED,
                                 StepStatus.DONE, StepStatus.SKIPPED, StepStatus.DONE]


def test_records_survive_the_timeline_round_trip() -> None:
    record = rec(Step.FOLLOW_UP, code=Code.OPENED, follow_up="LD-000009")
    assert record_of(record_data(record), record.detail, None) == record
    assert record_of({"complaint": "LD-000001"}, "opened by the playbook", None) is None
    assert record_of({"step": "lookup", "outcome": "exploded"}, "", None) is None
