"""The recycled-number playbook on the desk: read its state, run its next step.

The state lives in the complaint case's timeline (``playbook`` events, see
:mod:`linkdesk.domain.playbook`); no table of its own. Running a step:

1. a short read: the case, its state, and for ``confirm`` the bound number;
2. for ``confirm`` only, the provider, on the event loop, with no transaction open;
3. one transaction: the case row is locked first (``UPDATE … version + 1``, a row lock on
   PostgreSQL, the write lock on SQLite), the state is read again, and only if the step
   planned is still the next one it runs; its writes, its audit records and its
   ``playbook`` event commit together. A repeat, a crash or a second agent pressing the
   same key therefore never runs a step twice.

Sealed numbers (the complaint's number, the bound number) are opened only through
:func:`open_number`, so that per-borrower data keys can re-route it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from linkdesk.domain.audit import AuditAction
from linkdesk.domain.cases import CaseCategory, CasePatch, CaseStatus, EventKind, Priority
from linkdesk.domain.contact import DoNotContactReason
from linkdesk.domain.intel import Reassigned
from linkdesk.domain.phones import BindingStatus
from linkdesk.domain.playbook import (
    Code,
    Outcome,
    PlaybookRun,
    PlaybookState,
    Step,
    StepRecord,
    fold,
    record_data,
    record_of,
)
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.domain.risk import RiskPolicy
from linkdesk.domain.templates import load_templates, placeholder_values, render
from linkdesk.domain.workflow import is_open
from linkdesk.intel.base import IntelProvider
from linkdesk.server import audit, do_not_contact, intel, tallies
from linkdesk.server.agents import Caller
from linkdesk.server.cases import case_values, find_active_binding, update_case
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.errors import CaseClosed, Conflict, NotFound, Undecryptable
from linkdesk.server.tables import BindingRow, CaseRow, EventRow, RiskAlertSeenRow

TEMPLATE = "recycled_number_reply"
DESK_NAME = "LinkDesk"
FOLLOW_UP_TAG = "playbook"


def open_number(session: Session, keyring: KeyRing, table: str, row_id: int, blob: bytes | None) -> str | None:
    """A sealed number (``cases.phone_enc`` or ``phone_bindings.phone_enc``) in clear, under
    its borrower's data key or the master key; None when there is none. The one place the
    playbook opens one."""
    if blob is None:
        return None
    try:
        return open_sealed(session, keyring, blob, aad(table, "phone_enc", row_id))
    except DecryptionFailed as exc:
        raise Undecryptable(
            f"the stored number of {table} row {row_id} cannot be decrypted ({exc})", field="phone"
        ) from None


# -- reading ---------------------------------------------------------------------------


def playbook_case(session: Session, case_id: int, *, writing: bool) -> CaseRow:
    """The case, if the playbook applies to it: a ``recycled_number`` case (409 otherwise),
    not closed when a step is to run."""
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    if case.category != CaseCategory.RECYCLED_NUMBER:
        raise Conflict(
            f"{case_ref(case_id)} is a {case.category} case: the playbook is for recycled_number cases",
            category=case.category,
        )
    if writing and case.status == CaseStatus.CLOSED:
        raise CaseClosed(f"{case_ref(case_id)} is closed: reopen it to run the playbook")
    return case


def records(session: Session, case_id: int) -> list[StepRecord]:
    rows = session.execute(
        select(EventRow.data, EventRow.body, EventRow.created_at)
        .where(EventRow.case_id == case_id, EventRow.kind == str(EventKind.PLAYBOOK))
        .order_by(EventRow.id)
    ).all()
    found = (record_of(row.data or {}, row.body or "", row.created_at) for row in rows)
    return [record for record in found if record is not None]


def reply_text(language: str, *, ref: str, agent: str, today: datetime) -> str:
    template = load_templates()[TEMPLATE]
    values = placeholder_values(case_ref=ref, agent=agent, desk=DESK_NAME,
                                category=str(CaseCategory.RECYCLED_NUMBER), today=today.date())
    return render(template, language, values)


def read_state(session: Session, case_id: int, caller: Caller, now: datetime, language: str = "en") -> PlaybookState:
    """``GET /cases/{ref}/playbook``: with the reply to post when it is the next step."""
    case = playbook_case(session, case_id, writing=False)
    state = fold(case_ref(case.id), records(session, case.id))
    if state.next_step is Step.REPLY:
        preview = reply_text(language, ref=case_ref(case.id), agent=caller.agent.display_name, today=now)
        state = state.model_copy(update={"reply_preview": preview})
    return state


# -- running ---------------------------------------------------------------------------


@dataclass
class Run:
    """What a step works with, inside the step's transaction."""

    session: Session
    keyring: KeyRing
    policy: RiskPolicy
    case: CaseRow
    state: PlaybookState
    caller: Caller
    now: datetime
    request: PlaybookRun
    checked: tuple[intel.Subject, intel.Outcome] | None = None

    @property
    def ref(self) -> str:
        return case_ref(self.case.id)

    def complaint_number(self) -> str | None:
        return open_number(self.session, self.keyring, "cases", self.case.id, self.case.phone_enc)

    def binding(self) -> BindingRow | None:
        return binding_of(self.session, self.state)


