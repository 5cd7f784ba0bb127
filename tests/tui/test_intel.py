"""Phone intel on the case screen, against a real in-process desk: the panel, ``v`` to
re-check, a provider that is down or slow, and ``R`` for reveal."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from textual.command import CommandPalette
from textual.widgets import DataTable, OptionList

from linkdesk.client import DeskClient
from linkdesk.domain.cases import CaseCategory
from linkdesk.domain.intel import IntelReport, IntelUnavailable
from linkdesk.domain.phones import BindingStatus
from linkdesk.domain.views import CaseQuery, CaseState
from linkdesk.tui.safe import when
from linkdesk.tui.widgets.intel_panel import IntelPanel, NumberIntel

from .conftest import NOW, Desk, settled, wait_for
from .test_privacy import open_case
from .test_walk import _plain

SIZE = (120, 60)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


class DownProvider:
    """A provider whose circuit is open."""

    name = "aliyun"

    async def check(self, e164: str, **_: Any) -> IntelReport:
        raise IntelUnavailable("aliyun", "circuit open", retry_after=60)

    async def aclose(self) -> None:
        return None


class SlowProvider:
    """A provider that answers only when the test lets it (or never)."""

    name = "twilio"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.calls = 0

    async def check(self, e164: str, **_: Any) -> IntelReport:
        self.calls += 1
        await self.release.wait()
        raise IntelUnavailable("twilio", "released")

    async def aclose(self) -> None:
        return None


async def recycled_case(client: DeskClient) -> str:
    """An open recycled-number case whose old binding the sandbox found re-issued."""
    page = await client.list_cases(CaseQuery(state=CaseState.OPEN, category=CaseCategory.RECYCLED_NUMBER), limit=100)
    for summary in page.items:
        for item in await client.case_intel(summary.ref):
            if item.assessment is not None and item.assessment.stop_contact:
                return summary.ref
    raise AssertionError("the demo desk has no recycled-number case with a re-issued number")


def panel_text(screen: Any) -> str:
    """The whole side panel's text, also what is scrolled out of view."""
    return "\n".join(str(widget.render()) for widget in screen.query_one(IntelPanel).query("Static"))


def block_text(block: NumberIntel) -> str:
    return "\n".join(str(widget.render()) for widget in block.query("Static"))


async def scroll_to(pilot: Any, block: NumberIntel) -> None:
    """Scroll the side panel so that ``block`` is on screen, as the user would."""
    block.screen.query_one("#side").scroll_to_widget(block, animate=False, top=True)
    await pilot.pause()


async def active_block(pilot: Any, screen: Any) -> NumberIntel:
    """The block of the number in use, scrolled into view, once the panel has been drawn
    again (it recomposes after each answer: a block found earlier may be on its way out)."""

    def drawn() -> NumberIntel | None:
        for block in screen.query(NumberIntel):
            if block.number.status is BindingStatus.ACTIVE and block.is_attached:
                return block
        return None

    await wait_for(pilot, lambda: drawn() is not None)
    block = drawn()
    assert block is not None
    await scroll_to(pilot, block)
    return block


async def test_the_panel_explains_a_recycled_number(desk: Desk, make_app: Any) -> None:
    ref = await recycled_case(desk.client())
    intel = await desk.client().case_intel(ref)
    stopped = next(item for item in intel if item.assessment and item.assessment.stop_contact)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, ref)
        panel = screen.query_one(IntelPanel)
        await wait_for(pilot, lambda: panel.state == "ready")
        await pilot.pause()
        text = _plain(app)
        assert "Phone bindings · intel" in text
        # the case's own risk is in the header
        assert any("risk 100" in row for row in text.splitlines()[1:5])
        # a number that must not be contacted is said at the top, before any scrolling
        assert f"■ STOP CONTACT  {stopped.phone.masked}" in text
        block = next(b for b in screen.query(NumberIntel) if b.number.key == stopped.binding)
        await scroll_to(pilot, block)
        text = _plain(app)
        assert f"{stopped.phone.masked}  reassigned" in text
        assert "risk 100  critical" in text
        assert "■ STOP CONTACT" in text
        assert "Reassigned · critical" in text
        assert "The number was re-issued to someone else" in text
        shown = block_text(block)
        assert f"checked {when(stopped.checked_at)} via sandbox" in shown
        # every fact is listed, known or not
        for label in ("line", "tenure", "re-issued", "virtual", "ported", "port/swap", "identity"):
            assert f"\n{label} " in shown


