"""The console end to end against a real in-process desk."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, OptionList, Select, Static, TextArea

from linkdesk.domain.cases import CasePatch
from linkdesk.tui.router import Route
from linkdesk.tui.widgets.case_table import CaseTable

from .conftest import Desk, make_settings, settled, wait_for


def table_of(app: Any) -> CaseTable:
    return app.screen.query_one(CaseTable)


async def inbox_ready(pilot: Any) -> CaseTable:
    app = pilot.app
    await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")
    await wait_for(pilot, lambda: table_of(app).loaded and table_of(app).row_count > 0)
    await settled(pilot)
    return table_of(app)


def _plain(app: Any) -> str:
    """Everything on screen (modals included), as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_walk_inbox_case_comment_back_settings_theme(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        await pilot.press("j", "j", "down")
        assert table.cursor_row == 3
        ref = table.highlighted_ref
        assert ref is not None

        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "case", None) is not None)
        await settled(pilot)
        assert app.router.current == Route("case", (("ref", ref),))

        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query(TextArea))
        app.screen.query_one(TextArea).insert("我们已核实新号码 — will call back")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("我们已核实新号码" in e.body for e in getattr(app.screen, "events", [])))
        await settled(pilot)
        bodies = [str(w.content) for w in app.screen.query(".event.-comment")]
        assert any("我们已核实新号码" in body for body in bodies)

        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")
        assert table_of(app) is table
        assert table.cursor_row == 3 and table.highlighted_ref == ref

        await pilot.press("comma")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
        await settled(pilot)
        app.screen.query_one("#theme", Select).value = "linkdesk-light"
        await wait_for(pilot, lambda: app.theme == "linkdesk-light")
        assert app.saved and app.saved[-1].ui.theme == "linkdesk-light"
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")


async def test_filter_finds_chinese_words(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        everything = table.row_count
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        assert box.has_focus
        box.value = "换号"
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.query_filter.q == "换号" and table.loaded and not table.loading_page)
        await settled(pilot)
        assert 0 < table.row_count < everything
        subjects = [table.get_row_at(i)[3].plain for i in range(table.row_count)]
        assert any("换号" in s for s in subjects)
        assert table.has_focus

        await pilot.press("escape")
        await wait_for(pilot, lambda: table.query_filter.q is None)
        await settled(pilot)
        assert table.row_count == everything
        assert not box.display


async def test_window_slides_and_never_holds_more_than_three_pages(
    big_desk: Desk, make_app: Any, monkeypatch: Any
) -> None:
    # Smaller pages keep the number of key presses (each a frame in the pilot) down;
    # the window logic is the same as with the default 50.
    monkeypatch.setattr(CaseTable, "PAGE_SIZE", 20)
    monkeypatch.setattr(CaseTable, "MARGIN", 5)
    app = make_app(connect=big_desk.connect)
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        limit = table.PAGE_SIZE * table.WINDOW_PAGES
        seen: list[str] = []
        steps = 100
        for _ in range(steps):
            await pilot.press("j")
            if table.loading_page:
                await wait_for(pilot, lambda: not table.loading_page)
                await pilot.pause()
            assert table.row_count <= limit
            seen.append(table.highlighted_ref or "")
        await settled(pilot)
        assert table.first_row_number > 1  # pages were dropped at the top
        assert table.first_row_number + table.cursor_row == steps + 1
        assert table.fetch_count >= 5
        assert len(set(seen)) == len(seen)  # every j landed on a new case, none skipped
        assert "rows" in str(app.screen.query_one("StatusLine").position)

        # Within the window, moving fetches nothing.
        fetched = table.fetch_count
        row = table.cursor_row
        await pilot.press("k")
        assert table.fetch_count == fetched and table.cursor_row == row - 1

        # Going back up re-fetches the pages dropped above, keeping the case highlighted.
        for _ in range(steps - 4):
            await pilot.press("k")
            if table.loading_page:
                await wait_for(pilot, lambda: not table.loading_page)
                await pilot.pause()
            assert table.row_count <= limit
        await settled(pilot)
        assert table.first_row_number + table.cursor_row == 4
        assert table.highlighted_ref == seen[2]


async def test_new_case_with_invalid_phone_shows_the_field_error(desk: Desk, make_app: Any) -> None:
    client = desk.client()
    before = (await client.views())[0].count
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inbox_ready(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "NewCaseScreen")
        form = app.screen
        form.query_one("#category", Select).value = "rebind"
        form.query_one("#subject", Input).value = "借款人换号"
        form.query_one("#phone", Input).value = "12345"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "-shown" in form.query_one("#phone-error").classes)
        await settled(pilot)
        message = str(form.query_one("#phone-error", Static).content)
        assert message
        assert "-invalid" in form.query_one("#phone").classes
        assert app.screen is form  # still open, nothing created
    assert (await client.views())[0].count == before


