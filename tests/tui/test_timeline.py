"""The case screen shows the whole timeline, however many pages it takes."""

from __future__ import annotations

from typing import Any

from linkdesk.domain.cases import EventCreate, EventKind

from .conftest import Desk, wait_for
from .test_walk import inbox_ready


async def test_a_long_timeline_is_shown_whole(desk: Desk, make_app: Any) -> None:
    writer = desk.client()
    for number in range(230):  # more than one page of events (200)
        await writer.add_event("LD-000007", EventCreate(kind=EventKind.COMMENT, body=f"call attempt {number}"))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        app.router.go("case/LD-000007")
        await wait_for(pilot, lambda: getattr(app.screen, "case", None) is not None)
        await wait_for(pilot, lambda: len(app.screen.query(".event")) >= 230)
        bodies = [event.body for event in app.screen.events]
        assert "call attempt 0" in bodies and "call attempt 229" in bodies
        assert bodies.index("call attempt 0") < bodies.index("call attempt 229")
