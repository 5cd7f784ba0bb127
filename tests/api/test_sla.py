"""SLAs through the API: due dates on create, pauses while pending, the first response,
breach events written once however many sweeps run, the "breaching today" view."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from linkdesk.client import DeskClient
from linkdesk.domain.cases import CaseCreate, CasePatch, EventCreate
from linkdesk.domain.views import CaseQuery
from linkdesk.server import sla
from linkdesk.server.app import create_app
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import EventRow

from .conftest import Desk

SHANGHAI = timedelta(hours=8)


def local(y: int, m: int, d: int, h: int, minute: int = 0) -> datetime:
    """A Shanghai wall-clock time, as UTC."""
    return datetime(y, m, d, h, minute, tzinfo=UTC) - SHANGHAI


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 9, 30, 17))  # Wednesday, the last working day before National Day


@pytest.fixture
async def desk(fresh: Desk, clock: Clock) -> AsyncIterator[DeskClient]:
    settings = fresh.app.state.settings.model_copy(update={"sla_sweep_every": 0})
    fresh.app = create_app(settings, engine=fresh.engine, keyring=fresh.keyring, clock=clock)
    async with fresh.app.router.lifespan_context(fresh.app):
        transport = httpx.ASGITransport(app=fresh.app)
        async with DeskClient("http://desk", transport=transport) as client:
            yield client


def breach_events(desk: Desk) -> list[tuple[int, dict]]:
    with make_session_factory(desk.engine)() as session:
        return [(r.case_id, r.data) for r in session.scalars(
            select(EventRow).where(EventRow.kind == "sla_breach").order_by(EventRow.id))]


async def test_due_dates_on_create_skip_national_day(desk: DeskClient) -> None:
    urgent = await desk.create_case(CaseCreate(category="rebind", subject="lost SIM", priority="urgent"))
    # 17:00 + 30 business minutes; resolution 4h: 1h on 30 Sep, then 1–7 Oct are off
    assert urgent.first_response_due_at == local(2026, 9, 30, 17, 30)
    assert urgent.sla_due_at == local(2026, 10, 8, 12)
    assert urgent.first_responded_at is None and urgent.sla_paused is False
    privacy = await desk.create_case(CaseCreate(category="privacy_request", subject="copy of my data", priority="urgent"))
    # the 15th working day, counting the make-up Saturday 10 Oct
    assert privacy.sla_due_at == local(2026, 10, 27, 18)
    page = await desk.list_cases(CaseQuery())
    listed = {item.ref: item for item in page.items}
    assert listed[urgent.ref].first_response_due_at == urgent.first_response_due_at
    assert listed[urgent.ref].sla_due_at == urgent.sla_due_at


async def test_pending_pauses_and_resuming_pushes_due_dates_out(desk: DeskClient, clock: Clock) -> None:
    clock.now = local(2026, 11, 2, 10)  # Monday
    case = await desk.create_case(CaseCreate(category="unreachable", subject="no answer", priority="normal"))
    due, first_due = case.sla_due_at, case.first_response_due_at
    assert first_due is not None
    case = await desk.update_case(case.ref, CasePatch(status="open"), version=case.version)
    clock.now = local(2026, 11, 2, 11)
    case = await desk.update_case(case.ref, CasePatch(status="pending"), version=case.version)
    assert case.sla_paused is True
    assert case.sla_due_at == due  # nothing moves while paused…
    clock.now = local(2026, 11, 3, 11)  # …a full working day (9 business hours) later
    case = await desk.update_case(case.ref, CasePatch(status="open"), version=case.version)
    assert case.sla_paused is False
    assert case.sla_due_at == due + timedelta(days=1)  # 9 business hours = the same hour next day
    assert case.first_response_due_at == first_due + timedelta(days=1)
    events = [e for e in (await desk.list_events(case.ref)).items if e.kind == "sla_pause"]
    assert [e.data["paused"] for e in events] == [True, False]
    assert events[1].data["business_seconds"] == 9 * 3600
    # a new priority: new targets from receipt, the time paused still counted
    case = await desk.update_case(case.ref, CasePatch(priority="urgent"), version=case.version)
    assert case.sla_due_at == local(2026, 11, 3, 14)  # Monday 10:00 + 4h, + 9h paused
    assert case.first_response_due_at == local(2026, 11, 3, 10, 30)



async def test_leaving_pending_and_a_new_priority_in_one_change_keep_the_pause(desk: DeskClient, clock: Clock) -> None:
    clock.now = local(2026, 11, 2, 10)  # Monday
    case = await desk.create_case(CaseCreate(category="unreachable", subject="no answer", priority="normal"))
    case = await desk.update_case(case.ref, CasePatch(status="pending"), version=case.version)
    clock.now = local(2026, 11, 3, 10)  # a working day later, open again *and* urgent at once
    case = await desk.update_case(case.ref, CasePatch(status="open", priority="urgent"), version=case.version)
    assert case.sla_paused is False
    assert case.sla_due_at == local(2026, 11, 3, 14)  # Monday 10:00 + 4h, + the 9h paused

async def test_the_first_public_comment_is_the_first_response(desk: DeskClient, clock: Clock) -> None:
    case = await desk.create_case(CaseCreate(category="rebind", subject="new number", priority="high"))
    clock.now += timedelta(minutes=5)
    await desk.add_event(case.ref, EventCreate(kind="note", body="checking"))
    assert (await desk.get_case(case.ref)).first_responded_at is None  # an internal note is not a reply
    clock.now += timedelta(minutes=5)
    answered_at = clock.now
    await desk.add_event(case.ref, EventCreate(kind="comment", body="we are on it"))
    clock.now += timedelta(minutes=5)
    await desk.add_event(case.ref, EventCreate(kind="comment", body="update"))
    assert (await desk.get_case(case.ref)).first_responded_at == answered_at


async def test_breaches_are_recorded_once_per_target(fresh: Desk, desk: DeskClient, clock: Clock) -> None:
    late = await desk.create_case(CaseCreate(category="impersonation", subject="not me", priority="urgent"))
    answered = await desk.create_case(CaseCreate(category="rebind", subject="answered", priority="urgent"))
    await desk.add_event(answered.ref, EventCreate(kind="comment", body="hello"))
    paused = await desk.create_case(CaseCreate(category="rebind", subject="waiting", priority="urgent"))
    paused = await desk.update_case(paused.ref, CasePatch(status="open"), version=paused.version)
    await desk.update_case(paused.ref, CasePatch(status="pending"), version=paused.version)

    now = local(2026, 10, 9, 9)  # past every resolution target of the urgent cases
    assert sla.sweep_once(fresh.engine, local(2026, 9, 30, 17, 10)).total == 0  # nothing due yet
    threads = [threading.Thread(target=sla.sweep_once, args=(fresh.engine, now)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = sla.sweep_once(fresh.engine, now)
    assert again.total == 0
    events = breach_events(fresh)
    refs = {late.ref: [], answered.ref: [], paused.ref: []}
    by_id = {int(ref.split("-")[1]): ref for ref in refs}
    for case_id, data in events:
        refs[by_id[case_id]].append(data["target"])
    assert sorted(refs[late.ref]) == ["first_response", "resolution"]
    assert refs[answered.ref] == ["resolution"]  # answered in time: only the resolution
    assert refs[paused.ref] == []  # a paused clock does not run out
    due = {d["target"]: d["due"] for case_id, d in events if by_id[case_id] == late.ref}
    assert datetime.fromisoformat(due["resolution"]) == late.sla_due_at
    timeline = (await desk.list_events(late.ref)).items
    assert sum(e.kind == "sla_breach" for e in timeline) == 2


async def test_breaching_today_view(fresh: Desk, desk: DeskClient, clock: Clock) -> None:
    clock.now = local(2026, 11, 2, 9)  # Monday morning
    today = await desk.create_case(CaseCreate(category="rebind", subject="today", priority="urgent"))
    later = await desk.create_case(CaseCreate(category="rebind", subject="later", priority="low"))
    answered = await desk.create_case(CaseCreate(category="rebind", subject="replied", priority="low"))
    await desk.add_event(answered.ref, EventCreate(kind="comment", body="hello"))
    await desk.add_event(later.ref, EventCreate(kind="comment", body="hello"))
    views = {v.id: v for v in await desk.views()}
    view = views["breaching_today"]
    assert view.count == 1
    listed = [item.ref for item in (await desk.list_cases(view.query)).items]
    assert listed == [today.ref]
    # a first response due today counts too: the low-priority case's is due at 18:00
    fresh_low = await desk.create_case(CaseCreate(category="rebind", subject="low", priority="low"))
    listed = {item.ref for item in (await desk.list_cases(view.query)).items}
    assert listed == {today.ref, fresh_low.ref}
    with make_session_factory(fresh.engine)() as session:
        assert session.scalar(select(func.count()).select_from(EventRow).where(EventRow.kind == "sla_breach")) == 0


async def test_the_desk_sweeps_in_the_background(fresh: Desk, clock: Clock) -> None:
    settings = fresh.app.state.settings.model_copy(update={"sla_sweep_every": 0.05})
    app = create_app(settings, engine=fresh.engine, keyring=fresh.keyring, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), DeskClient("http://desk", transport=transport) as client:
        case = await client.create_case(CaseCreate(category="rebind", subject="late", priority="urgent"))
        clock.now = local(2026, 10, 9, 9)
        deadline = asyncio.get_running_loop().time() + 10
        while len(breach_events(fresh)) < 2:  # wait for the condition, bounded
            assert asyncio.get_running_loop().time() < deadline, "no sweep within 10 s"
            await asyncio.sleep(0.02)
        kinds = [e.kind for e in (await client.list_events(case.ref)).items]
        assert kinds.count("sla_breach") == 2
