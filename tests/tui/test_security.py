"""Desk text is shown literally: no markup, no actions, no terminal escapes."""

from __future__ import annotations

import sys
import subprocess
from typing import Any

from textual.widgets import OptionList

from linkdesk.domain.cases import CaseCreate, CaseCategory, EventCreate, EventKind, Priority
from linkdesk.tui.widgets.case_table import CaseTable

from .conftest import Desk, settled, wait_for
from .test_walk import _plain, inbox_ready

EVIL = "printer [/] broken [@click=app.quit]x[/] [b]bold[/b] \x1b[2J\x9b end"
LITERAL = "printer [/] broken [@click=app.quit]x[/] [b]bold[/b] \ufffd[2J\ufffd end"


async def test_hostile_desk_text_renders_literally(desk: Desk, make_app: Any) -> None:
    from linkdesk.server.agents import issue_token

    with desk.session() as session:
        issue_token(session, "mallory", "[@click=app.quit]Mallory[/] [b]x\x1b]52;c;AAAA\x07", "agent")
        session.commit()
    client = desk.client()
    case = await client.create_case(
        CaseCreate(category=CaseCategory.REBIND, subject=EVIL, body=EVIL, priority=Priority.URGENT)
    )
    await client.add_event(case.ref, EventCreate(kind=EventKind.COMMENT, body=EVIL))
    await client.add_event(case.ref, EventCreate(kind=EventKind.NOTE, body="[red]note[/red] \x1b[31m"))

    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        table = await inbox_ready(pilot)
        assert table.highlighted_ref == case.ref  # newest first
        subject = table.get_row_at(0)[3]
        assert "printer [/] broken" in subject.plain and "\x1b" not in subject.plain
        text = _plain(app)
        assert "printer [/] broken [@click=app.quit]x[/]" in text
        assert "\x1b" not in text and "\x9b" not in text

        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "case", None) is not None)
        await settled(pilot)
        text = _plain(app)
        assert LITERAL[:60] in text
        assert "[red]note[/red]" in text
        assert "\x1b" not in text and "\x9b" not in text

        await pilot.press("a")
        await wait_for(pilot, lambda: app.screen.query(OptionList))
        await settled(pilot)
        text = _plain(app)
        assert "[@click=app.quit]Mallory[/]" in text
        assert "\x1b" not in text and "\x07" not in text
        await pilot.click(OptionList)  # clicking the hostile prompt runs no action
        await pilot.press("escape")
        await settled(pilot)
        assert app.is_running
        assert app.return_code is None


def test_console_import_stays_light() -> None:
    code = (
        "import sys, linkdesk.tui.app; "
        "heavy = [m for m in ('linkdesk.server', 'fastapi', 'sqlalchemy', 'uvicorn', 'pyarrow', "
        "'textual_fastdatatable') if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_case_table_cells_are_text_not_markup() -> None:
    from rich.text import Text

    from linkdesk.domain.cases import CaseSummary, CaseStatus
    from .conftest import NOW

    table = CaseTable(fetch=None, clock=lambda: NOW)  # type: ignore[arg-type]
    table._flex_width = 30
    summary = CaseSummary(
        ref="LD-000001", category=CaseCategory.REBIND, status=CaseStatus.NEW, priority=Priority.HIGH,
        subject="[b]x[/b] 换号 \x1b[2J", sla_due_at=NOW, created_at=NOW, updated_at=NOW,
    )
    cells = table._cells(summary, NOW)
    assert all(isinstance(cell, Text) for cell in cells)
    assert cells[3].plain.startswith("[b]x[/b] 换号 \ufffd")
