"""The inbox on small terminals and on an empty view."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from .conftest import settled, wait_for
from .test_walk import inbox_ready


def column_keys(table: Any) -> list[str]:
    return [str(column.key.value) for column in table.ordered_columns]


async def test_narrow_terminal_hides_the_views_and_keeps_the_subject_readable(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await inbox_ready(pilot)
        await settled(pilot)
        views = app.screen.query_one("#views")
        assert not views.display
        keys = column_keys(table)
        assert {"ref", "subject", "phone", "status", "sla"} <= set(keys)
        assert "borrower" not in keys  # the first to give way
        assert table.columns[next(k for k in table.columns if str(k.value) == "subject")].width >= 16
        assert sum(column.get_render_width(table) for column in table.ordered_columns) <= table.size.width

        await pilot.press("v")
        await wait_for(pilot, lambda: views.display and views.has_focus)
        await pilot.press("v")
        await wait_for(pilot, lambda: not views.display and table.has_focus)


async def test_wide_terminal_shows_every_column_beside_the_views(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        await settled(pilot)
        assert app.screen.query_one("#views").display
        assert column_keys(table) == [
            "ref", "priority", "category", "subject", "borrower", "phone", "status", "risk", "assignee", "sla"
        ]


async def test_an_empty_view_says_what_to_do(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        box = app.screen.query_one("#filter")
        await pilot.press("slash")
        box.value = "zzzqqq"
        await wait_for(pilot, lambda: table.query_filter.q == "zzzqqq" and table.loaded and table.row_count == 0)
        empty = app.screen.query_one("#empty", Static)
        await wait_for(pilot, lambda: empty.display)
        assert "Nothing matches the filter" in str(empty.render())

        await pilot.press("escape")
        await wait_for(pilot, lambda: table.row_count > 0)
        assert not empty.display


async def test_keys_from_the_settings_file_replace_the_defaults(make_app: Any) -> None:
    from linkdesk.config import Settings, UISettings

    settings = Settings(ui=UISettings(language="en"), keys={"inbox.filter": "f"})
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        box = app.screen.query_one("#filter")
        await pilot.press("slash")
        await settled(pilot)
        assert not box.display  # "/" no longer filters
        await pilot.press("f")
        await wait_for(pilot, lambda: box.display and box.has_focus)


async def test_o_cycles_the_sort_and_the_table_follows(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        await pilot.press("o")
        await wait_for(pilot, lambda: str(table.query_filter.sort) == "due" and table.loaded and table.row_count > 0)
        await settled(pilot)
        refs = [table.get_row_at(i)[0].plain for i in range(table.row_count)]
        cases = [await app.client.get_case(ref) for ref in refs[:12]]
        dues = [case.sla_due_at for case in cases]
        assert dues == sorted(dues)
        await pilot.press("o")
        await wait_for(pilot, lambda: str(table.query_filter.sort) == "-created")
        await pilot.press("o")
        await wait_for(pilot, lambda: str(table.query_filter.sort) == "-updated")



async def test_an_sla_filter_lists_the_most_overdue_first_until_a_sort_is_chosen(make_app: Any) -> None:
    """Overdue cases are the old ones: by latest activity the desk would walk most of the
    open cases to find a page of them; by due date it reads just that page."""
    from linkdesk.tui.widgets.filter_input import FilterInput

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#filter", FilterInput)
        await wait_for(pilot, lambda: box.has_focus)
        box.value = "sla:breached"
        await pilot.press("enter")
        await wait_for(pilot, lambda: str(table.query_filter.sort) == "due" and table.loaded)
        await settled(pilot)
        assert not box.has_focus  # enter took the filter and went back to the table
        await pilot.press("o")  # a chosen order wins, SLA filter or not
        await wait_for(pilot, lambda: str(table.query_filter.sort) == "-created")

async def test_view_counts_refresh_by_themselves(desk: Any, make_app: Any, monkeypatch: Any) -> None:
    from linkdesk.domain.cases import CaseCategory, CaseCreate
    from linkdesk.tui.screens.inbox import InboxScreen

    monkeypatch.setattr(InboxScreen, "COUNTS_EVERY", 0.1)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await inbox_ready(pilot)
        screen = app.screen

        def open_count() -> int:
            return next(view.count for view in screen.views if view.id == "open")

        await wait_for(pilot, lambda: bool(screen.views))
        before = open_count()
        await desk.client().create_case(CaseCreate(category=CaseCategory.EXPOSURE, subject="担保链风险复核"))
        await wait_for(pilot, lambda: open_count() == before + 1)


async def test_keys_that_do_not_fit_give_way_to_the_palette_key(make_app: Any) -> None:
    """Chinese labels are wide: the keys that do not fit are left out, none runs under
    the palette key (where a cut wide character garbled both)."""
    from .conftest import make_settings
    from .test_privacy import key_bar, open_case

    app = make_app(make_settings(language="zh_CN"))
    async with app.run_test(size=(100, 30)) as pilot:
        await open_case(pilot, "LD-000005")
        await wait_for(pilot, lambda: key_bar(app).rstrip().endswith("▏^p 命令面板"))
        line = key_bar(app)
        assert "c 回复" in line and "退出" not in line
        await pilot.resize_terminal(160, 30)
        await wait_for(pilot, lambda: "q 退出" in key_bar(app))
        assert key_bar(app).rstrip().endswith("▏^p 命令面板")
