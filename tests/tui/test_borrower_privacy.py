"""The borrower's privacy screen (``B`` on a case): export to a private file, a legal hold
that blocks erasure, typed confirmation, and actions hidden from roles without them."""

from __future__ import annotations

import json
import stat
from typing import Any

from sqlalchemy import select
from textual.widgets import DataTable, Input

from linkdesk.server.tables import CaseRow

from .conftest import Desk, settled, wait_for
from .test_privacy import key_bar, open_case

SIZE = (120, 40)


def _case_with_borrower(desk: Desk) -> tuple[str, str]:
    with desk.session() as session:
        case_id, borrower_id = session.execute(
            select(CaseRow.id, CaseRow.borrower_id).where(CaseRow.borrower_id.is_not(None), CaseRow.is_open)
            .order_by(CaseRow.id).limit(1)
        ).one()
    return f"LD-{case_id:06d}", f"B-{borrower_id:06d}"


async def _borrower_screen(pilot: Any, case: str) -> Any:
    await open_case(pilot, case)
    await pilot.press("B")
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "BorrowerScreen")
    await wait_for(pilot, lambda: pilot.app.screen.borrower is not None)
    await settled(pilot)
    await wait_for(pilot, lambda: "Reload" in key_bar(pilot.app))
    return pilot.app.screen


async def _type(pilot: Any, text: str, *, replace: bool = True) -> None:
    await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "LineEntry")
    field = pilot.app.screen.query_one(Input)
    if replace:
        field.value = text
    await pilot.press("enter")
    await settled(pilot)


async def test_export_hold_and_erase_from_the_console(desk: Desk, make_app, tmp_path) -> None:
    case, who = _case_with_borrower(desk)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _borrower_screen(pilot, case)
        assert "Export" in key_bar(app) and "Erase" in key_bar(app)
        assert screen.borrower.ref == who and "*" in screen.borrower.name

        out = tmp_path / "export.json"
        await pilot.press("e")
        await _type(pilot, str(out))
        await wait_for(pilot, out.exists)
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert json.loads(out.read_text(encoding="utf-8"))["borrower"]["ref"] == who
        assert any(str(out) in message for _severity, message in app.notes)

        await pilot.press("h")
        await _type(pilot, "litigation 2026-301")
        await wait_for(pilot, lambda: app.screen.query_one("#borrower-holds", DataTable).row_count == 1)
        await pilot.press("X")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Picker")
        await pilot.press("enter")
        await _type(pilot, who)
        await wait_for(pilot, lambda: any("litigation 2026-301" in m for s, m in app.notes if s != "information"))
        assert not screen.borrower.erased

        await pilot.press("l")
        await wait_for(pilot, lambda: not screen.borrower.holds[0].active)
        await pilot.press("X")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Picker")
        await pilot.press("enter")
        await _type(pilot, "B-000999")  # the wrong reference
        assert any("nothing was erased" in m for _s, m in app.notes)
        await pilot.press("X")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Picker")
        await pilot.press("enter")
        await _type(pilot, who)
        await wait_for(pilot, lambda: screen.borrower.erased)
        assert "Erase" not in key_bar(app) and "Export" not in key_bar(app)
        assert all(b.phone.masked == "erased" for b in screen.borrower.bindings)


async def test_an_agent_sees_no_privacy_actions(desk: Desk, make_app) -> None:
    case, _who = _case_with_borrower(desk)
    token = desk.token_for("front.line", "agent")
    app = make_app(connect=desk.connect_as(token))
    async with app.run_test(size=SIZE) as pilot:
        await _borrower_screen(pilot, case)
        bar = key_bar(app)
        assert "Reload" in bar
        for hidden in ("Export", "Erase", "Place hold", "Correct name"):
            assert hidden not in bar
