"""``linkdesk monitor --once`` on an embedded desk, and ``cases list --risk-min``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from linkdesk.cli import app
from linkdesk.config import desk_dir

SEED_NOW = datetime(2026, 11, 1, tzinfo=UTC)
SUMMARY = re.compile(
    r"^(\d+) checked, (\d+) unavailable, (\d+) risk alerts? opened(?: \(([^)]*)\))?, (\d+) added to do-not-contact$"
)


def invoke(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env=env, catch_exceptions=False)


@pytest.fixture
def embedded(tmp_path: Path) -> tuple[dict[str, str], Path]:
    from linkdesk.server.db import make_engine
    from linkdesk.server.demo import seed_demo
    from linkdesk.server.runner import embedded_settings, prepare_desk

    folder = desk_dir("default", tmp_path)
    settings = embedded_settings(folder)
    keyring = prepare_desk(settings)
    engine = make_engine(settings.database_url)
    seed_demo(engine, keyring, cases=40, borrowers=20, now=SEED_NOW)
    engine.dispose()
    return {"LINKDESK_DATA_DIR": str(tmp_path), "LINKDESK_CONFIG_DIR": str(tmp_path / "config")}, folder


def cancel_a_clean_number(folder: Path) -> int:
    """Cancel (in the sandbox registry) the number of an active binding that looked fine
    and is no one else's."""
    from linkdesk.intel.sandbox import change
    from linkdesk.server.crypto import KeyRing, aad
    from linkdesk.server.data_keys import open_sealed
    from linkdesk.server.db import make_engine, make_session_factory
    from linkdesk.server.keys import open_keyring
    from linkdesk.server.runner import embedded_settings

    settings = embedded_settings(folder)
    engine = make_engine(settings.database_url)
    try:
        keyring = open_keyring(engine, settings, KeyRing.load(key_file=settings.key_file, create=False))
        with engine.connect() as conn:
            candidates = conn.execute(sa.text(
                "SELECT b.id, b.phone_enc, r.report FROM phone_bindings b JOIN intel_reports r ON r.binding_id = b.id "
                "WHERE b.status = 'active' AND (SELECT count(*) FROM phone_bindings o "
                "WHERE o.phone_index = b.phone_index) = 1 ORDER BY b.id")).all()
        for binding_id, blob, report in candidates:
            report = json.loads(report) if isinstance(report, str) else report
            if report["reassigned"] == "no" and report["line_status"] == "normal":
                with engine.connect() as conn:
                    number = open_sealed(conn, keyring, blob, aad("phone_bindings", "phone_enc", binding_id))
                with make_session_factory(engine)() as session, session.begin():
                    change(session, keyring, number, cancelled_at=datetime.now(UTC) - timedelta(minutes=5))
                return binding_id
        raise AssertionError("no clean active binding")
    finally:
        engine.dispose()


def test_monitor_once_prints_what_it_did_and_alerts_once_per_change(embedded) -> None:  # type: ignore[no-untyped-def]
    env, folder = embedded
    first = invoke(["monitor", "--once", "--recheck-after", "0"], env)
    assert first.exit_code == 0, first.output
    match = SUMMARY.match(first.output.strip())
    assert match and int(match.group(1)) > 0 and match.group(2) == "0", first.output

    settled = invoke(["monitor", "--once", "--recheck-after", "0"], env)  # nothing changed since
    assert SUMMARY.match(settled.output.strip()).group(3) == "0", settled.output  # type: ignore[union-attr]

    binding_id = cancel_a_clean_number(folder)
    changed = invoke(["monitor", "--once", "--recheck-after", "0"], env)
    match = SUMMARY.match(changed.output.strip())
    assert match and match.group(3) == "1" and re.fullmatch(r"LD-\d{6}", match.group(4)), changed.output
    ref = match.group(4)
    with sa.create_engine(f"sqlite:///{folder / 'desk.db'}").connect() as conn:
        row = conn.execute(sa.text("SELECT category, binding_id FROM cases WHERE id = :i"),
                           {"i": int(ref[3:])}).one()
    assert tuple(row) == ("risk_alert", binding_id)

    again = invoke(["monitor", "--once", "--recheck-after", "0"], env)
    assert SUMMARY.match(again.output.strip()).group(3) == "0", again.output  # type: ignore[union-attr]


def test_monitor_needs_an_existing_desk(tmp_path: Path) -> None:
    env = {"LINKDESK_DATA_DIR": str(tmp_path), "LINKDESK_CONFIG_DIR": str(tmp_path / "config")}
    result = CliRunner().invoke(app, ["monitor", "--once"], env=env)
    assert result.exit_code == 1 and "there is no desk" in result.output


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):  # type: ignore[no-untyped-def]
    from linkdesk.client.local import LocalDesk

    data = tmp_path_factory.mktemp("cli-risk")
    env = {"LINKDESK_DATA_DIR": str(data), "LINKDESK_CONFIG_DIR": str(data / "config")}
    yield env
    LocalDesk(desk_dir("demo", data), demo=True).stop()


def test_cases_list_filters_by_risk(demo_env) -> None:  # type: ignore[no-untyped-def]
    result = invoke(["--demo", "cases", "list", "--json", "--risk-min", "85", "--limit", "3000"], demo_env)
    assert result.exit_code == 0, result.output
    cases = json.loads(result.output)
    assert cases and all(case["risk"] >= 85 for case in cases)
    everything = json.loads(invoke(["--demo", "cases", "list", "--json", "--limit", "3000"], demo_env).output)
    assert len(cases) == sum(1 for case in everything if (case["risk"] or 0) >= 85)

    shown = invoke(["--demo", "cases", "list", "--risk-min", "85", "--limit", "5"], demo_env)
    assert shown.exit_code == 0
    assert all(int(line.split()[4]) >= 85 for line in shown.output.splitlines())  # the risk column
    bad = CliRunner().invoke(app, ["--demo", "cases", "list", "--risk-min", "101"], env=demo_env)
    assert bad.exit_code == 2
