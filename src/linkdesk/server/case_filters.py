"""The filter language (domain/filters.py) as SQL over ``cases``.

The server is the authority on a filter: :func:`case_filter_of` parses it and answers a
bad term with a 422 that names it (a phone term without its value). Equalities and
lists go to the ``(is_open, …)`` indexes the list already seeks; a last four digits or
a whole number is fetched from ``ix_cases_phone_last4`` (the number then by its blind
index); tags, dates and SLA terms are tested on the rows the index walk reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, or_, select, text, true
from sqlalchemy.orm import Session

from linkdesk.domain.filters import CaseFilter, InvalidFilter, end_of_desk_day, parse_strict
from linkdesk.domain.problems import FieldError
from linkdesk.domain.workflow import OPEN_STATUSES
from linkdesk.server.agents import Caller
from linkdesk.server.crypto import KeyRing
from linkdesk.server.errors import ValidationProblem
from linkdesk.server.search import FEW_HITS
from linkdesk.server.tables import AgentRow, CaseRow

Column = Callable[[str], Any]


def case_filter_of(value: str | None) -> CaseFilter | None:
    """The parsed filter, or a 422 naming the first bad term."""
    if not value or not value.strip():
        return None
    try:
        return parse_strict(value)
    except InvalidFilter as exc:
        error = exc.errors[0]
        raise ValidationProblem(
            f"filter: {error.term}: {error.message}",
            errors=[FieldError(field="filter", message=f"{error.term}: {error.message}")],
            term=error.term, start=error.start, end=error.end,
        ) from None


def phone_condition(
    session: Session, keyring: KeyRing | None, case_filter: CaseFilter
) -> tuple[ColumnElement[bool] | None, list[int] | None]:
    """The phone term as a condition on the cases' last four digits (and blind index for a
    whole number), and the matching ids when there are at most :data:`FEW_HITS`."""
    if case_filter.phone_last4:
        condition: ColumnElement[bool] = CaseRow.phone_last4 == case_filter.phone_last4
    elif case_filter.phone_number:
        condition = _number_condition(keyring, case_filter.phone_number)
    else:
        return None, None
    ids = list(session.scalars(select(CaseRow.id).where(condition).limit(FEW_HITS + 1)))
    return condition, (ids if len(ids) <= FEW_HITS else None)


def _number_condition(keyring: KeyRing | None, typed: str) -> ColumnElement[bool]:
    """Cases with this whole number: found by last four, confirmed by the blind index under
    every key version. Never repeats the number in an error."""
    from linkdesk.domain.phones import InvalidPhoneNumber, last_four, normalise

    try:
        e164 = normalise(typed)
    except InvalidPhoneNumber as exc:
        raise ValidationProblem.field("filter", f"phone:…: not a mobile number ({exc.reason})") from None
    if keyring is None:
        return false()
    return and_(CaseRow.phone_last4 == last_four(e164), CaseRow.phone_index.in_(keyring.blind_indexes(e164)))


def states_replaced(case_filter: CaseFilter | None) -> bool:
    """A ``status:`` term says which statuses; the view's open/done state no longer applies."""
    return bool(case_filter and case_filter.statuses)


