"""Masked calls: a privacy number X that connects an agent's line to a borrower.

A call is contact, so the compliance check runs first (a refusal is recorded like any
other, see :mod:`linkdesk.server.contact_log`). Then the borrower's number is read
(:func:`borrower_number`, the one place this module decrypts a borrower's value) and the
provider binds A (the agent's line) and B (the borrower) to X until the expiry. The desk
keeps X, the subscription id, the binding used, the agent and the expiry, the agent's
line sealed; a ``masked_call`` timeline event (X and the expiry) and audit record commit
with it. The provider is awaited outside any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from linkdesk.calling.base import AxbBinding, CallingError
from linkdesk.domain import problems as p
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.cases import EventKind
from linkdesk.domain.contact import ContactChannel, MaskedCall, MaskedCallCreate
from linkdesk.domain.contact_rules import Attempt
from linkdesk.domain.phones import InvalidPhoneNumber, mask, normalise
from linkdesk.domain.refs import case_ref
from linkdesk.server import audit
from linkdesk.server.agents import Caller
from linkdesk.server.contact_log import add_event, check, load_case, record_refusal
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.errors import (
    Conflict,
    DeskProblem,
    NotFound,
    NotLinked,
    Undecryptable,
    ValidationProblem,
)
from linkdesk.server.tables import AgentRow, BindingRow, CaseRow, MaskedCallRow

TABLE = "masked_calls"


class CallingFailed(DeskProblem):
    """502: the provider could not bind or unbind; ``code`` is its error code."""

    status, type, title = 502, p.CALLING_FAILED, "Masked calling failed"

    @classmethod
    def of(cls, error: CallingError) -> CallingFailed:
        return cls(str(error), code=error.code, provider=error.provider)


def target(call_id: int) -> str:
    return f"masked_call:{call_id}"


def borrower_number(session: Session, keyring: KeyRing, case: CaseRow, binding_id: int | None) -> str:
    """The full number to bind as B: the binding's, or the case's own. The one place a
    borrower's sealed value is read here (re-routed by the per-borrower data keys)."""
    if binding_id is not None:
        binding = session.get(BindingRow, binding_id)
        blob, where = (binding.phone_enc if binding else None), aad("phone_bindings", "phone_enc", binding_id)
    else:
        blob, where = case.phone_enc, aad("cases", "phone_enc", case.id)
    try:
        return open_sealed(session, keyring, blob or b"", where)
    except DecryptionFailed:
        raise Undecryptable("the borrower's number cannot be decrypted", field="phone") from None


@dataclass
class Prepared:
    case_id: int
    binding_id: int | None
    phone_masked: str
    agent_line: str = field(repr=False)
    borrower: str = field(repr=False)
    expires_at: datetime


def prepare(
    session: Session, keyring: KeyRing, caller: Caller, case_id: int, data: MaskedCallCreate, now: datetime
) -> Prepared:
    """The checks before asking the provider; a refusal's event is committed and raised."""
    case = load_case(session, case_id)
    try:
        agent_line = normalise(data.agent_line)
    except InvalidPhoneNumber:
        raise ValidationProblem.field("agent_line", "not a mobile number") from None
    attempt = Attempt(channel=ContactChannel.CALL)
    verdict = check(session, keyring, case_id, data.binding, attempt, now)
    if not verdict.allowed:
        raise record_refusal(session, caller, case_id, attempt, verdict, now, what="masked_call")
    binding_id = int(verdict.binding[2:]) if verdict.binding else None
    if binding_id is None and case.phone_enc is None:
        raise NotLinked.field("binding", f"{case_ref(case_id)} has no number to call")
    borrower = borrower_number(session, keyring, case, binding_id)
    if borrower == agent_line:
        raise ValidationProblem.field("agent_line", "is the borrower's own number")
    session.rollback()  # read-only so far: end the transaction before the provider is awaited
    return Prepared(case_id, binding_id, mask(borrower), agent_line, borrower,
                    now + timedelta(minutes=data.expires_in))


