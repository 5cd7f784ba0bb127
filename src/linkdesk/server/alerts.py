"""Risk alerts: what changed since a binding's previous check, and one case per change.

A change is read by comparing a binding's new report with its previous one (what it was
bound as, when there is none) and the desk's other bindings of the same number:

* ``reassigned`` — re-issued to someone else since the binding (once per binding);
* ``cancelled`` — cancelled and not re-issued, where it was not before;
* ``line_down`` — the line went to a down status (停机 shut down, 空号 empty, 异常
  abnormal: the policy's ``line_down`` statuses), from another status; not counted
  again when it comes with a cancellation or a re-issue;
* ``shared`` — another borrower bound the same number since the previous check (one
  change per newcomer; the number's older bindings are alerted, not the newcomer's).

Each change has a key, (binding, kind, change), unique in ``risk_alerts_seen``. The key
is taken with ``INSERT … ON CONFLICT DO NOTHING`` in the transaction that opens the
case, so a change seen twice — by a re-run, by the monitor and an agent's check at
once, by two monitors — opens one case, and a rolled-back case leaves no key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from linkdesk.domain.cases import CaseCategory, CaseStatus, Priority
from linkdesk.domain.intel import IntelReport, LineStatus, Reassigned
from linkdesk.domain.refs import borrower_ref
from linkdesk.domain.risk import RiskAssessment
from linkdesk.server import tallies
from linkdesk.server.cases import case_values, phone_columns
from linkdesk.server.crypto import KeyRing
from linkdesk.server.tables import CaseRow, EventRow, RiskAlertSeenRow

ALERT_TAG = "monitor"

_STATUS_WORDS = {
    LineStatus.SHUT_DOWN: "shut down (停机)",
    LineStatus.EMPTY: "not in service (空号)",
    LineStatus.ABNORMAL: "abnormal (异常)",
    LineStatus.POWER_OFF: "powered off",
    LineStatus.BUSY: "busy",
}


@dataclass(frozen=True)
class Sharer:
    """Another borrower's active binding of the same number."""

    binding_id: int
    borrower_id: int
    bound_at: datetime


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    subject: str
    body: str
    priority: Priority


@dataclass(frozen=True)
class Bound:
    """The binding a report is about."""

    binding_id: int
    borrower_id: int
    bound_at: datetime


def detect(
    bound: Bound,
    report: IntelReport,
    previous: IntelReport | None,
    previous_at: datetime | None,
    sharers: Iterable[Sharer],
    down_statuses: Collection[LineStatus],
    now: datetime,
) -> list[Change]:
    """The changes ``report`` shows against ``previous`` (None: the binding as bound)."""
    ref, who = f"P-{bound.binding_id}", borrower_ref(bound.borrower_id)
    day = now.date().isoformat()
    source = f"{report.provider}, checked {report.checked_at:%Y-%m-%d %H:%M} UTC"
    changes: list[Change] = []
    was = previous.reassigned if previous is not None else Reassigned.NO
    bound_day = bound.bound_at.date()
    gone = False
    if report.reassigned == Reassigned.YES and report.reference_date >= bound_day:
        gone = True
        if was != Reassigned.YES:
            changes.append(Change(
                "reassigned", f"since {report.reference_date.isoformat()}",
                f"Risk alert: the number of {ref} was re-issued to someone else",
                f"{who}'s number {ref}, bound on {bound_day}, was cancelled and re-issued to a new "
                f"holder since then ({source}). Calls and messages to it reach a stranger: it was "
                "put on the do-not-contact list. Find a verified number of the borrower, unbind this "
                "one, and never disclose the debt to whoever answers.",
                Priority.URGENT,
            ))
    elif report.reassigned == Reassigned.CANCELLED:
        gone = True
        if was not in (Reassigned.CANCELLED, Reassigned.YES):
            changes.append(Change(
                "cancelled", day,
                f"Risk alert: the number of {ref} was cancelled",
                f"{who}'s number {ref} is cancelled and not re-issued yet ({source}). The borrower "
                "can no longer be reached on it, and it may soon belong to someone else: find a "
                "verified number of the borrower and stop using this one.",
                Priority.HIGH,
            ))
    status = report.line_status
    before = previous.line_status if previous is not None else LineStatus.NORMAL
    if not gone and status in down_statuses and status != before:
        words = _STATUS_WORDS.get(status, str(status))
        changes.append(Change(
            "line_down", f"{status}@{day}",
            f"Risk alert: the line of {ref} is {words}",
            f"{who}'s number {ref} went from {_STATUS_WORDS.get(before, str(before))} to {words} "
            f"({source}). Check whether the borrower changed number; do not contact third parties.",
            Priority.NORMAL,
        ))
    since = bound.bound_at if previous_at is None else max(bound.bound_at, previous_at)
    for other in sorted(sharers, key=lambda s: s.binding_id):
        if other.bound_at > since and other.borrower_id != bound.borrower_id:
            changes.append(Change(
                "shared", f"P-{other.binding_id}",
                f"Risk alert: the number of {ref} is now also bound to {borrower_ref(other.borrower_id)}",
                f"{borrower_ref(other.borrower_id)} bound the same number as {who}'s {ref} on "
                f"{other.bound_at:%Y-%m-%d} (P-{other.binding_id}). One number, several borrowers: "
                "check who holds it, and whether either registration is false.",
                Priority.HIGH,
            ))
    return changes


