"""The do-not-contact list and the contact check.

A number goes on the list when a check finds it re-issued to someone else (reason
``reassigned``, automatically and once) or when an agent puts it there (a third party
who complained, or a reassignment confirmed by hand). Numbers are sealed like every
other number (AES-GCM bound to the row, a blind index to find them, the masked form to
show); every addition and removal is in the audit chain, in the same transaction.

:func:`contact_check` is what every contact action asks first: it refuses a number on
the list, a number whose risk says contact must stop, and a binding that is no longer
the borrower's, and says why; given the attempt and the time, it also runs the
collection rules of :mod:`linkdesk.domain.contact_rules` (debtor only, quiet hours,
connected calls a day).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain import contact_rules
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.contact import (
    ContactChannel,
    ContactCheck,
    ContactDirection,
    ContactOutcome,
    ContactRule,
    DoNotContact,
    DoNotContactCreate,
    DoNotContactReason,
)
from linkdesk.domain.contact_rules import Attempt, CollectionPolicy
from linkdesk.domain.paging import Page
from linkdesk.domain.phones import BindingStatus, mask
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.server import audit, cursors
from linkdesk.server.agents import Caller
from linkdesk.server.cases import case_id_of
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.errors import Conflict, NotFound, NotLinked, Undecryptable
from linkdesk.server.tables import (
    BindingRow,
    CaseRow,
    ContactLogRow,
    DoNotContactRow,
    RiskAssessmentRow,
)

TABLE = "do_not_contact"
REASON_WORDS = {
    DoNotContactReason.REASSIGNED: "re-issued to someone else",
    DoNotContactReason.THIRD_PARTY_COMPLAINT: "a third party complained",
}


def target(entry_id: int) -> str:
    return f"dnc:{entry_id}"


def to_model(row: DoNotContactRow) -> DoNotContact:
    return DoNotContact(
        id=row.id,
        phone=row.phone_masked,
        reason=DoNotContactReason(row.reason),
        note=row.note or "",
        added_by=row.added_by,
        added_at=row.added_at,
        case=case_ref(row.case_id) if row.case_id else None,
        binding=f"P-{row.binding_id}" if row.binding_id else None,
    )


def entries_for(session: Session, keyring: KeyRing, e164: str) -> list[DoNotContactRow]:
    """The list's entries for ``e164`` (looked up by blind index, confirmed decrypted)."""
    rows = session.scalars(
        select(DoNotContactRow)
        .where(DoNotContactRow.phone_index.in_(keyring.blind_indexes(e164)))
        .order_by(DoNotContactRow.id)
    )
    found = []
    for row in rows:
        try:
            if keyring.decrypt(row.phone_enc or b"", aad(TABLE, "phone_enc", row.id)) == e164:
                found.append(row)
        except DecryptionFailed:
            continue
    return found


def add(
    session: Session,
    keyring: KeyRing,
    *,
    e164: str,
    reason: DoNotContactReason,
    note: str,
    case_id: int | None,
    binding_id: int | None,
    actor: str,
    now: datetime,
    automatic: bool = False,
) -> DoNotContactRow:
    """Stage an entry and its ``dnc_added`` audit record; the caller commits."""
    version = keyring.writing_version()
    masked = mask(e164)
    entry_id = session.execute(
        insert(DoNotContactRow)
        .values(
            phone_index=keyring.blind_index(e164, version=version), phone_masked=masked,
            reason=str(reason), note=note, case_id=case_id, binding_id=binding_id,
            added_by=actor, added_at=now, key_version=version,
        )
        .returning(DoNotContactRow.id)
    ).scalar_one()
    session.execute(
        update(DoNotContactRow)
        .where(DoNotContactRow.id == entry_id)
        .values(phone_enc=keyring.encrypt(e164, aad(TABLE, "phone_enc", entry_id), version=version))
        .execution_options(synchronize_session=False)
    )
    detail: dict[str, object] = {"phone": masked, "automatic": automatic}
    if binding_id:
        detail["binding"] = f"P-{binding_id}"
    if note:
        detail["note"] = note
    audit.append(
        session, at=now, actor=actor, action=AuditAction.DNC_ADDED, target=target(entry_id),
        case=case_ref(case_id) if case_id else None, reason=str(reason), detail=detail,
    )
    row = session.get(DoNotContactRow, entry_id)
    assert row is not None
    return row


def add_reassigned(
    session: Session,
    keyring: KeyRing,
    *,
    e164: str,
    case_id: int | None,
    binding_id: int | None,
    actor: str,
    now: datetime,
    evidence: str,
) -> bool:
    """Put a number a check found re-issued on the list, unless it is there for that
    reason already. True when it was added."""
    if any(row.reason == DoNotContactReason.REASSIGNED for row in entries_for(session, keyring, e164)):
        return False
    add(
        session, keyring, e164=e164, reason=DoNotContactReason.REASSIGNED, note=evidence,
        case_id=case_id, binding_id=binding_id, actor=actor, now=now, automatic=True,
    )
    return True


