"""Privacy requests on a borrower: read (masked), correction, erasure, legal holds.

Each operation stages its writes — the change, its timeline events and its audit record —
in the caller's session; the route commits once. Erasure is crypto-shredding: the
borrower's data key is destroyed (:mod:`linkdesk.server.data_keys`), and the live rows
lose their ciphertexts, blind indexes and masked forms, so nothing links to the number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain.audit import AuditAction
from linkdesk.domain.borrowers import mask_id_number, mask_name
from linkdesk.domain.cases import EventKind
from linkdesk.domain.permissions import Permission
from linkdesk.domain.phones import BindingStatus, MaskedPhone, PhoneBinding
from linkdesk.domain.privacy_requests import (
    ERASED,
    BorrowerCorrection,
    BorrowerDetail,
    Erasure,
    ErasureRequest,
    LegalHold,
    LegalHoldCreate,
)
from linkdesk.domain.refs import (
    InvalidRef,
    borrower_ref,
    case_ref,
    parse_borrower_ref,
    parse_case_ref,
)
from linkdesk.server import audit
from linkdesk.server.agents import Caller
from linkdesk.server.auth import check
from linkdesk.server.crypto import KeyRing, aad
from linkdesk.server.data_keys import DataKeys
from linkdesk.server.errors import (
    BorrowerErased,
    Conflict,
    LegalHoldActive,
    NotFound,
    StaleVersion,
    ValidationProblem,
)
from linkdesk.server.tables import (
    Base,
    BindingRow,
    BorrowerCorrectionRow,
    BorrowerRow,
    CaseRow,
    EventRow,
    LegalHoldRow,
    RiskAssessmentRow,
)

CORRECTION_TABLE = "borrower_corrections"
"""The associated-data table name of a correction's sealed before/after values."""
_FIELDS = {"name": ("name_enc", "name_masked", mask_name), "id_number": ("id_number_enc", "id_number_masked", mask_id_number)}


class BorrowerChanged(StaleVersion):
    def __init__(self, current_version: int) -> None:
        super().__init__(current_version)
        self.detail = f"the borrower changed since it was read (now version {current_version}); reload it"
        self.args = (self.detail,)


def borrower_id_of(ref: str) -> int:
    try:
        return parse_borrower_ref(ref)
    except InvalidRef:
        raise NotFound(f"no borrower {ref!r}") from None


def _row(session: Session, borrower_id: int, *, lock: bool = False) -> BorrowerRow:
    query = select(BorrowerRow).where(BorrowerRow.id == borrower_id)
    row = session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise NotFound(f"no borrower {borrower_ref(borrower_id)}")
    return row


def _live(session: Session, borrower_id: int, *, lock: bool = False) -> BorrowerRow:
    row = _row(session, borrower_id, lock=lock)
    if row.erased_at is not None:
        raise BorrowerErased(f"{borrower_ref(borrower_id)} was erased on {row.erased_at:%Y-%m-%d}")
    return row


def case_ids(session: Session, borrower_id: int, *, open_only: bool = False) -> list[int]:
    query = select(CaseRow.id).where(CaseRow.borrower_id == borrower_id)
    if open_only:
        query = query.where(CaseRow.is_open.is_(True))
    return list(session.scalars(query.order_by(CaseRow.id)))


def _events(session: Session, ids: list[int], kind: EventKind, caller: Caller, data: dict[str, Any],
            now: datetime, body: str = "") -> None:
    if ids:
        session.execute(insert(EventRow), [
            {"case_id": i, "kind": str(kind), "actor_id": caller.id, "body": body, "data": data,
             "internal": False, "created_at": now}
            for i in ids
        ])


# -- reading ------------------------------------------------------------------------------


def hold_model(row: LegalHoldRow) -> LegalHold:
    return LegalHold(
        id=row.id, borrower=borrower_ref(row.borrower_id), reason=row.reason,
        case=case_ref(row.case_id) if row.case_id else None, placed_by=row.placed_by,
        placed_at=row.placed_at, lifted_by=row.lifted_by, lifted_at=row.lifted_at,
    )


