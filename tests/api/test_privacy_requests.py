"""Privacy requests through the API (SQLite and PostgreSQL): export, correction, legal
holds, erasure by crypto-shredding, and key rotation afterwards."""

from __future__ import annotations

import base64
import json
import sqlite3

import pytest
import sqlalchemy as sa

from linkdesk.client import DeskClient
from linkdesk.client.errors import BorrowerErased, LegalHoldActive, StaleVersion, ValidationFailed
from linkdesk.domain.privacy_requests import (
    EXPORT_SCHEMA,
    BorrowerCorrection,
    ErasureReason,
    ErasureRequest,
    LegalHoldCreate,
)
from linkdesk.domain.reveal import RevealField, RevealReason
from linkdesk.server import chain, keys, rotation
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import DataKeys, Erased, is_under_data_key
from linkdesk.server.db import make_engine, make_session_factory
from linkdesk.server.demo import seed_demo
from linkdesk.server.tables import AuditRow, BindingRow, BorrowerKeyRow, BorrowerRow, CaseRow

from .conftest import MASTER_KEY, SEED_NOW, Desk, raw

NEW_NAME = "欧阳娜娜"
NEW_ID = "11010519491231002X"
SECOND_KEY = base64.b64encode(b"s" * 32).decode()


@pytest.fixture
def seeded_fresh(fresh: Desk) -> Desk:
    fresh.summary = seed_demo(fresh.engine, fresh.keyring, cases=16, borrowers=6, seed=5, now=SEED_NOW)
    return fresh


def _borrower_with_open_case(desk: Desk) -> tuple[str, str]:
    with desk.engine.connect() as conn:
        row = conn.execute(
            sa.select(CaseRow.borrower_id, CaseRow.id).where(CaseRow.borrower_id.is_not(None), CaseRow.is_open)
            .order_by(CaseRow.id).limit(1)
        ).one()
    return f"B-{row[0]:06d}", f"LD-{row[1]:06d}"


def _audit(desk: Desk, action: str) -> list[AuditRow]:
    with make_session_factory(desk.engine)() as session:
        return list(session.scalars(sa.select(AuditRow).where(AuditRow.action == action)))


async def test_export_holds_everything_decrypted_and_is_recorded(seeded_fresh: Desk, client: DeskClient) -> None:
    desk, summary = seeded_fresh, seeded_fresh.summary
    assert summary is not None
    who, case = _borrower_with_open_case(desk)
    data = await client.export_borrower(who)
    assert data["schema"] == EXPORT_SCHEMA and data["generated_at"].startswith("20")
    assert data["borrower"]["name"] in summary.names
    assert data["borrower"]["id_number"] in summary.id_numbers
    assert data["bindings"] and all(b["number"] in summary.phones for b in data["bindings"])
    exported = {c["ref"]: c for c in data["cases"]}
    assert case in exported and exported[case]["timeline"][0]["kind"] == "created"
    assert {"intel_reports", "risk_assessments", "do_not_contact", "legal_holds"} <= data.keys()
    [record] = _audit(desk, "export")
    assert record.target == who and record.detail["sections"]["cases"] == len(data["cases"])
    text = json.dumps(record.detail, ensure_ascii=False)
    assert data["borrower"]["name"] not in text and data["bindings"][0]["number"] not in text


async def test_correction_reseals_with_before_and_after(seeded_fresh: Desk, client: DeskClient) -> None:
    desk = seeded_fresh
    who, case = _borrower_with_open_case(desk)
    before = await client.get_borrower(who)
    http = raw(desk)
    async with http:
        missing = await http.patch(f"/borrowers/{who}", json={"name": NEW_NAME})
        assert missing.status_code == 428
    with pytest.raises(ValidationFailed) as bad:
        await client.correct_borrower(who, BorrowerCorrection.model_construct(id_number="110105194912310021"),
                                      version=before.version)
    assert bad.value.field_errors[0].field.endswith("id_number")
    after = await client.correct_borrower(who, BorrowerCorrection(name=NEW_NAME, id_number=NEW_ID),
                                          version=before.version)
    assert (after.name, after.id_number, after.version) == ("欧阳**", "110***********002X", before.version + 1)
    with pytest.raises(StaleVersion):
        await client.correct_borrower(who, BorrowerCorrection(name="张三"), version=before.version)
    events = (await client.list_events(case)).items
    [event] = [e for e in events if e.kind == "correction"]
    assert (event.data["name_before"], event.data["name_after"]) == (before.name, "欧阳**")
    assert NEW_NAME not in json.dumps(event.data, ensure_ascii=False)
    exported = await client.export_borrower(who)
    assert exported["borrower"]["name"] == NEW_NAME and exported["borrower"]["id_number"] == NEW_ID
    by_field = {c["field"]: c for c in exported["corrections"]}
    assert by_field["name"]["after"] == NEW_NAME and by_field["id_number"]["after"] == NEW_ID
    assert by_field["name"]["before"] in desk.summary.names  # type: ignore[union-attr]
    [record] = _audit(desk, "correction")
    assert record.target == who and record.detail == {"fields": ["id_number", "name"]}


