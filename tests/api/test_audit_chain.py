"""The audit chain in the database (SQLite and PostgreSQL): appends, the append-only
triggers, verification, signed checkpoints, and what a superuser's tampering leaves."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from linkdesk.domain.audit import AuditAction, AuditRecord, Checkpoint
from linkdesk.server import audit, chain
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import AuditRow

from ..audit_tampering import drop_append_only_triggers, records_of, rewrite
from .conftest import Desk

T0 = datetime(2026, 11, 2, 8, 0, 0, 123456, tzinfo=UTC)


def append_many(desk: Desk, count: int, *, start: int = 0, per_transaction: int = 5) -> list[AuditRecord]:
    appended: list[AuditRecord] = []
    with make_session_factory(desk.engine)() as session:
        for i in range(start, start + count):
            appended.append(
                audit.append(
                    session, at=T0 + timedelta(minutes=i), actor="wang.fang", action=AuditAction.REVEAL,
                    target=f"B-{i:06d}.phone", case=f"LD-{i:06d}", reason="borrower_on_line",
                    detail={"note": "借款人来电，核对换号 ✓", "n": i, "ok": True, "none": None},
                )
            )
            if len(appended) % per_transaction == 0:
                session.commit()
        session.commit()
    return appended


def verify(desk: Desk, **options) -> object:
    with make_session_factory(desk.engine)() as session:
        return chain.verify(session, **options)


def checkpoint(desk: Desk, directory: Path, key: Ed25519PrivateKey) -> chain.CheckpointTaken:
    with make_session_factory(desk.engine)() as session:
        return chain.take_checkpoint(session, key=key, directory=directory, actor="cli:auditor")


def test_appends_form_an_intact_chain(fresh: Desk) -> None:
    appended = append_many(fresh, 12)

    state = verify(fresh)

    assert state.intact and state.broken is None and state.checkpoint_problems == []
    assert state.records == 12 and state.head_hash == appended[-1].hash
    assert records_of(fresh.engine) == appended  # what the database gives back hashes the same
    with make_session_factory(fresh.engine)() as session:
        page = audit.list_records(session, case="LD-000007")
        assert [r.seq for r in page.items] == [8]
        assert [r.seq for r in audit.list_records(session, limit=3).items] == [12, 11, 10]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET target = 'B-999999.phone' WHERE seq = 2",
        "DELETE FROM audit_records WHERE seq = 3",
        "TRUNCATE audit_records",
    ],
    ids=["update", "delete", "truncate"],
)
def test_the_database_refuses_to_change_or_remove_records(fresh: Desk, statement: str) -> None:
    if statement.startswith("TRUNCATE") and fresh.backend == "sqlite":
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is the update/delete case)")
    appended = append_many(fresh, 4)

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), fresh.engine.begin() as connection:
        connection.exec_driver_sql(statement)

    assert records_of(fresh.engine) == appended
    assert verify(fresh).intact


def _change_record_4(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.update(AuditRow).where(AuditRow.seq == 4).values(target="B-000999.phone"))


def _give_record_5_an_unknown_action(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.update(AuditRow).where(AuditRow.seq == 5).values(action="nothing_to_see"))


def _delete_record_6(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(AuditRow).where(AuditRow.seq == 6))


def _delete_the_last_two(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(sa.delete(AuditRow).where(AuditRow.seq > 8))


@pytest.mark.parametrize(
    ("tamper", "seq", "why"),
    [
        (_change_record_4, 4, "its hash does not match its contents"),
        (_give_record_5_an_unknown_action, 5, "its hash does not match its contents"),
        (_delete_record_6, 6, "record 6 is missing"),
        (_delete_the_last_two, 9, "removed from its end"),
    ],
    ids=["changed", "unknown-action", "removed", "cut-short"],
)
def test_without_the_triggers_tampering_is_named_by_verify(fresh: Desk, tamper, seq: int, why: str) -> None:
    append_many(fresh, 10)
    drop_append_only_triggers(fresh.engine)  # what a superuser can do

    tamper(fresh.engine)
    state = verify(fresh)

    assert not state.intact
    assert state.broken is not None and state.broken.seq == seq
    assert why in state.broken.problem


def test_a_checkpoint_signs_the_head_and_is_recorded_right_after_it(fresh: Desk, tmp_path: Path) -> None:
    appended = append_many(fresh, 3)
    key = Ed25519PrivateKey.generate()

    taken = checkpoint(fresh, tmp_path / "checkpoints", key)

    on_disk = Checkpoint.model_validate_json(taken.path.read_text())
    assert on_disk == taken.checkpoint
    assert (on_disk.seq, on_disk.hash) == (3, appended[-1].hash)
    assert on_disk.public_key == chain.public_key_of(key) and chain.signature_holds(on_disk)
    assert taken.path.parent == tmp_path / "checkpoints" and "seq0000000003" in taken.path.name
    record = records_of(fresh.engine)[-1]
    assert record == taken.record
    assert (record.seq, record.action, record.target, record.actor) == (4, AuditAction.CHECKPOINT, "audit.chain", "cli:auditor")
    assert record.detail == {"seq": 3, "hash": appended[-1].hash}

    append_many(fresh, 2, start=3)
    state = verify(fresh, checkpoint_dir=tmp_path / "checkpoints", public_key=chain.public_key_of(key))
    assert state.intact and state.records == 6 and state.checkpoints_checked == 1


def _rewrite_record_2(engine: sa.Engine) -> None:
    rewrite(engine, lambda records: [
        r.model_copy(update={"target": "B-000777.phone"}) if r.seq == 2 else r for r in records
    ])


def _cut_below_the_checkpoint(engine: sa.Engine) -> None:
    rewrite(engine, lambda records: records[:4])


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        (_rewrite_record_2, "the chain was rewritten up to record 6"),
        (_cut_below_the_checkpoint, "the chain holds no record 6"),
    ],
    ids=["rewritten", "cut-short"],
)
def test_a_chain_rebuilt_with_fresh_hashes_passes_the_walk_but_not_an_earlier_checkpoint(
    fresh: Desk, tmp_path: Path, tamper, why: str
) -> None:
    append_many(fresh, 6)
    taken = checkpoint(fresh, tmp_path, Ed25519PrivateKey.generate())
    append_many(fresh, 3, start=6)

    tamper(fresh.engine)

    assert verify(fresh).intact  # the walk alone is fooled
    state = verify(fresh, checkpoint_dir=tmp_path)
    assert not state.intact and state.broken is None
    assert state.checkpoints_checked == 1
    assert len(state.checkpoint_problems) == 1
    assert state.checkpoint_problems[0].startswith(taken.path.name + ": ")
    assert why in state.checkpoint_problems[0]


def test_forged_and_foreign_checkpoints_are_reported(fresh: Desk, tmp_path: Path) -> None:
    appended = append_many(fresh, 5)
    key = Ed25519PrivateKey.generate()
    genuine = checkpoint(fresh, tmp_path, key).checkpoint
    seq3 = appended[2]

    edited = genuine.model_dump(mode="json") | {"seq": 3, "hash": seq3.hash}  # claims an older head
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    other_key = chain.sign(Ed25519PrivateKey.generate(), desk=genuine.desk, seq=5, head_hash=genuine.hash, at=genuine.at)
    (tmp_path / "other-key.json").write_text(other_key.model_dump_json())
    other_desk = chain.sign(key, desk="another-desk", seq=5, head_hash=genuine.hash, at=genuine.at)
    (tmp_path / "other-desk.json").write_text(other_desk.model_dump_json())
    (tmp_path / "garbage.json").write_text("{not json")

    state = verify(fresh, checkpoint_dir=tmp_path)

    assert not state.intact and state.broken is None
    assert state.checkpoints_checked == 5
    problems = dict(problem.split(": ", 1) for problem in state.checkpoint_problems)
    assert set(problems) == {"edited.json", "other-key.json", "other-desk.json", "garbage.json"}
    assert "signature does not verify" in problems["edited.json"]
    assert "signed by another key" in problems["other-key.json"]
    assert "another desk" in problems["other-desk.json"]
    assert "not a checkpoint file" in problems["garbage.json"]


def test_the_key_a_desk_pinned_is_held_to(fresh: Desk, tmp_path: Path) -> None:
    append_many(fresh, 2)
    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    checkpoint(fresh, tmp_path, key)

    with pytest.raises(chain.ChainError, match="signed with"):
        checkpoint(fresh, tmp_path, stranger)
    assert len(list(tmp_path.glob("*.json"))) == 1 and len(records_of(fresh.engine)) == 3

    state = verify(fresh, checkpoint_dir=tmp_path, public_key=chain.public_key_of(stranger))
    assert not state.intact
    assert any("checkpoint key on record" in p for p in state.checkpoint_problems)
    assert any("signed by another key" in p for p in state.checkpoint_problems)


def test_no_checkpoint_is_taken_of_a_broken_chain(fresh: Desk, tmp_path: Path) -> None:
    append_many(fresh, 3)
    drop_append_only_triggers(fresh.engine)
    with fresh.engine.begin() as connection:
        connection.execute(sa.update(AuditRow).where(AuditRow.seq == 2).values(actor="someone.else"))

    with pytest.raises(chain.ChainNotIntact) as refused:
        checkpoint(fresh, tmp_path / "checkpoints", Ed25519PrivateKey.generate())

    assert refused.value.state.broken is not None and refused.value.state.broken.seq == 2
    assert list((tmp_path / "checkpoints").glob("*")) == []
    assert len(records_of(fresh.engine)) == 3


def test_concurrent_appends_from_separate_sessions_form_one_chain(fresh: Desk) -> None:
    threads, each = 6, 12
    start = threading.Barrier(threads)
    returned: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    factory = make_session_factory(fresh.engine)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with factory() as session:
                    record = audit.append(
                        session, at=datetime.now(UTC), actor=f"agent.{n}", action=AuditAction.LOGIN,
                        target=f"agent:agent.{n}", detail={"i": i},
                    )
                    session.commit()
                returned[n].append(record.seq)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    seqs = sorted(seq for mine in returned for seq in mine)
    assert seqs == list(range(1, threads * each + 1))  # no duplicate, no gap
    assert all(mine == sorted(mine) for mine in returned)
    state = verify(fresh)
    assert state.intact and state.records == threads * each


def test_a_record_rolled_back_with_its_change_leaves_no_gap(fresh: Desk) -> None:
    append_many(fresh, 2)
    factory = make_session_factory(fresh.engine)
    with pytest.raises(RuntimeError), factory() as session, session.begin():
        audit.append(session, at=T0, actor="wang.fang", action=AuditAction.UNBIND, target="B-000001.phone")
        raise RuntimeError("the change it records failed")
    with factory() as session:
        after = audit.append(session, at=T0, actor="wang.fang", action=AuditAction.REBIND, target="B-000001.phone")
        session.commit()

    assert after.seq == 3
    assert [r.action for r in records_of(fresh.engine)] == [AuditAction.REVEAL, AuditAction.REVEAL, AuditAction.REBIND]
    assert verify(fresh).intact