def _insert_ignoring_conflict(session: Session, values: dict[str, Any]) -> int | None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = (
        dialect_insert(RiskAlertSeenRow)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["binding_id", "kind", "change"])
        .returning(RiskAlertSeenRow.id)
    )
    return session.execute(stmt).scalar()


def open_alerts(
    session: Session,
    keyring: KeyRing,
    bound: Bound,
    e164: str,
    changes: Iterable[Change],
    assessment: RiskAssessment | None,
    *,
    actor_id: int | None,
    now: datetime,
) -> list[tuple[str, int]]:
    """One ``risk_alert`` case per change not seen before; (kind, case id) of those
    opened. Stages the writes; the caller commits."""
    opened = []
    for change in changes:
        seen_id = _insert_ignoring_conflict(session, {
            "binding_id": bound.binding_id, "kind": change.kind, "change": change.key, "seen_at": now,
        })
        if seen_id is None:
            continue  # this change already has its alert
        case_id = _open_case(session, keyring, bound, e164, change, assessment, actor_id=actor_id, now=now)
        session.execute(
            update(RiskAlertSeenRow).where(RiskAlertSeenRow.id == seen_id).values(case_id=case_id)
            .execution_options(synchronize_session=False)
        )
        opened.append((change.kind, case_id))
    return opened


def _open_case(
    session: Session,
    keyring: KeyRing,
    bound: Bound,
    e164: str,
    change: Change,
    assessment: RiskAssessment | None,
    *,
    actor_id: int | None,
    now: datetime,
) -> int:
    values = case_values(
        category=CaseCategory.RISK_ALERT, status=CaseStatus.NEW, priority=change.priority,
        subject=change.subject, body=change.body, created_at=now,
        borrower_id=bound.borrower_id, binding_id=bound.binding_id, tags=[ALERT_TAG],
    )
    values["key_version"] = keyring.writing_version()
    values["risk_score"] = assessment.score if assessment is not None else None
    case_id = session.execute(insert(CaseRow).values(**values).returning(CaseRow.id)).scalar_one()
    session.execute(
        update(CaseRow).where(CaseRow.id == case_id).values(**phone_columns(keyring, e164, case_id, session=session, borrower_id=bound.borrower_id))
        .execution_options(synchronize_session=False)
    )
    data: dict[str, Any] = {"binding": f"P-{bound.binding_id}", "change": change.kind}
    if assessment is not None:
        data |= {"score": assessment.score, "level": str(assessment.level)}
    session.execute(insert(EventRow), [
        {"case_id": case_id, "kind": "created", "actor_id": actor_id, "body": "", "data": {},
         "internal": False, "created_at": now},
        {"case_id": case_id, "kind": "intel", "actor_id": actor_id, "body": change.subject,
         "data": data, "internal": True, "created_at": now},
    ])
    tallies.bump(session, {tallies.key(CaseCategory.RISK_ALERT, CaseStatus.NEW, change.priority, None): 1})
    return case_id