def binding_of(session: Session, state: PlaybookState) -> BindingRow | None:
    """The binding the lookup found (None when it found none)."""
    ref = state.binding or ""
    return session.get(BindingRow, int(ref[2:])) if ref.startswith("P-") and ref[2:].isdigit() else None


def _lookup(run: Run) -> StepRecord:
    e164 = run.complaint_number()
    if e164 is None:
        return StepRecord(step=Step.LOOKUP, outcome=Outcome.STOPPED, code=Code.NO_BINDING,
                          detail=f"{run.ref} has no number to look up: open the complaint with the caller's number")
    binding = find_active_binding(run.session, run.keyring, e164)
    if binding is None:
        return StepRecord(step=Step.LOOKUP, outcome=Outcome.DONE, code=Code.NO_BINDING,
                          detail=f"no borrower bound to this number ({run.case.phone_masked})")
    return StepRecord(
        step=Step.LOOKUP, outcome=Outcome.DONE, code=Code.FOUND, binding=f"P-{binding.id}",
        detail=f"P-{binding.id} ({binding.phone_masked}) of {borrower_ref(binding.borrower_id)}, "
               f"bound since {binding.bound_at:%Y-%m-%d}",
    )


def _mark_alert_handled(session: Session, binding_id: int, key: str, case_id: int, now: datetime) -> None:
    """Note the re-issue as seen, handled by this case: the check that confirms it must
    not open a second case (a risk alert) about the same change."""
    if session.scalar(select(RiskAlertSeenRow.id).where(
        RiskAlertSeenRow.binding_id == binding_id, RiskAlertSeenRow.kind == "reassigned",
        RiskAlertSeenRow.change == key,
    )) is None:
        session.execute(insert(RiskAlertSeenRow).values(
            binding_id=binding_id, kind="reassigned", change=key, case_id=case_id, seen_at=now,
        ))


def _confirm(run: Run) -> StepRecord:
    if run.checked is None:
        return StepRecord(step=Step.CONFIRM, outcome=Outcome.FAILED, code=Code.UNAVAILABLE,
                          detail="the bound number could not be checked; try again")
    subject, outcome = run.checked
    report = outcome.report
    bound = f"{subject.bound_at:%Y-%m-%d}"
    if report is not None and report.reassigned == Reassigned.YES and subject.binding_id is not None:
        _mark_alert_handled(run.session, subject.binding_id, f"since {report.reference_date.isoformat()}",
                            run.case.id, run.now)
    intel.record(run.session, run.keyring, run.policy, [(subject, outcome)], actor=run.caller.name,
                 actor_id=run.caller.id, now=run.now, case_id=run.case.id)
    if report is None:
        return StepRecord(step=Step.CONFIRM, outcome=Outcome.FAILED, code=Code.UNAVAILABLE,
                          detail=outcome.unavailable or "intel unavailable")
    source = f"{report.provider}, checked {report.checked_at:%Y-%m-%d %H:%M} UTC"
    if report.reassigned == Reassigned.YES:
        return StepRecord(step=Step.CONFIRM, outcome=Outcome.DONE, code=Code.CONFIRMED,
                          detail=f"re-issued to a new holder since {bound} ({source})")
    if report.reassigned in (Reassigned.NO, Reassigned.CANCELLED):
        said = "not re-issued" if report.reassigned == Reassigned.NO else "cancelled, not re-issued"
        return StepRecord(step=Step.CONFIRM, outcome=Outcome.STOPPED, code=Code.NOT_CONFIRMED,
                          detail=f"not confirmed — investigate: {said} since {bound} ({source})")
    return StepRecord(step=Step.CONFIRM, outcome=Outcome.FAILED, code=Code.UNKNOWN,
                      detail=f"the provider does not know whether it was re-issued since {bound} ({source}); "
                             "try again later or investigate")


