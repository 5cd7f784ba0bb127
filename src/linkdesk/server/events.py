"""The timeline of a case: list (oldest first, keyset pages) and add comments and notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain.cases import CaseEvent, EventCreate, EventKind
from linkdesk.domain.paging import Page
from linkdesk.domain.refs import case_ref
from linkdesk.server import cursors
from linkdesk.server.agents import Caller
from linkdesk.server.errors import NotFound, ValidationProblem
from linkdesk.server.sla import first_response_value
from linkdesk.server.tables import AgentRow, CaseRow, EventRow

ADDABLE = {EventKind.COMMENT: False, EventKind.NOTE: True}
"""The kinds an agent may add by hand, and whether each is internal."""


def _require_case(session: Session, case_id: int) -> None:
    if session.scalar(select(CaseRow.id).where(CaseRow.id == case_id)) is None:
        raise NotFound(f"no case {case_ref(case_id)}")


def _event(row: EventRow, actor: str | None) -> CaseEvent:
    return CaseEvent(
        id=row.id,
        case_ref=case_ref(row.case_id),
        kind=EventKind(row.kind),
        actor=actor,
        body=row.body,
        data=row.data or {},
        internal=row.internal,
        created_at=row.created_at,
    )


def list_events(
    session: Session, case_id: int, *, cursor: str | None = None, limit: int = 100
) -> Page[CaseEvent]:
    _require_case(session, case_id)
    stmt = (
        select(EventRow, AgentRow.name)
        .outerjoin(AgentRow, AgentRow.id == EventRow.actor_id)
        .where(EventRow.case_id == case_id)
    )
    filters = cursors.fingerprint({"case": case_id})
    if cursor:
        payload = cursors.decode(cursor, sort="events", filters=filters)
        stmt = stmt.where(EventRow.id > payload["i"])
    rows = session.execute(stmt.order_by(EventRow.id).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode({"s": "events", "f": filters, "i": rows[-1][0].id})
    return Page[CaseEvent](items=[_event(r, name) for r, name in rows], next_cursor=next_cursor)


def add_event(
    session: Session, caller: Caller, case_id: int, data: EventCreate, now: datetime
) -> CaseEvent:
    if data.kind not in ADDABLE:
        raise ValidationProblem.field("kind", "only comment and note can be added")
    result = session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id)
        .values(updated_at=now, version=CaseRow.version + 1,
                # issue 5: an agent's first public comment stops the first-response clock
                **({"first_responded_at": first_response_value(now)}
                   if data.kind is EventKind.COMMENT and caller.id is not None else {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        raise NotFound(f"no case {case_ref(case_id)}")
    event_id = session.execute(
        insert(EventRow)
        .values(
            case_id=case_id, kind=str(data.kind), actor_id=caller.id, body=data.body, data={},
            internal=ADDABLE[data.kind], created_at=now,
        )
        .returning(EventRow.id)
    ).scalar_one()
    row = session.get(EventRow, event_id)
    assert row is not None
    return _event(row, caller.name)