def holds(session: Session, borrower_id: int, *, active_only: bool = False) -> list[LegalHold]:
    query = select(LegalHoldRow).where(LegalHoldRow.borrower_id == borrower_id)
    if active_only:
        query = query.where(LegalHoldRow.lifted_at.is_(None))
    return [hold_model(r) for r in session.scalars(query.order_by(LegalHoldRow.id))]


def detail(session: Session, borrower_id: int) -> BorrowerDetail:
    row = _row(session, borrower_id)
    bindings = session.scalars(
        select(BindingRow).where(BindingRow.borrower_id == borrower_id)
        .order_by(BindingRow.bound_at.desc(), BindingRow.id.desc())
    )
    return BorrowerDetail(
        ref=borrower_ref(row.id), name=row.name_masked, id_number=row.id_number_masked,
        version=row.version, erased=row.erased_at is not None, erased_at=row.erased_at,
        bindings=[
            PhoneBinding(
                ref=f"P-{b.id}",
                phone=MaskedPhone(ref=f"P-{b.id}", masked=b.phone_masked, carrier=b.carrier, region=b.region),
                status=BindingStatus(b.status), bound_at=b.bound_at, unbound_at=b.unbound_at,
            )
            for b in bindings
        ],
        holds=holds(session, borrower_id),
        cases=[case_ref(i) for i in case_ids(session, borrower_id)],
    )


# -- correction ---------------------------------------------------------------------------


