"""The case list: filters, sorts and keyset pages.

Pages use the row-value form ``(sort_key, id) < (:k, :i)`` (``>`` when ascending),
which SQLite and PostgreSQL both seek in the ``(is_open, …, sort_key, id)`` indexes,
so page 1,000 costs what page 1 does. (The ``k < ? OR (k = ? AND id < ?)`` spelling
seeks only on the leading column and is slower than OFFSET; see the floors.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, false, literal_column, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from linkdesk.domain.cases import CaseCategory, CaseStatus, CaseSummary, Priority
from linkdesk.domain.paging import Page
from linkdesk.domain.refs import case_ref
from linkdesk.domain.views import CaseQuery, CaseSort, CaseState
from linkdesk.server import cursors
from linkdesk.server.agents import Caller
from linkdesk.server.search import FEW_HITS, few_matches, text_condition
from linkdesk.server.tables import AgentRow, BorrowerRow, CaseRow, UTCDateTime

_SORT_COLUMNS = {
    CaseSort.UPDATED_DESC: ("updated_at", True),
    CaseSort.UPDATED: ("updated_at", False),
    CaseSort.CREATED_DESC: ("created_at", True),
    CaseSort.CREATED: ("created_at", False),
    CaseSort.DUE: ("sla_due_at", False),
    CaseSort.DUE_DESC: ("sla_due_at", True),
}


def filtered(
    stmt: Select[Any], session: Session, caller: Caller, query: CaseQuery, dialect: str
) -> tuple[Select[Any], bool]:
    """The query's conditions; the flag says the text search or the risk filter matched
    few cases (see :data:`linkdesk.server.search.FEW_HITS`), so the page is best sorted
    from them."""
    few = False
    if query.q and query.q.strip():
        ids = few_matches(session, query.q, dialect)
        few = ids is not None
        if ids == []:
            stmt = stmt.where(false())  # a constant the planner folds: no index walk at all
        else:
            stmt = stmt.where(CaseRow.id.in_(ids) if few else text_condition(query.q, dialect))
    if query.risk_min is not None:
        stmt, few = _risk_condition(stmt, session, query, few, dialect)

    def column(name: str) -> Any:
        # With few ids, SQLite must fetch them by rowid: an equality it could seek in an
        # (is_open, …) index makes it walk that index instead and test every id (a
        # hundred times slower at 100k open cases). ``+column`` is not indexable.
        if few and dialect == "sqlite":
            return literal_column(f"+cases.{name}")
        return getattr(CaseRow, name)

    if query.state is CaseState.OPEN:
        stmt = stmt.where(column("is_open") == true())
    elif query.state is CaseState.DONE:
        stmt = stmt.where(column("is_open") == false())
    if query.status:
        stmt = stmt.where(column("status") == str(query.status))
    if query.category:
        stmt = stmt.where(column("category") == str(query.category))
    if query.priority:
        stmt = stmt.where(column("priority") == str(query.priority))
    if query.assignee == "me":
        stmt = stmt.where(column("assignee_id") == caller.id)
    elif query.assignee == "none":
        stmt = stmt.where(column("assignee_id").is_(None))
    elif query.assignee:
        agent_id = session.scalar(select(AgentRow.id).where(AgentRow.name == query.assignee))
        stmt = stmt.where(column("assignee_id") == (agent_id if agent_id is not None else -1))
    return stmt, few


def _risk_condition(
    stmt: Select[Any], session: Session, query: CaseQuery, few: bool, dialect: str
) -> tuple[Select[Any], bool]:
    """``risk_score >= risk_min``, the way :func:`filtered` treats text: when few cases
    reach the score (counted in ``ix_cases_open_risk``), their ids, fetched and sorted;
    else the inbox index walked and each row tested (``+ 0`` keeps the planner off the
    risk index, which would make it fetch and sort every match)."""
    if few:  # a text search already narrowed it to a handful of ids: test them
        score = literal_column("+cases.risk_score") if dialect == "sqlite" else CaseRow.risk_score
        return stmt.where(score >= query.risk_min), few
    ids_query = select(CaseRow.id).where(CaseRow.risk_score >= query.risk_min)
    if query.state is CaseState.OPEN:
        ids_query = ids_query.where(CaseRow.is_open.is_(True))
    elif query.state is CaseState.DONE:
        ids_query = ids_query.where(CaseRow.is_open.is_(False))
    ids = list(session.scalars(ids_query.limit(FEW_HITS + 1)))
    if not ids:
        return stmt.where(false()), few
    if len(ids) <= FEW_HITS:
        return stmt.where(CaseRow.id.in_(ids)), True
    return stmt.where((CaseRow.risk_score + 0) >= query.risk_min), few


def list_cases(
    session: Session,
    caller: Caller,
    query: CaseQuery,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CaseSummary]:
    dialect = session.get_bind().dialect.name
    sort_name, descending = _SORT_COLUMNS[query.sort]
    sort_column = getattr(CaseRow, sort_name)
    filters = cursors.fingerprint(query.model_dump(mode="json", exclude={"sort"}))
    assignee = aliased(AgentRow)
    stmt = (
        select(
            CaseRow.id,
            CaseRow.category,
            CaseRow.status,
            CaseRow.priority,
            CaseRow.subject,
            CaseRow.phone_masked,
            CaseRow.sla_due_at,
            CaseRow.created_at,
            CaseRow.updated_at,
            CaseRow.risk_score,
            BorrowerRow.name_masked,
            assignee.name,
        )
        .outerjoin(BorrowerRow, BorrowerRow.id == CaseRow.borrower_id)
        .outerjoin(assignee, assignee.id == CaseRow.assignee_id)
    )
    stmt, few = filtered(stmt, session, caller, query, dialect)
    if cursor:
        payload = cursors.decode(cursor, sort=str(query.sort), filters=filters)
        try:
            last_key = datetime.fromisoformat(payload["k"])
        except (KeyError, TypeError, ValueError):
            raise cursors.BadRequest("the cursor is not one this desk made") from None
        keyset = tuple_(sort_column, CaseRow.id)
        bound = tuple_(
            bindparam("cursor_key", last_key, type_=UTCDateTime()),
            bindparam("cursor_id", payload["i"]),
        )
        stmt = stmt.where(keyset < bound if descending else keyset > bound)
    order_key: Any = sort_column
    if few and dialect == "sqlite":
        # ``+column`` keeps SQLite from walking a sort index and testing every row
        # against the few matches: it fetches them by rowid and sorts them instead
        order_key = literal_column(f"+cases.{sort_name}")
    if descending:
        stmt = stmt.order_by(order_key.desc(), CaseRow.id.desc())
    else:
        stmt = stmt.order_by(order_key.asc(), CaseRow.id.asc())
    rows = session.execute(stmt.limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        key_value = getattr(last, sort_name)
        next_cursor = cursors.encode(
            {"s": str(query.sort), "f": filters, "k": key_value.isoformat(), "i": last.id}
        )
    items = [
        CaseSummary(
            ref=case_ref(r.id),
            category=CaseCategory(r.category),
            status=CaseStatus(r.status),
            priority=Priority(r.priority),
            subject=r.subject,
            borrower_name=r.name_masked,
            phone=r.phone_masked,
            assignee=r.name,
            risk=r.risk_score,
            sla_due_at=r.sla_due_at,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return Page[CaseSummary](items=items, next_cursor=next_cursor)
