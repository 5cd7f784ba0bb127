"""Phone intelligence on the desk: check a case's numbers, keep what the provider said,
score it, and act on it.

A check has three steps, so that no transaction stays open while a provider answers
(a remote one may take seconds, and SQLite has one writer):

1. :func:`prepare` — a short read: the case's numbers (each binding of its borrower,
   or its own number), decrypted only for the ones to check, and the borrower's
   identity for the three-element check;
2. :func:`check_numbers` — the provider, concurrently, each number under a deadline;
   whatever goes wrong becomes an ``unavailable`` text, never an exception;
3. :func:`record` — one transaction: the reports, the assessments (``domain.risk``) from
   the report and the desk's facts (other borrowers bound to the number, found by blind
   index; rebinds in 90 days), the cases' ``risk_score``, the risk alerts for what
   changed (:mod:`linkdesk.server.alerts`), and the number on the do-not-contact list
   when it was re-issued to someone else.

The monitor (:mod:`linkdesk.server.monitor`) runs the same three steps over bindings.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil
from typing import Any

import anyio
from pydantic import ValidationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from linkdesk.domain.intel import Identity, IntelReport, IntelUnavailable, Reassigned
from linkdesk.domain.number_intel import CASE_NUMBER_REF, BindingIntel
from linkdesk.domain.phones import BindingStatus, MaskedPhone
from linkdesk.domain.refs import case_ref
from linkdesk.domain.risk import BindingFacts, RiskAssessment, RiskPolicy, assess
from linkdesk.domain.text import clean_line
from linkdesk.intel.base import IntelProvider, InvalidNumberForProvider
from linkdesk.server import alerts, do_not_contact
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.errors import NotFound
from linkdesk.server.tables import (
    BindingRow,
    BorrowerRow,
    CaseRow,
    EventRow,
    IntelReportRow,
    RiskAssessmentRow,
)

log = logging.getLogger("linkdesk.intel")

REPORTS_KEPT = 5
"""Checks kept per number (and the last answered one, however old)."""
REBIND_WINDOW = timedelta(days=90)
CHECKED_STATUSES = (BindingStatus.ACTIVE, BindingStatus.SUSPENDED)
_LONG_DIGITS = re.compile(r"\+?\d[\d \-]{5,}\d")


@dataclass
class Subject:
    """One number of a case: a binding, or the case's own number."""

    binding_id: int | None
    case_id: int | None
    borrower_id: int | None
    masked: str
    carrier: str | None
    region: str | None
    status: BindingStatus | None
    bound_at: datetime
    """The reference date of the checks: the binding's start, or the case's creation."""
    check: bool = False
    e164: str | None = field(default=None, repr=False)
    identity: Identity | None = field(default=None, repr=False)
    """The borrower's, for a three-element check of a binding."""

    @property
    def ref(self) -> str | None:
        return f"P-{self.binding_id}" if self.binding_id else None


@dataclass
class Outcome:
    provider: str
    checked_at: datetime
    report: IntelReport | None = None
    unavailable: str | None = None


@dataclass
class Plan:
    case_id: int | None
    subjects: list[Subject]


@dataclass
class Recorded:
    checked: int = 0
    unavailable: int = 0
    alerts: list[int] = field(default_factory=list)
    dnc_added: int = 0


# -- 1. what to check ----------------------------------------------------------------------


def _binding_subject(row: BindingRow, *, check: bool) -> Subject:
    return Subject(
        binding_id=row.id, case_id=None, borrower_id=row.borrower_id, masked=row.phone_masked,
        carrier=row.carrier, region=row.region, status=BindingStatus(row.status), bound_at=row.bound_at,
        check=check,
    )


def subjects_of(session: Session, case: CaseRow) -> list[Subject]:
    """Each binding of the case's borrower, newest first (those in use, and the case's
    own binding, are checked); or the case's own number when it has no borrower."""
    if case.borrower_id is not None:
        rows = session.scalars(
            select(BindingRow)
            .where(BindingRow.borrower_id == case.borrower_id)
            .order_by(BindingRow.bound_at.desc(), BindingRow.id.desc())
        )
        erased = session.scalar(select(BorrowerRow.erased_at).where(BorrowerRow.id == case.borrower_id))
        return [  # an erased borrower's numbers are gone: shown, never checked
            _binding_subject(row, check=erased is None and (row.status in CHECKED_STATUSES or row.id == case.binding_id))
            for row in rows
        ]
    if case.phone_enc is None:
        return []
    return [
        Subject(binding_id=None, case_id=case.id, borrower_id=None, masked=case.phone_masked or "",
                carrier=None, region=None, status=None, bound_at=case.created_at, check=True)
    ]