def _unbind(run: Run) -> StepRecord:
    binding = run.binding()
    if binding is None:
        return StepRecord(step=Step.UNBIND, outcome=Outcome.STOPPED, code=Code.ALREADY_UNBOUND,
                          detail="the binding the lookup found is gone")
    ref = f"P-{binding.id}"
    if binding.status != BindingStatus.ACTIVE:
        return StepRecord(step=Step.UNBIND, outcome=Outcome.DONE, code=Code.ALREADY_UNBOUND, binding=ref,
                          detail=f"{ref} ({binding.phone_masked}) is already {binding.status}")
    run.session.execute(
        update(BindingRow).where(BindingRow.id == binding.id, BindingRow.status == str(BindingStatus.ACTIVE))
        .values(status=str(BindingStatus.REASSIGNED), unbound_at=run.now)
        .execution_options(synchronize_session=False)
    )
    who = borrower_ref(binding.borrower_id)
    run.session.execute(insert(EventRow).values(
        case_id=run.case.id, kind=str(EventKind.UNBIND), actor_id=run.caller.id, internal=True,
        created_at=run.now, body=f"{ref} ({binding.phone_masked}) of {who} ended: reassigned",
        data={"binding": ref, "phone": binding.phone_masked, "status": str(BindingStatus.REASSIGNED)},
    ))
    audit.append(
        run.session, at=run.now, actor=run.caller.name, action=AuditAction.UNBIND, target=ref, case=run.ref,
        reason=str(BindingStatus.REASSIGNED),
        detail={"phone": binding.phone_masked, "borrower": who, "playbook": True},
    )
    intel.refresh_case_risk(run.session, borrower_id=binding.borrower_id)
    return StepRecord(step=Step.UNBIND, outcome=Outcome.DONE, code=Code.UNBOUND, binding=ref,
                      detail=f"{ref} ({binding.phone_masked}) of {who} ended as reassigned")


def _do_not_contact(run: Run) -> StepRecord:
    e164 = run.complaint_number()
    assert e164 is not None  # the lookup stops on a case without a number
    entries = do_not_contact.entries_for(run.session, run.keyring, e164)
    if entries:
        entry = entries[0]
        return StepRecord(step=Step.DO_NOT_CONTACT, outcome=Outcome.DONE, code=Code.ALREADY_LISTED,
                          detail=f"{entry.phone_masked} is already on the do-not-contact list (entry {entry.id})")
    binding = run.binding()
    reason = DoNotContactReason.REASSIGNED if binding is not None else DoNotContactReason.THIRD_PARTY_COMPLAINT
    row = do_not_contact.add(
        run.session, run.keyring, e164=e164, reason=reason, note=f"recycled-number playbook of {run.ref}",
        case_id=run.case.id, binding_id=binding.id if binding is not None else None,
        actor=run.caller.name, now=run.now,
    )
    return StepRecord(step=Step.DO_NOT_CONTACT, outcome=Outcome.DONE, code=Code.LISTED,
                      detail=f"{row.phone_masked} put on the do-not-contact list (entry {row.id}, {reason})")


def _follow_up(run: Run) -> StepRecord:
    binding = run.binding()
    if binding is None:
        return StepRecord(step=Step.FOLLOW_UP, outcome=Outcome.STOPPED, code=Code.NO_BINDING,
                          detail="the binding the lookup found is gone")
    who, ref = borrower_ref(binding.borrower_id), f"P-{binding.id}"
    # the borrower's case: no number of its own (the bound one is the complainant's now)
    values = case_values(
        category=CaseCategory.UNREACHABLE, status=CaseStatus.NEW, priority=Priority.HIGH,
        subject=f"Bound number {ref} of {who} was reassigned: find a verified number",
        body=f"{who}'s number {ref} was cancelled and re-issued to someone else; the binding ended as "
             f"reassigned and the number is on the do-not-contact list (complaint {run.ref}). Find a "
             "verified number of the borrower; never contact the number's new holder.",
        created_at=run.now, borrower_id=binding.borrower_id, tags=[FOLLOW_UP_TAG],
    )
    values["key_version"] = run.keyring.writing_version()
    new_id = run.session.execute(insert(CaseRow).values(**values).returning(CaseRow.id)).scalar_one()
    new_ref = case_ref(new_id)
    run.session.execute(insert(EventRow), [
        {"case_id": new_id, "kind": str(EventKind.CREATED), "actor_id": run.caller.id, "body": "", "data": {},
         "internal": False, "created_at": run.now},
        {"case_id": new_id, "kind": str(EventKind.PLAYBOOK), "actor_id": run.caller.id, "internal": True,
         "created_at": run.now, "body": f"opened by the recycled-number playbook of {run.ref}",
         "data": {"complaint": run.ref, "binding": ref}},
    ])
    tallies.bump(run.session, {tallies.key(CaseCategory.UNREACHABLE, CaseStatus.NEW, Priority.HIGH, None): 1})
    intel.refresh_case_risk(run.session, borrower_id=binding.borrower_id)
    return StepRecord(step=Step.FOLLOW_UP, outcome=Outcome.DONE, code=Code.OPENED, follow_up=new_ref,
                      detail=f"{new_ref} opened for {who}")


