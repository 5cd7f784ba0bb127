"""Bulk work in the inbox against a real in-process desk: mark rows (one by one and a
range), close them after a confirmation, watch them leave the open view, undo."""

from __future__ import annotations

from typing import Any

from .conftest import settled, wait_for
from .test_walk import _plain, inbox_ready


async def test_mark_close_confirm_and_undo(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        table = await inbox_ready(pilot)
        refs = [table._keys[i] for i in range(4)]
        await pilot.press("b")
        await wait_for(pilot, lambda: any("Mark cases with space first" in note for _s, note in app.notes))
        await pilot.press("space", "shift+down", "escape")  # escape clears marks first
        assert table.marked == []
        await pilot.press("k")

        await pilot.press("space")  # row 1
        await pilot.press("j", "j", "shift+space")  # rows 1-3 as a range
        assert table.marked == refs[:3]
        await wait_for(pilot, lambda: "3 marked" in _plain(app))
        await pilot.press("space")  # unmark row 3, then extend over it again
        await pilot.press("k", "shift+down")
        assert sorted(table.marked) == sorted(refs[:3])

        table.reload()  # marks are kept by ref, not by row: a reloaded window keeps them
        await settled(pilot)
        assert sorted(table.marked) == sorted(refs[:3])

        await pilot.press("b")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Picker")
        await pilot.press("j", "j", "j", "j", "enter")  # Close
        await wait_for(pilot, lambda: type(app.screen).__name__ == "BulkConfirm")
        assert "Close 3 cases" in _plain(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("3 cases closed — u to undo" in note for _s, note in app.notes))
        await wait_for(pilot, lambda: table.loaded and not set(refs[:3]) & set(table._keys))
        assert table.marked == []
        assert refs[3] in table._keys

        await pilot.press("u")
        await wait_for(pilot, lambda: any("3 cases restored" in note for _s, note in app.notes))
        await wait_for(pilot, lambda: set(refs[:3]) <= set(table._keys))
        await pilot.press("u")
        await wait_for(pilot, lambda: any("Nothing to undo" in note for _s, note in app.notes))

