"""Rebind verification factors: one-time codes (sent, checked), the three-element check's
answer, and the checks an agent records by hand.

A code is 6 digits from :mod:`secrets`; only its keyed HMAC is stored. It expires after 5
minutes, allows 5 attempts, and a new one for the same factor may be sent once a minute.
Every factor recorded is a row (the latest of each kind counts) and an internal timeline
event; the policy (``domain.rebind``) reads them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from linkdesk.domain import rebind as policy_
from linkdesk.domain.intel import IntelReport
from linkdesk.domain.phones import BindingStatus, mask
from linkdesk.domain.rebind import CODE_FACTORS, FactorKind, RebindStatus
from linkdesk.server.agents import Caller
from linkdesk.server.crypto import DecryptionFailed, KeyRing
from linkdesk.server.errors import Conflict, RateLimited, ValidationProblem
from linkdesk.server.rebind import TABLE, event, latest_code, open_number
from linkdesk.server.tables import BindingRow, OneTimeCodeRow, RebindFactorRow, RebindRow

# -- one-time codes ---------------------------------------------------------------------


def _code_key(keyring: KeyRing, version: int) -> bytes:
    # never stored: a copy of the database alone cannot test the 10^6 possible codes
    return keyring.mac_key(b"linkdesk one-time codes v1", version)


def code_mac(keyring: KeyRing, version: int, rebind_id: int, factor: str, code: str) -> str:
    message = f"{rebind_id}:{factor}:{code}".encode()
    return hmac.new(_code_key(keyring, version), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10**policy_.CODE_DIGITS):0{policy_.CODE_DIGITS}d}"


def code_text(code: str) -> str:
    minutes = policy_.CODE_TTL_SECONDS // 60
    return f"【LinkDesk】验证码 {code}，用于更换绑定手机号，{minutes}分钟内有效，请勿告诉他人。"


# -- codes and factors -------------------------------------------------------------------------


@dataclass
class Outgoing:
    """A code to send, outside the transaction that stored its MAC."""

    code_id: int
    e164: str = field(repr=False)
    text: str = field(repr=False)
    code: str = field(repr=False)
    borrower_id: int
    case_id: int


def verifying(row: RebindRow) -> None:
    if row.status != RebindStatus.VERIFYING:
        raise Conflict(f"rebind {row.id} is {row.status}: factors are recorded only while verifying",
                       status_now=row.status)


def _target_number(session: Session, keyring: KeyRing, row: RebindRow, factor: FactorKind) -> str:
    if factor is FactorKind.OTP_NEW:
        return open_number(session, keyring, row.phone_enc, TABLE, row.id)
    old = session.get(BindingRow, row.old_binding_id) if row.old_binding_id else None
    if old is None or old.status != BindingStatus.ACTIVE:
        raise ValidationProblem.field("factor", "the borrower has no active old number to send a code to")
    return open_number(session, keyring, old.phone_enc, "phone_bindings", old.id)


def issue_code(session: Session, keyring: KeyRing, row: RebindRow, factor: FactorKind, now: datetime) -> Outgoing:
    """Store a new code's MAC (the previous one of the factor stops counting)."""
    verifying(row)
    if factor not in CODE_FACTORS:
        raise ValidationProblem.field("factor", "codes are sent for otp_new and otp_old only")
    previous = latest_code(session, row.id, factor)
    if previous is not None:
        wait = (previous.sent_at + timedelta(seconds=policy_.CODE_RESEND_SECONDS) - now).total_seconds()
        if wait > 0:
            seconds = int(wait) + (wait % 1 > 0)
            raise RateLimited(f"a code was sent {int((now - previous.sent_at).total_seconds())} s ago; "
                              f"a new one may be sent in {seconds} s", retry_after=seconds)
    try:
        e164 = _target_number(session, keyring, row, factor)
    except DecryptionFailed:
        raise Conflict("the stored number cannot be decrypted") from None
    code = new_code()
    version = keyring.writing_version()
    code_id = session.execute(insert(OneTimeCodeRow).values(
        rebind_id=row.id, factor=str(factor), code_mac=code_mac(keyring, version, row.id, str(factor), code),
        phone_masked=mask(e164), sent_at=now, expires_at=now + timedelta(seconds=policy_.CODE_TTL_SECONDS),
        attempts=0, key_version=version,
    ).returning(OneTimeCodeRow.id)).scalar_one()
    return Outgoing(code_id, e164, code_text(code), code, row.borrower_id, row.case_id)


