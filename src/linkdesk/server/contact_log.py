"""The contact log: each contact with a borrower, after the compliance check.

``log_contact`` runs the full rule set (:func:`linkdesk.server.do_not_contact.contact_check`)
at the desk's time. Allowed: a ``contact_log`` row and a ``contact`` timeline event, in
one transaction. Refused: only a ``contact`` timeline event naming the rule is committed
(the log holds contacts that happened, which is what the daily limit counts), then the
caller gets a ``contact-refused`` problem. The number is kept by binding and masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain import problems as p
from linkdesk.domain.cases import EventKind
from linkdesk.domain.contact import (
    ContactChannel,
    ContactCheck,
    ContactCreate,
    ContactDirection,
    ContactEntry,
    ContactOutcome,
    ContactParty,
)
from linkdesk.domain.contact_rules import Attempt, CollectionPolicy
from linkdesk.domain.paging import Page
from linkdesk.domain.refs import borrower_ref, case_ref
from linkdesk.domain.workflow import is_open
from linkdesk.server import cursors, desk_policy
from linkdesk.server.agents import Caller
from linkdesk.server.crypto import KeyRing
from linkdesk.server.do_not_contact import contact_check
from linkdesk.server.errors import CaseClosed, DeskProblem, NotFound
from linkdesk.server.tables import AgentRow, BindingRow, CaseRow, ContactLogRow, EventRow


class ContactRefused(DeskProblem):
    """409: a collection rule refuses the contact; ``rule`` names it."""

    status, type, title = 409, p.CONTACT_REFUSED, "Contact refused"

    @classmethod
    def of(cls, check: ContactCheck) -> ContactRefused:
        extra: dict[str, Any] = {"rule": str(check.rule)}
        if check.allowed_from is not None:
            extra["allowed_from"] = check.allowed_from.isoformat().replace("+00:00", "Z")
        if check.binding:
            extra["binding"] = check.binding
        return cls(check.detail, **extra)


def policy_of(session: Session) -> CollectionPolicy:
    """The collection rules as this desk configures them (its time zone)."""
    return CollectionPolicy(timezone=desk_policy.load(session).contact_timezone)


def load_case(session: Session, case_id: int, *, open_only: bool = True) -> CaseRow:
    case = session.get(CaseRow, case_id)
    if case is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    if open_only and not is_open(case.status):
        raise CaseClosed(f"{case_ref(case_id)} is {case.status}; reopen it to contact the borrower")
    return case


def check(
    session: Session, keyring: KeyRing, case_id: int, binding: str | None, attempt: Attempt, now: datetime
) -> ContactCheck:
    return contact_check(session, keyring, case_id, binding, attempt=attempt, now=now, policy=policy_of(session))


def add_event(
    session: Session, case_id: int, actor_id: int, now: datetime, data: dict[str, Any], *, bump: bool
) -> None:
    """A ``contact``/``masked_call`` style internal event; ``bump`` moves the case's
    version (a refusal does not: it changes nothing about the case)."""
    kind = data.pop("kind", EventKind.CONTACT)
    session.execute(insert(EventRow).values(
        case_id=case_id, kind=str(kind), actor_id=actor_id, body="", data=data, internal=True, created_at=now,
    ))
    if bump:
        session.execute(
            update(CaseRow).where(CaseRow.id == case_id)
            .values(updated_at=now, version=CaseRow.version + 1)
            .execution_options(synchronize_session=False)
        )


def record_refusal(
    session: Session, caller: Caller, case_id: int, attempt: Attempt, refused: ContactCheck, now: datetime,
    *, what: str = "contact",
) -> ContactRefused:
    """Commit the refusal's timeline event; answer the problem to raise."""
    session.rollback()  # nothing staged by the attempt survives, only its refusal
    add_event(session, case_id, caller.id, now, {
        "refused": True, "rule": str(refused.rule), "attempt": what, "channel": str(attempt.channel),
        "party": str(attempt.party), "binding": refused.binding,
    }, bump=False)
    session.commit()
    return ContactRefused.of(refused)


def log_contact(
    session: Session, keyring: KeyRing, caller: Caller, case_id: int, data: ContactCreate, now: datetime
) -> dict[str, Any]:
    """Stage one logged contact and its event (the caller commits), or commit the
    refusal event and raise :class:`ContactRefused`."""
    case = load_case(session, case_id)
    attempt = Attempt(channel=data.channel, party=data.party, direction=data.direction, outcome=data.outcome)
    verdict = check(session, keyring, case_id, data.binding, attempt, now)
    if not verdict.allowed:
        raise record_refusal(session, caller, case_id, attempt, verdict, now)
    binding_id = int(verdict.binding[2:]) if verdict.binding else None
    masked = None
    if binding_id is not None:
        masked = session.scalar(select(BindingRow.phone_masked).where(BindingRow.id == binding_id))
    elif case.phone_masked:
        masked = case.phone_masked
    entry_id = session.execute(
        insert(ContactLogRow).values(
            case_id=case_id, borrower_id=case.borrower_id, binding_id=binding_id, phone_masked=masked,
            channel=str(data.channel), party=str(data.party), direction=str(data.direction),
            outcome=str(data.outcome), note=data.note, agent_id=caller.id, contacted_at=now,
        ).returning(ContactLogRow.id)
    ).scalar_one()
    add_event(session, case_id, caller.id, now, {
        "contact": entry_id, "channel": str(data.channel), "party": str(data.party),
        "direction": str(data.direction), "outcome": str(data.outcome), "binding": verdict.binding,
    }, bump=True)
    return to_entry(session.get(ContactLogRow, entry_id), caller.name).model_dump(mode="json")  # type: ignore[arg-type]


def to_entry(row: ContactLogRow, agent: str) -> ContactEntry:
    return ContactEntry(
        id=row.id, case=case_ref(row.case_id),
        borrower=borrower_ref(row.borrower_id) if row.borrower_id else None,
        binding=f"P-{row.binding_id}" if row.binding_id else None, phone=row.phone_masked,
        channel=ContactChannel(row.channel), party=ContactParty(row.party),
        direction=ContactDirection(row.direction), outcome=ContactOutcome(row.outcome),
        note=row.note or "", agent=agent, contacted_at=row.contacted_at,
    )


def list_contacts(
    session: Session, *, case_id: int | None = None, borrower_id: int | None = None,
    cursor: str | None = None, limit: int = 50,
) -> Page[ContactEntry]:
    """Newest first, keyset pages on ``id``; one case's contacts or one borrower's."""
    stmt = select(ContactLogRow, AgentRow.name).join(AgentRow, AgentRow.id == ContactLogRow.agent_id)
    if case_id is not None:
        if session.get(CaseRow, case_id) is None:
            raise NotFound(f"no case {case_ref(case_id)}")
        stmt = stmt.where(ContactLogRow.case_id == case_id)
        filters = cursors.fingerprint({"case": case_id})
    else:
        stmt = stmt.where(ContactLogRow.borrower_id == borrower_id)
        filters = cursors.fingerprint({"borrower": borrower_id})
    if cursor:
        payload = cursors.decode(cursor, sort="contacts", filters=filters)
        stmt = stmt.where(ContactLogRow.id < payload["i"])
    rows = session.execute(stmt.order_by(ContactLogRow.id.desc()).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode({"s": "contacts", "f": filters, "i": rows[-1][0].id})
    return Page[ContactEntry](items=[to_entry(row, name) for row, name in rows], next_cursor=next_cursor)