def _binding_of(session: Session, case: CaseRow, ref: str, field: str) -> BindingRow:
    prefix, _, digits = ref.strip().partition("-")
    binding = None
    if prefix.upper() == "P" and digits.isdigit() and len(digits) < 12:
        binding = session.get(BindingRow, int(digits))
    if binding is None or case.borrower_id is None or binding.borrower_id != case.borrower_id:
        raise NotLinked.field(field, f"{ref} is not a number of {case_ref(case.id)}'s borrower")
    return binding


def create(session: Session, keyring: KeyRing, caller: Caller, data: DoNotContactCreate, now: datetime) -> DoNotContact:
    """``POST /do-not-contact``: the case's number, or one of its borrower's numbers."""
    case_id = case_id_of(data.case)
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    if data.binding:
        binding = _binding_of(session, case, data.binding, "binding")
        blob, where, binding_id = binding.phone_enc, aad("phone_bindings", "phone_enc", binding.id), binding.id
    elif case.phone_enc is not None:
        blob, where, binding_id = case.phone_enc, aad("cases", "phone_enc", case.id), case.binding_id
    else:
        raise NotLinked.field("case", f"{case_ref(case.id)} has no number; name one of its borrower's (binding)")
    try:
        e164 = open_sealed(session, keyring, blob or b"", where)
    except DecryptionFailed as exc:
        raise Undecryptable(
            f"the stored number cannot be decrypted ({exc}); it was altered or is under a key this desk lacks",
            field="phone",
        ) from None
    for existing in entries_for(session, keyring, e164):
        if existing.reason == data.reason:
            raise Conflict(
                f"{existing.phone_masked} is already on the do-not-contact list for that reason "
                f"(entry {existing.id})",
                entry=existing.id,
            )
    row = add(
        session, keyring, e164=e164, reason=data.reason, note=data.note, case_id=case.id,
        binding_id=binding_id, actor=caller.name, now=now,
    )
    return to_model(row)


