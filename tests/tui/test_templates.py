"""The comment dialog of a case: a reply template rendered into the text for editing,
and the text edited in $EDITOR (a script standing in for the user's editor)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TextArea

from linkdesk.domain.templates import load_templates, templates_for

from .conftest import wait_for
from .test_privacy import open_case
from .test_walk import _plain, inbox_ready

EDITOR_SCRIPT = """
import os, stat, sys
path = sys.argv[1]
with open(os.environ["EDITOR_LOG"], "w") as log:
    log.write(f"{path}\\n{stat.S_IMODE(os.stat(path).st_mode):o}\\n")
with open(path, encoding="utf-8") as file:
    text = file.read()
with open(path, "w", encoding="utf-8") as file:
    file.write(text + "\\n补充：已电话确认。\\x1b[2J\\n")
"""


async def _comment_dialog(pilot: Any) -> Any:
    app = pilot.app
    table = await inbox_ready(pilot)
    screen = await open_case(pilot, table._keys[0])
    await pilot.press("c")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "TextEntry")
    return screen


async def test_template_then_editor_in_the_comment_dialog(
    make_app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR_SCRIPT, encoding="utf-8")
    log = tmp_path / "editor.log"
    monkeypatch.setenv("EDITOR_LOG", str(log))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script}")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case = (await _comment_dialog(pilot)).case
        dialog = app.screen
        area = dialog.query_one(TextArea)

        # a template of the case's category, rendered into the text for editing
        offered = templates_for(load_templates(), case.category)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "Picker")
        assert offered[0].title["en"] in _plain(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is dialog)
        text = area.text
        assert case.ref in text and "test desk" in text and "{" not in text
        await pilot.press("end", "!")  # editable before it is sent
        assert area.text != text

        # the headless test driver cannot hand the terminal over: it says so, nothing runs
        await pilot.press("ctrl+e")
        assert "not available" in _plain(app) and not log.exists()
        # where it can (a real terminal), the editor runs with the console suspended
        area.text = "Called the borrower."
        monkeypatch.setattr(app, "suspend", contextlib.nullcontext)
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: "补充" in area.text)
        assert area.text.startswith("Called the borrower.") and "\x1b" not in area.text
        path, mode = log.read_text().split()
        assert mode == "600" and not Path(path).exists()