async def test_a_legal_hold_blocks_erasure_naming_its_reason(seeded_fresh: Desk, client: DeskClient) -> None:
    who, case = _borrower_with_open_case(seeded_fresh)
    hold = await client.place_legal_hold(who, LegalHoldCreate(reason="court order 2026-118", case=case))
    with pytest.raises(LegalHoldActive) as refused:
        await client.erase_borrower(who, ErasureRequest(reason=ErasureReason.SUBJECT_REQUEST))
    assert "court order 2026-118" in str(refused.value)
    assert (await client.get_borrower(who)).erased is False
    kinds = [e.kind for e in (await client.list_events(case)).items]
    assert "legal_hold" in kinds
    await client.lift_legal_hold(who, hold.id)
    [lifted] = await client.legal_holds(who)
    assert lifted.lifted_at is not None and not lifted.active
    erased = await client.erase_borrower(who, ErasureRequest(reason=ErasureReason.SUBJECT_REQUEST))
    assert case in erased.cases
    assert [r.action for r in _audit(seeded_fresh, "legal_hold_placed")] == ["legal_hold_placed"]
    assert len(_audit(seeded_fresh, "legal_hold_lifted")) == 1


async def test_erasure_shreds_the_key_and_every_read_says_erased(seeded_fresh: Desk, client: DeskClient, tmp_path) -> None:
    desk = seeded_fresh
    who, case = _borrower_with_open_case(desk)
    borrower_id = int(who[2:])
    exported = await client.export_borrower(who)
    name, number = exported["borrower"]["name"], exported["bindings"][-1]["number"]
    with desk.engine.connect() as conn:
        old_name_blob = conn.scalar(sa.select(BorrowerRow.name_enc).where(BorrowerRow.id == borrower_id))
    assert is_under_data_key(old_name_blob)
    copy = None
    if desk.db_path is not None:  # a backup taken before the erasure
        copy = tmp_path / "before-erasure.db"
        with sqlite3.connect(desk.db_path) as source, sqlite3.connect(copy) as target:
            source.backup(target)

    result = await client.erase_borrower(who, ErasureRequest(reason=ErasureReason.SUBJECT_REQUEST, note="by letter"))
    assert result.borrower == who and case in result.cases

    borrower = await client.get_borrower(who)
    assert borrower.erased and borrower.name == "erased" and borrower.id_number is None
    assert all(b.phone.masked == "erased" and b.status != "active" for b in borrower.bindings)
    assert (await client.get_case(case)).phone == "erased"
    with pytest.raises(BorrowerErased):
        await client.reveal(case, RevealField.NAME, reason=RevealReason.PRIVACY_REQUEST, note="checking")
    with pytest.raises(BorrowerErased):
        await client.export_borrower(who)
    with pytest.raises(BorrowerErased):
        await client.erase_borrower(who, ErasureRequest(reason=ErasureReason.SUBJECT_REQUEST))
    assert "deletion" in [e.kind for e in (await client.list_events(case)).items]
    intel_before = [e.kind for e in (await client.list_events(case)).items].count("intel")
    checked = await client.check_intel(case)  # intel skips an erased borrower's numbers
    assert all(item.phone.masked == "erased" for item in checked)
    assert [e.kind for e in (await client.list_events(case)).items].count("intel") == intel_before
    [record] = _audit(desk, "deletion")
    assert name not in json.dumps(record.detail, ensure_ascii=False) and "by letter" not in json.dumps(record.detail)
    with make_session_factory(desk.engine)() as session:
        assert chain.verify(session).intact
        with pytest.raises(Erased):  # the old ciphertext, wherever it was copied, no longer opens
            DataKeys(desk.keyring, session).open(old_name_blob, aad("borrowers", "name_enc", borrower_id))
        assert session.get(BorrowerKeyRow, borrower_id).wrapped_key is None  # type: ignore[union-attr]

    if copy is not None:
        desk.engine.dispose()
        stored = desk.db_path.read_bytes() + _wal(desk)  # type: ignore[union-attr]
        for value in (name, number, number[3:]):
            assert value.encode() not in stored
        # Honest about backups: the copy still holds the wrapped key, which the master key opens
        # (docs/privacy-requests.md: backups expire, or retire the master key after a rotation).
        old = make_engine(f"sqlite:///{copy}")
        with make_session_factory(old)() as session:
            assert DataKeys(desk.keyring, session).open(old_name_blob, aad("borrowers", "name_enc", borrower_id)) == name
            retired = KeyRing({2: base64.b64decode(SECOND_KEY)})  # after rotation + retiring version 1
            with pytest.raises(DecryptionFailed):
                DataKeys(retired, session).open(old_name_blob, aad("borrowers", "name_enc", borrower_id))
        old.dispose()