def identity_of(session: Session, keyring: KeyRing, borrower_id: int | None) -> Identity | None:
    """The borrower's name and ID number for a three-element check (None if either lacks)."""
    borrower = session.get(BorrowerRow, borrower_id) if borrower_id else None
    if borrower is None or borrower.name_enc is None or borrower.id_number_enc is None:
        return None
    try:
        return Identity(
            name=open_sealed(session, keyring, borrower.name_enc, aad("borrowers", "name_enc", borrower.id)),
            id_number=open_sealed(session, keyring, borrower.id_number_enc,
                                  aad("borrowers", "id_number_enc", borrower.id)),
        )
    except DecryptionFailed:
        return None


def open_number(session: Session, keyring: KeyRing, subject: Subject) -> str | None:
    """The subject's number in clear (None when it does not decrypt)."""
    if subject.binding_id is not None:
        row: Any = session.get(BindingRow, subject.binding_id)
        where = aad("phone_bindings", "phone_enc", subject.binding_id)
    else:
        row = session.get(CaseRow, subject.case_id)
        where = aad("cases", "phone_enc", subject.case_id or 0)
    try:
        return open_sealed(session, keyring, row.phone_enc or b"", where) if row is not None else None
    except DecryptionFailed:
        return None


def prepare(sessions: sessionmaker[Session], keyring: KeyRing, case_id: int) -> Plan:
    with sessions() as session:
        case = session.get(CaseRow, case_id)
        if case is None:
            raise NotFound(f"no case {case_ref(case_id)}")
        subjects = subjects_of(session, case)
        identity = identity_of(session, keyring, case.borrower_id)
        for subject in subjects:
            if subject.check:
                subject.e164 = open_number(session, keyring, subject)
                subject.identity = identity if subject.binding_id is not None else None
        return Plan(case_id, subjects)


# -- 2. asking the provider ------------------------------------------------------------


def unavailable_text(provider: str, reason: str, retry_after: float | None = None) -> str:
    """``intel unavailable: <provider>: <reason>[, retry in N s]``: one clean line, long
    digit runs (a number a provider may have echoed) taken out."""
    text = f"intel unavailable: {provider}: {reason}"
    if retry_after and retry_after > 0 and "retry in" not in reason:
        text += f", retry in {ceil(retry_after)} s"
    return _LONG_DIGITS.sub("…", clean_line(text))[:300]


async def check_one(
    provider: IntelProvider,
    e164: str | None,
    *,
    reference: datetime,
    identity: Identity | None,
    timeout: float,
    clock: Callable[[], datetime],
) -> Outcome:
    name = getattr(provider, "name", "intel")
    if e164 is None:
        return Outcome(name, clock(), unavailable="the stored number cannot be decrypted")
    try:
        with anyio.fail_after(timeout):
            report = await provider.check(e164, reference_date=reference.date(), identity=identity)
    except IntelUnavailable as exc:
        return Outcome(name, clock(), unavailable=unavailable_text(exc.provider, exc.reason, exc.retry_after))
    except InvalidNumberForProvider:
        return Outcome(name, clock(), unavailable=unavailable_text(name, "the provider refuses the number as invalid"))
    except TimeoutError:
        return Outcome(name, clock(), unavailable=unavailable_text(name, f"no answer within {timeout:g} s"))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a provider bug must not fail the request; its text may hold a number
        log.error("intel check by %s failed: %s", name, type(exc).__name__)
        return Outcome(name, clock(), unavailable=unavailable_text(name, f"unexpected error ({type(exc).__name__})"))
    return Outcome(report.provider, report.checked_at, report=report)


