"""Rebinds on the desk: start, factors, one-time codes, completion and four-eyes approval.

Each function takes a Session and stages its writes; the router commits (a wrong code's
attempt is the exception: it is committed before the refusal is raised, or a caller could
guess for ever). Provider calls (SMS, the three-element check) happen in the router,
outside any transaction. The borrower's numbers are sealed and opened only through
:func:`seal_number` and :func:`open_number`. The policy itself is ``domain.rebind``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain import rebind as policy_
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.intel import IntelReport
from linkdesk.domain.phones import (
    BindingStatus,
    InvalidPhoneNumber,
    describe,
    last_four,
    mask,
    normalise,
)
from linkdesk.domain.rebind import (
    CODE_FACTORS,
    OPEN_STATUSES,
    TRIGGER_WORDS,
    CodeState,
    Decision,
    Factor,
    FactorKind,
    Facts,
    Rebind,
    RebindStatus,
)
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.domain.risk import RiskPolicy
from linkdesk.server import audit, do_not_contact, intel
from linkdesk.server.agents import Caller
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import open_sealed, seal_for
from linkdesk.server.errors import (
    CaseClosed,
    Conflict,
    Forbidden,
    NotFound,
    NotLinked,
    ValidationProblem,
)
from linkdesk.server.tables import (
    AgentRow,
    BindingRow,
    CaseRow,
    EventRow,
    OneTimeCodeRow,
    RebindFactorRow,
    RebindRow,
    RiskAssessmentRow,
)

TABLE = "rebinds"
AWAITING_TAG = "awaiting-approval"
"""Put on a case while one of its rebinds waits for a supervisor (filter ``tag:``)."""


# -- sealing (one place: the data-key engineer may re-route it) -------------------------------


def seal_number(session: Session, keyring: KeyRing, borrower_id: int, e164: str, table: str, row_id: int,
                version: int) -> bytes:
    """A borrower's number sealed for ``table.phone_enc`` of ``row_id`` (their data key)."""
    return seal_for(session, keyring, borrower_id, e164, aad(table, "phone_enc", row_id), version=version)


def open_number(session: Session, keyring: KeyRing, blob: bytes | None, table: str, row_id: int) -> str:
    return open_sealed(session, keyring, blob or b"", aad(table, "phone_enc", row_id))


# -- reading ---------------------------------------------------------------------------------


def get_row(session: Session, rebind_id: int) -> RebindRow:
    row = session.get(RebindRow, rebind_id)
    if row is None:
        raise NotFound(f"no rebind {rebind_id}")
    return row


def _name(session: Session, agent_id: int | None) -> str | None:
    return session.scalar(select(AgentRow.name).where(AgentRow.id == agent_id)) if agent_id else None


def _factor_rows(session: Session, rebind_id: int) -> list[RebindFactorRow]:
    return list(session.scalars(
        select(RebindFactorRow).where(RebindFactorRow.rebind_id == rebind_id).order_by(RebindFactorRow.id)
    ))


def latest_code(session: Session, rebind_id: int, factor: str) -> OneTimeCodeRow | None:
    return session.scalars(
        select(OneTimeCodeRow).where(OneTimeCodeRow.rebind_id == rebind_id, OneTimeCodeRow.factor == factor)
        .order_by(OneTimeCodeRow.id.desc()).limit(1)
    ).first()


def facts_of(session: Session, risk: RiskPolicy, row: RebindRow, now: datetime) -> Facts:
    case = session.get(CaseRow, row.case_id)
    scores = list(session.scalars(
        select(RiskAssessmentRow.score).join(BindingRow, BindingRow.id == RiskAssessmentRow.binding_id)
        .where(BindingRow.borrower_id == row.borrower_id, BindingRow.status == str(BindingStatus.ACTIVE),
               RiskAssessmentRow.score.is_not(None))
    ))
    if case is not None and case.risk_score is not None:
        scores.append(case.risk_score)
    # a completed rebind's own new binding is not "another" rebind
    at = row.completed_at - timedelta(microseconds=1) if row.completed_at else now
    return Facts(
        risk_score=max(scores) if scores else None, high_from=risk.levels.high,
        bound_elsewhere=row.bound_elsewhere, rebinds_90d=intel.rebinds_in_window(session, row.borrower_id, at),
    )


def decision_of(session: Session, risk: RiskPolicy, row: RebindRow, now: datetime) -> Decision:
    records = [(FactorKind(f.kind), f.passed) for f in _factor_rows(session, row.id)]
    return policy_.decide(records, facts_of(session, risk, row, now))


