"""The case list: filters, sorts and keyset pages.

Pages use the row-value form ``(sort_key, id) < (:k, :i)`` (``>`` when ascending),
which SQLite and PostgreSQL both seek in the ``(is_open, …, sort_key, id)`` indexes,
so page 1,000 costs what page 1 does. (The ``k < ? OR (k = ? AND id < ?)`` spelling
seeks only on the leading column and is slower than OFFSET; see the floors.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, false, func, literal_column, select, true, tuple_
from sqlalchemy.orm import Session, aliased

from linkdesk.domain.cases import CaseCategory, CaseStatus, CaseSummary, Priority
from linkdesk.domain.filters import CaseFilter
from linkdesk.domain.paging import Page
from linkdesk.domain.refs import case_ref
from linkdesk.domain.views import CaseQuery, CaseSort, CaseState
from linkdesk.server import cursors, sla, tallies
from linkdesk.server.agents import Caller
from linkdesk.server.case_filters import (
    apply_filter,
    case_filter_of,
    phone_condition,
    states_replaced,
)
from linkdesk.server.crypto import KeyRing
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
    stmt: Select[Any],
    session: Session,
    caller: Caller,
    query: CaseQuery,
    dialect: str,
    *,
    keyring: KeyRing | None = None,
    now: datetime | None = None,
) -> tuple[Select[Any], bool]:
    """The query's conditions (its fields and its ``filter``); the flag says the text
    search, the phone term or the risk filter matched few cases (see
    :data:`linkdesk.server.search.FEW_HITS`), so the page is best sorted from them."""
    case_filter = case_filter_of(query.filter)
    now = now or datetime.now(UTC)
    state = CaseState.ALL if states_replaced(case_filter) else query.state
    few = False
    text_query = " ".join(t for t in (query.q, case_filter.text if case_filter else None) if t and t.strip())
    if text_query:
        ids = few_matches(session, text_query, dialect)
        few = ids is not None
        if ids == []:
            stmt = stmt.where(false())  # a constant the planner folds: no index walk at all
        else:
            stmt = stmt.where(CaseRow.id.in_(ids) if few else text_condition(text_query, dialect))
    if case_filter:
        phone, phone_ids = phone_condition(session, keyring, case_filter)
        if phone_ids is not None:
            stmt = stmt.where(CaseRow.id.in_(phone_ids) if phone_ids else false())
            few = True
        elif phone is not None:
            stmt = stmt.where(phone)
    risk_mins = [r for r in (query.risk_min, case_filter and case_filter.risk_min) if r is not None]
    if risk_mins:
        stmt, few = _risk_condition(stmt, session, max(risk_mins), state, few, dialect)

    def column(name: str) -> Any:
        # With few ids, SQLite must fetch them by rowid: an equality it could seek in an
        # (is_open, …) index makes it walk that index instead and test every id (a
        # hundred times slower at 100k open cases). ``+column`` is not indexable.
        if few and dialect == "sqlite":  # typed, so that a datetime binds as the column stores it
            return literal_column(f"+cases.{name}", getattr(CaseRow, name).type)
        return getattr(CaseRow, name)

    if state is CaseState.OPEN:
        stmt = stmt.where(column("is_open") == true())
    elif state is CaseState.DONE:
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
    if case_filter:
        stmt = apply_filter(stmt, session, caller, case_filter, now, column, dialect)
    return stmt, few


def _risk_condition(
    stmt: Select[Any], session: Session, risk_min: int, state: CaseState, few: bool, dialect: str
) -> tuple[Select[Any], bool]:
    """``risk_score >= risk_min``, the way :func:`filtered` treats text: when few cases
    reach the score (counted in ``ix_cases_open_risk``), their ids, fetched and sorted;
    else the inbox index walked and each row tested (``+ 0`` keeps the planner off the
    risk index, which would make it fetch and sort every match)."""
    if few:  # a text search already narrowed it to a handful of ids: test them
        score = literal_column("+cases.risk_score") if dialect == "sqlite" else CaseRow.risk_score
        return stmt.where(score >= risk_min), few
    ids_query = select(CaseRow.id).where(CaseRow.risk_score >= risk_min)
    if state is CaseState.OPEN:
        ids_query = ids_query.where(CaseRow.is_open.is_(True))
    elif state is CaseState.DONE:
        ids_query = ids_query.where(CaseRow.is_open.is_(False))
    ids = list(session.scalars(ids_query.limit(FEW_HITS + 1)))
    if not ids:
        return stmt.where(false()), few
    if len(ids) <= FEW_HITS:
        return stmt.where(CaseRow.id.in_(ids)), True
    return stmt.where((CaseRow.risk_score + 0) >= risk_min), few


COUNT_CAP = 999
"""A count beyond this is shown as "999+": counting stops there."""


def count_cases(
    session: Session, caller: Caller, query: CaseQuery, *, keyring: KeyRing | None = None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """How many cases match, and whether there are more than :data:`COUNT_CAP` (then the
    count is the cap). From the tallies when the query is only category, status,
    priority and assignee; else a COUNT that stops at the cap."""
    if _tally_query(query) is not None:
        n = tallies.count(session, _tally_query(query), caller.id)  # type: ignore[arg-type]
        return (COUNT_CAP, True) if n > COUNT_CAP else (n, False)
    dialect = session.get_bind().dialect.name
    stmt, _few = filtered(select(CaseRow.id), session, caller, query, dialect, keyring=keyring, now=now)
    n = session.scalar(select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery())) or 0
    return (COUNT_CAP, True) if n > COUNT_CAP else (n, False)


def _tally_query(query: CaseQuery) -> CaseQuery | None:
    """The same query in the tallies' terms, when it has one (a single value per key)."""
    if query.q or query.risk_min is not None:
        return None
    case_filter = case_filter_of(query.filter)
    if case_filter is None:
        return query.model_copy(update={"filter": None})
    f = case_filter
    only = CaseFilter(statuses=f.statuses, categories=f.categories, priorities=f.priorities,
                      assignees=f.assignees)
    if f != only or any(len(values) > 1 for values in (f.statuses, f.categories, f.priorities, f.assignees)):
        return None
    update: dict[str, Any] = {"filter": None}
    for name, values in (("status", f.statuses), ("category", f.categories),
                         ("priority", f.priorities), ("assignee", f.assignees)):
        if values:
            current = getattr(query, name)
            if current is not None and str(current) != next(iter(values)):
                return None  # status:open on a status=new query: counted the long way (0)
            update[name] = next(iter(values))
    if f.statuses:
        update["state"] = CaseState.ALL
    return query.model_copy(update=update)


def list_cases(
    session: Session,
    caller: Caller,
    query: CaseQuery,
    *,
    cursor: str | None = None,
    limit: int = 50,
    keyring: KeyRing | None = None,
    now: datetime | None = None,
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
            CaseRow.is_open,  # issue 5: the SLA fields
            CaseRow.first_response_due_at,
            CaseRow.first_responded_at,
            CaseRow.sla_paused_at,
            BorrowerRow.name_masked,
            assignee.name,
        )
        .outerjoin(BorrowerRow, BorrowerRow.id == CaseRow.borrower_id)
        .outerjoin(assignee, assignee.id == CaseRow.assignee_id)
    )
    stmt, few = filtered(stmt, session, caller, query, dialect, keyring=keyring, now=now)
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
            **sla.summary_fields(
                is_open=r.is_open, sla_due_at=r.sla_due_at, first_response_due_at=r.first_response_due_at,
                first_responded_at=r.first_responded_at, sla_paused_at=r.sla_paused_at,
            ),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]
    return Page[CaseSummary](items=items, next_cursor=next_cursor)
