"""SLAs on the desk: due dates of new cases, pauses, first responses, the breach sweep.

* :func:`new_case_columns` — the due dates of a case received now (business time on the
  mainland calendar, :mod:`linkdesk.domain.sla`).
* :func:`status_change` — what a status change does to the clocks: entering
  ``pending`` records when the pause started; leaving it pushes the due dates out by
  the business time spent paused. Both are ``sla_pause`` events.
* :func:`priority_change` — new targets from the new priority, as if the case had been
  received with it (the time already paused still counts).
* :func:`sweep` — records each breach once: a conditional ``UPDATE … WHERE flag is
  false RETURNING`` decides which process writes the ``sla_breach`` event, so several
  workers or servers sweeping at once never write two. The candidates are read from
  ``ix_cases_sla_watch`` / ``ix_cases_first_response_watch``, so a pass reads only the
  open cases overdue and not yet flagged.
* :func:`run_forever` — the sweep every ``sla_sweep_every`` seconds, in the lifespan of
  every desk app (``linkdesk serve`` and the local desk service).

The policy in force is the one :func:`use_policy` was last given (``create_app`` gives
it the settings' ``sla_policy``); the packaged default until then.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Engine, and_, false, insert, or_, select, true, update
from sqlalchemy.orm import Session

from linkdesk.domain.cases import CaseStatus, EventKind
from linkdesk.domain.sla import deadlines, paused_for, resume, soon_at
from linkdesk.domain.sla_policy import SlaPolicy, default_policy
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import CaseRow, EventRow

log = logging.getLogger("linkdesk.sla")

SWEEP_BATCH = 500
"""Cases flagged per statement (one transaction each)."""
SWEEP_LIMIT = 20_000
"""At most this many breaches per target and pass: a desk upgraded with a backlog of
overdue cases catches up over a few passes instead of one long one."""

_policy: SlaPolicy | None = None


def use_policy(policy: SlaPolicy | None) -> None:
    global _policy
    _policy = policy


def policy() -> SlaPolicy:
    return _policy or default_policy()


# -- writing the clocks -----------------------------------------------------------------


def new_case_columns(category: str, priority: str, received_at: datetime) -> dict[str, Any]:
    """``sla_due_at`` and ``first_response_due_at`` of a case received at ``received_at``."""
    due = deadlines(category, priority, received_at, policy())
    return {"sla_due_at": due.resolution, "first_response_due_at": due.first_response}


Event = tuple[str, dict[str, Any]]


def status_change(row: CaseRow, new_status: str, now: datetime) -> tuple[dict[str, Any], list[Event]]:
    """Column changes and timeline events of moving ``row`` to ``new_status``."""
    pending = str(CaseStatus.PENDING)
    if new_status == row.status:
        return {}, []
    if new_status == pending and row.sla_paused_at is None:
        return {"sla_paused_at": now}, [(str(EventKind.SLA_PAUSE), {"paused": True})]
    if row.status == pending and row.sla_paused_at is not None:
        current = policy()
        spent = paused_for(row.sla_paused_at, now, current)
        changes: dict[str, Any] = {"sla_paused_at": None, "sla_due_at": resume(row.sla_due_at, spent, current)}
        data: dict[str, Any] = {"paused": False, "business_seconds": int(spent.total_seconds()),
                                "sla_due_at": changes["sla_due_at"].isoformat()}
        if row.first_response_due_at is not None and row.first_responded_at is None:
            changes["first_response_due_at"] = resume(row.first_response_due_at, spent, current)
            data["first_response_due_at"] = changes["first_response_due_at"].isoformat()
        return changes, [(str(EventKind.SLA_PAUSE), data)]
    return {}, []


def priority_change(row: CaseRow, new_priority: str, pending: dict[str, Any] | None = None) -> dict[str, Any]:
    """The due dates under ``new_priority``, counted from when the case was received and
    moved out by the pauses so far (the difference between the old due date and the old
    target). ``pending`` holds the changes the same update makes already (a pause that
    ends with it has moved the due dates). A breach already recorded stays recorded."""
    pending = pending or {}
    sla_due_at = pending.get("sla_due_at", row.sla_due_at)
    first_due = pending.get("first_response_due_at", row.first_response_due_at)
    current = policy()
    calendar = current.business_calendar
    old = deadlines(row.category, row.priority, row.created_at, current)
    new = deadlines(row.category, new_priority, row.created_at, current)
    paused = calendar.between(old.resolution, sla_due_at)
    changes: dict[str, Any] = {"sla_due_at": resume(new.resolution, paused, current)}
    if first_due is not None and row.first_responded_at is None:
        paused_first = calendar.between(old.first_response, first_due)
        changes["first_response_due_at"] = resume(new.first_response, paused_first, current)
    return changes


def first_response_value(now: datetime) -> Any:
    """For the ``UPDATE`` of a public comment: ``first_responded_at`` keeps its first value."""
    from sqlalchemy import func

    return func.coalesce(CaseRow.first_responded_at, now)


# -- reading ------------------------------------------------------------------------------


def summary_fields(
    *, is_open: bool, sla_due_at: datetime, first_response_due_at: datetime | None,
    first_responded_at: datetime | None, sla_paused_at: datetime | None,
) -> dict[str, Any]:
    """The SLA fields of ``Case`` and ``CaseSummary`` from a case's columns."""
    return {
        "sla_due_at": sla_due_at,
        "first_response_due_at": first_response_due_at,
        "first_responded_at": first_responded_at,
        "sla_paused": sla_paused_at is not None,
        "sla_soon_at": soon_at(sla_due_at, policy()) if is_open and sla_paused_at is None else None,
    }