def to_model(session: Session, risk: RiskPolicy, row: RebindRow, now: datetime) -> Rebind:
    old = session.get(BindingRow, row.old_binding_id) if row.old_binding_id else None
    factors = [
        Factor(kind=FactorKind(f.kind), passed=f.passed, detail=f.detail, recorded_by=_name(session, f.recorded_by_id)
               or "?", recorded_at=f.recorded_at)
        for f in _factor_rows(session, row.id)
    ]
    codes = []
    if row.status == RebindStatus.VERIFYING:
        for factor in sorted(CODE_FACTORS):
            code = latest_code(session, row.id, factor)
            if code is None:
                continue
            live = code.used_at is None and code.expires_at > now and code.attempts < policy_.CODE_MAX_ATTEMPTS
            codes.append(CodeState(
                factor=FactorKind(factor), to=code.phone_masked, sent_at=code.sent_at, expires_at=code.expires_at,
                attempts_left=max(0, policy_.CODE_MAX_ATTEMPTS - code.attempts) if live else 0,
                resend_after=code.sent_at + timedelta(seconds=policy_.CODE_RESEND_SECONDS),
            ))
    return Rebind(
        id=row.id, case=case_ref(row.case_id), borrower=borrower_ref(row.borrower_id), status=RebindStatus(row.status),
        old_phone=old.phone_masked if old else None, old_binding=f"P-{old.id}" if old else None,
        new_phone=row.phone_masked, new_binding=f"P-{row.new_binding_id}" if row.new_binding_id else None,
        bound_elsewhere=row.bound_elsewhere, requested_by=_name(session, row.requested_by_id) or "?",
        approved_by=_name(session, row.approved_by_id), factors=factors, codes=codes,
        decision=decision_of(session, risk, row, now), created_at=row.created_at, updated_at=row.updated_at,
        completed_at=row.completed_at, version=row.version,
    )


# -- the timeline and the case --------------------------------------------------------------


def event(session: Session, row: RebindRow, actor_id: int, now: datetime, body: str, data: dict[str, Any],
           *, internal: bool = False, tags: list[str] | None = None) -> None:
    values: dict[str, Any] = {"updated_at": now, "version": CaseRow.version + 1}
    if tags is not None:
        values["tags"] = tags
    session.execute(update(CaseRow).where(CaseRow.id == row.case_id).values(**values)
                    .execution_options(synchronize_session=False))
    session.execute(insert(EventRow).values(
        case_id=row.case_id, kind="rebind", actor_id=actor_id, body=body, data={"rebind": row.id, **data},
        internal=internal, created_at=now,
    ))


def _tags(session: Session, case_id: int, *, add: bool) -> list[str] | None:
    """The case's tags with (or without) the awaiting tag; None when unchanged."""
    tags = list(session.scalar(select(CaseRow.tags).where(CaseRow.id == case_id)) or [])
    if add and AWAITING_TAG not in tags:
        return [*tags, AWAITING_TAG]
    if not add and AWAITING_TAG in tags:
        return [t for t in tags if t != AWAITING_TAG]
    return None


# -- starting --------------------------------------------------------------------------------


def _active_binding(session: Session, borrower_id: int) -> BindingRow | None:
    return session.scalars(
        select(BindingRow).where(BindingRow.borrower_id == borrower_id, BindingRow.status == str(BindingStatus.ACTIVE))
        .order_by(BindingRow.bound_at.desc(), BindingRow.id.desc()).limit(1)
    ).first()


def bound_to(session: Session, keyring: KeyRing, e164: str) -> set[int]:
    """The borrowers whose active bindings hold ``e164`` (blind index, then opened)."""
    rows = session.execute(
        select(BindingRow.id, BindingRow.borrower_id, BindingRow.phone_enc)
        .where(BindingRow.phone_index.in_(keyring.blind_indexes(e164)), BindingRow.status == str(BindingStatus.ACTIVE))
    ).all()
    found = set()
    for binding_id, borrower_id, blob in rows:
        try:
            if open_number(session, keyring, blob, "phone_bindings", binding_id) == e164:
                found.add(borrower_id)
        except DecryptionFailed:
            continue
    return found


