"""Bulk changes and their undo.

A bulk change applies one action to many cases through :func:`update_case`, so each
case gets the timeline events and tally updates of a single change (plus ``bulk`` in
the events' data). Cases that cannot take the change are refused one by one; the others
still change. Everything is staged in the caller's transaction.

Each changed case is recorded with its before-state and the version the bulk change
left it at; undo restores the cases still at that version and skips the others.
Only the agent's own last bulk change can be undone, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from linkdesk.domain.bulk import (
    BulkAction,
    BulkCaseResult,
    BulkChange,
    BulkOutcome,
    BulkRequest,
    UndoCaseResult,
    UndoOutcome,
    UndoResult,
    tags_after,
    value_problem,
)
from linkdesk.domain.cases import CasePatch, CaseStatus
from linkdesk.domain.problems import CASE_CLOSED, VALIDATION
from linkdesk.domain.refs import InvalidRef, case_ref, parse_case_ref
from linkdesk.server.agents import Caller, agent_id_by_name
from linkdesk.server.cases import update_case
from linkdesk.server.errors import (
    Conflict,
    DeskProblem,
    NotFound,
    StaleVersion,
    ValidationProblem,
)
from linkdesk.server.tables import AgentRow, BulkChangeCaseRow, BulkChangeRow, CaseRow

MAX_TAGS = 20


class _Refused(Exception):
    def __init__(self, problem: str, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


def _case_ids(refs: list[str]) -> list[int]:
    ids: list[int] = []
    for position, ref in enumerate(refs):
        try:
            ids.append(parse_case_ref(ref))
        except InvalidRef:
            raise ValidationProblem.field("refs", f"item {position + 1} is not a case reference") from None
    return list(dict.fromkeys(ids))


def _slug(problem_type: str) -> str:
    return problem_type.rsplit(":", 1)[-1]


def _before(row: CaseRow) -> dict[str, Any]:
    return {"status": row.status, "assignee_id": row.assignee_id, "tags": list(row.tags or [])}


def _patches(action: BulkAction, value: str | None, row: CaseRow) -> list[CasePatch]:
    """The changes one case needs, in order (close may take two steps)."""
    status = CaseStatus(row.status)
    if action is BulkAction.STATUS:
        return [CasePatch(status=CaseStatus(value or ""))]
    if action is BulkAction.CLOSE:
        if status is CaseStatus.CLOSED:
            return []
        if status is CaseStatus.RESOLVED:
            return [CasePatch(status=CaseStatus.CLOSED)]
        return [CasePatch(status=CaseStatus.RESOLVED), CasePatch(status=CaseStatus.CLOSED)]
    if status is CaseStatus.CLOSED:
        raise _Refused(_slug(CASE_CLOSED), "the case is closed; reopen it first")
    if action is BulkAction.ASSIGN:
        return [CasePatch(assignee=value)]
    tags = tags_after(action, list(row.tags or []), value or "")
    if len(tags) > MAX_TAGS:
        raise _Refused(_slug(VALIDATION), f"a case has at most {MAX_TAGS} tags")
    return [CasePatch(tags=tags)]


def apply_bulk(session: Session, caller: Caller, request: BulkRequest, now: datetime) -> BulkChange:
    """Stage the bulk change; raises a 422 problem for bad input before any write."""
    problem = value_problem(request.action, request.value)
    if problem:
        raise ValidationProblem.field("value", problem)
    if (request.action is BulkAction.ASSIGN and request.value not in (None, "me")
            and agent_id_by_name(session, request.value or "") is None):
        raise ValidationProblem.field("value", "no active agent by that name")
    case_ids = _case_ids(request.refs)
    bulk_id = session.execute(
        insert(BulkChangeRow)
        .values(agent_id=caller.id, action=str(request.action), value=request.value, created_at=now)
        .returning(BulkChangeRow.id)
    ).scalar_one()
    results: list[BulkCaseResult] = []
    changed: list[dict[str, Any]] = []
    for case_id in case_ids:
        ref = case_ref(case_id)
        row = session.get(CaseRow, case_id)
        if row is None:
            results.append(BulkCaseResult(ref=ref, outcome=BulkOutcome.REFUSED, problem="not-found",
                                          reason="no such case"))
            continue
        before, version = _before(row), row.version
        try:
            for patch in _patches(request.action, request.value, row):
                _update(session, caller, case_id, patch, row.version, now, {"bulk": bulk_id})
                row = session.get(CaseRow, case_id)
                assert row is not None
        except _Refused as refusal:
            results.append(BulkCaseResult(ref=ref, outcome=BulkOutcome.REFUSED, version=version,
                                          problem=refusal.problem, reason=refusal.reason))
            continue
        if row.version == version:
            results.append(BulkCaseResult(ref=ref, outcome=BulkOutcome.UNCHANGED, version=version))
            continue
        changed.append({"bulk_id": bulk_id, "case_id": case_id, "before": before,
                        "after_version": row.version})
        results.append(BulkCaseResult(ref=ref, outcome=BulkOutcome.CHANGED, version=row.version))
    if changed:
        session.execute(insert(BulkChangeCaseRow), changed)
    else:
        session.delete(session.get(BulkChangeRow, bulk_id))
    return BulkChange(
        id=bulk_id if changed else None, action=request.action, value=request.value,
        created_at=now, results=results,
    )


def _update(
    session: Session, caller: Caller, case_id: int, patch: CasePatch, version: int,
    now: datetime, event_data: dict[str, Any], *, check_workflow: bool = True,
) -> None:
    """update_case, with its refusals turned into per-case refusals. A race with another
    writer (stale version) has already rolled the transaction back: the whole request
    fails then, and nothing is changed."""
    try:
        update_case(session, caller, case_id, patch, version, now,
                    check_workflow=check_workflow, event_data=event_data)
    except StaleVersion:
        raise Conflict("a case changed while the bulk change was being made; nothing was "
                       "changed, try again") from None
    except DeskProblem as problem:  # checked before any write of this case
        raise _Refused(_slug(problem.type), problem.detail or problem.title) from None


def undo_bulk(session: Session, caller: Caller, bulk_id: int, now: datetime) -> UndoResult:
    """Stage the undo of the caller's last bulk change."""
    bulk = session.get(BulkChangeRow, bulk_id)
    if bulk is None:
        raise NotFound(f"no bulk change {bulk_id}")
    if bulk.agent_id != caller.id:
        raise Conflict("only the agent who made a bulk change can undo it")
    last = session.scalar(select(func.max(BulkChangeRow.id)).where(BulkChangeRow.agent_id == caller.id))
    if bulk.id != last:
        raise Conflict(f"only your last bulk change can be undone; {last} is newer")
    if bulk.undone_at is not None:
        raise Conflict(f"bulk change {bulk_id} was already undone")
    items = session.scalars(
        select(BulkChangeCaseRow).where(BulkChangeCaseRow.bulk_id == bulk_id).order_by(BulkChangeCaseRow.case_id)
    ).all()
    results = [_restore(session, caller, bulk_id, item, now) for item in items]
    bulk.undone_at = now
    session.flush()
    return UndoResult(id=bulk_id, undone_at=now, results=results)


