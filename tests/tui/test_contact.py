"""The contact log from the case screen: log a contact, then see a quiet-hours refusal
named before anything is recorded; and a masked number with its time left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linkdesk.client import DeskClient
from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.views import CaseQuery, CaseState

from .conftest import NOW, Desk, RecordingApp, make_settings, settled, wait_for
from .test_privacy import open_case
from .test_walk import _plain

SIZE = (120, 40)


@dataclass
class Clock:
    now: datetime = NOW  # 17:00 in Shanghai

    def __call__(self) -> datetime:
        return self.now


async def contactable_case(client: DeskClient) -> str:
    page = await client.list_cases(CaseQuery(state=CaseState.OPEN, category=CaseCategory.UNREACHABLE), limit=50)
    for summary in page.items:
        if (await client.contact_check(summary.ref)).allowed:
            return summary.ref
    raise AssertionError("the demo desk has no open case whose borrower may be called")


async def open_contacts(pilot: Any, ref: str) -> Any:
    app = pilot.app
    await open_case(pilot, ref)
    await pilot.press("o")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "ContactScreen")
    await settled(pilot)
    return app.screen


async def test_log_a_contact_then_quiet_hours_refuse_it(desk: Desk, make_app: Any) -> None:
    clock = Clock()
    desk.reopen(clock=clock)
    ref = await contactable_case(desk.client())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_contacts(pilot, ref)
        assert "Call the debtor now: ✔ allowed" in _plain(app)
        assert f"No contact logged on {ref} yet." in _plain(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: "✔ allowed" in _plain(app) and type(app.screen).__name__ == "ContactForm")
        await pilot.click("#contact-note")
        await pilot.press(*"promised to pay [b]friday[/b]")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ContactScreen")
        await settled(pilot)
        text = _plain(app)
        assert "call → debtor  connected" in text and "promised to pay [b]friday[/b]" in text

        clock.now = NOW + timedelta(hours=6)  # 23:00 in Shanghai
        await pilot.press("n")
        await wait_for(pilot, lambda: "✘ refused · quiet hours (quiet_hours)" in _plain(app))
        verdict = str(app.screen.query_one("#contact-verdict").render())
        assert "allowed again at 2026-11-21 08:00" in " ".join(verdict.split())
        await pilot.press("ctrl+s")  # refused: the desk records the refusal, logs nothing
        await wait_for(pilot, lambda: any("Refused (quiet hours)" in note for _s, note in app.notes))
        assert type(app.screen).__name__ == "ContactScreen"
        await settled(pilot)
        await pilot.press("escape", "r")  # the case's timeline has both, the refusal named
        await wait_for(pilot, lambda: "✘ refused · quiet hours · call to debtor" in _plain(app))
        assert "call · debtor · connected" in _plain(app)
    contacts = (await desk.client().case_contacts(ref)).items
    assert [c.note for c in contacts] == ["promised to pay [b]friday[/b]"]


async def test_masked_call_shows_the_number_and_its_time_left(desk: Desk) -> None:
    clock = Clock()
    desk.reopen(clock=clock)
    ref = await contactable_case(desk.client())
    app = RecordingApp(make_settings(), desk.connect, desk_label="test desk", clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(pilot, ref)
        await pilot.press("m")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MaskedCallDialog")
        await pilot.press(*"13900001111", "tab")
        await pilot.press("backspace", "backspace", "1", "5", "enter")
        await wait_for(pilot, lambda: "dial +861700000" in _plain(app))
        assert "15:00 left" in _plain(app)
        clock.now = NOW + timedelta(minutes=5)
        await wait_for(pilot, lambda: "10:00 left" in _plain(app))
        reaches = next(line for line in _plain(app).splitlines() if "dial +861700000" in line)
        assert "reaches 1" in reaches and "****" in reaches  # the borrower's number only masked
    call = (await desk.client().masked_calls(case=ref))[0]
    assert call.expires_at == NOW + timedelta(minutes=15) and call.agent_line == "139****1111"