def apply_filter(
    stmt: Select[Any],
    session: Session,
    caller: Caller,
    case_filter: CaseFilter,
    now: datetime,
    column: Column,
    dialect: str,
) -> Select[Any]:
    """Every term but text, risk and phone (which :mod:`linkdesk.server.listing` takes
    first, since they decide how the page is fetched)."""
    f = case_filter
    for values, negated, name in (
        (f.statuses, False, "status"), (f.not_statuses, True, "status"),
        (f.categories, False, "category"), (f.not_categories, True, "category"),
        (f.priorities, False, "priority"), (f.not_priorities, True, "priority"),
    ):
        if values:
            stmt = stmt.where(_one_of(column(name), sorted(str(v) for v in values), negated))
    if f.statuses and not f.statuses - OPEN_STATUSES:
        stmt = stmt.where(column("is_open").is_(True))  # lets the (is_open, …) indexes seek
    if f.assignees:
        stmt = stmt.where(_assignee_condition(session, caller, f.assignees, column))
    if f.not_assignees:
        stmt = stmt.where(_not_assignee_condition(session, caller, f.not_assignees, column))
    if f.risk_max is not None:
        stmt = stmt.where(column("risk_score") <= f.risk_max)
    for i, tag in enumerate(sorted(f.tags)):
        stmt = stmt.where(_has_tag(tag, f"tag_{i}", dialect))
    for i, tag in enumerate(sorted(f.not_tags)):
        stmt = stmt.where(_has_tag(tag, f"not_tag_{i}", dialect, negated=True))
    for name, period in (("created_at", f.created), ("updated_at", f.updated)):
        if period is not None:
            after, before = period.resolve(now)
            if after is not None:
                stmt = stmt.where(column(name) >= after)
            if before is not None:
                stmt = stmt.where(column(name) < before)
    return _sla(stmt, f, now, column)


def _one_of(col: Any, values: list[str], negated: bool) -> ColumnElement[bool]:
    if len(values) == 1:
        return col != values[0] if negated else col == values[0]
    return col.not_in(values) if negated else col.in_(values)


def _agent_ids(session: Session, caller: Caller, names: frozenset[str]) -> list[int]:
    ids = {caller.id} if "me" in names else set()
    others = names - {"me", "none"}
    if others:
        ids.update(session.scalars(select(AgentRow.id).where(AgentRow.name.in_(sorted(others)))))
    return sorted(ids)


def _assignee_condition(
    session: Session, caller: Caller, names: frozenset[str], column: Column
) -> ColumnElement[bool]:
    ids = _agent_ids(session, caller, names)
    conditions = [_one_of(column("assignee_id"), ids, False)] if ids else []  # type: ignore[arg-type]
    if "none" in names:
        conditions.append(column("assignee_id").is_(None))
    return or_(*conditions) if conditions else false()


def _not_assignee_condition(
    session: Session, caller: Caller, names: frozenset[str], column: Column
) -> ColumnElement[bool]:
    # spelled out: NOT (assignee_id IN …) is unknown, so false, for unassigned cases
    ids = _agent_ids(session, caller, names)
    assignee = column("assignee_id")
    if "none" in names:
        return and_(assignee.is_not(None), _one_of(assignee, ids, True)) if ids else assignee.is_not(None)
    return or_(assignee.is_(None), _one_of(assignee, ids, True)) if ids else true()


def _has_tag(tag: str, name: str, dialect: str, *, negated: bool = False) -> ColumnElement[bool]:
    no = "NOT " if negated else ""
    if dialect == "postgresql":
        sql = f"({no}cases.tags::jsonb @> jsonb_build_array(CAST(:{name} AS text)))"
    else:
        sql = f"{no}EXISTS (SELECT 1 FROM json_each(cases.tags) WHERE json_each.value = :{name})"
    return text(sql).bindparams(bindparam(name, tag))  # type: ignore[return-value]


def _sla(stmt: Select[Any], f: CaseFilter, now: datetime, column: Column) -> Select[Any]:
    paused_at = getattr(CaseRow, "sla_paused_at", None)
    if "paused" in f.sla:
        if paused_at is None:
            raise ValidationProblem.field("filter", "sla:paused: this desk does not pause SLAs yet")
        stmt = stmt.where(paused_at.is_not(None))
    for value, due_before in (("breached", now), ("today", end_of_desk_day(now))):
        if value in f.sla:
            from linkdesk.server.sla import overdue_by  # issue 5: resolution or first response

            stmt = stmt.where(column("is_open").is_(True), overdue_by(due_before, column))
            if paused_at is not None and "paused" not in f.sla:
                stmt = stmt.where(paused_at.is_(None))  # a paused clock is not running out
    return stmt
