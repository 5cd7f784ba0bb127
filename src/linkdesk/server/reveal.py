"""Reveal: the one path by which a full number, name or ID number leaves the desk.

Checks, in order: the role may reveal that field, the case exists and is open, the
subject is linked to the case, the agent is under the hourly limit. Then the value is
decrypted, and the reveal is recorded — an audit record and an internal timeline entry —
in one transaction that commits before the value is answered: no record, no value.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import insert
from sqlalchemy.orm import Session

from linkdesk.domain.audit import AuditAction
from linkdesk.domain.desk_policy import DeskPolicy
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.domain.reveal import REVEAL_PERMISSION, RevealField, Revealed, RevealRequest
from linkdesk.server import audit
from linkdesk.server.agents import Caller
from linkdesk.server.auth import check
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import Erased, open_sealed
from linkdesk.server.errors import (
    BorrowerErased,
    CaseClosed,
    NotFound,
    NotLinked,
    RateLimited,
    Undecryptable,
)
from linkdesk.server.tables import BindingRow, BorrowerRow, CaseRow, EventRow

WINDOW = timedelta(hours=1)


def reveal(
    session: Session,
    keyring: KeyRing,
    caller: Caller,
    case_id: int,
    request: RevealRequest,
    policy: DeskPolicy,
    now: datetime,
) -> Revealed:
    check(caller, REVEAL_PERMISSION[request.field])
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    ref = case_ref(case.id)
    if not case.is_open:
        raise CaseClosed(f"{ref} is {case.status}: reveals are only for open cases")
    blob, where, target = _subject(session, case, request)
    _check_rate(session, caller, policy, now)
    try:
        value = open_sealed(session, keyring, blob, where)
    except Erased:
        raise BorrowerErased(f"{target.rsplit('.', 1)[0]} belongs to an erased borrower: it cannot be read") from None
    except DecryptionFailed as exc:
        audit.append(session, at=now, actor=caller.name, action=AuditAction.REVEAL_FAILED,
                     target=target, case=ref, reason=str(request.reason),
                     detail={"field": str(request.field), "problem": str(exc)})
        session.commit()
        raise Undecryptable(
            f"the stored {request.field} of {target.rsplit('.', 1)[0]} cannot be decrypted ({exc}); "
            "it was altered or is under a key this desk lacks — this was recorded",
            field=str(request.field),
        ) from None
    record = audit.append(
        session, at=now, actor=caller.name, action=AuditAction.REVEAL, target=target, case=ref,
        reason=str(request.reason), detail={"field": str(request.field), "note": request.note},
    )
    session.execute(
        insert(EventRow).values(
            case_id=case.id, kind="reveal", actor_id=caller.id, body="",
            data={"field": str(request.field), "binding": request.binding, "reason": str(request.reason),
                  "audit_seq": record.seq},
            internal=True, created_at=now,
        )
    )
    session.commit()
    return Revealed(
        field=request.field, binding=request.binding, value=value, audit_seq=record.seq,
        display_seconds=policy.reveal_display_seconds,
    )


def _subject(session: Session, case: CaseRow, request: RevealRequest) -> tuple[bytes, str, str]:
    """The ciphertext asked for, its associated data and the audit target; 422 when the
    subject is not linked to the case."""
    ref = case_ref(case.id)
    owner = session.get(BorrowerRow, case.borrower_id) if case.borrower_id is not None else None
    if owner is not None and owner.erased_at is not None:
        raise BorrowerErased(f"{borrower_ref(owner.id)} of {ref} was erased: their data cannot be read")
    if request.field is RevealField.PHONE and request.binding:
        binding_id = _binding_id(request.binding)
        binding = session.get(BindingRow, binding_id) if binding_id else None
        if binding is None or case.borrower_id is None or binding.borrower_id != case.borrower_id:
            raise NotLinked.field("binding", f"{request.binding} is not a number of {ref}'s borrower")
        return binding.phone_enc or b"", aad("phone_bindings", "phone_enc", binding.id), f"P-{binding.id}.phone"
    if request.field is RevealField.PHONE:
        if case.phone_enc is None:
            raise NotLinked.field("field", f"{ref} has no number")
        return case.phone_enc, aad("cases", "phone_enc", case.id), f"{ref}.phone"
    if case.borrower_id is None:
        raise NotLinked.field("field", f"{ref} has no borrower")
    borrower = session.get(BorrowerRow, case.borrower_id)
    assert borrower is not None  # a foreign key
    who = borrower_ref(borrower.id)
    if request.field is RevealField.NAME:
        return borrower.name_enc or b"", aad("borrowers", "name_enc", borrower.id), f"{who}.name"
    if borrower.id_number_enc is None:
        raise NotLinked.field("field", f"{who} has no ID number on file")
    return borrower.id_number_enc, aad("borrowers", "id_number_enc", borrower.id), f"{who}.id_number"


def _binding_id(ref: str) -> int | None:
    prefix, _, digits = ref.strip().partition("-")
    return int(digits) if prefix.upper() == "P" and digits.isdigit() and len(digits) < 12 else None


def _check_rate(session: Session, caller: Caller, policy: DeskPolicy, now: datetime) -> None:
    since = now - WINDOW
    done = audit.count_since(session, actor=caller.name, action=AuditAction.REVEAL, since=since)
    if done < policy.reveal_limit_per_hour:
        return
    oldest = audit.oldest_since(session, actor=caller.name, action=AuditAction.REVEAL, since=since)
    wait = max(1, ceil(((oldest or now) + WINDOW - now).total_seconds()))
    raise RateLimited(
        f"{done} reveals in the last hour reach this desk's limit of {policy.reveal_limit_per_hour}; "
        f"try again in {ceil(wait / 60)} min",
        retry_after=wait,
    )