async def test_the_panel_in_chinese(desk: Desk, make_app: Any) -> None:
    from .conftest import make_settings

    ref = await recycled_case(desk.client())
    app = make_app(make_settings(language="zh_CN"))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, ref)
        await wait_for(pilot, lambda: screen.query_one(IntelPanel).state == "ready")
        await pilot.pause()
        text = _plain(app)
        assert "号码绑定 · 情报" in text
        block = next(b for b in screen.query(NumberIntel) if b.number.intel.assessment.stop_contact)
        await scroll_to(pilot, block)
        text = _plain(app)
        assert "停止联系" in text and "二次号 · 严重" in text and "风险 100  严重" in text
        assert "借款人绑定后，该号码已被运营商" in text


async def test_v_rechecks_now_and_the_checked_time_follows(desk: Desk, make_app: Any) -> None:
    clock = Clock()
    desk.reopen(clock=clock)
    ref = await recycled_case(desk.client())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, ref)
        panel = screen.query_one(IntelPanel)
        await wait_for(pilot, lambda: panel.state == "ready")
        assert f"checked {when(NOW)} via sandbox" in panel_text(screen)
        events_before = len(screen.events)

        later = NOW + timedelta(hours=2, minutes=5)
        clock.now = later
        await pilot.press("v")
        await wait_for(pilot, lambda: panel.state == "ready" and f"checked {when(later)} via sandbox" in panel_text(screen))
        # the numbers in use are checked again (an old, re-issued binding keeps its last check)
        active = await active_block(pilot, screen)
        assert f"checked {when(later)} via sandbox" in block_text(active)
        assert f"checked {when(later)} via sandbox" in _plain(app)
        assert f"checked {when(NOW)} via" not in block_text(active)
        # the check is on the timeline too
        await wait_for(pilot, lambda: len(screen.events) > events_before)
        await settled(pilot)
        assert type(app.screen).__name__ == "CaseScreen"  # `v` opened no dialog


async def test_a_provider_that_is_down_says_so_and_the_console_keeps_working(desk: Desk, make_app: Any) -> None:
    desk.reopen(intel_provider=DownProvider())
    ref = await recycled_case(desk.client())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, ref)
        panel = screen.query_one(IntelPanel)
        await wait_for(pilot, lambda: panel.state == "ready")
        await pilot.press("v")
        await wait_for(pilot, lambda: panel.state == "ready" and "intel unavailable" in panel_text(screen))
        await active_block(pilot, screen)
        text = _plain(app)
        assert "intel unavailable: aliyun: circuit open, retry in 60 s" in text
        # the last answer stays (in the block drawn after the answer: look it up each time)

        def kept() -> bool:
            blocks = [b for b in screen.query(NumberIntel) if b.number.status is BindingStatus.ACTIVE and b.is_attached]
            return any("risk " in block_text(b) and "checked " in block_text(b) for b in blocks)

        await wait_for(pilot, kept)
        assert not [note for note in app.notes if note[0] == "error"]  # in the panel, not a crash or a toast
        # the console still answers: a comment dialog opens and closes, back to the inbox
        await pilot.press("c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TextEntry")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")
        assert app.is_running


