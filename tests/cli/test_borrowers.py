"""``linkdesk borrowers``: export to a private file, holds that block erasure, typed confirmation."""

from __future__ import annotations

import json
import stat

import pytest
from typer.testing import CliRunner

from linkdesk.cli import app
from linkdesk.client.local import LocalDesk
from linkdesk.config import desk_dir


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    data = tmp_path_factory.mktemp("borrowers-cli")
    env = {"LINKDESK_DATA_DIR": str(data), "LINKDESK_CONFIG_DIR": str(data / "config")}
    yield env
    LocalDesk(desk_dir("demo", data), demo=True).stop()


def invoke(args, env, **options):
    return CliRunner().invoke(app, ["--demo", *args], env=env, catch_exceptions=False, **options)


def test_export_hold_and_erase(demo_env, tmp_path) -> None:
    out = tmp_path / "b3.json"
    result = invoke(["borrowers", "export", "B-000003", "--out", str(out)], demo_env)
    assert result.exit_code == 0, result.output
    assert str(out) in result.output and "+86" not in result.output  # the values go to the file only
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["borrower"]["ref"] == "B-000003" and document["bindings"][0]["number"].startswith("+86")
    again = invoke(["borrowers", "export", "B-000003", "--out", str(out)], demo_env)
    assert again.exit_code == 2 and "exists" in again.output

    held = invoke(["borrowers", "hold", "B-000003", "--reason", "court order 77"], demo_env)
    assert held.exit_code == 0 and "active" in held.output and "court order 77" in held.output
    refused = invoke(["borrowers", "erase", "B-000003", "--reason", "subject_request", "--confirm", "B-000003"],
                     demo_env)
    assert refused.exit_code == 2 and "court order 77" in refused.output
    hold_id = held.output.split()[0]
    assert invoke(["borrowers", "hold", "B-000003", "--lift", hold_id], demo_env).exit_code == 0
    wrong = invoke(["borrowers", "erase", "B-000003", "--reason", "subject_request"], demo_env, input="B-000004\n")
    assert wrong.exit_code == 1 and "nothing was erased" in wrong.output
    erased = invoke(["borrowers", "erase", "B-000003", "--reason", "subject_request"], demo_env, input="B-000003\n")
    assert erased.exit_code == 0 and "data key destroyed" in erased.output
    shown = invoke(["borrowers", "show", "B-000003"], demo_env)
    assert "(erased)" in shown.output and "+86" not in shown.output
    assert invoke(["audit", "verify"], demo_env).exit_code == 0
