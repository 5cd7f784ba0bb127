"""Access and copy (PIPL art. 45): everything the desk holds about a borrower, decrypted.

The export is for the data subject: identity, numbers with their history, cases with
their timelines, intel reports and risk assessments, contact log and masked calls,
do-not-contact entries for their numbers, legal holds. An ``export`` audit record (what
was exported, never the values) is staged in the caller's session, which commits it
before the answer leaves: no record, no export.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from linkdesk.domain.audit import AuditAction
from linkdesk.domain.permissions import Permission
from linkdesk.domain.privacy_requests import EXPORT_SCHEMA
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.server import audit, do_not_contact
from linkdesk.server.agents import Caller
from linkdesk.server.auth import check
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import DataKeys
from linkdesk.server.errors import BorrowerErased, NotFound, Undecryptable
from linkdesk.server.privacy_requests import corrections, holds
from linkdesk.server.tables import (
    AgentRow,
    Base,
    BindingRow,
    BorrowerRow,
    CaseRow,
    EventRow,
    IntelReportRow,
    RiskAssessmentRow,
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export(session: Session, keyring: KeyRing, caller: Caller, borrower_id: int, now: datetime) -> dict[str, Any]:
    check(caller, Permission.PRIVACY_EXPORT)
    row = session.get(BorrowerRow, borrower_id)
    who = borrower_ref(borrower_id)
    if row is None:
        raise NotFound(f"no borrower {who}")
    if row.erased_at is not None:
        raise BorrowerErased(f"{who} was erased on {row.erased_at:%Y-%m-%d}: there is nothing left to export")
    keys = DataKeys(keyring, session)

    def opened(blob: bytes | None, table: str, column: str, row_id: int) -> str | None:
        if blob is None:
            return None
        try:
            return keys.open(blob, aad(table, column, row_id))
        except DecryptionFailed as exc:
            raise Undecryptable(
                f"{table}.{column} of row {row_id} cannot be decrypted ({exc}); the export was not made",
                field=column,
            ) from None

    agents = dict(session.execute(select(AgentRow.id, AgentRow.name)).all())
    bindings = list(session.scalars(
        select(BindingRow).where(BindingRow.borrower_id == borrower_id).order_by(BindingRow.bound_at, BindingRow.id)
    ))
    numbers = {b.id: opened(b.phone_enc, "phone_bindings", "phone_enc", b.id) for b in bindings}
    cases = list(session.scalars(select(CaseRow).where(CaseRow.borrower_id == borrower_id).order_by(CaseRow.id)))
    case_ids = [c.id for c in cases]
    binding_ids = list(numbers)
    out: dict[str, Any] = {
        "schema": EXPORT_SCHEMA,
        "generated_at": now.isoformat(),
        "generated_by": caller.name,
        "borrower": {
            "ref": who,
            "name": opened(row.name_enc, "borrowers", "name_enc", row.id),
            "id_number": opened(row.id_number_enc, "borrowers", "id_number_enc", row.id),
            "created_at": _iso(row.created_at),
        },
        "bindings": [
            {"ref": f"P-{b.id}", "number": numbers[b.id], "carrier": b.carrier, "region": b.region,
             "status": b.status, "bound_at": _iso(b.bound_at), "unbound_at": _iso(b.unbound_at)}
            for b in bindings
        ],
        "cases": [_case(session, c, agents, opened) for c in cases],
        "intel_reports": _intel(session, binding_ids, case_ids),
        "risk_assessments": _risk(session, binding_ids, case_ids),
        "do_not_contact": _do_not_contact(session, keyring, {n for n in numbers.values() if n}),
        "corrections": _corrections(session, keys, borrower_id),
        "legal_holds": [h.model_dump(mode="json") for h in holds(session, borrower_id)],
    }
    for name in ("contact_log", "masked_calls"):  # when the contact work's tables are there
        table = Base.metadata.tables.get(name)
        if table is not None:
            out[name] = _rows_of(session, table, borrower_id, binding_ids, case_ids)
    counts = {key: len(value) for key, value in out.items() if isinstance(value, list)}
    audit.append(
        session, at=now, actor=caller.name, action=AuditAction.EXPORT, target=who,
        reason="privacy_request", detail={"schema": EXPORT_SCHEMA, "sections": counts},
    )
    return out


def _case(session: Session, case: CaseRow, agents: dict[int, str], opened: Any) -> dict[str, Any]:
    events = []
    for e in session.scalars(select(EventRow).where(EventRow.case_id == case.id).order_by(EventRow.id)):
        data = dict(e.data or {})
        events.append({"kind": e.kind, "at": _iso(e.created_at), "actor": agents.get(e.actor_id or 0),
                       "body": e.body, "data": data, "internal": e.internal})
    return {
        "ref": case_ref(case.id), "category": case.category, "status": case.status,
        "priority": case.priority, "subject": case.subject, "body": case.body,
        "number": opened(case.phone_enc, "cases", "phone_enc", case.id),
        "binding": f"P-{case.binding_id}" if case.binding_id else None,
        "created_at": _iso(case.created_at), "updated_at": _iso(case.updated_at),
        "timeline": events,
    }


def _corrections(session: Session, keys: DataKeys, borrower_id: int) -> list[dict[str, Any]]:
    try:
        return corrections(session, keys, borrower_id)
    except DecryptionFailed as exc:
        raise Undecryptable(f"a correction of {borrower_ref(borrower_id)} cannot be decrypted ({exc}); "
                            "the export was not made") from None


def _intel(session: Session, binding_ids: list[int], case_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(IntelReportRow).where(
            IntelReportRow.binding_id.in_(binding_ids or [0]) | IntelReportRow.case_id.in_(case_ids or [0])
        ).order_by(IntelReportRow.id)
    )
    return [
        {"binding": f"P-{r.binding_id}" if r.binding_id else None,
         "case": case_ref(r.case_id) if r.case_id else None, "provider": r.provider,
         "checked_at": _iso(r.checked_at), "report": r.report, "unavailable": r.unavailable}
        for r in rows
    ]


def _risk(session: Session, binding_ids: list[int], case_ids: list[int]) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(RiskAssessmentRow).where(
            RiskAssessmentRow.binding_id.in_(binding_ids or [0]) | RiskAssessmentRow.case_id.in_(case_ids or [0])
        ).order_by(RiskAssessmentRow.id)
    )
    return [
        {"binding": f"P-{r.binding_id}" if r.binding_id else None,
         "case": case_ref(r.case_id) if r.case_id else None, "score": r.score, "level": r.level,
         "stop_contact": r.stop_contact, "assessment": r.assessment, "assessed_at": _iso(r.assessed_at)}
        for r in rows
    ]


def _do_not_contact(session: Session, keyring: KeyRing, numbers: set[str]) -> list[dict[str, Any]]:
    out = []
    for number in sorted(numbers):
        for entry in do_not_contact.entries_for(session, keyring, number):
            out.append({"number": number, "reason": entry.reason, "note": entry.note,
                        "added_by": entry.added_by, "added_at": _iso(entry.added_at)})
    return out


def _rows_of(session: Session, table: Table, borrower_id: int, binding_ids: list[int],
             case_ids: list[int]) -> list[dict[str, Any]]:
    """Another feature's rows about the borrower, without sealed columns (those are the
    agent's line for a masked call, not the borrower's data)."""
    if "borrower_id" in table.c:
        where = table.c.borrower_id == borrower_id
    elif "binding_id" in table.c:
        where = table.c.binding_id.in_(binding_ids or [0])
    else:
        where = table.c.case_id.in_(case_ids or [0])
    columns = [c for c in table.c if not c.name.endswith("_enc") and c.name not in ("key_version",)]
    out = []
    for values in session.execute(select(*columns).where(where).order_by(table.c.id)).mappings():
        out.append({k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()})
    return out
