"""The console on an embedded desk whose key is wrong: it says so, and why."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from linkdesk.client.local import LocalDesk
from linkdesk.config import desk_dir
from linkdesk.desks import DeskChoice, connector

from .conftest import RecordingApp, fixed_clock, make_settings, wait_for

NOT_THE_KEY = "is not the key this desk was written with (version 1)"


async def test_the_console_shows_why_the_local_desk_refused_to_start(tmp_path: Path) -> None:
    from linkdesk.server.runner import embedded_settings, prepare_desk

    data = tmp_path / "data"
    folder = desk_dir("default", data)
    prepare_desk(embedded_settings(folder))
    (folder / "master.key").write_text(f"1 {base64.b64encode(os.urandom(32)).decode()}\n")
    app = RecordingApp(make_settings(), connector(DeskChoice("default", data)), desk_label="local desk",
                       clock=fixed_clock)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: app.desk_status != "connecting", timeout=60)
            assert app.desk_status == "error"  # not "unreachable": retrying would not help
            assert any(NOT_THE_KEY in note for _, note in app.notes)
            assert all(severity == "error" for severity, note in app.notes if NOT_THE_KEY in note)
    finally:
        LocalDesk(folder).stop()