def overdue_by(before: datetime, column: Callable[[str], Any] | None = None) -> Any:
    """The condition "the resolution or an unanswered first response falls due before
    ``before``" (for ``sla:breached`` and ``sla:today``)."""
    col = column or (lambda name: getattr(CaseRow, name))
    return or_(
        col("sla_due_at") < before,
        and_(col("first_responded_at").is_(None), col("first_response_due_at") < before),
    )


# -- the breach sweep -------------------------------------------------------------------


@dataclass
class SweepResult:
    first_response: int = 0
    resolution: int = 0

    @property
    def total(self) -> int:
        return self.first_response + self.resolution


_TARGETS = {
    "resolution": (CaseRow.sla_breached, CaseRow.sla_due_at, ()),
    "first_response": (
        CaseRow.first_response_breached, CaseRow.first_response_due_at, (CaseRow.first_responded_at.is_(None),),
    ),
}


def sweep(session: Session, now: datetime) -> SweepResult:
    """Flag every open, running (not paused) case whose target passed, and write its
    ``sla_breach`` event; each batch is committed as it goes. Safe to run in several
    processes at once: only the one whose ``UPDATE`` flips the flag writes the event."""
    result = SweepResult()
    for target, (flag, due, extra) in _TARGETS.items():
        done = 0
        while done < SWEEP_LIMIT:
            ids = list(session.scalars(
                select(CaseRow.id)
                .where(CaseRow.is_open == true(), flag == false(), *extra, due < now,
                       CaseRow.sla_paused_at.is_(None))
                .order_by(due)
                .limit(SWEEP_BATCH)
            ))
            if not ids:
                break
            flagged = session.execute(
                update(CaseRow)
                .where(CaseRow.id.in_(ids), flag == false(), CaseRow.is_open == true(),
                       CaseRow.sla_paused_at.is_(None), due < now, *extra)
                .values({flag.key: True})
                .returning(CaseRow.id, due)
                .execution_options(synchronize_session=False)
            ).all()
            if flagged:
                session.execute(insert(EventRow), [
                    {"case_id": case_id, "kind": str(EventKind.SLA_BREACH), "actor_id": None, "body": "",
                     "data": {"target": target, "due": due_at.isoformat()}, "internal": False,
                     "created_at": now}
                    for case_id, due_at in flagged
                ])
            session.commit()
            done += len(flagged)
            setattr(result, target, getattr(result, target) + len(flagged))
            if len(ids) < SWEEP_BATCH:
                break
    return result


def sweep_once(engine: Engine, now: datetime) -> SweepResult:
    with make_session_factory(engine)() as session:
        return sweep(session, now)


def warm_up(now: datetime) -> None:
    """Load the business calendar around ``now`` (it imports ``holidays``: 0.1–0.5 s),
    so that the first list request after a start does not pay for it."""
    deadlines("rebind", "normal", now, policy())


async def run_forever(engine: Engine, *, every: timedelta, clock: Callable[[], datetime]) -> None:
    """Sweep every ``every`` (the first pass after one interval: a desk just started has
    nothing urgent to flag that a minute changes), until cancelled; errors are logged."""
    while True:
        await asyncio.sleep(every.total_seconds())
        try:
            result = await anyio.to_thread.run_sync(sweep_once, engine, clock())
            if result.total:
                log.info("SLA sweep: %d first-response and %d resolution breaches recorded",
                         result.first_response, result.resolution)
        except Exception:  # a database hiccup must not end the sweeping
            log.exception("SLA sweep failed")


def backfill(conn: Any) -> None:
    """After a bulk insert of cases with their timelines (the demo): each case's first
    response is its first public comment by an agent, and a pending case has been
    paused since its last update."""
    from sqlalchemy import func

    first = (
        select(func.min(EventRow.created_at))
        .where(EventRow.case_id == CaseRow.id, EventRow.kind == str(EventKind.COMMENT),
               EventRow.internal == false(), EventRow.actor_id.is_not(None))
        .scalar_subquery()
    )
    conn.execute(update(CaseRow).values(first_responded_at=first))
    conn.execute(
        update(CaseRow).where(CaseRow.status == str(CaseStatus.PENDING)).values(sla_paused_at=CaseRow.updated_at)
    )
