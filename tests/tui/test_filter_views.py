"""The inbox's filter language and saved views: typing narrows, tab completes, a bad term
is pointed at and changes nothing, a saved view is in settings.toml and comes back
with its count."""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len
from textual.widgets import Input, OptionList, Static

from linkdesk.config import SavedView, Settings
from linkdesk.domain.views import CaseQuery

from .conftest import Desk, make_settings, settled, wait_for
from .test_layout import column_keys
from .test_walk import _plain, inbox_ready


def cells(table: Any, key: str) -> set[str]:
    column = column_keys(table).index(key)
    return {table.get_row_at(i)[column].plain for i in range(table.row_count)}


async def test_typing_a_filter_narrows_tab_completes_and_a_bad_term_changes_nothing(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        everything = table.row_count
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        await pilot.press(*"cat:reb", "tab")  # completes the category
        assert box.value == "cat:rebind"
        await pilot.press(*" prio:>=h", "tab")
        assert box.value == "cat:rebind prio:>=high"
        await wait_for(pilot, lambda: table.query_filter.filter == "cat:rebind prio:>=high"
                       and table.loaded and not table.loading_page)
        await settled(pilot)
        assert 0 < table.row_count < everything
        assert cells(table, "category") == {"Rebind"}
        narrowed = [table.get_row_at(i)[0].plain for i in range(table.row_count)]

        # a bad term: carets under it, the rows stay, enter keeps the input open
        error = app.screen.query_one("#filter-error", Static)
        box.value += " 换号 cat:nope"  # at once: every step of typing it would be a filter of its own
        await wait_for(pilot, lambda: error.display)
        await pilot.pause()
        lines = _plain(app).splitlines()
        pointer = next(line for line in lines if "^^^^^^^^" in line)
        field = next(line for line in lines if "换号 cat:nope" in line)
        assert cell_len(pointer[: pointer.index("^")]) == cell_len(field[: field.index("cat:nope")])
        assert pointer.count("^") == len("cat:nope")
        assert "cat: nope is not one of rebind" in lines[lines.index(pointer) + 1]  # too long for one line
        await pilot.press("enter")
        await settled(pilot)
        assert box.has_focus and box.display
        assert table.query_filter.filter == "cat:rebind prio:>=high"
        assert [table.get_row_at(i)[0].plain for i in range(table.row_count)] == narrowed


async def test_a_saved_view_is_in_the_config_file_and_shows_its_count_after_restart(
    desk: Desk, make_app: Any, isolated_config: Any
) -> None:
    app = make_app(save_settings=lambda settings: settings.save())
    async with app.run_test(size=(130, 36)) as pilot:
        await inbox_ready(pilot)
        await pilot.press("slash", *"tag:vip")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ViewNamePrompt")
        await pilot.press(*"VIP cases", "enter")
        await wait_for(pilot, lambda: app.screen.view_id == "saved:VIP cases")
        table = app.screen.table
        await wait_for(pilot, lambda: table.query_filter.filter == "tag:vip")  # the view is shown at once
    text = (isolated_config / "settings.toml").read_text(encoding="utf-8")
    assert "[[views]]" in text and 'name = "VIP cases"' in text and 'filter = "tag:vip"' in text

    expected = (await desk.client().count_cases(CaseQuery(filter="tag:vip"))).count
    assert expected > 0
    settings = Settings()  # read back from the file, as at start-up
    assert [(v.name, v.filter) for v in settings.views] == [("VIP cases", "tag:vip")]
    settings.views.append(SavedView(name="Urgent rebinds", filter="cat:rebind prio:urgent"))
    restarted = make_app(settings.model_copy(update={"ui": make_settings().ui}))
    async with restarted.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        screen = restarted.screen
        await wait_for(pilot, lambda: any(view.id == "saved:VIP cases" for view in screen.views))
        view = next(view for view in screen.views if view.id == "saved:VIP cases")
        assert view.count == expected
        assert re.search(rf"★ VIP cases\s+{expected:,} ", _plain(restarted))  # the name, then its count
        views = screen.query_one("#views", OptionList)
        views.focus()
        views.highlighted = next(i for i, v in enumerate(screen.views) if v.id == "saved:VIP cases")
        await pilot.press("enter")
        await wait_for(pilot, lambda: table.query_filter.filter == "tag:vip" and table.loaded
                       and not table.loading_page)
        await settled(pilot)
        assert table.row_count == min(expected, table.PAGE_SIZE * table.WINDOW_PAGES)

        # reorder and delete, saved at once
        views.focus()
        views.highlighted = next(i for i, v in enumerate(screen.views) if v.id == "saved:VIP cases")
        await pilot.press("J")
        await wait_for(pilot, lambda: restarted.saved and [v.name for v in restarted.saved[-1].views] == [
            "Urgent rebinds", "VIP cases"])
        assert [v.id for v in screen.views][-2:] == ["saved:Urgent rebinds", "saved:VIP cases"]
        await pilot.press("d")
        await wait_for(pilot, lambda: [v.name for v in restarted.saved[-1].views] == ["Urgent rebinds"])
        await wait_for(pilot, lambda: screen.view_id == "open")  # the deleted view was the one shown
        assert "VIP cases" not in _plain(restarted)