async def check_numbers(
    provider: IntelProvider,
    subjects: Sequence[Subject],
    *,
    timeout: float,
    clock: Callable[[], datetime],
    concurrency: int = 8,
    fresh: bool = False,
) -> dict[int, Outcome]:
    """Outcomes by the subject's position, for the subjects to check; at most
    ``concurrency`` checks at a time. ``fresh`` asks the provider again even if its
    cache holds an answer (an agent's "check now")."""
    limit = anyio.Semaphore(concurrency)
    forget = getattr(provider, "forget", None) if fresh else None

    async def one(subject: Subject) -> Outcome:
        if forget is not None and subject.e164 is not None:
            forget(subject.e164, reference_date=subject.bound_at.date(), identity=subject.identity)
        async with limit:
            return await check_one(provider, subject.e164, reference=subject.bound_at,
                                   identity=subject.identity, timeout=timeout, clock=clock)

    positions = [i for i, s in enumerate(subjects) if s.check]
    outcomes = await asyncio.gather(*(one(subjects[i]) for i in positions))
    return dict(zip(positions, outcomes, strict=True))


# -- 3. recording --------------------------------------------------------------------------


def _subject_filter(subject: Subject) -> Any:
    if subject.binding_id is not None:
        return IntelReportRow.binding_id == subject.binding_id
    return IntelReportRow.case_id == subject.case_id


def last_answered(session: Session, subject: Subject) -> IntelReportRow | None:
    return session.scalars(
        select(IntelReportRow)
        .where(_subject_filter(subject), IntelReportRow.unavailable.is_(None))
        .order_by(IntelReportRow.id.desc()).limit(1)
    ).first()


def _report_of(row: IntelReportRow | None) -> IntelReport | None:
    if row is None or not row.report:
        return None
    try:
        return IntelReport.model_validate(row.report)
    except ValidationError:
        return None


def sharers_of(session: Session, keyring: KeyRing, e164: str, subject: Subject) -> list[alerts.Sharer]:
    """Other borrowers' active bindings of the same number (blind index, then decrypted)."""
    rows = session.execute(
        select(BindingRow.id, BindingRow.borrower_id, BindingRow.bound_at, BindingRow.phone_enc)
        .where(BindingRow.phone_index.in_(keyring.blind_indexes(e164)),
               BindingRow.status == str(BindingStatus.ACTIVE))
    ).all()
    found = []
    for row in rows:
        if row.id == subject.binding_id or (subject.borrower_id and row.borrower_id == subject.borrower_id):
            continue
        try:
            if open_sealed(session, keyring, row.phone_enc or b"", aad("phone_bindings", "phone_enc", row.id)) != e164:
                continue
        except DecryptionFailed:
            continue
        found.append(alerts.Sharer(row.id, row.borrower_id, row.bound_at))
    return found


def rebinds_in_window(session: Session, borrower_id: int | None, at: datetime) -> int:
    """The borrower's rebinds in the 90 days before ``at``: bindings made then, the first
    binding of all not counted (it is no rebind)."""
    if borrower_id is None:
        return 0
    starts = list(session.scalars(
        select(BindingRow.bound_at).where(BindingRow.borrower_id == borrower_id)
        .order_by(BindingRow.bound_at, BindingRow.id)
    ))
    return sum(1 for start in starts[1:] if at - REBIND_WINDOW < start <= at)


