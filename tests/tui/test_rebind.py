"""The rebind wizard against a real in-process desk: `b` on a case, the new number, a code
read from the sandbox outbox, a video check, `f` — and the borrower's number has moved."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from textual.widgets import DataTable, Input, TextArea

from linkdesk.client import DeskClient
from linkdesk.domain.phones import BindingStatus
from linkdesk.domain.views import CaseQuery, CaseState

from .conftest import NOW, Desk, settled, wait_for
from .test_privacy import open_case
from .test_walk import _plain

NEW = "199 1234 0007"


async def quiet_case(client: DeskClient) -> str:
    """An open case of a borrower with an active number, not rebound in 90 days, below
    high risk: its rebind needs no supervisor."""
    page = await client.list_cases(CaseQuery(state=CaseState.OPEN), limit=200)
    for summary in page.items:
        if summary.risk is not None and summary.risk >= 60:
            continue
        case = await client.get_case(summary.ref)
        if case.borrower is None:
            continue
        starts = sorted(b.bound_at for b in case.borrower.bindings)
        active = [b for b in case.borrower.bindings if b.status is BindingStatus.ACTIVE]
        if len(active) == 1 and not any(start > NOW - timedelta(days=90) for start in starts[1:]):
            return case.ref
    raise AssertionError("the demo desk has no quiet case with a bound number")


async def test_wizard_moves_the_number_with_the_outbox_code_and_a_video_check(make_app: Any, desk: Desk) -> None:
    client = desk.client()
    ref = await quiet_case(client)
    app = make_app()
    async with app.run_test(size=(120, 44)) as pilot:
        await open_case(pilot, ref)
        await pilot.press("b")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RebindScreen")
        screen = app.screen
        await settled(pilot)
        field = screen.query_one("#rebind-input", Input)
        assert field.has_focus and "New number" in _plain(app)

        field.value = NEW
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.rebind is not None)
        assert "199****0007" in _plain(app) and NEW not in _plain(app)
        assert "Not enough yet" in _plain(app)

        await pilot.press("n")
        await wait_for(pilot, lambda: screen.mode == "otp_new")
        # whoever plays the borrower reads the code in the sandbox outbox
        app.router.go("outbox")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "OutboxScreen"
                       and any(table.row_count for table in app.screen.query(DataTable)))
        row = app.screen.query_one(DataTable).get_row_at(0)
        assert str(row[1]) == "199****0007" and str(row[2]) == ref
        code = re.search(r"\b(\d{6})\b", str(row[3])).group(1)  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        screen.query_one("#rebind-input", Input).value = code
        screen.query_one("#rebind-input", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.mode is None and screen.rebind.factors)
        assert "code confirmed" in _plain(app)

        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Picker")
        await pilot.press("enter")  # the check passed
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TextEntry")
        app.screen.query_one(TextArea).insert("视频通话核对本人与证件一致")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: len(screen.rebind.factors) == 2)
        await settled(pilot)
        assert "press f to complete" in _plain(app)

        await pilot.press("f")
        await wait_for(pilot, lambda: screen.rebind.status == "completed")
        assert any("Rebind completed" in note for _severity, note in app.notes)
        new_binding = screen.rebind.new_binding

    case = await client.get_case(ref)
    statuses = {b.ref: b.status for b in case.borrower.bindings}  # type: ignore[union-attr]
    assert statuses[new_binding] is BindingStatus.ACTIVE
    assert statuses[screen.rebind.old_binding] is BindingStatus.UNBOUND  # type: ignore[index]
