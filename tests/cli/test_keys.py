"""``linkdesk keys`` and what every command says when a desk's key is wrong or missing."""

from __future__ import annotations

import base64
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkdesk.cli import app
from linkdesk.client.local import LocalDesk
from linkdesk.config import desk_dir

NOT_THE_KEY = "is not the key this desk was written with (version 1)"
SEED_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env=env)


def seed(settings) -> None:  # type: ignore[no-untyped-def]
    from linkdesk.server.db import make_engine
    from linkdesk.server.demo import seed_demo
    from linkdesk.server.runner import prepare_desk

    keyring = prepare_desk(settings)
    engine = make_engine(settings.database_url)
    seed_demo(engine, keyring, cases=30, borrowers=12, now=SEED_NOW)
    engine.dispose()


@pytest.fixture
def embedded(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A small seeded embedded desk (the ``default`` one of a private data directory)."""
    from linkdesk.server.runner import embedded_settings

    folder = desk_dir("default", tmp_path)
    seed(embedded_settings(folder))
    return {"LINKDESK_DATA_DIR": str(tmp_path), "LINKDESK_CONFIG_DIR": str(tmp_path / "config")}, folder


def status_rows(output: str) -> dict[int, list[str]]:
    return {int(line.split()[0]): line.split() for line in output.splitlines() if re.match(r"^\s+\d+\s", line)}


def test_status_then_rotate_then_status(embedded) -> None:
    env, folder = embedded
    key_text = (folder / "master.key").read_text()
    before = invoke(["keys", "status"], env)
    assert before.exit_code == 0, before.output
    assert f"key file {folder / 'master.key'}" in before.output
    [v1] = status_rows(before.output).values()
    assert v1[0] == "1" and v1[2:4] == ["18", "b"] and v1[-1] == "writing"

    rotated = invoke(["keys", "rotate", "--server-wait", "0", "--batch-size", "10"], env)
    assert rotated.exit_code == 0, rotated.output
    assert "key version 2 added" in rotated.output
    assert re.search(r"\b\d+ rows re-encrypted under key version 2", rotated.output)

    after = invoke(["keys", "status"], env)
    assert after.exit_code == 0, after.output
    rows = status_rows(after.output)
    assert rows[1][4:7] == ["0", "0", "0"] and rows[1][-1] == "held"
    assert rows[2][4:7] == ["12", rows[2][5], "30"] and rows[2][-1] == "writing"
    for output in (before.output, rotated.output, after.output):
        for line in (folder / "master.key").read_text().splitlines() + key_text.splitlines():
            if not line.startswith("#"):
                assert line.split()[-1] not in output  # never a key on screen


def test_a_wrong_key_stops_commands_with_the_reason(embedded) -> None:
    env, folder = embedded
    (folder / "master.key").write_text(f"1 {base64.b64encode(os.urandom(32)).decode()}\n")
    added = invoke(["agents", "add", "wang.fang"], env)
    assert added.exit_code == 1
    assert NOT_THE_KEY in added.output and "Traceback" not in added.output
    status = invoke(["keys", "status"], env)
    assert status.exit_code == 1 and "WRONG KEY" in status.output
    rotate = invoke(["keys", "rotate", "--server-wait", "0"], env)
    assert rotate.exit_code == 1 and NOT_THE_KEY in rotate.output


def test_a_missing_key_file_is_reported_and_not_made_again(embedded) -> None:
    env, folder = embedded
    (folder / "master.key").unlink()
    added = invoke(["agents", "add", "wang.fang"], env)
    assert added.exit_code == 1
    assert "master.key is missing" in added.output and "restore that file" in added.output
    assert not (folder / "master.key").exists()


def test_the_console_shows_why_the_local_desk_service_did_not_start(embedded) -> None:
    env, folder = embedded
    (folder / "master.key").write_text(f"1 {base64.b64encode(os.urandom(32)).decode()}\n")
    try:
        listed = invoke(["cases", "list"], env)
        assert listed.exit_code == 3
        assert NOT_THE_KEY in listed.output
        assert "stopped at start" not in listed.output and "Traceback" not in listed.output
    finally:
        LocalDesk(folder).stop()


def test_serve_refuses_a_wrong_master_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    first = invoke(["agents", "add", "admin", "--role", "admin", "--database-url", url],
                   {"LINKDESK_MASTER_KEY": base64.b64encode(b"a" * 32).decode()})
    assert first.exit_code == 0, first.output
    served = invoke(["serve", "--database-url", url, "--port", "9"],
                    {"LINKDESK_MASTER_KEY": base64.b64encode(b"b" * 32).decode()})
    assert served.exit_code == 1
    assert "the key in LINKDESK_MASTER_KEY " + NOT_THE_KEY in served.output


def test_master_key_servers_rotate_after_adding_a_generated_version(tmp_path: Path) -> None:
    from linkdesk.server.settings import ServerSettings

    url = f"sqlite:///{tmp_path / 'team.db'}"
    env = {"LINKDESK_MASTER_KEY": base64.b64encode(b"a" * 32).decode()}
    seed(ServerSettings(database_url=url, master_key=env["LINKDESK_MASTER_KEY"]))
    refused = invoke(["keys", "rotate", "--database-url", url], env)
    assert refused.exit_code == 1 and "linkdesk keys generate" in refused.output

    generated = CliRunner().invoke(app, ["keys", "generate"], env=env)
    assert generated.exit_code == 0
    entry = generated.stdout.strip()
    assert re.fullmatch(r"2:[A-Za-z0-9+/]{43}=", entry)
    env["LINKDESK_MASTER_KEY"] += "," + entry
    rotated = invoke(["keys", "rotate", "--database-url", url], env)
    assert rotated.exit_code == 0, rotated.output
    pending = re.search(r"re-encrypting the (\d+) rows under older key versions to version 2", rotated.output)
    assert pending and f"\n{pending[1]} rows re-encrypted under key version 2" in rotated.output
    status = invoke(["keys", "status", "--database-url", url], env)
    assert status.exit_code == 0 and status_rows(status.output)[2][-1] == "writing"
    assert entry.split(":")[1] not in status.output