def list_entries(
    session: Session, *, reason: DoNotContactReason | None = None, cursor: str | None = None, limit: int = 50
) -> Page[DoNotContact]:
    """Newest first, keyset pages on ``id``."""
    stmt = select(DoNotContactRow)
    if reason:
        stmt = stmt.where(DoNotContactRow.reason == str(reason))
    filters = cursors.fingerprint({"reason": reason})
    if cursor:
        payload = cursors.decode(cursor, sort="dnc", filters=filters)
        stmt = stmt.where(DoNotContactRow.id < payload["i"])
    rows = list(session.scalars(stmt.order_by(DoNotContactRow.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode({"s": "dnc", "f": filters, "i": rows[-1].id})
    return Page[DoNotContact](items=[to_model(row) for row in rows], next_cursor=next_cursor)


def remove(session: Session, caller: Caller, entry_id: int, now: datetime) -> None:
    """Take an entry off the list, with a ``dnc_removed`` record; the caller commits."""
    row = session.get(DoNotContactRow, entry_id)
    if row is None:
        raise NotFound(f"no do-not-contact entry {entry_id}")
    audit.append(
        session, at=now, actor=caller.name, action=AuditAction.DNC_REMOVED, target=target(row.id),
        case=case_ref(row.case_id) if row.case_id else None, reason=row.reason,
        detail={"phone": row.phone_masked, "added_by": row.added_by},
    )
    session.execute(delete(DoNotContactRow).where(DoNotContactRow.id == entry_id))


def contact_check(
    session: Session,
    keyring: KeyRing,
    case_id: int,
    binding_ref: str | None,
    *,
    attempt: Attempt | None = None,
    now: datetime | None = None,
    policy: CollectionPolicy | None = None,
) -> ContactCheck:
    """May the case's number (or the named binding's) be contacted? The first rule that
    refuses, in words; the number only masked.

    With an ``attempt`` and ``now``, the whole rule set runs, in this order: the party
    (debtor only), the number's rules (do-not-contact, stop contact, binding no longer
    the borrower's, no number), quiet hours and the daily limit of connected calls
    (counted from the contact log over the borrower's local day)."""
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    if attempt is not None:
        refusal = contact_rules.party_rule(attempt)
        if refusal is not None:
            return ContactCheck(allowed=False, rule=refusal.rule, detail=refusal.detail)
    if attempt is not None and attempt.direction is ContactDirection.INBOUND:
        return ContactCheck(allowed=True, detail="inbound contact: the borrower reached the desk")
    result = _number_check(session, keyring, case, binding_ref)
    if not result.allowed or attempt is None or now is None:
        return result
    policy = policy or CollectionPolicy()
    refusal = contact_rules.time_rules(
        attempt, now, policy, connected_calls_today=connected_calls_today(session, case, now, policy)
    )
    if refusal is not None:
        return result.model_copy(update={
            "allowed": False, "rule": refusal.rule, "detail": refusal.detail,
            "allowed_from": refusal.allowed_from,
        })
    return result


def connected_calls_today(session: Session, case: CaseRow, now: datetime, policy: CollectionPolicy) -> int:
    """Outbound connected calls logged on the local day of ``now``, to the case's
    borrower (or, without one, under the case)."""
    start, end = contact_rules.local_day(now, policy)
    who = (ContactLogRow.borrower_id == case.borrower_id) if case.borrower_id is not None \
        else (ContactLogRow.case_id == case.id)
    return session.scalar(
        select(func.count()).select_from(ContactLogRow).where(
            who,
            ContactLogRow.channel == str(ContactChannel.CALL),
            ContactLogRow.outcome == str(ContactOutcome.CONNECTED),
            ContactLogRow.direction == str(ContactDirection.OUTBOUND),
            ContactLogRow.contacted_at >= start,
            ContactLogRow.contacted_at < end,
        )
    ) or 0


def _number_check(session: Session, keyring: KeyRing, case: CaseRow, binding_ref: str | None) -> ContactCheck:
    ref = case_ref(case.id)
    binding: BindingRow | None = None
    if binding_ref:
        binding = _binding_of(session, case, binding_ref, "binding")
        blob, where = binding.phone_enc, aad("phone_bindings", "phone_enc", binding.id)
    elif case.phone_enc is not None:
        blob, where = case.phone_enc, aad("cases", "phone_enc", case.id)
        binding = session.get(BindingRow, case.binding_id) if case.binding_id else None
    elif case.borrower_id is not None:
        binding = session.scalars(
            select(BindingRow)
            .where(BindingRow.borrower_id == case.borrower_id, BindingRow.status == str(BindingStatus.ACTIVE))
            .order_by(BindingRow.bound_at.desc(), BindingRow.id.desc())
            .limit(1)
        ).first()
        if binding is None:
            return ContactCheck(allowed=False, rule=ContactRule.NO_NUMBER,
                                detail=f"{ref}'s borrower has no active number")
        blob, where = binding.phone_enc, aad("phone_bindings", "phone_enc", binding.id)
    else:
        return ContactCheck(allowed=False, rule=ContactRule.NO_NUMBER, detail=f"{ref} has no number to contact")
    bref = f"P-{binding.id}" if binding is not None else None
    try:
        e164 = open_sealed(session, keyring, blob or b"", where)
    except DecryptionFailed:
        return ContactCheck(allowed=False, rule=ContactRule.NO_NUMBER, binding=bref,
                            detail=f"the number of {ref} cannot be read (altered, or under a missing key)")
    masked = mask(e164)
    entries = entries_for(session, keyring, e164)
    if entries:
        entry = entries[0]
        why = REASON_WORDS[DoNotContactReason(entry.reason)]
        return ContactCheck(
            allowed=False, rule=ContactRule.DO_NOT_CONTACT, binding=bref,
            detail=f"{masked} is on the do-not-contact list ({why}; entry {entry.id}, added "
                   f"{entry.added_at:%Y-%m-%d} by {entry.added_by}): do not call or message it",
        )
    if binding is not None:
        assessment = session.scalars(
            select(RiskAssessmentRow).where(RiskAssessmentRow.binding_id == binding.id)
        ).first()
        if assessment is not None and assessment.stop_contact:
            return ContactCheck(
                allowed=False, rule=ContactRule.STOP_CONTACT, binding=bref,
                detail=f"the risk of P-{binding.id} ({masked}) says contact must stop: "
                       + _stop_reason(assessment),
            )
        if binding.status in (BindingStatus.UNBOUND, BindingStatus.REASSIGNED):
            since = f" since {binding.unbound_at:%Y-%m-%d}" if binding.unbound_at else ""
            return ContactCheck(
                allowed=False, rule=ContactRule.BINDING_INACTIVE, binding=bref,
                detail=f"P-{binding.id} ({masked}) is {binding.status}{since}: it is no longer "
                       f"{borrower_ref(binding.borrower_id)}'s number",
            )
    return ContactCheck(allowed=True, binding=bref,
                        detail=f"{masked} may be contacted: it is not on the do-not-contact list")


def _stop_reason(assessment: RiskAssessmentRow) -> str:
    signals = (assessment.assessment or {}).get("signals") or []
    critical = [s for s in signals if isinstance(s, dict) and s.get("critical")]
    if critical:
        return f"{critical[0].get('explanation', '')} ({critical[0].get('evidence', '')})"
    return "a critical signal"