def _upsert_assessment(session: Session, subject: Subject, values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    column = "binding_id" if subject.binding_id is not None else "case_id"
    key = {column: subject.binding_id if subject.binding_id is not None else subject.case_id}
    stmt = dialect_insert(RiskAssessmentRow).values(**key, **values)
    session.execute(stmt.on_conflict_do_update(index_elements=[column], set_=values))


def _prune(session: Session, subject: Subject) -> None:
    rows = session.execute(
        select(IntelReportRow.id, IntelReportRow.unavailable)
        .where(_subject_filter(subject)).order_by(IntelReportRow.id.desc())
    ).all()
    if len(rows) <= REPORTS_KEPT:
        return
    keep = {row.id for row in rows[:REPORTS_KEPT]}
    keep |= {next((row.id for row in rows if row.unavailable is None), 0)}
    session.execute(delete(IntelReportRow).where(_subject_filter(subject), IntelReportRow.id.not_in(keep)))


def record(
    session: Session,
    keyring: KeyRing,
    policy: RiskPolicy,
    results: Sequence[tuple[Subject, Outcome]],
    *,
    actor: str,
    actor_id: int | None,
    now: datetime,
    case_id: int | None = None,
) -> Recorded:
    """Store the outcomes, re-score, open alerts, fill the do-not-contact list, refresh
    the cases' risk; with ``case_id``, an internal ``intel`` event per number on that
    case's timeline. Stages everything; the caller commits."""
    done = Recorded()
    borrowers: set[int] = set()
    own_cases: set[int] = set()
    down = policy.signals.line_down.statuses
    for subject, outcome in results:
        previous_row = last_answered(session, subject)
        session.execute(insert(IntelReportRow).values(
            binding_id=subject.binding_id, case_id=subject.case_id, provider=outcome.provider,
            checked_at=outcome.checked_at,
            report=outcome.report.model_dump(mode="json") if outcome.report else None,
            unavailable=outcome.unavailable,
        ))
        assessment: RiskAssessment | None = None
        opened: list[tuple[str, int]] = []
        if outcome.report is None:
            done.unavailable += 1
            _upsert_assessment(session, subject, {"attempted_at": now})
        else:
            done.checked += 1
            report = outcome.report
            sharers = sharers_of(session, keyring, subject.e164, subject) if subject.e164 else []
            facts = BindingFacts(
                bound_at=subject.bound_at,
                other_borrowers=len({s.borrower_id for s in sharers}),
                rebinds_90d=rebinds_in_window(session, subject.borrower_id, now),
            )
            assessment = assess(facts, report, policy, at=now)
            _upsert_assessment(session, subject, {
                "score": assessment.score, "level": str(assessment.level),
                "stop_contact": assessment.stop_contact, "assessment": assessment.model_dump(mode="json"),
                "assessed_at": now, "checked_at": outcome.checked_at, "attempted_at": now,
            })
            if subject.binding_id is not None and subject.borrower_id is not None and subject.e164:
                bound = alerts.Bound(subject.binding_id, subject.borrower_id, subject.bound_at)
                changes = alerts.detect(
                    bound, report, _report_of(previous_row),
                    previous_row.checked_at if previous_row else None, sharers, down, now,
                )
                opened = alerts.open_alerts(
                    session, keyring, bound, subject.e164, changes, assessment, actor_id=actor_id, now=now,
                )
                done.alerts += [case for _kind, case in opened]
            if report.reassigned == Reassigned.YES and subject.e164 and assessment.stop_contact:
                evidence = next((s.evidence for s in assessment.signals if s.code == "reassigned"), "")
                under = case_id or subject.case_id or dict(opened).get("reassigned")  # the case that found it
                if do_not_contact.add_reassigned(
                    session, keyring, e164=subject.e164, case_id=under,
                    binding_id=subject.binding_id, actor=actor, now=now, evidence=evidence,
                ):
                    done.dnc_added += 1
        _prune(session, subject)
        if subject.borrower_id is not None:
            borrowers.add(subject.borrower_id)
        elif subject.case_id is not None:
            own_cases.add(subject.case_id)
        if case_id is not None:
            session.execute(insert(EventRow).values(
                case_id=case_id, kind="intel", actor_id=actor_id, internal=True, created_at=now,
                body=_event_body(subject, outcome, assessment), data=_event_data(subject, outcome, assessment),
            ))
    for borrower_id in sorted(borrowers):
        refresh_case_risk(session, borrower_id=borrower_id)
    for own in sorted(own_cases):
        refresh_case_risk(session, case_id=own)
    return done


def _event_body(subject: Subject, outcome: Outcome, assessment: RiskAssessment | None) -> str:
    what = subject.ref or "the case's number"
    if outcome.unavailable:
        return f"{what}: {outcome.unavailable}"
    assert assessment is not None
    return f"{what}: {assessment.level} risk ({assessment.score}) from {outcome.provider}"


def _event_data(subject: Subject, outcome: Outcome, assessment: RiskAssessment | None) -> dict[str, Any]:
    return {
        "binding": subject.ref, "provider": outcome.provider,
        "score": assessment.score if assessment else None,
        "level": str(assessment.level) if assessment else None,
        "unavailable": outcome.unavailable,
    }


def refresh_case_risk(session: Session, *, borrower_id: int | None = None, case_id: int | None = None) -> None:
    """Set ``cases.risk_score``: for a borrower's cases, the highest score of the
    borrower's active bindings and of the case's own binding; for a case without a
    borrower, its own number's score. Only rows whose score changes are written."""
    if borrower_id is None:
        score = session.scalar(select(RiskAssessmentRow.score).where(RiskAssessmentRow.case_id == case_id))
        session.execute(
            update(CaseRow).where(CaseRow.id == case_id, CaseRow.risk_score.is_distinct_from(score))
            .values(risk_score=score).execution_options(synchronize_session=False)
        )
        return
    scores = dict(session.execute(
        select(BindingRow.id, RiskAssessmentRow.score)
        .join(RiskAssessmentRow, RiskAssessmentRow.binding_id == BindingRow.id)
        .where(BindingRow.borrower_id == borrower_id, RiskAssessmentRow.score.is_not(None))
    ).all())
    active = set(session.scalars(
        select(BindingRow.id).where(BindingRow.borrower_id == borrower_id,
                                    BindingRow.status == str(BindingStatus.ACTIVE))
    ))
    base = max((scores[b] for b in active if b in scores), default=None)
    targets = set(session.scalars(select(CaseRow.binding_id).where(CaseRow.borrower_id == borrower_id).distinct()))
    for binding_id in targets:
        candidates = [s for s in (base, scores.get(binding_id) if binding_id else None) if s is not None]
        value = max(candidates) if candidates else None
        which = CaseRow.binding_id.is_(None) if binding_id is None else CaseRow.binding_id == binding_id
        session.execute(
            update(CaseRow)
            .where(CaseRow.borrower_id == borrower_id, which, CaseRow.risk_score.is_distinct_from(value))
            .values(risk_score=value).execution_options(synchronize_session=False)
        )


# -- reading -----------------------------------------------------------------------------


def intel_of(session: Session, subjects: Sequence[Subject]) -> list[BindingIntel]:
    """What the desk last learnt of each subject (no provider is asked)."""
    items = []
    for subject in subjects:
        latest = session.scalars(
            select(IntelReportRow).where(_subject_filter(subject)).order_by(IntelReportRow.id.desc()).limit(1)
        ).first()
        answered = latest if latest is not None and latest.unavailable is None else last_answered(session, subject)
        report = _report_of(answered)
        column = (RiskAssessmentRow.binding_id == subject.binding_id if subject.binding_id is not None
                  else RiskAssessmentRow.case_id == subject.case_id)
        stored = session.scalars(select(RiskAssessmentRow).where(column)).first()
        assessment = None
        if stored is not None and stored.assessment:
            try:
                assessment = RiskAssessment.model_validate(stored.assessment)
            except ValidationError:
                assessment = None
        carrier, region = subject.carrier, subject.region
        if subject.binding_id is None and report is not None:
            carrier, region = report.carrier, report.region
        items.append(BindingIntel(
            binding=subject.ref,
            phone=MaskedPhone(ref=subject.ref or CASE_NUMBER_REF, masked=subject.masked, carrier=carrier, region=region),
            status=subject.status,
            report=report,
            assessment=assessment,
            unavailable=latest.unavailable if latest is not None else None,
            checked_at=latest.checked_at if latest is not None else None,
        ))
    return items


def case_intel(session: Session, case_id: int) -> list[BindingIntel]:
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    return intel_of(session, subjects_of(session, case))


async def check_case(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    provider: IntelProvider,
    policy: RiskPolicy,
    case_id: int,
    *,
    actor: str,
    actor_id: int | None,
    clock: Callable[[], datetime],
    timeout: float,
) -> list[BindingIntel]:
    """``POST /cases/{ref}/intel``: check the case's numbers now and answer what is known.
    The database work runs in worker threads, the provider on the event loop."""
    plan = await anyio.to_thread.run_sync(prepare, sessions, keyring, case_id)
    outcomes = await check_numbers(provider, plan.subjects, timeout=timeout, clock=clock, fresh=True)

    def store() -> list[BindingIntel]:
        with sessions() as session:
            with session.begin():
                record(
                    session, keyring, policy, [(plan.subjects[i], o) for i, o in outcomes.items()],
                    actor=actor, actor_id=actor_id, now=clock(), case_id=case_id,
                )
            return intel_of(session, plan.subjects)

    return await anyio.to_thread.run_sync(store)