def correct(
    session: Session, keyring: KeyRing, caller: Caller, borrower_id: int, patch: BorrowerCorrection,
    expected_version: int, now: datetime,
) -> BorrowerDetail:
    """Re-seal the corrected fields under the borrower's data key and update the masked
    forms. A ``correction`` event on each of their cases shows the masked before/after;
    the full values are kept sealed in ``borrower_corrections`` (read by an export, gone
    with an erasure)."""
    check(caller, Permission.PRIVACY_CORRECT)
    fields = [f for f in ("name", "id_number") if getattr(patch, f) is not None]
    if not fields:
        raise ValidationProblem.field("name", "give the name or the id_number to correct")
    row = _live(session, borrower_id, lock=True)
    if row.version != expected_version:
        raise BorrowerChanged(row.version)
    keys = DataKeys(keyring, session)
    changes: dict[str, Any] = {}
    corrections: list[dict[str, Any]] = []
    for name in fields:
        column, masked_column, masker = _FIELDS[name]
        new = getattr(patch, name)
        old_blob = getattr(row, column)
        old = keys.open(old_blob, aad("borrowers", column, row.id)) if old_blob is not None else None
        if old == new:
            continue
        changes[column] = keys.seal(row.id, new, aad("borrowers", column, row.id))
        changes[masked_column] = masker(new)
        corrections.append({"borrower_id": row.id, "field": name, "new": new, "old": old,
                            "before_masked": getattr(row, masked_column), "after_masked": masker(new),
                            "actor": caller.name, "corrected_at": now})
    if not changes:
        raise Conflict("the corrected values are the ones on file: nothing to change")
    result = session.execute(
        update(BorrowerRow).where(BorrowerRow.id == row.id, BorrowerRow.version == expected_version)
        .values(**changes, version=expected_version + 1).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BorrowerChanged(expected_version + 1)
    who = borrower_ref(row.id)
    names = sorted(c["field"] for c in corrections)
    record = audit.append(
        session, at=now, actor=caller.name, action=AuditAction.CORRECTION, target=who,
        detail={"fields": names},
    )
    for item in corrections:
        old, new = item.pop("old"), item.pop("new")
        correction_id = session.execute(
            insert(BorrowerCorrectionRow).values(**item, audit_seq=record.seq).returning(BorrowerCorrectionRow.id)
        ).scalar_one()
        sealed = {
            f"{side}_enc": None if value is None
            else keys.seal(row.id, value, aad(CORRECTION_TABLE, f"{item['field']}_{side}", correction_id))
            for side, value in (("before", old), ("after", new))
        }
        session.execute(update(BorrowerCorrectionRow).where(BorrowerCorrectionRow.id == correction_id)
                        .values(**sealed).execution_options(synchronize_session=False))
    data: dict[str, Any] = {"borrower": who, "fields": ",".join(names), "audit_seq": record.seq}
    for item in corrections:
        data[f"{item['field']}_before"] = item["before_masked"]
        data[f"{item['field']}_after"] = item["after_masked"]
    _events(session, case_ids(session, row.id), EventKind.CORRECTION, caller, data, now)
    session.flush()
    session.expire_all()
    return detail(session, row.id)


def corrections(session: Session, keys: DataKeys, borrower_id: int) -> list[dict[str, Any]]:
    """The borrower's corrections with the full before/after in clear (for an export)."""
    out = []
    for row in session.scalars(select(BorrowerCorrectionRow).where(BorrowerCorrectionRow.borrower_id == borrower_id)
                               .order_by(BorrowerCorrectionRow.id)):
        values = {}
        for side in ("before", "after"):
            blob = getattr(row, f"{side}_enc")
            where = aad(CORRECTION_TABLE, f"{row.field}_{side}", row.id)
            values[side] = None if blob is None else keys.open(blob, where)
        out.append({"field": row.field, **values, "by": row.actor, "at": row.corrected_at.isoformat(),
                    "audit_seq": row.audit_seq})
    return out


# -- legal holds --------------------------------------------------------------------------


def place_hold(session: Session, caller: Caller, borrower_id: int, data: LegalHoldCreate,
               now: datetime) -> LegalHold:
    check(caller, Permission.LEGAL_HOLD)
    row = _row(session, borrower_id)
    case_id = None
    if data.case is not None:
        try:
            case_id = parse_case_ref(data.case)
        except InvalidRef:
            raise ValidationProblem.field("case", "not a case reference") from None
        owner = session.scalar(select(CaseRow.borrower_id).where(CaseRow.id == case_id))
        if owner != row.id:
            raise ValidationProblem.field("case", f"{data.case} is not a case of {borrower_ref(row.id)}")
    hold_id = session.execute(
        insert(LegalHoldRow).values(borrower_id=row.id, case_id=case_id, reason=data.reason,
                                    placed_by=caller.name, placed_at=now).returning(LegalHoldRow.id)
    ).scalar_one()
    who = borrower_ref(row.id)
    record = audit.append(
        session, at=now, actor=caller.name, action=AuditAction.LEGAL_HOLD_PLACED, target=who,
        case=case_ref(case_id) if case_id else None, detail={"hold": hold_id, "reason": data.reason},
    )
    _events(session, case_ids(session, row.id, open_only=True), EventKind.LEGAL_HOLD, caller,
            {"action": "placed", "hold": hold_id, "reason": data.reason, "audit_seq": record.seq}, now)
    hold = session.get(LegalHoldRow, hold_id)
    assert hold is not None
    return hold_model(hold)


def lift_hold(session: Session, caller: Caller, borrower_id: int, hold_id: int, now: datetime) -> None:
    check(caller, Permission.LEGAL_HOLD)
    hold = session.get(LegalHoldRow, hold_id)
    if hold is None or hold.borrower_id != borrower_id:
        raise NotFound(f"no legal hold {hold_id} on {borrower_ref(borrower_id)}")
    if hold.lifted_at is not None:
        raise Conflict(f"legal hold {hold_id} was lifted on {hold.lifted_at:%Y-%m-%d} by {hold.lifted_by}")
    result = session.execute(
        update(LegalHoldRow).where(LegalHoldRow.id == hold_id, LegalHoldRow.lifted_at.is_(None))
        .values(lifted_by=caller.name, lifted_at=now).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(f"legal hold {hold_id} was lifted meanwhile")
    record = audit.append(
        session, at=now, actor=caller.name, action=AuditAction.LEGAL_HOLD_LIFTED,
        target=borrower_ref(borrower_id), detail={"hold": hold_id},
    )
    _events(session, case_ids(session, borrower_id, open_only=True), EventKind.LEGAL_HOLD, caller,
            {"action": "lifted", "hold": hold_id, "audit_seq": record.seq}, now)


# -- erasure ------------------------------------------------------------------------------


def erase(session: Session, keyring: KeyRing, caller: Caller, borrower_id: int, request: ErasureRequest,
          now: datetime) -> Erasure:
    """Crypto-shred the borrower (one transaction, committed by the caller): refused while a
    legal hold is active; otherwise the data key is destroyed, the live rows lose their
    sealed values, blind indexes and masked forms, active bindings end, each case gets a
    ``deletion`` event and the chain a ``deletion`` record (no personal data in either)."""
    check(caller, Permission.PRIVACY_DELETE)
    row = _live(session, borrower_id, lock=True)
    who = borrower_ref(row.id)
    active = holds(session, row.id, active_only=True)
    if active:
        hold = active[0]
        raise LegalHoldActive(
            f"{who} is under legal hold {hold.id} ({hold.reason}): lift it before erasing",
            hold=hold.id, reason=hold.reason,
        )
    DataKeys(keyring, session).shred(row.id, now)
    session.execute(
        update(BorrowerRow).where(BorrowerRow.id == row.id).values(
            name_enc=None, name_masked=ERASED, id_number_enc=None, id_number_masked=None,
            erased_at=now, version=row.version + 1,
        ).execution_options(synchronize_session=False)
    )
    binding_ids = list(session.scalars(select(BindingRow.id).where(BindingRow.borrower_id == row.id)))
    ended = session.execute(
        update(BindingRow).where(BindingRow.borrower_id == row.id, BindingRow.status.in_(
            [str(BindingStatus.ACTIVE), str(BindingStatus.SUSPENDED)]))
        .values(status=str(BindingStatus.UNBOUND), unbound_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(BindingRow).where(BindingRow.borrower_id == row.id)
        .values(phone_enc=None, phone_index="", phone_masked=ERASED, last4="")
        .execution_options(synchronize_session=False)
    )
    if binding_ids:  # the monitor and the intel panel stop looking at these numbers
        session.execute(
            update(RiskAssessmentRow).where(RiskAssessmentRow.binding_id.in_(binding_ids))
            .values(stop_contact=True).execution_options(synchronize_session=False)
        )
    cases = case_ids(session, row.id)
    session.execute(
        update(CaseRow).where(CaseRow.borrower_id == row.id)
        .values(phone_enc=None, phone_index=None, phone_masked=ERASED, phone_last4=None)
        .execution_options(synchronize_session=False)
    )
    _scrub_related(session, row.id, binding_ids)
    session.execute(  # the sealed copies were unreadable already; the masked ones go too
        update(BorrowerCorrectionRow).where(BorrowerCorrectionRow.borrower_id == row.id)
        .values(before_enc=None, after_enc=None, before_masked=None, after_masked=None)
        .execution_options(synchronize_session=False)
    )
    record = audit.append(  # counts and codes only: the note may name the person, it stays out
        session, at=now, actor=caller.name, action=AuditAction.DELETION, target=who,
        reason=str(request.reason),
        detail={"cases": len(cases), "bindings": len(binding_ids), "bindings_ended": ended,
                "method": "crypto-shredding"},
    )
    _events(session, cases, EventKind.DELETION, caller,
            {"borrower": who, "reason": str(request.reason), "audit_seq": record.seq}, now,
            body=request.note)
    return Erasure(borrower=who, erased_at=now, cases=[case_ref(i) for i in cases],
                   bindings_ended=ended, audit_seq=record.seq)


_RELATED = {"rebinds": "borrower_id", "sms_outbox": "borrower_id", "contact_log": "borrower_id",
            "masked_calls": "binding_id"}
"""Other tables that hold a borrower's number (issue 5's rebind and contact work): their
sealed copies and masked forms go too. The do-not-contact list keeps its entries: it
protects whoever holds the number now."""


def _scrub_related(session: Session, borrower_id: int, binding_ids: list[int]) -> None:
    for name, link in _RELATED.items():
        table = Base.metadata.tables.get(name)
        if table is None or link not in table.c:
            continue
        if link == "binding_id" and not binding_ids:
            continue
        values: dict[str, Any] = {}
        for column in table.c:
            if column.name == "phone_enc":
                values[column.name] = None
            elif column.name == "phone_index":
                values[column.name] = None if column.nullable else ""
            elif column.name == "phone_masked":
                values[column.name] = ERASED
        if values:
            where = table.c[link] == borrower_id if link == "borrower_id" else table.c[link].in_(binding_ids)
            session.execute(update(table).where(where).values(**values))