def start(session: Session, keyring: KeyRing, caller: Caller, case_id: int, phone: str, now: datetime) -> RebindRow:
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    if not case.is_open:
        raise CaseClosed(f"{case_ref(case_id)} is {case.status}; reopen it to rebind its borrower's number")
    if case.borrower_id is None:
        raise NotLinked.field("case", f"{case_ref(case_id)} has no borrower: there is no binding to change")
    try:
        e164 = normalise(phone)
    except InvalidPhoneNumber as exc:
        raise ValidationProblem.field("phone", exc.reason) from None
    running = session.scalar(select(RebindRow.id).where(
        RebindRow.borrower_id == case.borrower_id, RebindRow.status.in_([str(s) for s in OPEN_STATUSES])))
    if running is not None:
        raise Conflict(f"rebind {running} of {borrower_ref(case.borrower_id)} is still open; finish or cancel it first",
                       rebind=running)
    if do_not_contact.entries_for(session, keyring, e164):
        raise ValidationProblem.field("phone", "the number is on the do-not-contact list: it cannot be bound")
    old = _active_binding(session, case.borrower_id)
    owners = bound_to(session, keyring, e164)
    if case.borrower_id in owners:
        raise ValidationProblem.field("phone", "the number is already the borrower's active number")
    version = keyring.writing_version()
    rebind_id = session.execute(insert(RebindRow).values(
        case_id=case_id, borrower_id=case.borrower_id, old_binding_id=old.id if old else None,
        phone_index=keyring.blind_index(e164, version=version), phone_masked=mask(e164),
        status=str(RebindStatus.VERIFYING), bound_elsewhere=bool(owners), requested_by_id=caller.id,
        created_at=now, updated_at=now, version=1, key_version=version,
    ).returning(RebindRow.id)).scalar_one()
    session.execute(update(RebindRow).where(RebindRow.id == rebind_id).values(
        phone_enc=seal_number(session, keyring, case.borrower_id, e164, TABLE, rebind_id, version)
    ).execution_options(synchronize_session=False))
    row = get_row(session, rebind_id)
    body = f"rebind {rebind_id} started: new number {row.phone_masked}"
    if old is not None:
        body += f" to replace {old.phone_masked}"
    if owners:
        body += "; the number is bound to another borrower: a supervisor must approve"
    event(session, row, caller.id, now, body, {"step": "started", "to": row.phone_masked,
                                                "from": old.phone_masked if old else None})
    return row


# -- completing ----------------------------------------------------------------------------------