async def test_second_writer_gets_the_stale_version_flow(desk: Desk, make_app: Any) -> None:
    app = make_app()
    other = desk.client()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        app.router.go("case/LD-000005")
        await wait_for(pilot, lambda: getattr(app.screen, "case", None) is not None)
        await settled(pilot)
        screen = app.screen
        mine = screen.case
        # Someone else changes the priority first.
        target = "low" if mine.priority != "low" else "high"
        theirs = await other.update_case(mine.ref, CasePatch(priority=target), version=mine.version)

        await pilot.press("p")
        await wait_for(pilot, lambda: app.screen.query(OptionList))
        picker = app.screen.query_one(OptionList)
        wanted = next(p for p in ("urgent", "normal", "high") if p not in (target, mine.priority))
        picker.highlighted = app.screen.values.index(wanted)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("changed by someone else" in m for _s, m in app.notes))
        await settled(pilot)
        note = next(m for _s, m in app.notes if "changed by someone else" in m)
        assert mine.ref in note and "→" in note and "not applied" in note
        assert screen.case.version == theirs.version
        assert screen.case.priority == target
    server_side = await other.get_case(mine.ref)
    assert server_side.priority == target  # nothing overwritten


async def test_unreachable_desk_opens_and_says_so(make_app: Any) -> None:
    from linkdesk.client import DeskClient

    app = make_app(connect=lambda _desk: DeskClient("http://127.0.0.1:9", timeout=1.0))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.desk_status == "unreachable" and app.retry_in > 0)
        await pilot.pause()
        text = _plain(app)
        assert "desk unreachable — retrying in" in text
        assert "Traceback" not in text
        assert type(app.screen).__name__ == "InboxScreen"
        await pilot.press("j", "r", "question_mark")  # still usable
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")


async def test_help_lists_the_keys_of_the_screen(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        table = app.screen.query_one(DataTable)
        actions = {table.get_row_at(i)[1].plain for i in range(table.row_count)}
        assert {"Filter", "Refresh", "New case", "Go to", "Settings", "Quit"} <= actions
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")


async def test_goto_prompt_opens_a_case(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: app.screen.query("#goto-input"))
        await pilot.press(*"case LD-000005", "enter")
        await wait_for(pilot, lambda: getattr(app.screen, "case", None) is not None)
        assert app.screen.case.ref == "LD-000005"
        assert "case/LD-000005" in app.router.history

        await pilot.press("colon")
        await wait_for(pilot, lambda: app.screen.query("#goto-input"))
        await pilot.press(*"nowhere", "enter")
        await wait_for(pilot, lambda: any("Unknown route" in m for _s, m in app.notes))
        assert app.screen.case.ref == "LD-000005"

        await pilot.press("colon")
        await wait_for(pilot, lambda: app.screen.query("#goto-input"))
        await pilot.press(*"inbox", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")


async def test_palette_lists_routes_and_actions(make_app: Any) -> None:
    from textual.command import CommandPalette

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"settings")
        palette = app.screen
        await wait_for(pilot, lambda: palette.query_one(OptionList).option_count > 0)
        prompts = [str(palette.query_one(OptionList).get_option_at_index(i).prompt) for i in range(palette.query_one(OptionList).option_count)]
        assert any("Go to settings" in p for p in prompts)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")


async def test_language_switch_retranslates_without_restart(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        assert "All open" in _plain(app)
        await pilot.press("comma")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
        await settled(pilot)
        app.screen.query_one("#language", Select).value = "zh_CN"
        await wait_for(pilot, lambda: "设置" in _plain(app))
        assert app.saved[-1].ui.language == "zh_CN"
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "InboxScreen")
        await settled(pilot)
        text = _plain(app)
        assert "全部未结" in text and "收件箱" in text and "标题" in text
        assert "All open" not in text
        assert "筛选" in text  # the key bar


async def test_settings_refuses_an_invalid_url(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await inbox_ready(pilot)
        await pilot.press("comma")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "SettingsScreen")
        app.screen.query_one("#desk-mode", Select).value = "server"
        app.screen.query_one("#desk-url", Input).value = "desk.example.com"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "http://" in str(app.screen.query_one("#desk-url-error", Static).content)
        assert not app.saved
        assert app.settings.desk.mode == "embedded"


async def test_test_connection_reports_health(make_app: Any) -> None:
    app = make_app(settings=make_settings())
    async with app.run_test(size=(120, 40)) as pilot:
        await inbox_ready(pilot)
        app.router.go("settings")
        await wait_for(pilot, lambda: app.screen.query("#test-connection"))
        await settled(pilot)
        await pilot.click("#test-connection")
        await wait_for(pilot, lambda: "OK" in str(app.screen.query_one("#test-result", Static).content))