def _restore(session: Session, caller: Caller, bulk_id: int, item: BulkChangeCaseRow,
             now: datetime) -> UndoCaseResult:
    ref = case_ref(item.case_id)
    row = session.get(CaseRow, item.case_id)
    if row is None:  # pragma: no cover - cases are never deleted
        return UndoCaseResult(ref=ref, outcome=UndoOutcome.SKIPPED, version=0, reason="no such case")
    if row.version != item.after_version:
        return UndoCaseResult(ref=ref, outcome=UndoOutcome.SKIPPED, version=row.version,
                              reason="changed since the bulk change")
    before = item.before
    assignee = None
    if before.get("assignee_id") is not None:
        assignee = session.scalar(select(AgentRow.name).where(AgentRow.id == before["assignee_id"]))
    patch = CasePatch(status=CaseStatus(before["status"]), assignee=assignee, tags=before.get("tags", []))
    try:
        _update(session, caller, item.case_id, patch, row.version, now, {"undo_of_bulk": bulk_id},
                check_workflow=False)
    except _Refused as refusal:  # e.g. the former assignee was disabled since
        return UndoCaseResult(ref=ref, outcome=UndoOutcome.SKIPPED, version=row.version,
                              reason=refusal.reason)
    version = session.scalar(select(CaseRow.version).where(CaseRow.id == item.case_id)) or 0
    return UndoCaseResult(ref=ref, outcome=UndoOutcome.RESTORED, version=version)