async def test_a_slow_provider_never_freezes_the_console(desk: Desk, make_app: Any) -> None:
    slow = SlowProvider()
    desk.reopen(intel_provider=slow, intel_timeout=30)
    ref = await recycled_case(desk.client())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, ref)
        panel = screen.query_one(IntelPanel)
        await wait_for(pilot, lambda: panel.state == "ready")
        await pilot.press("v")
        await wait_for(pilot, lambda: slow.calls > 0)
        assert panel.state == "checking" and "checking…" in _plain(app)
        # while the provider thinks: keys work, dialogs open, a second `v` does not pile up
        await pilot.press("v")
        await wait_for(pilot, lambda: any("Already checking" in message for _s, message in app.notes))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        assert "Re-check intel" in _plain(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        slow.release.set()
        await wait_for(pilot, lambda: panel.state == "ready" and "intel unavailable: twilio: released" in _plain(app))


async def test_r_reveals_and_v_no_longer_does(desk: Desk, make_app: Any) -> None:
    ref = await recycled_case(desk.client())
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(pilot, ref)
        await wait_for(pilot, lambda: app.signed_in is not None)
        await pilot.press("v")
        await pilot.pause()
        assert app.screen is screen  # a re-check, no dialog
        await wait_for(pilot, lambda: screen.query_one(IntelPanel).state == "ready")
        await pilot.press("R")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RevealDialog")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        bar = _plain(app).splitlines()[-1]
        assert "v Re-check intel" in bar and "R Reveal" in bar
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        keys = app.screen.query_one(DataTable)
        rows = {keys.get_row_at(i)[0].plain: keys.get_row_at(i)[1].plain for i in range(keys.row_count)}
        assert rows["v"] == "Re-check intel" and rows["R"] == "Reveal"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        # the palette offers the re-check too
        await settled(pilot)
        events_before = len(screen.events)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"re-check")
        options = app.screen.query_one(OptionList)
        await wait_for(pilot, lambda: options.option_count > 0)
        assert "Re-check phone intel" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: len(screen.events) > events_before)  # checked again


EVIL = "[@click=app.quit]boom[/] [b]x\x1b]52;c;AAAA\x07 \x1b[2J\x9b"


class HostileProvider:
    """A provider (or whatever answers in its place) that sends markup and escapes."""

    name = EVIL

    def __init__(self, *, down: bool = False) -> None:
        self.down = down

    async def check(self, e164: str, *, reference_date: Any, identity: Any = None) -> IntelReport:
        from linkdesk.domain.intel import LineStatus, Reassigned

        if self.down:
            raise IntelUnavailable(EVIL, EVIL)
        return IntelReport(
            provider=EVIL, checked_at=NOW, reference_date=reference_date, line_status=LineStatus.SHUT_DOWN,
            reassigned=Reassigned.YES, carrier=EVIL, region=EVIL, unavailable=[EVIL],
        )

    async def aclose(self) -> None:
        return None


async def test_hostile_text_from_a_provider_is_inert(desk: Desk, make_app: Any) -> None:
    provider = HostileProvider()
    desk.reopen(intel_provider=provider)
    ref = await recycled_case(desk.client())
    app = make_app()
    quits: list[bool] = []
    app.action_quit = lambda: quits.append(True)  # type: ignore[method-assign]
    async with app.run_test(size=(160, 60)) as pilot:
        screen = await open_case(pilot, ref)
        panel = screen.query_one(IntelPanel)
        await wait_for(pilot, lambda: panel.state == "ready")
        await pilot.press("v")
        await wait_for(pilot, lambda: panel.state == "ready" and "boom" in panel_text(screen))
        await active_block(pilot, screen)
        text = _plain(app)
        assert f"checked {when(NOW)} via" in text
        assert "[@click=app.quit]boom[/] [b]x\ufffd]52;c;AAAA\ufffd" in text  # literal, cleaned
        assert "carrier   [@click=app.quit]boom[/]" in text
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
        for y in range(10, 50, 2):  # clicking over the panel runs nothing
            await pilot.click("#side", offset=(10, y))

        provider.down = True
        await pilot.press("v")
        await wait_for(pilot, lambda: panel.state == "ready" and "intel unavailable: [@click" in panel_text(screen))
        text = _plain(app)
        assert "\x1b" not in text and "\x9b" not in text
        await settled(pilot)
        assert app.is_running and not quits