def _wal(desk: Desk) -> bytes:
    wal = desk.db_path.with_name(desk.db_path.name + "-wal")  # type: ignore[union-attr]
    return wal.read_bytes() if wal.exists() else b""


async def test_rotation_after_erasure_rewraps_keys_and_moves_legacy_rows(fresh: Desk, client: DeskClient) -> None:
    desk = fresh
    legacy = KeyRing(base64.b64decode(MASTER_KEY))  # sealing as before data keys: master key only
    seed_demo(desk.engine, desk.keyring, cases=8, borrowers=4, seed=9, now=SEED_NOW)
    with desk.engine.begin() as conn:  # borrower 1 back to the old way: master-key values, no data key
        data_keys = DataKeys(desk.keyring, conn)
        for table, name in ((BindingRow, "phone_bindings"), (CaseRow, "cases")):
            for row_id, blob in conn.execute(sa.select(table.id, table.phone_enc).where(table.borrower_id == 1)):
                where = aad(name, "phone_enc", row_id)
                conn.execute(sa.update(table).where(table.id == row_id).values(
                    phone_enc=legacy.encrypt(data_keys.open(blob, where), where, version=1)))
        conn.execute(sa.update(BorrowerRow).where(BorrowerRow.id == 1).values(
            name_enc=legacy.encrypt("李雷", aad("borrowers", "name_enc", 1), version=1), id_number_enc=None))
        conn.execute(sa.delete(BorrowerKeyRow).where(BorrowerKeyRow.id == 1))
    assert (await client.export_borrower("B-000001"))["borrower"]["name"] == "李雷"  # legacy still opens
    await client.erase_borrower("B-000002", ErasureRequest(reason=ErasureReason.RETENTION_EXPIRED))

    both = desk.app.state.settings.model_copy(update={"master_key": f"1:{MASTER_KEY},2:{SECOND_KEY}"})
    keyring = keys.open_keyring(desk.engine, both)
    plan = rotation.begin(desk.engine, keyring, grace=0)
    result = rotation.rotate(desk.engine, keyring, plan.target)
    assert result.finished and not result.failures
    with desk.engine.connect() as conn:
        wrapped = dict(conn.execute(sa.select(BorrowerKeyRow.id, BorrowerKeyRow.wrapped_key)).all())
        name_blob = conn.scalar(sa.select(BorrowerRow.name_enc).where(BorrowerRow.id == 1))
    assert wrapped[2] is None and wrapped[1] is not None  # erased stays erased; legacy got a key
    assert {blob[0] for blob in wrapped.values() if blob} == {2}  # re-wrapped under version 2
    assert is_under_data_key(name_blob)
    retired = keys.open_keyring(desk.engine, both.model_copy(update={"master_key": f"2:{SECOND_KEY}"}))
    with make_session_factory(desk.engine)() as session:
        assert DataKeys(retired, session).open(name_blob, aad("borrowers", "name_enc", 1)) == "李雷"
        assert chain.verify(session).intact


async def test_privacy_routes_refuse_bad_input_and_unknown_borrowers(seeded_fresh: Desk) -> None:
    async with raw(seeded_fresh) as http:
        assert (await http.get("/borrowers/B-999999")).status_code == 404
        short = await http.post("/borrowers/B-000001/holds", json={"reason": "no"})
        assert short.status_code == 422
        bad = await http.post("/borrowers/B-000001/erase", json={"reason": "because"})
        assert bad.status_code == 422
        assert (await http.delete("/borrowers/B-000001/holds/77")).status_code == 404
    assert _audit(seeded_fresh, "deletion") == []
