"""The recycled-number complaint playbook, as data.

A stranger complains that they keep getting calls about someone else's loan: the
number they now hold was cancelled and re-issued (二次号). The playbook answers such a
``recycled_number`` case in six steps, always in this order:

1. ``lookup`` — the borrowers' active bindings of the case's number (blind index);
2. ``confirm`` — phone intelligence says whether the number was re-issued since the
   binding began;
3. ``unbind`` — the binding ends as ``reassigned``;
4. ``do_not_contact`` — the number goes on the do-not-contact list;
5. ``follow_up`` — an ``unreachable`` case for the borrower, who needs a new number;
6. ``reply`` — a public reply to the complainant that discloses nothing of the borrower
   or the debt; the case is resolved.

Each step that ran is one ``playbook`` event on the case's timeline (``data``: ``step``,
``outcome``, ``code`` and what the step made). :func:`fold` reads those events back into
the playbook's state, so a run stopped between steps (or by a crash: a step's writes and
its event commit together) resumes at the first step not yet done.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class Step(enum.StrEnum):
    LOOKUP = "lookup"
    CONFIRM = "confirm"
    UNBIND = "unbind"
    DO_NOT_CONTACT = "do_not_contact"
    FOLLOW_UP = "follow_up"
    REPLY = "reply"


STEPS: tuple[Step, ...] = tuple(Step)

NEEDS_BINDING = (Step.CONFIRM, Step.UNBIND, Step.FOLLOW_UP)
"""The steps about a borrower's binding: skipped when no borrower is bound to the number."""


class Outcome(enum.StrEnum):
    """How a step that ran ended (recorded in its timeline event)."""

    DONE = "done"
    STOPPED = "stopped"
    """The playbook cannot go on: the agent investigates by hand (``not_confirmed``)."""
    FAILED = "failed"
    """Nothing changed (the provider was unavailable or did not know): run the step again."""


class StepStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    STOPPED = "stopped"
    FAILED = "failed"


class Code(enum.StrEnum):
    """Why a step ended as it did, for the console to say in the agent's language."""

    FOUND = "found"
    NO_BINDING = "no_binding"
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"
    UNBOUND = "unbound"
    ALREADY_UNBOUND = "already_unbound"
    LISTED = "listed"
    ALREADY_LISTED = "already_listed"
    OPENED = "opened"
    REPLIED = "replied"


ReplyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Language = Literal["en", "zh_CN"]


class StepRecord(BaseModel):
    """One ``playbook`` timeline event, read back."""

    model_config = ConfigDict(frozen=True)

    step: Step
    outcome: Outcome
    code: Code | None = None
    detail: str = ""
    at: datetime | None = None
    binding: str | None = None
    """``P-12``: the binding the lookup found (lookup), ended (unbind)."""
    follow_up: str | None = None
    """The follow-up case's ref (follow_up)."""


class StepState(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: Step
    status: StepStatus = StepStatus.PENDING
    code: Code | None = None
    detail: str = ""
    """What happened, in English, masked (the console shows ``code`` in its language)."""
    at: datetime | None = None


class PlaybookState(BaseModel):
    """``GET /cases/{ref}/playbook``: every step with its status, and what runs next."""

    model_config = ConfigDict(frozen=True)

    case_ref: str
    steps: list[StepState]
    next_step: Step | None = None
    """None when the playbook is finished or stopped."""
    finished: bool = False
    stopped: str | None = None
    """Why the playbook cannot go on (the stopped step's detail)."""
    binding: str | None = None
    follow_up: str | None = None
    reply_preview: str | None = None
    """The reply the ``reply`` step would post, in the asked language (when it is next)."""


class PlaybookRun(BaseModel):
    """``POST /cases/{ref}/playbook/next``: run the next step."""

    model_config = ConfigDict(extra="forbid")

    language: Language = Field(default="en", description="The reply's language (the console's)")
    reply: ReplyText | None = Field(
        default=None, description="The reply as the agent edited it (reply step); else the template's"
    )


def fold(case_ref: str, records: Iterable[StepRecord]) -> PlaybookState:
    """The playbook's state from its timeline events, oldest first. A later record of a
    step replaces an earlier one (a failed confirm run again)."""
    states = {step: StepState(step=step) for step in STEPS}
    binding = follow_up = None
    for record in records:
        states[record.step] = StepState(
            step=record.step, status=StepStatus(record.outcome), code=record.code,
            detail=record.detail, at=record.at,
        )
        if record.step is Step.LOOKUP:
            binding = record.binding
            if record.outcome is Outcome.DONE and record.binding is None:
                for skipped in NEEDS_BINDING:
                    states[skipped] = StepState(step=skipped, status=StepStatus.SKIPPED, code=Code.NO_BINDING,
                                                detail="no borrower bound to this number")
        if record.follow_up:
            follow_up = record.follow_up
    steps = [states[step] for step in STEPS]
    pending = next((s for s in steps if s.status not in (StepStatus.DONE, StepStatus.SKIPPED)), None)
    if pending is None:
        return PlaybookState(case_ref=case_ref, steps=steps, finished=True, binding=binding, follow_up=follow_up)
    if pending.status is StepStatus.STOPPED:
        return PlaybookState(case_ref=case_ref, steps=steps, stopped=pending.detail or str(pending.code),
                             binding=binding, follow_up=follow_up)
    return PlaybookState(case_ref=case_ref, steps=steps, next_step=pending.step, binding=binding,
                         follow_up=follow_up)


def record_data(record: StepRecord) -> dict[str, str | None]:
    """The event ``data`` of a step record (what :func:`record_of` reads back)."""
    data: dict[str, str | None] = {"step": str(record.step), "outcome": str(record.outcome),
                                   "code": str(record.code) if record.code else None}
    if record.binding:
        data["binding"] = record.binding
    if record.follow_up:
        data["follow_up"] = record.follow_up
    return data


def record_of(data: dict[str, object], body: str, at: datetime | None) -> StepRecord | None:
    """A timeline event's data as a step record (None when it is not one)."""
    try:
        step, outcome = Step(str(data.get("step"))), Outcome(str(data.get("outcome")))
    except ValueError:
        return None
    code = data.get("code")
    try:
        parsed = Code(str(code)) if code else None
    except ValueError:
        parsed = None
    binding, follow_up = data.get("binding"), data.get("follow_up")
    return StepRecord(
        step=step, outcome=outcome, code=parsed, detail=body, at=at,
        binding=str(binding) if binding else None, follow_up=str(follow_up) if follow_up else None,
    )