def _reply(run: Run) -> StepRecord:
    text = run.request.reply or reply_text(
        run.request.language, ref=run.ref, agent=run.caller.agent.display_name, today=run.now
    )
    run.session.execute(insert(EventRow).values(
        case_id=run.case.id, kind=str(EventKind.COMMENT), actor_id=run.caller.id, body=text,
        data={"template": TEMPLATE if run.request.reply is None else None}, internal=False, created_at=run.now,
    ))
    detail = "reply posted"
    if is_open(CaseStatus(run.case.status)):
        update_case(run.session, run.caller, run.case.id, CasePatch(status=CaseStatus.RESOLVED),
                    run.case.version, run.now)
        detail += "; case resolved"
    return StepRecord(step=Step.REPLY, outcome=Outcome.DONE, code=Code.REPLIED, detail=detail)


STEP_RUNNERS: dict[Step, Callable[[Run], StepRecord]] = {
    Step.LOOKUP: _lookup, Step.CONFIRM: _confirm, Step.UNBIND: _unbind,
    Step.DO_NOT_CONTACT: _do_not_contact, Step.FOLLOW_UP: _follow_up, Step.REPLY: _reply,
}


def _plan(sessions: sessionmaker[Session], keyring: KeyRing, case_id: int) -> tuple[Step | None, intel.Subject | None]:
    """The step to run and, for ``confirm``, the bound number to ask about."""
    with sessions() as session:
        case = playbook_case(session, case_id, writing=True)
        state = fold(case_ref(case.id), records(session, case.id))
        if state.next_step is not Step.CONFIRM:
            return state.next_step, None
        binding = binding_of(session, state)
        if binding is None:
            return state.next_step, None
        subject = intel.Subject(
            binding_id=binding.id, case_id=None, borrower_id=binding.borrower_id, masked=binding.phone_masked,
            carrier=binding.carrier, region=binding.region, status=BindingStatus(binding.status),
            bound_at=binding.bound_at, check=True,
            e164=open_number(session, keyring, "phone_bindings", binding.id, binding.phone_enc),
        )
        return state.next_step, subject


def _apply(
    sessions: sessionmaker[Session], keyring: KeyRing, policy: RiskPolicy, case_id: int, caller: Caller,
    planned: Step, request: PlaybookRun, checked: tuple[intel.Subject, intel.Outcome] | None,
    clock: Callable[[], datetime],
) -> PlaybookState:
    now = clock()
    with sessions() as session:
        try:
            with session.begin():
                _run_step(session, keyring, policy, case_id, caller, planned, request, checked, now)
        except _StepTaken:
            pass  # another run took this step meanwhile: answer the state as it is
        return read_state(session, case_id, caller, now, request.language)


class _StepTaken(Exception):
    pass


def _run_step(
    session: Session, keyring: KeyRing, policy: RiskPolicy, case_id: int, caller: Caller, planned: Step,
    request: PlaybookRun, checked: tuple[intel.Subject, intel.Outcome] | None, now: datetime,
) -> None:
    """One step in the caller's transaction: lock the case, check the step is still
    the next one, run it, record its event."""
    locked = session.execute(
        update(CaseRow).where(CaseRow.id == case_id)
        .values(version=CaseRow.version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        raise NotFound(f"no case {case_ref(case_id)}")
    case = playbook_case(session, case_id, writing=True)
    state = fold(case_ref(case.id), records(session, case.id))
    if state.next_step is not planned:
        raise _StepTaken
    run = Run(session, keyring, policy, case, state, caller, now, request, checked)
    record = STEP_RUNNERS[planned](run)
    session.execute(insert(EventRow).values(
        case_id=case.id, kind=str(EventKind.PLAYBOOK), actor_id=caller.id, internal=True,
        created_at=now, body=record.detail, data=record_data(record),
    ))


async def run_next(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    provider: IntelProvider,
    policy: RiskPolicy,
    case_id: int,
    caller: Caller,
    request: PlaybookRun,
    *,
    clock: Callable[[], datetime],
    timeout: float,
) -> PlaybookState:
    """``POST /cases/{ref}/playbook/next``: run exactly one step (none when the playbook
    is finished or stopped) and answer the new state."""
    planned, subject = await anyio.to_thread.run_sync(_plan, sessions, keyring, case_id)
    if planned is None:
        def current() -> PlaybookState:
            with sessions() as session:
                return read_state(session, case_id, caller, clock(), request.language)
        return await anyio.to_thread.run_sync(current)
    checked: tuple[intel.Subject, intel.Outcome] | None = None
    if planned is Step.CONFIRM and subject is not None:
        outcome = await intel.check_one(provider, subject.e164, reference=subject.bound_at, identity=None,
                                        timeout=timeout, clock=clock)
        checked = (subject, outcome)
    return await anyio.to_thread.run_sync(
        _apply, sessions, keyring, policy, case_id, caller, planned, request, checked, clock,
    )
