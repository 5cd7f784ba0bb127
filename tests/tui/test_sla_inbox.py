"""The inbox's SLA column: breached cases bold in the theme's breach colour, paused ones
dim and saying so."""

from __future__ import annotations

from typing import Any

from .test_layout import column_keys
from .test_walk import inbox_ready


async def test_breached_and_paused_cases_stand_out(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(130, 36)) as pilot:
        table = await inbox_ready(pilot)
        keys = column_keys(table)
        status_at, sla_at = keys.index("status"), keys.index("sla")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        breached_colour = app.current_theme.variables["sla-breached"]
        assert breached_colour == "#ff5f56"  # the dark theme's own variable

        paused = [row[sla_at] for row in rows if row[status_at].plain == "pending"]
        assert paused, "the demo desk has cases pending on the customer"
        assert all(cell.plain == "paused" and cell.style == "dim" for cell in paused)

        overdue = [row[sla_at] for row in rows if row[status_at].plain != "pending" and row[sla_at].plain.startswith("-")]
        assert overdue, "the demo desk has overdue cases"
        assert all(cell.style == f"bold {breached_colour}" for cell in overdue)
        running = [row[sla_at] for row in rows if row[status_at].plain != "pending" and not row[sla_at].plain.startswith("-")]
        assert all(breached_colour not in str(cell.style) for cell in running)
