"""Key versions against a real desk: the check at start, blind index planning, rotation.

Each test runs on SQLite and, when LINKDESK_TEST_PG_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import base64
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.domain import CaseCreate
from linkdesk.domain.audit import AuditAction
from linkdesk.domain.views import CaseQuery
from linkdesk.server import audit, crypto, keys, rotation
from linkdesk.server.app import create_app
from linkdesk.server.crypto import KeyFileMissing, KeyRing, aad
from linkdesk.server.data_keys import open_sealed
from linkdesk.server.db import make_engine, make_session_factory, migrate
from linkdesk.server.demo import DemoSummary, seed_demo
from linkdesk.server.runner import prepare_desk
from linkdesk.server.settings import ServerSettings

from .conftest import BACKENDS, MASTER_KEY, SEED_NOW, _database, _drop

OTHER_KEY = base64.b64encode(b"o" * 32).decode()
SECOND_KEY = base64.b64encode(b"2" * 32).decode()


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (not migrated: prepare_desk does that, as a start does)."""
    database, _path, token = _database(request.param, tmp_path)
    yield database
    _drop(token)


@dataclass
class KeyDesk:
    settings: ServerSettings
    engine: sa.Engine
    keyring: KeyRing
    summary: DemoSummary


@pytest.fixture
def desk(url: str, tmp_path: Path) -> Iterator[KeyDesk]:
    """A small seeded desk whose keys live in a key file, as an embedded desk's do."""
    settings = ServerSettings(database_url=url, key_file=tmp_path / "keys" / "master.key")
    keyring = prepare_desk(settings)
    engine = make_engine(url)
    summary = seed_demo(engine, keyring, cases=60, borrowers=30, now=SEED_NOW)
    yield KeyDesk(settings, engine, keyring, summary)
    engine.dispose()


def plaintexts(engine: sa.Engine, keyring: KeyRing) -> dict[tuple[str, int, str], str]:
    values = {}
    with engine.connect() as conn:
        for table, (row, columns) in keys.SEALED.items():
            for column in columns:
                for row_id, blob in conn.execute(sa.select(row.id, getattr(row, column))):
                    if blob is not None:
                        values[(table, row_id, column)] = open_sealed(conn, keyring, blob, aad(table, column, row_id))
    return values


def versions(engine: sa.Engine) -> dict[str, dict[int, int]]:
    out = {}
    with engine.connect() as conn:
        for table in keys.SEALED:
            out[table] = dict(conn.execute(sa.text(f"SELECT key_version, count(*) FROM {table} GROUP BY key_version")).all())
    return out


def start_rotation(desk: KeyDesk, **options) -> tuple[rotation.Plan, rotation.Result]:
    plan = rotation.begin(desk.engine, desk.keyring, grace=0)
    return plan, rotation.rotate(desk.engine, desk.keyring, plan.target, previous=plan.previous, **options)


def client_of(app) -> DeskClient:  # type: ignore[no-untyped-def]
    return DeskClient("http://desk", transport=httpx.ASGITransport(app=app))


