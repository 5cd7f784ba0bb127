"""Case operations: create, read, update.

Each takes a Session and the caller and stages its writes; the caller commits (so an
idempotency record can join the same transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain.agents import AgentRef
from linkdesk.domain.borrowers import Borrower
from linkdesk.domain.cases import Case, CaseCategory, CaseCreate, CasePatch, CaseStatus, Priority
from linkdesk.domain.phones import (
    BindingStatus,
    InvalidPhoneNumber,
    MaskedPhone,
    PhoneBinding,
    last_four,
    mask,
    normalise,
)
from linkdesk.domain.refs import InvalidRef, borrower_ref, case_ref, parse_borrower_ref, parse_case_ref
from linkdesk.domain.search import index_tokens
from linkdesk.domain.workflow import InvalidTransition, check_transition, is_open
from linkdesk.server import sla, tallies
from linkdesk.server.agents import Caller, agent_id_by_name
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import open_sealed, seal_for
from linkdesk.server.errors import (
    InvalidTransitionProblem,
    NotFound,
    StaleVersion,
    ValidationProblem,
)
from linkdesk.server.tables import AgentRow, BindingRow, BorrowerRow, CaseRow, EventRow


def case_id_of(ref: str) -> int:
    try:
        return parse_case_ref(ref)
    except InvalidRef:
        raise NotFound(f"no case {ref!r}") from None


def phone_columns(
    keyring: KeyRing, e164: str | None, case_id: int, *, session: Session | None = None,
    borrower_id: int | None = None,
) -> dict[str, Any]:
    """The stored forms of a case's number: sealed (under its borrower's data key when the
    case has a borrower and ``session`` is given, else the master key), blind-indexed,
    masked, last four, and the key version the index was made under."""
    version = keyring.writing_version()
    if e164 is None:
        return {"phone_enc": None, "phone_index": None, "phone_masked": None, "phone_last4": None,
                "key_version": version}
    where = aad("cases", "phone_enc", case_id)
    owner = borrower_id if session is not None else None
    return {
        "phone_enc": seal_for(session, keyring, owner, e164, where, version=version),  # type: ignore[arg-type]
        "phone_index": keyring.blind_index(e164, version=version),
        "phone_masked": mask(e164),
        "phone_last4": last_four(e164),
        "key_version": version,
    }


def case_values(
    *,
    category: CaseCategory | str,
    status: CaseStatus | str,
    priority: Priority | str,
    subject: str,
    body: str,
    created_at: datetime,
    updated_at: datetime | None = None,
    sla_due_at: datetime | None = None,
    borrower_id: int | None = None,
    binding_id: int | None = None,
    assignee_id: int | None = None,
    tags: Iterable[str] = (),
) -> dict[str, Any]:
    """Every column of a new case except the phone ones (which need the row id)."""
    category, status, priority = CaseCategory(category), CaseStatus(status), Priority(priority)
    return {
        "category": str(category),
        "status": str(status),
        "is_open": is_open(status),
        "priority": str(priority),
        "subject": subject,
        "body": body,
        "borrower_id": borrower_id,
        "binding_id": binding_id,
        "assignee_id": assignee_id,
        "tags": list(tags),
        "search_tokens": index_tokens(subject, body),
        **sla.new_case_columns(category, priority, created_at),  # issue 5: SLAs
        **({"sla_due_at": sla_due_at} if sla_due_at else {}),
        "sla_paused_at": (updated_at or created_at) if status is CaseStatus.PENDING else None,
        "created_at": created_at,
        "updated_at": updated_at or created_at,
        "version": 1,
    }


def find_active_binding(session: Session, keyring: KeyRing, e164: str) -> BindingRow | None:
    rows = session.scalars(
        select(BindingRow)
        .where(
            # every version's index: rows sealed before and after a rotation are both found
            BindingRow.phone_index.in_(keyring.blind_indexes(e164)),
            BindingRow.status == str(BindingStatus.ACTIVE),
        )
        .order_by(BindingRow.bound_at.desc(), BindingRow.id.desc())
    )
    for row in rows:  # the index is a hash: confirm on the plaintext
        try:
            if open_sealed(session, keyring, row.phone_enc or b"", aad("phone_bindings", "phone_enc", row.id)) == e164:
                return row
        except DecryptionFailed:
            continue
    return None


def _resolve_assignee(session: Session, caller: Caller, name: str | None) -> int | None:
    if name is None:
        return None
    if name == "me":
        return caller.id
    agent_id = agent_id_by_name(session, name)
    if agent_id is None:
        raise ValidationProblem.field("assignee", f"no active agent named {name!r}")
    return agent_id


def create_case(
    session: Session, keyring: KeyRing, caller: Caller, data: CaseCreate, now: datetime
) -> int:
    e164 = None
    if data.phone is not None:
        try:
            e164 = normalise(data.phone)
        except InvalidPhoneNumber as exc:
            raise ValidationProblem.field("phone", exc.reason) from None
    assignee_id = _resolve_assignee(session, caller, data.assignee)
    borrower_id = binding_id = None
    if data.borrower is not None:
        try:
            borrower_id = parse_borrower_ref(data.borrower)
        except InvalidRef:
            raise ValidationProblem.field("borrower", "not a borrower reference") from None
        if session.get(BorrowerRow, borrower_id) is None:
            raise ValidationProblem.field("borrower", f"no borrower {data.borrower}")
    if e164 is not None:
        binding = find_active_binding(session, keyring, e164)
        if binding is not None and borrower_id in (None, binding.borrower_id):
            borrower_id, binding_id = binding.borrower_id, binding.id
    values = case_values(
        category=data.category,
        status=CaseStatus.NEW,
        priority=data.priority,
        subject=data.subject,
        body=data.body,
        created_at=now,
        borrower_id=borrower_id,
        binding_id=binding_id,
        assignee_id=assignee_id,
        tags=data.tags,
    )
    values["key_version"] = keyring.writing_version()  # also for a case without a number
    case_id = session.execute(insert(CaseRow).values(**values).returning(CaseRow.id)).scalar_one()
    if e164 is not None:
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == case_id)
            .values(**phone_columns(keyring, e164, case_id, session=session, borrower_id=borrower_id))
        )
    session.execute(
        insert(EventRow).values(
            case_id=case_id, kind="created", actor_id=caller.id, body="", data={},
            internal=False, created_at=now,
        )
    )
    tallies.bump(session, {tallies.key(data.category, CaseStatus.NEW, data.priority, assignee_id): 1})
    return case_id


def get_case(session: Session, case_id: int) -> Case:
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    assignee = None
    if row.assignee_id is not None:
        agent = session.get(AgentRow, row.assignee_id)
        if agent is not None:
            assignee = AgentRef(name=agent.name, display_name=agent.display_name)
    borrower = _borrower(session, row.borrower_id) if row.borrower_id else None
    return Case(
        ref=case_ref(row.id),
        category=CaseCategory(row.category),
        status=CaseStatus(row.status),
        priority=Priority(row.priority),
        subject=row.subject,
        body=row.body,
        borrower=borrower,
        phone=row.phone_masked,
        assignee=assignee,
        tags=list(row.tags or []),
        risk=row.risk_score,
        **sla.summary_fields(
            is_open=row.is_open, sla_due_at=row.sla_due_at, first_response_due_at=row.first_response_due_at,
            first_responded_at=row.first_responded_at, sla_paused_at=row.sla_paused_at,
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
        version=row.version,
    )


def _borrower(session: Session, borrower_id: int) -> Borrower | None:
    row = session.get(BorrowerRow, borrower_id)
    if row is None:
        return None
    bindings = session.scalars(
        select(BindingRow)
        .where(BindingRow.borrower_id == borrower_id)
        .order_by(BindingRow.bound_at.desc(), BindingRow.id.desc())
    )
    return Borrower(
        ref=borrower_ref(row.id),
        name=row.name_masked,
        id_number=row.id_number_masked,
        bindings=[
            PhoneBinding(
                ref=f"P-{b.id}",
                phone=MaskedPhone(ref=f"P-{b.id}", masked=b.phone_masked, carrier=b.carrier, region=b.region),
                status=BindingStatus(b.status),
                bound_at=b.bound_at,
                unbound_at=b.unbound_at,
            )
            for b in bindings
        ],
    )


def _agent_name(session: Session, agent_id: int | None) -> str | None:
    return session.scalar(select(AgentRow.name).where(AgentRow.id == agent_id)) if agent_id else None


def update_case(
    session: Session,
    caller: Caller,
    case_id: int,
    patch: CasePatch,
    expected_version: int,
    now: datetime,
    *,
    check_workflow: bool = True,
    event_data: dict[str, Any] | None = None,
) -> None:
    """Apply ``patch``; each change becomes a timeline event. ``check_workflow=False``
    (undo of a bulk change) restores a status outside the workflow's transitions;
    ``event_data`` is added to every event's data (e.g. ``{"bulk": 12}``)."""
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFound(f"no case {case_ref(case_id)}")
    if row.version != expected_version:
        raise StaleVersion(row.version)
    fields = patch.model_fields_set
    changes: dict[str, Any] = {}
    events: list[tuple[str, dict[str, Any]]] = []
    if "status" in fields and patch.status is not None and patch.status != row.status:
        try:
            if check_workflow:
                check_transition(CaseStatus(row.status), patch.status)
        except InvalidTransition as exc:
            raise InvalidTransitionProblem(str(exc), current=row.status, target=str(patch.status)) from None
        changes |= {"status": str(patch.status), "is_open": is_open(patch.status)}
        events.append(("status", {"from": row.status, "to": str(patch.status)}))
        clocks, pauses = sla.status_change(row, str(patch.status), now)  # issue 5: SLA pauses
        changes |= clocks
        events += pauses
    if "priority" in fields and patch.priority is not None and patch.priority != row.priority:
        changes["priority"] = str(patch.priority)
        changes |= sla.priority_change(row, str(patch.priority), changes)  # issue 5: new targets
        events.append(("priority", {"from": row.priority, "to": str(patch.priority)}))
    if "subject" in fields and patch.subject is not None and patch.subject != row.subject:
        changes |= {"subject": patch.subject, "search_tokens": index_tokens(patch.subject, row.body)}
        events.append(("subject", {"from": row.subject, "to": patch.subject}))
    if "assignee" in fields:
        assignee_id = _resolve_assignee(session, caller, patch.assignee)
        if assignee_id != row.assignee_id:
            changes["assignee_id"] = assignee_id
            events.append(
                ("assignment", {"from": _agent_name(session, row.assignee_id), "to": _agent_name(session, assignee_id)})
            )
    if "tags" in fields and patch.tags is not None and list(dict.fromkeys(patch.tags)) != list(row.tags or []):
        before, after = list(row.tags or []), list(dict.fromkeys(patch.tags))
        changes["tags"] = after
        events.append(("tags", {
            "from": ", ".join(before), "to": ", ".join(after),
            "added": ", ".join(tag for tag in after if tag not in before),
            "removed": ", ".join(tag for tag in before if tag not in after),
        }))
    if not changes:
        return
    old_key = tallies.key(row.category, row.status, row.priority, row.assignee_id)
    result = session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.version == expected_version)
        .values(**changes, version=expected_version + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # someone else wrote between our read and our write
        session.rollback()
        current = session.scalar(select(CaseRow.version).where(CaseRow.id == case_id))
        raise StaleVersion(current or 0)
    new_key = tallies.key(
        changes.get("category", row.category),
        changes.get("status", row.status),
        changes.get("priority", row.priority),
        changes.get("assignee_id", row.assignee_id),
    )
    if new_key != old_key:
        tallies.bump(session, [(old_key, -1), (new_key, 1)])
    session.execute(
        insert(EventRow),
        [
            {"case_id": case_id, "kind": kind, "actor_id": caller.id, "body": "",
             "data": data | (event_data or {}), "internal": False, "created_at": now}
            for kind, data in events
        ],
    )
    session.expire(row)