def store(
    session: Session, keyring: KeyRing, caller: Caller, prepared: Prepared, bound: AxbBinding,
    provider: str, now: datetime,
) -> MaskedCall:
    """Stage and commit the binding, its event and its audit record."""
    version = keyring.writing_version()
    call_id = session.execute(insert(MaskedCallRow).values(
        case_id=prepared.case_id, binding_id=prepared.binding_id, phone_masked=prepared.phone_masked,
        agent_id=caller.id, agent_line_masked=mask(prepared.agent_line), provider=provider,
        secret_no=bound.secret_no, subscription_id=bound.subscription_id, created_at=now,
        expires_at=bound.expires_at, key_version=version,
    ).returning(MaskedCallRow.id)).scalar_one()
    session.execute(
        update(MaskedCallRow).where(MaskedCallRow.id == call_id)
        .values(agent_line_enc=keyring.encrypt(prepared.agent_line, aad(TABLE, "agent_line_enc", call_id),
                                               version=version))
        .execution_options(synchronize_session=False)
    )
    binding = f"P-{prepared.binding_id}" if prepared.binding_id else None
    expires = bound.expires_at.isoformat().replace("+00:00", "Z")
    add_event(session, prepared.case_id, caller.id, now, {
        "kind": EventKind.MASKED_CALL, "masked_call": call_id, "secret_no": bound.secret_no,
        "expires_at": expires, "binding": binding, "provider": provider,
    }, bump=True)
    audit.append(
        session, at=now, actor=caller.name, action=AuditAction.MASKED_CALL, target=target(call_id),
        case=case_ref(prepared.case_id), reason="bind",
        detail={"secret_no": bound.secret_no, "binding": binding, "phone": prepared.phone_masked,
                "expires_at": expires, "provider": provider},
    )
    session.commit()
    row = session.get(MaskedCallRow, call_id)
    assert row is not None
    return to_model(row, caller.name, now)


def to_model(row: MaskedCallRow, agent: str, now: datetime) -> MaskedCall:
    return MaskedCall(
        id=row.id, case=case_ref(row.case_id), binding=f"P-{row.binding_id}" if row.binding_id else None,
        phone=row.phone_masked, secret_no=row.secret_no, subscription_id=row.subscription_id,
        provider=row.provider, agent=agent, agent_line=row.agent_line_masked, created_at=row.created_at,
        expires_at=row.expires_at, ended_at=row.ended_at,
        active=row.ended_at is None and row.expires_at > now,
    )


def to_end(session: Session, call_id: int, now: datetime) -> tuple[str, str]:
    """``(subscription id, X)`` of the binding to end; refuses one that has ended or
    expired (nothing to unbind)."""
    row = session.get(MaskedCallRow, call_id)
    if row is None:
        raise NotFound(f"no masked call {call_id}")
    if row.ended_at is not None:
        raise Conflict(f"masked call {call_id} already ended at {row.ended_at:%Y-%m-%d %H:%M} UTC")
    if row.expires_at <= now:
        raise Conflict(f"masked call {call_id} expired at {row.expires_at:%Y-%m-%d %H:%M} UTC")
    found = (row.subscription_id, row.secret_no)
    session.rollback()
    return found


def mark_ended(session: Session, caller: Caller, call_id: int, now: datetime, *, gone: bool) -> None:
    """Stage and commit the end, its event and its audit record."""
    row = session.get(MaskedCallRow, call_id)
    assert row is not None
    done = session.execute(
        update(MaskedCallRow).where(MaskedCallRow.id == call_id, MaskedCallRow.ended_at.is_(None))
        .values(ended_at=now, ended_by=caller.name).execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        session.rollback()
        raise Conflict(f"masked call {call_id} already ended")
    detail: dict[str, Any] = {"secret_no": row.secret_no, "ended": True}
    if gone:
        detail["provider_had_none"] = True
    add_event(session, row.case_id, caller.id, now, {"kind": EventKind.MASKED_CALL, "masked_call": call_id,
                                                     "secret_no": row.secret_no, "ended": True}, bump=True)
    audit.append(session, at=now, actor=caller.name, action=AuditAction.MASKED_CALL, target=target(call_id),
                 case=case_ref(row.case_id), reason="unbind", detail=detail)
    session.commit()


def list_active(session: Session, now: datetime, *, case_id: int | None = None) -> list[MaskedCall]:
    """Bindings not ended and not expired, newest first."""
    stmt = (
        select(MaskedCallRow, AgentRow.name).join(AgentRow, AgentRow.id == MaskedCallRow.agent_id)
        .where(MaskedCallRow.ended_at.is_(None), MaskedCallRow.expires_at > now)
    )
    if case_id is not None:
        stmt = stmt.where(MaskedCallRow.case_id == case_id)
    rows = session.execute(stmt.order_by(MaskedCallRow.id.desc()).limit(200)).all()
    return [to_model(row, name, now) for row, name in rows]
