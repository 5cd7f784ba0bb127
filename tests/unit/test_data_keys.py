"""Per-borrower data keys: seal/open, the wrong borrower's key, an erased key, legacy values."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.data_keys import (
    DataKeys,
    Erased,
    NoDataKey,
    is_under_data_key,
    open_sealed,
    seal_for,
)
from linkdesk.server.tables import Base, BorrowerKeyRow, BorrowerRow

NOW = datetime(2026, 11, 29, tzinfo=UTC)
WHERE = aad("borrowers", "name_enc", 1)


@pytest.fixture
def conn() -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[BorrowerRow.__table__, BorrowerKeyRow.__table__])
    with engine.begin() as connection:
        for borrower_id in (1, 2):
            connection.execute(sa.insert(BorrowerRow).values(id=borrower_id, name_masked="张*", created_at=NOW))
        yield connection
    engine.dispose()


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing(b"m" * 32)


def test_a_value_opens_under_its_borrowers_key_and_says_whose_it_is(conn, keyring) -> None:
    blob = DataKeys(keyring, conn).seal(1, "张三", WHERE)
    assert is_under_data_key(blob) and b"\xe5\xbc\xa0" not in blob
    assert DataKeys(keyring, conn).open(blob, WHERE) == "张三"  # a new unit of work: unwrapped from the row
    assert open_sealed(conn, keyring, blob, WHERE) == "张三"
    with pytest.raises(DecryptionFailed):  # moved to another row
        DataKeys(keyring, conn).open(blob, aad("borrowers", "name_enc", 2))


def test_another_borrowers_key_does_not_open_it(conn, keyring) -> None:
    keys = DataKeys(keyring, conn)
    mine = keys.seal(1, "张三", WHERE)
    keys.ensure(2)
    forged = mine[:1] + (2).to_bytes(8, "big") + mine[9:]  # claims to be borrower 2's
    with pytest.raises(DecryptionFailed, match="B-000002"):
        DataKeys(keyring, conn).open(forged, WHERE)


def test_a_shredded_key_opens_nothing_at_once_and_takes_no_new_data(conn, keyring) -> None:
    blob = seal_for(conn, keyring, 1, "张三", WHERE)
    other = DataKeys(keyring, conn)
    assert other.open(blob, WHERE) == "张三"
    DataKeys(keyring, conn).shred(1, NOW)
    assert conn.scalar(sa.select(BorrowerKeyRow.wrapped_key).where(BorrowerKeyRow.id == 1)) is None
    with pytest.raises(Erased):
        DataKeys(keyring, conn).open(blob, WHERE)
    with pytest.raises(Erased):
        DataKeys(keyring, conn).seal(1, "张三", WHERE)


def test_a_borrower_without_a_key_is_named(conn, keyring) -> None:
    blob = DataKeys(keyring, conn).seal(1, "张三", WHERE)
    conn.execute(sa.delete(BorrowerKeyRow))
    with pytest.raises(NoDataKey, match="B-000001"):
        open_sealed(conn, keyring, blob, WHERE)


def test_legacy_master_key_values_still_open(conn, keyring) -> None:
    legacy = keyring.encrypt("张三", WHERE, version=1)
    assert not is_under_data_key(legacy)
    assert open_sealed(conn, keyring, legacy, WHERE) == "张三"
    assert seal_for(conn, keyring, None, "x", WHERE, version=1)[0] == 1  # no borrower: master key


def test_a_wrapped_key_is_bound_to_its_row(conn, keyring) -> None:
    DataKeys(keyring, conn).ensure(1)
    DataKeys(keyring, conn).ensure(2)
    blob = DataKeys(keyring, conn).seal(1, "张三", WHERE)
    wrapped_2 = conn.scalar(sa.select(BorrowerKeyRow.wrapped_key).where(BorrowerKeyRow.id == 2))
    conn.execute(sa.update(BorrowerKeyRow).where(BorrowerKeyRow.id == 1).values(wrapped_key=wrapped_2))
    with pytest.raises(DecryptionFailed):
        DataKeys(keyring, conn).open(blob, WHERE)


def test_shredding_a_borrower_without_a_key_still_blocks_new_data(conn, keyring) -> None:
    DataKeys(keyring, conn).shred(2, NOW)  # a borrower from before data keys
    assert DataKeys(keyring, conn).is_erased(2)
    with pytest.raises(Erased):
        seal_for(conn, keyring, 2, "李四", aad("borrowers", "name_enc", 2))
