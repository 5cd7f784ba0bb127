"""The linkdesk command, through typer's runner, against a real local desk service."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from linkdesk import __version__
from linkdesk.cli import app
from linkdesk.client.local import LocalDesk
from linkdesk.config import desk_dir

MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    """A demo desk prepared once for the module; its service is stopped afterwards."""
    data = tmp_path_factory.mktemp("cli-data")
    env = {"LINKDESK_DATA_DIR": str(data), "LINKDESK_CONFIG_DIR": str(data / "config")}
    yield env
    LocalDesk(desk_dir("demo", data), demo=True).stop()


def invoke(args, env):
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


def test_version_and_help():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"linkdesk {__version__}"
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "serve", "cases", "agents"):
        assert command in result.output


def test_cases_list_json_on_the_demo_desk_is_masked(demo_env):
    result = invoke(["--demo", "cases", "list", "--json", "--limit", "120"], demo_env)
    assert result.exit_code == 0, result.output
    cases = json.loads(result.output)
    assert len(cases) == 120  # two pages of the default 50, then a partial one
    assert len({case["ref"] for case in cases}) == 120
    assert all(case["status"] in {"new", "open", "pending", "on_hold"} for case in cases)
    phones = [case["phone"] for case in cases if case["phone"]]
    assert phones and all(MASKED_PHONE.match(phone) for phone in phones)
    updated = [case["updated_at"] for case in cases]
    assert updated == sorted(updated, reverse=True)


def test_cases_list_filters_by_category_and_text(demo_env):
    result = invoke(["--demo", "cases", "list", "--json", "--category", "recycled_number"], demo_env)
    assert result.exit_code == 0, result.output
    cases = json.loads(result.output)
    assert cases and {case["category"] for case in cases} == {"recycled_number"}

    result = invoke(["--demo", "cases", "list", "--json", "--state", "all", "-q", "换号"], demo_env)
    found = json.loads(result.output)
    assert found
    for case in found:
        shown = json.loads(invoke(["--demo", "cases", "show", case["ref"], "--json"], demo_env).output)
        assert "换号" in shown["subject"] + shown["body"]


def test_cases_show_prints_the_case_and_its_timeline(demo_env):
    result = invoke(["--demo", "cases", "show", "LD-000001", "--json"], demo_env)
    assert result.exit_code == 0, result.output
    case = json.loads(result.output)
    assert case["ref"] == "LD-000001"
    assert case["events"] and case["events"][0]["kind"] == "created"
    human = invoke(["--demo", "cases", "show", "1"], demo_env)
    assert human.exit_code == 0 and human.output.startswith("LD-000001")


def test_unknown_case_is_a_clear_error(demo_env):
    result = CliRunner().invoke(app, ["--demo", "cases", "show", "LD-999999"], env=demo_env)
    assert result.exit_code == 2
    assert "not found" in result.output.lower()


def test_bad_filter_values_are_refused_before_any_request(demo_env):
    result = CliRunner().invoke(app, ["--demo", "cases", "list", "--category", "bogus"], env=demo_env)
    assert result.exit_code == 2
    assert "category" in result.output


def test_unreachable_server_is_reported_not_a_traceback():
    result = CliRunner().invoke(app, ["--server", "http://127.0.0.1:9", "cases", "list"])
    assert result.exit_code == 3
    assert "unreachable" in result.output
    assert "Traceback" not in result.output


def test_server_url_must_be_http():
    result = CliRunner().invoke(app, ["--server", "ftp://x", "cases", "list"])
    assert result.exit_code == 2
    assert "http://" in result.output


def test_agents_add_prints_a_token_once_and_refuses_unknown_roles(tmp_path):
    env = {"LINKDESK_DATA_DIR": str(tmp_path)}
    result = invoke(["agents", "add", "wang.fang", "--role", "supervisor"], env)
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"ld_[\w-]{20,}", result.output.strip())
    bad = CliRunner().invoke(app, ["agents", "add", "x", "--role", "king"], env=env)
    assert bad.exit_code == 2 and "role" in bad.output


def test_the_local_desk_service_stops_when_its_desk_is_deleted(tmp_path):
    """Deleting the data directory must not leave a service serving the deleted desk."""
    import shutil
    import time

    desk = LocalDesk(desk_dir("default", tmp_path))
    desk.ensure_running()
    assert desk.answering()
    shutil.rmtree(tmp_path / "default")
    deadline = time.monotonic() + 15
    while desk.socket.exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # polling for the service to go, bounded
    assert not desk.socket.exists()
    assert not desk.answering()


def test_the_local_desk_socket_is_for_its_user_only(tmp_path):
    import stat
    import time

    desk = LocalDesk(desk_dir("default", tmp_path))
    desk.ensure_running()
    try:
        deadline = time.monotonic() + 10
        while desk.socket.stat().st_mode & 0o077 and time.monotonic() < deadline:
            time.sleep(0.05)  # polling, bounded: the service tightens it once listening
        assert stat.S_IMODE(desk.socket.stat().st_mode) == 0o600
        assert stat.S_IMODE(desk.socket.parent.stat().st_mode) == 0o700
        assert desk.answering()
    finally:
        desk.stop()


def test_agents_are_disabled_enabled_and_given_roles_from_the_command_line(tmp_path):
    env = {"LINKDESK_DATA_DIR": str(tmp_path)}
    assert invoke(["agents", "add", "li.na"], env).exit_code == 0
    role = invoke(["agents", "role", "li.na", "compliance"], env)
    assert role.exit_code == 0 and "li.na: compliance, active" in role.output
    disabled = invoke(["agents", "disable", "li.na"], env)
    assert disabled.exit_code == 0 and "disabled" in disabled.output
    listing = invoke(["agents", "list", "--all"], env)
    assert re.search(r"li\.na\s+compliance\s+disabled", listing.output), listing.output
    assert "li.na" not in invoke(["agents", "list"], env).output
    assert "active" in invoke(["agents", "enable", "li.na"], env).output
    last = CliRunner().invoke(app, ["agents", "disable", "local"], env=env)
    assert last.exit_code == 2 and "last active admin" in last.output
    missing = CliRunner().invoke(app, ["agents", "disable", "nobody"], env=env)
    assert missing.exit_code == 2 and "no agent 'nobody'" in missing.output
    bad_name = CliRunner().invoke(app, ["agents", "add", "Bad Name"], env=env)
    assert bad_name.exit_code == 2 and "lower-case" in bad_name.output


def test_stopping_the_local_desk_service_leaves_nothing_behind(tmp_path):
    """uvicorn re-raises the SIGTERM it caught after shutting down, so the service's own
    clean-up never runs: stop() waits for the process and removes its socket and pid file."""
    desk = LocalDesk(desk_dir("default", tmp_path))
    desk.ensure_running()
    assert desk.answering()
    assert desk.stop()
    assert not desk.answering()
    assert not desk.socket.exists()
    assert not (desk.desk_dir / "service.pid").exists()


def test_cases_list_takes_the_filter_language(demo_env):
    result = invoke(["--demo", "cases", "list", "--json", "--filter", "cat:rec prio:>=high status:active"], demo_env)
    assert result.exit_code == 0, result.output
    cases = json.loads(result.output)
    assert cases
    assert {case["category"] for case in cases} == {"recycled_number"}
    assert {case["priority"] for case in cases} <= {"urgent", "high"}


def test_a_bad_filter_points_at_the_term_and_exits_2(demo_env):
    result = CliRunner().invoke(app, ["--demo", "cases", "list", "--filter", "换号 cat:nope prio:urgent"], env=demo_env)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert "cat:nope" in lines[0] and "is not one of" in lines[0]
    assert lines[1] == "  换号 cat:nope prio:urgent"
    assert lines[2] == "       ^^^^^^^^"  # under the term: 换号 is four columns wide


def test_the_embedded_desk_takes_the_policy_files_of_the_environment(tmp_path, monkeypatch):
    """LINKDESK_SLA_POLICY reaches the console's own desk as it reaches `serve`: a bad
    file refuses the start with the key named, instead of being ignored."""
    from linkdesk.client.local import DeskStartRefused

    policy = tmp_path / "sla.toml"
    policy.write_text("[priorities.urgent]\nresolution_hour = 4\n", encoding="utf-8")
    monkeypatch.setenv("LINKDESK_SLA_POLICY", str(policy))
    desk = LocalDesk(desk_dir("default", tmp_path / "data"))
    try:
        with pytest.raises(DeskStartRefused, match="resolution_hour"):
            desk.ensure_running()
    finally:
        desk.stop()
