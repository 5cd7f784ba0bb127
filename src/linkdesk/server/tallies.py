"""Maintained case counts per (category, status, priority, assignee).

Every insert or update of a case moves these counters in the same transaction, so a
view's count is a sum over a few hundred small rows instead of a ``count(*)`` over a
million cases (8-15 ms each on SQLite; see the performance floors).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.domain.workflow import OPEN_STATUSES
from linkdesk.server.tables import AgentRow, TallyRow

TallyKey = tuple[str, str, str, int]


def key(category: str, status: str, priority: str, assignee_id: int | None) -> TallyKey:
    return (str(category), str(status), str(priority), assignee_id or 0)


def bump(session: Session | Connection, deltas: Mapping[TallyKey, int] | Iterable[tuple[TallyKey, int]]) -> None:
    """Add each delta to its counter (creating it), in one statement."""
    merged: Counter[TallyKey] = Counter()
    for k, d in deltas.items() if isinstance(deltas, Mapping) else deltas:
        merged[k] += d
    rows = [
        {"category": k[0], "status": k[1], "priority": k[2], "assignee_id": k[3], "n": d}
        for k, d in sorted(merged.items())
        if d
    ]
    if not rows:
        return
    dialect = (session.dialect if isinstance(session, Connection) else session.get_bind().dialect).name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TallyRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["category", "status", "priority", "assignee_id"],
        set_={"n": TallyRow.n + stmt.excluded.n},
    )
    session.execute(stmt, rows)


def count(session: Session, query: CaseQuery, caller_id: int) -> int:
    """Cases matching ``query`` (without ``q``), from the counters."""
    if query.q or query.risk_min is not None:
        raise ValueError("text and risk queries cannot be counted from tallies")
    stmt = select(func.coalesce(func.sum(TallyRow.n), 0))
    if query.state is CaseState.OPEN:
        stmt = stmt.where(TallyRow.status.in_([str(s) for s in OPEN_STATUSES]))
    elif query.state is CaseState.DONE:
        stmt = stmt.where(TallyRow.status.not_in([str(s) for s in OPEN_STATUSES]))
    if query.status:
        stmt = stmt.where(TallyRow.status == str(query.status))
    if query.category:
        stmt = stmt.where(TallyRow.category == str(query.category))
    if query.priority:
        stmt = stmt.where(TallyRow.priority == str(query.priority))
    if query.assignee == "me":
        stmt = stmt.where(TallyRow.assignee_id == caller_id)
    elif query.assignee == "none":
        stmt = stmt.where(TallyRow.assignee_id == 0)
    elif query.assignee:
        agent_id = session.scalar(select(AgentRow.id).where(AgentRow.name == query.assignee))
        stmt = stmt.where(TallyRow.assignee_id == (agent_id or -1))
    return int(session.scalar(stmt) or 0)