def _record(session: Session, row: RebindRow, caller: Caller, now: datetime, kind: FactorKind, passed: bool,
            detail: str, report: dict[str, Any] | None = None) -> None:
    session.execute(insert(RebindFactorRow).values(
        rebind_id=row.id, kind=str(kind), passed=passed, detail=detail, report=report,
        recorded_by_id=caller.id, recorded_at=now,
    ))
    session.execute(update(RebindRow).where(RebindRow.id == row.id)
                    .values(updated_at=now, version=RebindRow.version + 1).execution_options(synchronize_session=False))
    result = "passed" if passed else "failed"
    event(session, row, caller.id, now, f"rebind {row.id}: {kind} {result} — {detail}",
           {"step": "factor", "factor": str(kind), "passed": passed}, internal=True)


def check_code(session: Session, keyring: KeyRing, row: RebindRow, caller: Caller, kind: FactorKind,
               code: str | None, now: datetime) -> None:
    verifying(row)
    if not code:
        raise ValidationProblem.field("code", "type the code the borrower read back")
    stored = latest_code(session, row.id, kind)
    if stored is None:
        raise ValidationProblem.field("code", f"no code was sent for {kind}; send one first")
    if stored.used_at is not None:
        raise ValidationProblem.field("code", "this code was used already; send a new one")
    if stored.attempts >= policy_.CODE_MAX_ATTEMPTS:
        raise Conflict(f"{policy_.CODE_MAX_ATTEMPTS} wrong attempts: this code no longer works; send a new one")
    if stored.expires_at <= now:
        raise ValidationProblem.field("code", "the code expired; send a new one")
    expected = code_mac(keyring, stored.key_version, row.id, str(kind), code)
    if hmac.compare_digest(expected, stored.code_mac):
        session.execute(update(OneTimeCodeRow).where(OneTimeCodeRow.id == stored.id).values(used_at=now))
        _record(session, row, caller, now, kind, True, f"code confirmed (sent to {stored.phone_masked})")
        return
    attempts = stored.attempts + 1
    session.execute(update(OneTimeCodeRow).where(OneTimeCodeRow.id == stored.id).values(attempts=attempts))
    left = policy_.CODE_MAX_ATTEMPTS - attempts
    if left == 0:
        _record(session, row, caller, now, kind, False, f"{policy_.CODE_MAX_ATTEMPTS} wrong codes")
    session.commit()  # the attempt counts even though the answer is a refusal
    if left == 0:
        raise Conflict(f"wrong code; {policy_.CODE_MAX_ATTEMPTS} wrong attempts: this code no longer works; "
                       "send a new one")
    raise ValidationProblem.field("code", f"wrong code; {left} attempt{'s' if left > 1 else ''} left")


def record_agent_factor(session: Session, row: RebindRow, caller: Caller, kind: FactorKind, passed: bool,
                        note: str, now: datetime) -> None:
    verifying(row)
    if len(note.strip()) < policy_.MIN_NOTE:
        raise ValidationProblem.field("note", f"say what was checked (at least {policy_.MIN_NOTE} characters)")
    _record(session, row, caller, now, kind, passed, note.strip())


def record_three_element(session: Session, row: RebindRow, caller: Caller, report: IntelReport, now: datetime) -> None:
    verifying(row)
    match = report.identity
    passed = match is not None and match.value == "match"
    words = {"match": "name and ID number match the new number's holder",
             "mismatch": "the new number's holder is someone else",
             "not_found": "the carrier has no holder for the new number"}
    detail = f"{words.get(match.value if match else '', 'no answer')} ({report.provider})"
    _record(session, row, caller, now, FactorKind.THREE_ELEMENT, passed, detail, report.model_dump(mode="json"))