def active_phones(engine: sa.Engine, summary: DemoSummary) -> dict[int, list[tuple[str, int]]]:
    """(number, borrower id) of the active bindings, by the key version each is under."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT id, borrower_id, key_version FROM phone_bindings WHERE status = 'active'"
        )).all()
    out: dict[int, list[tuple[str, int]]] = {}
    for row in rows:
        out.setdefault(row.key_version, []).append((summary.phones[row.id - 1], row.borrower_id))
    return out


# -- the check at start ----------------------------------------------------------------


def test_a_new_desk_registers_its_key_with_a_planned_index(url: str, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    keyring = prepare_desk(ServerSettings(database_url=url, key_file=key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    engine = make_engine(url)
    with engine.connect() as conn:
        [v1] = keys.status(conn, keyring)
    engine.dispose()
    assert (v1.version, v1.registered, v1.matches, v1.writing) == (1, True, True, True)
    assert v1.fingerprint == keyring.fingerprint(1) and len(v1.fingerprint) == 64
    assert v1.index_bits == 18  # planned for the one-million floor: 1e6 / 2^18 ≈ 3.8 rows a value
    stored_key = key_file.read_text().split()[-1]
    assert base64.b64decode(stored_key).hex() not in v1.fingerprint
    assert len(keyring.blind_index("+8613812345678")) == 5


def test_a_wrong_key_is_refused_before_anything_is_written(url: str) -> None:
    prepare_desk(ServerSettings(database_url=url, master_key=MASTER_KEY))
    wrong = ServerSettings(database_url=url, master_key=OTHER_KEY)
    with pytest.raises(keys.WrongKey, match=r"the key in LINKDESK_MASTER_KEY is not the key this desk was written with \(version 1\)"):
        create_app(wrong)
    with pytest.raises(keys.WrongKey):
        prepare_desk(wrong, demo=True)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM cases")) == 0  # the demo was not seeded
        assert conn.scalar(sa.text("SELECT count(*) FROM desk_keys")) == 1
    engine.dispose()


def test_a_missing_key_file_is_refused_and_not_made_again(desk: KeyDesk) -> None:
    key_file = desk.settings.key_file
    assert key_file is not None
    key_file.unlink()
    with pytest.raises(KeyFileMissing, match="is missing, and this desk holds data sealed under key version 1"):
        prepare_desk(desk.settings)
    with pytest.raises(KeyFileMissing):
        create_app(desk.settings)
    assert not key_file.exists()


def test_a_desk_from_before_key_versions_keeps_working(url: str) -> None:
    """Data sealed before the registry existed (64-bit indexes, no desk_keys row): the key
    is proved on the data, registered with the index length the data has, and lookups work."""
    migrate(url)
    engine = make_engine(url)
    legacy = KeyRing(base64.b64decode(MASTER_KEY))  # never checked: the old format
    summary = seed_demo(engine, legacy, cases=10, borrowers=8, now=SEED_NOW)
    with pytest.raises(keys.WrongKey, match="does not decrypt"):
        create_app(ServerSettings(database_url=url, master_key=OTHER_KEY), engine=engine)
    app = create_app(ServerSettings(database_url=url, master_key=MASTER_KEY), engine=engine)
    with engine.connect() as conn:
        [v1] = keys.status(conn, app.state.keyring)
    assert v1.index_bits == 64 and v1.matches

    async def scenario() -> None:
        phone, borrower_id = active_phones(engine, summary)[1][0]
        async with app.router.lifespan_context(app), client_of(app) as client:
            case = await client.create_case(CaseCreate(category="unreachable", subject="失联", phone=phone))
        assert case.borrower is not None and case.borrower.ref == f"B-{borrower_id:06d}"

    asyncio.run(scenario())


# -- rotation ------------------------------------------------------------------------------


def test_rotation_moves_every_row_to_a_new_version_with_the_same_values(desk: KeyDesk) -> None:
    before = plaintexts(desk.engine, desk.keyring)
    rows = sum(sum(v.values()) for v in versions(desk.engine).values())
    plan, result = start_rotation(desk, batch_size=25)
    assert (plan.target, plan.previous, plan.added) == (2, 1, True)
    assert result.finished and result.rows == rows and result.failures == []
    assert set().union(*(v.keys() for v in versions(desk.engine).values())) == {2}
    # the key file kept version 1 beside the new one; a fresh start reads both
    reopened = KeyRing.load(key_file=desk.settings.key_file)
    assert reopened.versions == [1, 2]
    assert plaintexts(desk.engine, reopened) == before
    with desk.engine.connect() as conn:
        for binding_id, blob, index in conn.execute(sa.text("SELECT id, phone_enc, phone_index FROM phone_bindings")):
            assert blob[0] == 0  # under the borrower's data key, which was re-wrapped under version 2
            number = open_sealed(conn, desk.keyring, blob, aad("phone_bindings", "phone_enc", binding_id))
            assert index == desk.keyring.blind_index(number, version=2)
    with make_session_factory(desk.engine)() as session:
        recorded = [r for r in audit.walk(session) if r.action is AuditAction.KEY_ROTATION]
    assert [r.detail["step"] for r in recorded] == ["new key", "re-encrypted"]
    assert recorded[-1].detail.items() >= {"from": 1, "to": 2, "rows": rows}.items()
    assert recorded[-1].target == "desk.keys" and recorded[-1].actor.startswith("cli:")


def test_an_interrupted_rotation_resumes_where_it_stopped(desk: KeyDesk) -> None:
    before = plaintexts(desk.engine, desk.keyring)
    _plan, first = start_rotation(desk, batch_size=10, max_batches=1)
    assert not first.finished and first.rows == 10
    assert versions(desk.engine)["borrowers"] == {1: 20, 2: 10}  # the first ten by id
    again = rotation.begin(desk.engine, KeyRing.load(key_file=desk.settings.key_file), grace=0)
    assert (again.target, again.added, again.pending) == (2, False, first.left)
    rest = rotation.rotate(desk.engine, desk.keyring, again.target, previous=again.previous, batch_size=10)
    assert rest.finished and rest.rows == first.left
    assert set().union(*(v.keys() for v in versions(desk.engine).values())) == {2}
    assert plaintexts(desk.engine, desk.keyring) == before


def test_a_tampered_value_is_reported_and_the_rest_rotated(desk: KeyDesk) -> None:
    with desk.engine.begin() as conn:
        blob = bytearray(conn.scalar(sa.text("SELECT name_enc FROM borrowers WHERE id = 3")))
        blob[-1] ^= 0x01
        conn.execute(sa.text("UPDATE borrowers SET name_enc = :b WHERE id = 3"), {"b": bytes(blob)})
    _plan, result = start_rotation(desk, batch_size=7)
    assert result.failures == [
        rotation.Failure("borrowers", 3, "name_enc", "ciphertext does not authenticate under the data key of B-000003")
    ]
    assert result.finished and result.left == 0
    assert versions(desk.engine)["borrowers"] == {1: 1, 2: 29}
    assert versions(desk.engine)["cases"] == {2: 60}
    with desk.engine.connect() as conn:  # left exactly as it was
        assert conn.scalar(sa.text("SELECT name_enc FROM borrowers WHERE id = 3")) == bytes(blob)


def test_numbers_are_found_across_a_half_finished_rotation(desk: KeyDesk) -> None:
    rotation_ring = KeyRing.load(key_file=desk.settings.key_file)
    keys.check(desk.engine, rotation_ring)
    plan = rotation.begin(desk.engine, rotation_ring, grace=0)
    rotation.rotate(desk.engine, rotation_ring, plan.target, batch_size=20, max_batches=3)  # 30 borrowers, 20 bindings
    by_version = active_phones(desk.engine, desk.summary)
    assert by_version.get(1) and by_version.get(2)
    app = create_app(desk.settings)  # a server started mid-rotation

    async def scenario() -> None:
        async with app.router.lifespan_context(app), client_of(app) as client:
            for phone, borrower_id in by_version[1][:2] + by_version[2][:2]:
                case = await client.create_case(CaseCreate(category="rebind", subject="换号", phone=phone))
                assert case.borrower is not None and case.borrower.ref == f"B-{borrower_id:06d}"

    asyncio.run(scenario())


def test_the_desk_keeps_answering_and_switches_keys_during_a_rotation(desk: KeyDesk, monkeypatch) -> None:
    """A server that started with only version 1 runs through a rotation made by another
    process: it answers between batches, finds numbers under both versions, and seals
    what it writes under the new version as soon as it exists."""
    monkeypatch.setattr(crypto, "RELOAD_INTERVAL", 0.0)  # no waiting for its next look at the file
    app = create_app(desk.settings)
    assert app.state.keyring.versions == [1]
    admin = KeyRing.load(key_file=desk.settings.key_file)
    keys.check(desk.engine, admin)
    plan = rotation.begin(desk.engine, admin, grace=0)
    paused, resume = threading.Event(), threading.Event()

    def between_batches(done: int, total: int) -> None:
        if done > 30 and not paused.is_set():  # the borrowers and a batch of bindings are done
            paused.set()
            assert resume.wait(30)

    async def scenario() -> rotation.Result:
        async with app.router.lifespan_context(app), client_of(app) as client:
            worker = asyncio.create_task(asyncio.to_thread(
                rotation.rotate, desk.engine, admin, plan.target, batch_size=20, on_progress=between_batches
            ))
            try:
                assert await asyncio.to_thread(paused.wait, 30)
                by_version = active_phones(desk.engine, desk.summary)
                assert by_version.get(1) and by_version.get(2)
                listed = await client.list_cases(CaseQuery(), limit=20)
                assert listed.items
                made = []
                for phone, borrower_id in [by_version[1][0], by_version[2][0]]:
                    case = await client.create_case(CaseCreate(category="rebind", subject="换号", phone=phone))
                    assert case.borrower is not None and case.borrower.ref == f"B-{borrower_id:06d}"
                    made.append(case)
            finally:
                resume.set()
            result = await worker
            for case in made:  # still readable once everything is under version 2
                assert (await client.get_case(case.ref)).phone == case.phone
            return result

    result = asyncio.run(scenario())
    assert result.finished
    assert app.state.keyring.versions == [1, 2]
    with desk.engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT phone_enc, key_version FROM cases ORDER BY id DESC LIMIT 2")).all()
    # sealed under the borrowers' data keys (version byte 0), indexed under version 2
    assert [(blob[0], version) for blob, version in newest] == [(0, 2), (0, 2)]
    assert set().union(*(v.keys() for v in versions(desk.engine).values())) == {2}


def test_master_key_desks_rotate_to_a_version_added_to_the_variable(url: str) -> None:
    one = ServerSettings(database_url=url, master_key=MASTER_KEY)
    keyring = prepare_desk(one)
    engine = make_engine(url)
    try:
        seed_demo(engine, keyring, cases=20, borrowers=10, now=SEED_NOW)
        with pytest.raises(rotation.RotationRefused, match="linkdesk keys generate"):
            rotation.begin(engine, keyring, grace=0)
        both = one.model_copy(update={"master_key": f"1:{MASTER_KEY},2:{SECOND_KEY}"})
        keyring = keys.open_keyring(engine, both)  # a server restarted with the new value
        plan = rotation.begin(engine, keyring, grace=0)
        assert (plan.target, plan.added) == (2, False)
        assert rotation.rotate(engine, keyring, plan.target).finished
        keys.open_keyring(engine, one.model_copy(update={"master_key": f"2:{SECOND_KEY}"}))  # 1 retired
        with pytest.raises(keys.MissingKeyVersion, match="data under key version 2"):
            keys.open_keyring(engine, one)
    finally:
        engine.dispose()


def test_the_key_file_keeps_old_versions_and_stays_private(desk: KeyDesk) -> None:
    key_file = desk.settings.key_file
    assert key_file is not None
    first = key_file.read_text()
    start_rotation(desk)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    text = key_file.read_text()
    assert first.strip().splitlines()[-1] in text
    assert [line.split()[0] for line in text.splitlines() if not line.startswith("#")] == ["1", "2"]
    assert os.listdir(key_file.parent) == ["master.key"]
