"""The monitor: one risk alert per change (cancelled, re-issued since binding, line down,
shared by a new borrower), none on a re-run; a provider that is down; the lease; and the
monitor running in the server's lifespan."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from linkdesk.domain.cases import Priority
from linkdesk.domain.intel import LineStatus
from linkdesk.domain.phones import national_digits
from linkdesk.intel.sandbox import SandboxProvider, change
from linkdesk.server import alerts, monitor
from linkdesk.server.db import make_session_factory
from linkdesk.server.demo import seed_demo

from .conftest import SEED_NOW, Desk
from .intel_helpers import (
    CHECK_AT,
    Clock,
    DownProvider,
    add_borrower_with,
    app_for,
    clean_active_bindings,
    number_of,
)


@pytest.fixture
def desk(fresh: Desk) -> Iterator[Desk]:
    fresh.summary = seed_demo(fresh.engine, fresh.keyring, cases=80, borrowers=40, seed=9, now=SEED_NOW)
    yield fresh


async def run(desk: Desk, at: datetime, provider=None) -> monitor.MonitorSummary:  # type: ignore[no-untyped-def]
    provider = provider or SandboxProvider(make_session_factory(desk.engine), desk.keyring, clock=lambda: at)
    return await monitor.run_once(desk.engine, desk.keyring, provider, at, recheck_after=timedelta(0), batch=7)


def seen(desk: Desk) -> dict[tuple[int, str], int]:
    with desk.engine.connect() as conn:
        return {(b, k): c for b, k, c in conn.execute(sa.text("SELECT binding_id, kind, case_id FROM risk_alerts_seen"))}


def alert_cases(desk: Desk) -> int:
    with desk.engine.connect() as conn:
        return conn.scalar(sa.text("SELECT count(*) FROM cases WHERE category = 'risk_alert'")) or 0


def edit(desk: Desk, e164: str, **changes) -> None:  # type: ignore[no-untyped-def]
    with make_session_factory(desk.engine)() as session, session.begin():
        change(session, desk.keyring, e164, **changes)


async def test_one_alert_per_change_and_none_on_a_rerun(desk: Desk) -> None:
    active = 0
    with desk.engine.connect() as conn:
        active = conn.scalar(sa.text("SELECT count(*) FROM phone_bindings WHERE status = 'active'"))
    quiet = await run(desk, CHECK_AT)
    assert quiet.checked == active and quiet.alerts == [] and quiet.unavailable == 0  # as the seed checked it
    before = alert_cases(desk)

    (cancelled, _), (reissued, _), (down, _), (shared, _) = clean_active_bindings(desk)[:4]
    at = CHECK_AT + timedelta(days=1)
    edit(desk, number_of(desk, cancelled), cancelled_at=at - timedelta(days=1))
    edit(desk, number_of(desk, reissued), cancelled_at=at - timedelta(days=6), reissued_at=at - timedelta(days=1))
    edit(desk, number_of(desk, down), status=LineStatus.SHUT_DOWN)
    newcomer, newcomer_binding = add_borrower_with(desk, number_of(desk, shared), at - timedelta(hours=2))

    summary = await run(desk, at)
    assert len(summary.alerts) == 4 and summary.dnc_added == 1
    with desk.engine.connect() as conn:  # on the list under the alert that found it
        listed = conn.execute(sa.text("SELECT reason, case_id, added_by FROM do_not_contact WHERE binding_id = :b"),
                              {"b": reissued}).all()
    assert [tuple(row) for row in listed] == [("reassigned", seen(desk)[(reissued, "reassigned")], "system:monitor")]
    kinds = {key: case_id for key, case_id in seen(desk).items()}
    assert set(kinds) == {(cancelled, "cancelled"), (reissued, "reassigned"), (down, "line_down"), (shared, "shared")}
    assert alert_cases(desk) == before + 4

    with desk.engine.connect() as conn:
        cases = conn.execute(sa.text(
            "SELECT c.id, c.category, c.status, c.priority, c.binding_id, c.borrower_id, c.phone_masked, "
            "c.subject, c.body, c.risk_score, b.borrower_id AS owner, a.score FROM cases c "
            "JOIN phone_bindings b ON b.id = c.binding_id JOIN risk_assessments a ON a.binding_id = b.id "
            "WHERE c.id IN (SELECT case_id FROM risk_alerts_seen)")).all()
    by_binding = {row.binding_id: row for row in cases}
    for binding_id in (cancelled, reissued, down, shared):
        row = by_binding[binding_id]
        assert (row.category, row.status, row.borrower_id) == ("risk_alert", "new", row.owner)
        assert row.risk_score == row.score and row.phone_masked.count("*") == 4
        number = number_of(desk, binding_id)
        assert f"P-{binding_id}" in row.subject
        for plain in (number, national_digits(number), row.phone_masked):  # words, not numbers
            assert plain not in row.subject + row.body
    assert by_binding[reissued].priority == Priority.URGENT and "re-issued" in by_binding[reissued].subject
    assert f"B-{newcomer:06d}" in by_binding[shared].subject

    # again, later: nothing changed since, so nothing new
    again = await run(desk, at + timedelta(hours=3))
    assert again.alerts == [] and alert_cases(desk) == before + 4 and len(seen(desk)) == 4
    assert again.checked == active + 1  # the newcomer's binding is watched too

    # the line comes back, then goes down again: a new change, a new alert
    edit(desk, number_of(desk, down), status=LineStatus.NORMAL)
    assert (await run(desk, at + timedelta(days=1))).alerts == []
    edit(desk, number_of(desk, down), status=LineStatus.SHUT_DOWN)
    later = await run(desk, at + timedelta(days=2))
    assert len(later.alerts) == 1 and alert_cases(desk) == before + 5
    assert newcomer_binding not in {b for b, _ in seen(desk)}  # the newcomer is not alerted about itself


def test_a_change_seen_twice_opens_one_case(desk: Desk) -> None:
    binding_id, borrower_id = clean_active_bindings(desk)[0]
    bound = alerts.Bound(binding_id, borrower_id, SEED_NOW - timedelta(days=300))
    change_ = alerts.Change("line_down", "shut_down@2026-11-02", "Risk alert: test", "body", Priority.NORMAL)
    sessions = make_session_factory(desk.engine)
    opened = []
    for _ in range(2):  # as two monitors, or the monitor and an agent's check, would
        with sessions() as session, session.begin():
            opened.append(alerts.open_alerts(session, desk.keyring, bound, number_of(desk, binding_id), [change_],
                                             None, actor_id=None, now=CHECK_AT))
    assert len(opened[0]) == 1 and opened[1] == []


async def test_a_provider_that_is_down_costs_one_attempt_per_binding(desk: Desk) -> None:
    down = DownProvider()
    with desk.engine.connect() as conn:
        active = conn.scalar(sa.text("SELECT count(*) FROM phone_bindings WHERE status = 'active'"))
        reports = conn.scalar(sa.text("SELECT count(*) FROM intel_reports WHERE unavailable IS NULL"))
    summary = await asyncio.wait_for(run(desk, CHECK_AT, provider=down), timeout=60)
    assert (summary.checked, summary.unavailable, summary.alerts) == (0, active, [])
    assert down.calls == active
    with desk.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM intel_reports WHERE unavailable IS NULL")) == reports
        texts = set(conn.scalars(sa.text("SELECT DISTINCT unavailable FROM intel_reports WHERE unavailable IS NOT NULL")))
    assert texts == {"intel unavailable: aliyun: circuit open, retry in 60 s"}
    # the next pass tries them again, and the sandbox answers
    assert (await run(desk, CHECK_AT + timedelta(hours=1))).checked == active


def test_the_lease_has_one_holder_at_a_time(desk: Desk) -> None:
    ttl = timedelta(minutes=5)
    assert monitor.take_lease(desk.engine, "a", CHECK_AT, ttl)
    assert not monitor.take_lease(desk.engine, "b", CHECK_AT + timedelta(minutes=1), ttl)
    assert monitor.take_lease(desk.engine, "a", CHECK_AT + timedelta(minutes=4), ttl)  # renewed
    assert not monitor.take_lease(desk.engine, "b", CHECK_AT + timedelta(minutes=8), ttl)
    assert monitor.take_lease(desk.engine, "b", CHECK_AT + timedelta(minutes=10), ttl)  # a's expired
    monitor.release_lease(desk.engine, "b")
    assert monitor.take_lease(desk.engine, "c", CHECK_AT + timedelta(minutes=11), ttl)


async def test_the_server_runs_the_monitor_in_its_lifespan(desk: Desk) -> None:
    (binding_id, _), *_ = clean_active_bindings(desk)
    clock = Clock(CHECK_AT + timedelta(days=1))
    edit(desk, number_of(desk, binding_id), cancelled_at=clock.now - timedelta(hours=5))
    app = app_for(desk, clock, monitor_every=0.002, monitor_recheck_after=0)
    async with app.router.lifespan_context(app):
        deadline = time.monotonic() + 60
        while (binding_id, "cancelled") not in seen(desk):
            assert time.monotonic() < deadline, "the monitor opened no alert"
            await asyncio.sleep(0.05)  # polling for the condition, not a fixed wait
        with desk.engine.connect() as conn:
            holder = conn.scalar(sa.text("SELECT holder FROM monitor_lease"))
        assert holder
    with desk.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT holder FROM monitor_lease")) is None  # released at shutdown
    assert list(seen(desk)).count((binding_id, "cancelled")) == 1