def _claim(session: Session, row: RebindRow, expected: RebindStatus, values: dict[str, Any], now: datetime) -> None:
    """Move the rebind on, unless someone else did meanwhile (then 409)."""
    result = session.execute(
        update(RebindRow).where(RebindRow.id == row.id, RebindRow.version == row.version,
                                RebindRow.status == str(expected))
        .values(**values, updated_at=now, version=row.version + 1).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise Conflict(f"rebind {row.id} changed meanwhile; reload it")
    session.expire(row)


def complete(session: Session, keyring: KeyRing, risk: RiskPolicy, row: RebindRow, caller: Caller,
             now: datetime) -> None:
    if row.status != RebindStatus.VERIFYING:
        raise Conflict(f"rebind {row.id} is {row.status}", status_now=row.status)
    decision = decision_of(session, risk, row, now)
    if decision.outcome is policy_.Outcome.INSUFFICIENT:
        raise Conflict("not enough independent factors: " + "; ".join(decision.missing), missing=decision.missing)
    if decision.outcome is policy_.Outcome.NEEDS_APPROVAL:
        _claim(session, row, RebindStatus.VERIFYING, {"status": str(RebindStatus.AWAITING_APPROVAL)}, now)
        why = "; ".join(TRIGGER_WORDS[t] for t in decision.approval)
        event(session, row, caller.id, now, f"rebind {row.id} waits for a supervisor's approval: {why}",
               {"step": "awaiting_approval", "triggers": ", ".join(decision.approval)},
               tags=_tags(session, row.case_id, add=True))
        return
    _perform(session, keyring, risk, row, caller, now, RebindStatus.VERIFYING, decision)


def approve(session: Session, keyring: KeyRing, risk: RiskPolicy, row: RebindRow, caller: Caller,
            now: datetime) -> None:
    if row.status != RebindStatus.AWAITING_APPROVAL:
        raise Conflict(f"rebind {row.id} is {row.status}, not awaiting approval", status_now=row.status)
    if caller.id == row.requested_by_id:
        raise Forbidden(f"four eyes: {caller.name} asked for rebind {row.id} and may not approve it; "
                        "another supervisor must", permission="rebind.approve", rule="four_eyes")
    decision = decision_of(session, risk, row, now)
    if decision.outcome is policy_.Outcome.INSUFFICIENT:
        raise Conflict("not enough independent factors: " + "; ".join(decision.missing), missing=decision.missing)
    audit.append(
        session, at=now, actor=caller.name, action=AuditAction.REBIND_APPROVED, target=f"rebind:{row.id}",
        case=case_ref(row.case_id), detail={"rebind": row.id, "requested_by": _name(session, row.requested_by_id),
                                            "triggers": [str(t) for t in decision.approval]},
    )
    _perform(session, keyring, risk, row, caller, now, RebindStatus.AWAITING_APPROVAL, decision, approver=caller)


def cancel(session: Session, row: RebindRow, caller: Caller, reason: str, now: datetime) -> None:
    if row.status not in OPEN_STATUSES:
        raise Conflict(f"rebind {row.id} is {row.status} already", status_now=row.status)
    _claim(session, row, RebindStatus(row.status), {"status": str(RebindStatus.CANCELLED)}, now)
    event(session, row, caller.id, now, f"rebind {row.id} cancelled" + (f": {reason}" if reason else ""),
           {"step": "cancelled"}, tags=_tags(session, row.case_id, add=False))


def _perform(session: Session, keyring: KeyRing, risk: RiskPolicy, row: RebindRow, caller: Caller, now: datetime,
             expected: RebindStatus, decision: Decision, approver: Caller | None = None) -> None:
    """The old binding ends, the new one starts; timeline, audit and risk in this transaction."""
    try:
        e164 = open_number(session, keyring, row.phone_enc, TABLE, row.id)
    except DecryptionFailed:
        raise Conflict("the new number cannot be decrypted (erased or altered)") from None
    factors = ", ".join(sorted({f.kind for f in _factor_rows(session, row.id) if f.passed}))
    case_id, borrower_id, old_id = row.case_id, row.borrower_id, row.old_binding_id
    old = session.get(BindingRow, old_id) if old_id else None
    if old is not None and old.status == BindingStatus.ACTIVE:
        session.execute(update(BindingRow).where(BindingRow.id == old.id).values(
            status=str(BindingStatus.UNBOUND), unbound_at=now).execution_options(synchronize_session=False))
    version = keyring.writing_version()
    carrier, region = describe(e164)
    binding_id = session.execute(insert(BindingRow).values(
        borrower_id=borrower_id, phone_index=keyring.blind_index(e164, version=version), phone_masked=mask(e164),
        last4=last_four(e164), carrier=carrier, region=region, status=str(BindingStatus.ACTIVE), bound_at=now,
        unbound_at=None, key_version=version,
    ).returning(BindingRow.id)).scalar_one()
    session.execute(update(BindingRow).where(BindingRow.id == binding_id).values(
        phone_enc=seal_number(session, keyring, borrower_id, e164, "phone_bindings", binding_id, version)
    ).execution_options(synchronize_session=False))
    requester = _name(session, row.requested_by_id)
    _claim(session, row, expected, {
        "status": str(RebindStatus.COMPLETED), "new_binding_id": binding_id, "completed_at": now,
        "approved_by_id": approver.id if approver else None,
    }, now)
    masked_old = old.phone_masked if old else None
    body = f"rebind {row.id}: {masked_old or '—'} → {row.phone_masked} (P-{binding_id}); factors {factors}"
    if approver is not None:
        body += f"; approved by {approver.name}"
    event(session, row, caller.id, now, body, {
        "step": "completed", "from": masked_old, "to": row.phone_masked, "binding": f"P-{binding_id}",
        "factors": factors, "approved_by": approver.name if approver else None,
    }, tags=_tags(session, case_id, add=False))
    audit.append(
        session, at=now, actor=caller.name, action=AuditAction.REBIND, target=f"borrower:{borrower_ref(borrower_id)}",
        case=case_ref(case_id), detail={
            "rebind": row.id, "from": masked_old, "to": row.phone_masked,
            "old_binding": f"P-{old.id}" if old else None, "new_binding": f"P-{binding_id}",
            "factors": factors, "requested_by": requester, "approved_by": approver.name if approver else None,
            "triggers": [str(t) for t in decision.approval],
        },
    )
    _rescore(session, keyring, risk, row, binding_id, borrower_id, e164, caller, now)


def _rescore(session: Session, keyring: KeyRing, risk: RiskPolicy, row: RebindRow, binding_id: int,
             borrower_id: int, e164: str, caller: Caller, now: datetime) -> None:
    """Score the new binding from its three-element check's report (when there is one)
    and refresh the risk of the borrower's cases."""
    reports = [f.report for f in _factor_rows(session, row.id) if f.kind == FactorKind.THREE_ELEMENT and f.report]
    if reports:
        report = IntelReport.model_validate(reports[-1])
        subject = intel.Subject(binding_id=binding_id, case_id=None, borrower_id=borrower_id, masked=mask(e164),
                                carrier=report.carrier, region=report.region, status=BindingStatus.ACTIVE,
                                bound_at=now, check=True, e164=e164)
        intel.record(session, keyring, risk, [(subject, intel.Outcome(report.provider, report.checked_at, report))],
                     actor=caller.name, actor_id=caller.id, now=now)
    else:
        intel.refresh_case_risk(session, borrower_id=borrower_id)
