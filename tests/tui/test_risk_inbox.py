"""The inbox and risk: the Risk column, ``risk:>=60`` in the filter, the risk alerts view."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.widgets import Input, OptionList, Static

from .conftest import settled, wait_for
from .test_layout import column_keys
from .test_walk import _plain, inbox_ready


def risk_cells(table: Any) -> list[str]:
    column = column_keys(table).index("risk")
    return [table.get_row_at(i)[column].plain for i in range(table.row_count)]


async def test_the_risk_column_shows_scores_and_a_dash_when_unscored(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        assert "Risk" in _plain(app).splitlines()[1]  # the header row
        cells = risk_cells(table)
        scores = [int(cell) for cell in cells if cell != "—"]
        assert scores, "the demo desk scores some cases"
        assert all(0 <= score <= 100 for score in scores)
        # the colour follows the level: 85 and more is critical (red)
        column = column_keys(table).index("risk")
        for i, cell in enumerate(cells):
            if cell != "—" and int(cell) >= 85:
                assert "#ff5f56" in str(table.get_row_at(i)[column].style)


async def test_the_risk_column_stays_at_80_columns_and_gives_way_below(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        table = await inbox_ready(pilot)
        assert "risk" in column_keys(table)
        await pilot.resize_terminal(50, 24)
        await wait_for(pilot, lambda: "risk" not in column_keys(table))
        assert {"ref", "subject", "sla"} <= set(column_keys(table))


async def test_risk_filter_narrows_the_rows(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        everything = table.row_count
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        await pilot.press(*"risk:>=60")
        await wait_for(pilot, lambda: table.query_filter.risk_min == 60 and table.loaded and not table.loading_page)
        await settled(pilot)
        assert 0 < table.row_count < everything
        assert all(cell != "—" and int(cell) >= 60 for cell in risk_cells(table))
        assert table.query_filter.q is None  # the term is not searched for as text
        assert box.value == "risk:>=60"

        # mixed with text: both narrow
        box.value = "risk60 risk>=85"
        await wait_for(pilot, lambda: table.query_filter.risk_min == 85 and table.loaded and not table.loading_page)
        await settled(pilot)
        assert table.query_filter.q == "risk60"
        box.value = "risk:85"
        await wait_for(pilot, lambda: table.query_filter.q is None and table.loaded and not table.loading_page)
        await settled(pilot)
        assert all(int(cell) >= 85 for cell in risk_cells(table))

        await pilot.press("escape")
        await wait_for(pilot, lambda: table.query_filter.risk_min is None and table.row_count == everything)


async def test_a_malformed_risk_term_is_pointed_at(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        await pilot.press("slash")
        box = app.screen.query_one("#filter", Input)
        error = app.screen.query_one("#filter-error", Static)
        box.value = "换号 risk:high"
        await wait_for(pilot, lambda: error.display)
        await pilot.pause()
        lines = _plain(app).splitlines()
        pointer = next(line for line in lines if "^^^^^^^^^" in line)
        field = next(line for line in lines if "换号 risk:high" in line)
        # the carets sit under the term, whatever the width of the Chinese before it
        assert cell_len(pointer[: pointer.index("^")]) == cell_len(field[: field.index("risk:high")])
        assert pointer.count("^") == len("risk:high")
        assert "risk:>=N with a score N from 0 to 100" in pointer
        assert table.query_filter.q is None  # the malformed filter was not sent

        box.value = "换号 risk:>=60"
        await wait_for(pilot, lambda: not error.display and table.query_filter.risk_min == 60)
        assert "^^^" not in _plain(app)


async def test_the_views_list_has_the_open_risk_alerts(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        screen = app.screen
        await wait_for(pilot, lambda: any(view.id == "risk_alerts" for view in screen.views))
        view = next(view for view in screen.views if view.id == "risk_alerts")
        assert "Open risk alerts" in _plain(app)
        views = screen.query_one("#views", OptionList)
        views.focus()
        views.highlighted = next(i for i, v in enumerate(screen.views) if v.id == "risk_alerts")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.view_id == "risk_alerts" and table.loaded and not table.loading_page)
        await settled(pilot)
        assert table.row_count == min(view.count, table.PAGE_SIZE * table.WINDOW_PAGES)
        category = column_keys(table).index("category")
        assert {table.get_row_at(i)[category].plain for i in range(table.row_count)} == {"Risk alert"}
