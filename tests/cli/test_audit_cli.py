"""``linkdesk audit verify | checkpoint | list`` on an embedded desk and on a database URL."""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from linkdesk.cli import app
from linkdesk.config import config_dir, desk_dir
from linkdesk.domain.audit import AuditAction, AuditRecord
from linkdesk.server import audit
from linkdesk.server.db import make_engine, make_session_factory, migrate
from linkdesk.server.runner import embedded_settings, prepare_desk
from linkdesk.server.tables import AuditRow

from ..audit_tampering import drop_append_only_triggers, rewrite

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def append(url: str, *targets: str, actor: str = "li.na") -> list[AuditRecord]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            records = [
                audit.append(session, at=T0 + timedelta(seconds=i), actor=actor, action=AuditAction.EXPORT,
                             target=target, case="LD-000001", reason="privacy_request")
                for i, target in enumerate(targets)
            ]
            session.commit()
        return records
    finally:
        engine.dispose()


@pytest.fixture
def embedded() -> str:
    """The default embedded desk of this test's data directory; its database URL."""
    settings = embedded_settings(desk_dir("default"))
    prepare_desk(settings)
    return settings.database_url


def test_verify_then_checkpoint_then_verify_on_the_embedded_desk(embedded: str) -> None:
    records = append(embedded, "B-000001.name", "B-000002.phone", "B-000003.id_number")

    first = invoke("audit", "verify")
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == f"intact: 3 records, head {records[-1].hash[:12]}…, no checkpoints"

    taken = invoke("audit", "checkpoint")
    assert taken.exit_code == 0, taken.output
    path_line, head_line = taken.stdout.strip().splitlines()
    path = Path(path_line)
    assert path.parent == desk_dir("default") / "checkpoints" and path.is_file()
    assert json.loads(path.read_text())["seq"] == 3
    assert head_line == f"head: record 3, {records[-1].hash}"
    key = config_dir() / "audit-signing.key"  # beside the settings, not the database
    assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not any(p.name.endswith(".key") and "signing" in p.name for p in desk_dir("default").rglob("*"))

    again = invoke("audit", "verify")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("intact: 4 records, head ") and again.stdout.strip().endswith(", 1 checkpoint agrees")


def test_verify_exits_1_naming_the_broken_record(embedded: str) -> None:
    append(embedded, "B-000001.name", "B-000002.phone", "B-000003.id_number")
    engine = make_engine(embedded)
    drop_append_only_triggers(engine)
    with engine.begin() as connection:
        connection.execute(sa.update(AuditRow).where(AuditRow.seq == 2).values(reason="borrower_on_line"))
    engine.dispose()

    result = invoke("audit", "verify")

    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("not intact: 3 records")
    assert lines[1] == "  broken at record 2: its hash does not match its contents"

    refused = invoke("audit", "checkpoint")
    assert refused.exit_code == 1 and refused.stdout.startswith("refused: the chain does not verify")
    assert not list((desk_dir("default") / "checkpoints").glob("*.json"))


def test_verify_exits_1_when_a_rewritten_chain_contradicts_a_checkpoint(embedded: str) -> None:
    append(embedded, "B-000001.name", "B-000002.phone")
    checkpoint_file = Path(invoke("audit", "checkpoint").stdout.splitlines()[0])
    engine = make_engine(embedded)
    rewrite(engine, lambda records: [r.model_copy(update={"actor": "nobody"}) for r in records])
    engine.dispose()

    result = invoke("audit", "verify")

    assert result.exit_code == 1
    first, *problems = result.stdout.strip().splitlines()
    assert first.startswith("not intact: 3 records")  # the walk itself finds nothing
    assert len(problems) == 1
    assert problems[0].startswith(f"  {checkpoint_file.name}: record 2 has hash ")
    assert problems[0].endswith("the chain was rewritten up to record 2")


def test_verify_reports_a_checkpoint_signed_by_an_unexpected_key(embedded: str) -> None:
    append(embedded, "B-000001.name")
    assert invoke("audit", "checkpoint").exit_code == 0
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )

    result = invoke("audit", "verify", "--public-key", base64.b64encode(stranger).decode())

    assert result.exit_code == 1
    assert "checkpoint key on record" in result.stdout and "signed by another key" in result.stdout


def test_a_database_url_with_its_own_checkpoint_folder_and_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'team.db'}"
    migrate(url)
    records = append(url, "agent:wang.fang")
    key = tmp_path / "keys" / "signing.key"
    key.parent.mkdir()
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    key.write_text(base64.b64encode(raw).decode())
    key.chmod(0o644)
    folder = tmp_path / "media"

    no_folder = invoke("audit", "checkpoint", "--database-url", url, "--signing-key", str(key))
    assert no_folder.exit_code == 2 and "chmod 600" in no_folder.output  # the key is checked first
    key.chmod(0o600)
    no_folder = invoke("audit", "checkpoint", "--database-url", url, "--signing-key", str(key))
    assert no_folder.exit_code == 2 and "--to" in no_folder.output

    taken = invoke("audit", "checkpoint", "--database-url", url, "--signing-key", str(key), "--to", str(folder))
    assert taken.exit_code == 0, taken.output
    assert Path(taken.stdout.splitlines()[0]).parent == folder
    assert taken.stdout.splitlines()[1] == f"head: record 1, {records[0].hash}"

    verified = invoke("audit", "verify", "--database-url", url, "--checkpoints", str(folder), "--signing-key", str(key))
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("intact: 2 records, head ")
    assert verified.stdout.strip().endswith(", 1 checkpoint agrees")


def test_audit_list_filters_and_never_prints_control_characters(embedded: str) -> None:
    append(embedded, "B-000001.name\x1b]52;c;aGk=\x07", actor="evil\x9b31m")
    append(embedded, "B-000002.phone", actor="li.na")

    result = invoke("audit", "list", "--actor", "evil\x9b31m")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].split()[0] == "1"
    assert "\x1b" not in result.stdout and "\x9b" not in result.stdout and "\x07" not in result.stdout
    assert "B-000001.name\ufffd]52;c;aGk=\ufffd" in lines[0]

    newest = invoke("audit", "list", "--limit", "1", "--json")
    assert "\x9b" not in newest.stdout
    assert [r["target"] for r in json.loads(newest.stdout)] == ["B-000002.phone"]
    exports = invoke("audit", "list", "--action", "export", "--json")
    assert [r["seq"] for r in json.loads(exports.stdout)] == [2, 1]
    assert json.loads(exports.stdout)[1]["actor"] == "evil\x9b31m"  # kept exact, escaped in JSON
