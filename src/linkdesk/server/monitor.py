"""The monitor: re-checks the active bindings on a schedule and alerts on changes.

:func:`run_once` takes the active bindings that are due — never checked, or last
answered longer ago than ``recheck_after`` — those least recently tried first, a batch
at a time: a short read, the provider outside any transaction, then one transaction
per batch (:func:`linkdesk.server.intel.record`: reports, scores, risk alerts, the
do-not-contact list, the cases' risk). A binding tried in this pass is not tried again
in it, answered or not, so a provider that is down costs one attempt per binding.

In ``linkdesk serve`` it runs every ``monitor_every`` minutes (:func:`run_forever`),
in the process that holds the monitor *lease*: one row (``monitor_lease``) that a
process takes with a conditional ``UPDATE`` when it is free or expired, and renews
before each batch. Several workers of one server, or several servers on one database,
therefore run one monitor between them; if its holder dies, another takes over when
the lease expires. ``linkdesk monitor --once`` runs a pass from the command line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import anyio
from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from linkdesk.domain.phones import BindingStatus
from linkdesk.domain.risk import RiskPolicy, default_policy
from linkdesk.intel.base import IntelProvider
from linkdesk.server import intel
from linkdesk.server.crypto import KeyRing
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import BindingRow, MonitorLeaseRow, RiskAssessmentRow

log = logging.getLogger("linkdesk.monitor")

ACTOR = "system:monitor"
LEASE_ID = 1


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class MonitorSummary:
    checked: int = 0
    """Numbers the provider answered for."""
    unavailable: int = 0
    """Numbers it could not answer for this time."""
    alerts: list[str] = field(default_factory=list)
    """Refs of the risk-alert cases opened."""
    dnc_added: int = 0
    stopped: bool = False
    """The pass stopped early (its lease was lost, or the limit was reached)."""

    def text(self) -> str:
        opened = f"{len(self.alerts)} risk alert{'s' if len(self.alerts) != 1 else ''} opened"
        if self.alerts:
            opened += f" ({', '.join(self.alerts[:10])}{', …' if len(self.alerts) > 10 else ''})"
        return (f"{self.checked} checked, {self.unavailable} unavailable, {opened}, "
                f"{self.dnc_added} added to do-not-contact" + (" (stopped early)" if self.stopped else ""))


def due_bindings(
    session: Session, *, now: datetime, started: datetime, recheck_after: timedelta, limit: int
) -> list[BindingRow]:
    """Active bindings to check next: not answered since ``now - recheck_after`` and not
    tried in this pass (since ``started``); the least recently tried first."""
    stale = now - recheck_after
    rows = session.execute(
        select(BindingRow)
        .outerjoin(RiskAssessmentRow, RiskAssessmentRow.binding_id == BindingRow.id)
        .where(
            BindingRow.status == str(BindingStatus.ACTIVE),
            or_(RiskAssessmentRow.checked_at.is_(None), RiskAssessmentRow.checked_at <= stale),
            or_(RiskAssessmentRow.attempted_at.is_(None), RiskAssessmentRow.attempted_at < started),
        )
        .order_by(RiskAssessmentRow.attempted_at.asc().nulls_first(), BindingRow.id)
        .limit(limit)
    ).scalars()
    return list(rows)


def _prepare_batch(
    sessions: sessionmaker[Session], keyring: KeyRing, *, now: datetime, started: datetime,
    recheck_after: timedelta, limit: int,
) -> list[intel.Subject]:
    with sessions() as session:
        subjects = []
        identities: dict[int, object] = {}
        for row in due_bindings(session, now=now, started=started, recheck_after=recheck_after, limit=limit):
            subject = intel._binding_subject(row, check=True)
            subject.e164 = intel.open_number(session, keyring, subject)
            if row.borrower_id not in identities:
                identities[row.borrower_id] = intel.identity_of(session, keyring, row.borrower_id)
            subject.identity = identities[row.borrower_id]  # type: ignore[assignment]
            subjects.append(subject)
        return subjects


def _store(
    sessions: sessionmaker[Session], keyring: KeyRing, policy: RiskPolicy,
    results: list[tuple[intel.Subject, intel.Outcome]], actor: str, now: datetime,
) -> intel.Recorded:
    with sessions() as session, session.begin():
        return intel.record(session, keyring, policy, results, actor=actor, actor_id=None, now=now)


async def run_once(
    engine: Engine,
    keyring: KeyRing,
    provider: IntelProvider,
    now: datetime,
    *,
    policy: RiskPolicy | None = None,
    recheck_after: timedelta = timedelta(hours=24),
    batch: int = 100,
    limit: int | None = None,
    timeout: float = 8.0,
    concurrency: int = 8,
    actor: str = ACTOR,
    clock: Callable[[], datetime] | None = None,
    keep_going: Callable[[], bool] | None = None,
) -> MonitorSummary:
    """One pass over the due active bindings; what it did. ``now`` stamps what it
    records (``clock`` for the provider's answers, default ``now`` as well);
    ``keep_going`` is asked before each batch (the lease's renewal)."""
    from linkdesk.domain.refs import case_ref

    policy = policy or default_policy()
    clock = clock or (lambda: now)
    sessions = make_session_factory(engine)
    summary = MonitorSummary()
    while limit is None or summary.checked + summary.unavailable < limit:
        if keep_going is not None and not await anyio.to_thread.run_sync(keep_going):
            summary.stopped = True
            break
        size = batch if limit is None else min(batch, limit - summary.checked - summary.unavailable)
        subjects = await anyio.to_thread.run_sync(
            partial(_prepare_batch, sessions, keyring, now=now, started=now, recheck_after=recheck_after, limit=size)
        )
        if not subjects:
            break
        outcomes = await intel.check_numbers(
            provider, subjects, timeout=timeout, clock=clock, concurrency=concurrency
        )

        results = [(subjects[i], outcome) for i, outcome in outcomes.items()]
        done = await anyio.to_thread.run_sync(partial(_store, sessions, keyring, policy, results, actor, now))
        summary.checked += done.checked
        summary.unavailable += done.unavailable
        summary.alerts += [case_ref(case_id) for case_id in done.alerts]
        summary.dnc_added += done.dnc_added
    else:
        summary.stopped = True
    return summary


# -- the lease and the schedule --------------------------------------------------------------


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take_lease(engine: Engine, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the monitor lease; True when ``holder`` holds it until ``now + ttl``."""
    with engine.begin() as conn:
        result = conn.execute(
            update(MonitorLeaseRow)
            .where(
                MonitorLeaseRow.id == LEASE_ID,
                or_(MonitorLeaseRow.holder.is_(None), MonitorLeaseRow.holder == holder,
                    MonitorLeaseRow.expires_at.is_(None), MonitorLeaseRow.expires_at < now),
            )
            .values(holder=holder, expires_at=now + ttl)
        )
        return result.rowcount == 1


def release_lease(engine: Engine, holder: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(MonitorLeaseRow)
            .where(MonitorLeaseRow.id == LEASE_ID, MonitorLeaseRow.holder == holder)
            .values(holder=None, expires_at=None)
        )


async def run_forever(
    engine: Engine,
    keyring: KeyRing,
    provider: IntelProvider,
    *,
    every: timedelta,
    clock: Callable[[], datetime] = _utcnow,
    holder: str | None = None,
    on_pass: Callable[[MonitorSummary], None] | None = None,
    **options: object,
) -> None:
    """A pass every ``every`` while this process holds the lease (cancel to stop)."""
    holder = holder or holder_name()
    ttl = max(every * 2, timedelta(minutes=5))
    try:
        while True:
            try:
                held = await anyio.to_thread.run_sync(take_lease, engine, holder, clock(), ttl)
                if held:
                    summary = await run_once(
                        engine, keyring, provider, clock(), clock=clock,
                        keep_going=lambda: take_lease(engine, holder, clock(), ttl),
                        **options,  # type: ignore[arg-type]
                    )
                    log.info("monitor pass: %s", summary.text())
                    if on_pass is not None:
                        on_pass(summary)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged by type only: a message can carry SQL parameters
                log.error("monitor pass failed: %s", type(exc).__name__)
            await anyio.sleep(every.total_seconds())
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(release_lease, engine, holder)
            except Exception as exc:  # noqa: BLE001 - the lease expires by itself
                log.warning("monitor lease not released: %s", type(exc).__name__)
