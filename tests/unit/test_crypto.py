"""Field encryption and blind indexes."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from linkdesk.server import crypto
from linkdesk.server.crypto import (
    LEGACY_INDEX_BITS,
    DecryptionFailed,
    KeyFileInvalid,
    KeyFileMissing,
    KeyRing,
    NoKeyConfigured,
    aad,
    plan_index_bits,
    write_key_file,
)

KEY = os.urandom(32)


def test_round_trip() -> None:
    ring = KeyRing(KEY)
    blob = ring.encrypt("欧阳娜娜", aad("borrowers", "name_enc", 7))
    assert blob[0] == 1 and "欧阳娜娜".encode() not in blob
    assert ring.decrypt(blob, "borrowers.name_enc:7") == "欧阳娜娜"


def test_same_plaintext_encrypts_differently() -> None:
    ring = KeyRing(KEY)
    assert ring.encrypt("x", "t.c:1") != ring.encrypt("x", "t.c:1")


def test_tampering_is_detected() -> None:
    ring = KeyRing(KEY)
    blob = bytearray(ring.encrypt("+8613812345678", "cases.phone_enc:1"))
    for index in (5, len(blob) - 1, 20):
        changed = bytearray(blob)
        changed[index] ^= 0x01
        with pytest.raises(DecryptionFailed):
            ring.decrypt(bytes(changed), "cases.phone_enc:1")
    with pytest.raises(DecryptionFailed):
        ring.decrypt(bytes(blob[:10]), "cases.phone_enc:1")
    with pytest.raises(DecryptionFailed, match="unknown key version 2"):
        ring.decrypt(b"\x02" + bytes(blob[1:]), "cases.phone_enc:1")


def test_wrong_key_fails() -> None:
    blob = KeyRing(KEY).encrypt("secret", "t.c:1")
    with pytest.raises(DecryptionFailed):
        KeyRing(os.urandom(32)).decrypt(blob, "t.c:1")


def test_aad_binds_row_and_column() -> None:
    ring = KeyRing(KEY)
    blob = ring.encrypt("secret", aad("cases", "phone_enc", 1))
    for other in ("cases.phone_enc:2", "borrowers.phone_enc:1", "cases.name_enc:1"):
        with pytest.raises(DecryptionFailed):
            ring.decrypt(blob, other)


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    first = KeyRing.load(key_file=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = first.encrypt("x", "t.c:1")
    assert KeyRing.load(key_file=path).decrypt(blob, "t.c:1") == "x"


@pytest.mark.parametrize("content", ["", "not base64!!", base64.b64encode(b"short").decode()])
def test_malformed_key_file_refuses(tmp_path: Path, content: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    with pytest.raises(KeyFileInvalid):
        KeyRing.load(key_file=path)


def test_master_key_wins_over_key_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.key"
    path.write_text("garbage")
    ring = KeyRing.load(master_key=base64.b64encode(KEY).decode(), key_file=path)
    assert ring.decrypt(KeyRing(KEY).encrypt("x", "a"), "a") == "x"
    with pytest.raises(NoKeyConfigured):
        KeyRing.load()


def test_blind_index_is_stable_and_keyed() -> None:
    ring = KeyRing(KEY)
    index = ring.blind_index("+8613812345678")
    assert index == KeyRing(KEY).blind_index("+8613812345678")
    assert len(index) == LEGACY_INDEX_BITS // 4 and int(index, 16) >= 0
    assert index != ring.blind_index("+8613812345679")
    assert index != KeyRing(os.urandom(32)).blind_index("+8613812345678")


# -- key versions ----------------------------------------------------------------------

KEY2 = os.urandom(32)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_a_ring_writes_under_its_newest_version_and_reads_every_version() -> None:
    old = KeyRing({1: KEY})
    sealed_before = old.encrypt("+8613812345678", "cases.phone_enc:1")
    ring = KeyRing({1: KEY, 2: KEY2})
    sealed_after = ring.encrypt("+8613812345678", "cases.phone_enc:1")
    assert sealed_before[0] == 1 and sealed_after[0] == 2
    assert ring.decrypt(sealed_before, "cases.phone_enc:1") == "+8613812345678"
    assert ring.decrypt(sealed_after, "cases.phone_enc:1") == "+8613812345678"
    with pytest.raises(DecryptionFailed, match="unknown key version 2"):
        old.decrypt(sealed_after, "cases.phone_enc:1")
    # each version has its own keys: the same number indexes differently
    assert ring.blind_index("+8613812345678", version=1) == old.blind_index("+8613812345678")
    assert ring.blind_index("+8613812345678", version=2) != old.blind_index("+8613812345678")
    assert ring.fingerprint(1) == old.fingerprint(1) != ring.fingerprint(2)


def test_tampered_ciphertext_names_the_cause() -> None:
    ring = KeyRing({1: KEY, 2: KEY2})
    blob = bytearray(ring.encrypt("张三", "borrowers.name_enc:4"))
    blob[-3] ^= 0x40
    with pytest.raises(DecryptionFailed, match="does not authenticate under key version 2"):
        ring.decrypt(bytes(blob), "borrowers.name_enc:4")
    with pytest.raises(DecryptionFailed, match="truncated"):
        ring.decrypt(bytes(blob[:20]), "borrowers.name_enc:4")


def test_the_single_line_key_file_of_older_desks_is_version_1(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(b64(KEY) + "\n")  # the format before key versions
    ring = KeyRing.load(key_file=path)
    assert ring.versions == [1]
    assert ring.decrypt(KeyRing(KEY).encrypt("x", "t.c:1"), "t.c:1") == "x"
    # and the index is the one those desks stored: the first 16 hex digits of the HMAC
    assert ring.blind_index("+8613812345678") == KeyRing(KEY).blind_index("+8613812345678")


def test_key_file_and_env_hold_several_versions(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(f"# comment\n1 {b64(KEY)}\n\n2 {b64(KEY2)}\n")
    from_file = KeyRing.load(key_file=path)
    from_env = KeyRing.load(master_key=f"1:{b64(KEY)}, 2:{b64(KEY2)}")
    assert from_file.versions == from_env.versions == [1, 2]
    assert from_env.source == "LINKDESK_MASTER_KEY" and str(path) in from_file.source
    assert from_file.decrypt(from_env.encrypt("x", "t.c:1"), "t.c:1") == "x"
    assert KeyRing.load(master_key=b64(KEY)).versions == [1]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (f"1 {b64(KEY)}\n1 {b64(KEY2)}", "appears twice"),
        (f"0 {b64(KEY)}", "between 1 and 255"),
        (f"2 {b64(b'short')}", "holds 5 bytes"),
        ("2 not-base64!", "not valid base64"),
    ],
    ids=["duplicate", "version-0", "short", "not-base64"],  # stable ids: the keys are random
)
def test_malformed_entries_are_refused_without_showing_keys(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "master.key"
    path.write_text(content)
    with pytest.raises(KeyFileInvalid, match=problem) as caught:
        KeyRing.load(key_file=path)
    assert b64(KEY) not in str(caught.value) and b64(KEY2) not in str(caught.value)


def test_a_missing_key_file_is_not_created_when_told_so(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    with pytest.raises(KeyFileMissing):
        KeyRing.load(key_file=path, create=False)
    assert not path.exists()


def test_written_key_files_are_0600_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    write_key_file(path, {1: KEY, 2: KEY2})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.load(key_file=path).versions == [1, 2]
    assert b64(KEY2) in path.read_text() and list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("rows", "bits"),
    [(0, 8), (100, 8), (1_000, 8), (100_000, 15), (1_000_000, 18), (1_048_576, 19), (10**9, 28), (2**80, 64)],
)
def test_planner_keeps_at_least_two_rows_per_index_value(rows: int, bits: int) -> None:
    assert plan_index_bits(rows) == bits
    if 8 < bits < 64:
        assert rows / 2**bits >= 2 > rows / 2 ** (bits + 1)  # the largest such length
        assert rows / 2**bits <= rows**0.5  # and within CipherSweet's upper bound


def test_planned_index_is_the_top_bits_of_the_hmac_as_fixed_width_hex() -> None:
    ring = KeyRing(KEY)
    full = ring.blind_index("+8613812345678")  # 64 bits
    for bits in (8, 18, 33):
        ring.plan(1, bits)
        index = ring.blind_index("+8613812345678")
        assert len(index) == (bits + 3) // 4
        assert int(index, 16) == int(full, 16) >> (64 - bits)


def test_lookups_ask_for_the_index_under_every_version() -> None:
    ring = KeyRing({1: KEY, 2: KEY2})
    ring.plan(1, 18)
    ring.plan(2, 20)
    wanted = set(ring.blind_indexes("+8613812345678"))
    assert wanted == {ring.blind_index("+8613812345678", version=v) for v in (1, 2)}
    assert len(wanted) == 2


def test_a_ring_attached_to_a_desk_writes_only_under_registered_versions(tmp_path: Path, monkeypatch) -> None:
    """A running server meets a version added to its key file: it starts writing under it
    once the desk has registered it, never before, and never takes another key for a
    version it holds."""
    monkeypatch.setattr(crypto, "RELOAD_INTERVAL", 0.0)  # look at the file on every call
    path = tmp_path / "master.key"
    write_key_file(path, {1: KEY})
    server = KeyRing.load(key_file=path)
    registry: dict[int, tuple[int, str]] = {1: (18, server.fingerprint(1))}
    server.plan(1, 18)
    server.attach(registry.get)
    assert server.writing_version() == 1

    write_key_file(path, {1: KEY, 2: KEY2})
    assert server.writing_version() == 1  # in the file, not registered yet
    registry[2] = (20, KeyRing({2: KEY2}).fingerprint(2))
    assert server.writing_version() == 2
    assert server.encrypt("x", "t.c:1")[0] == 2
    assert len(server.blind_index("+8613812345678")) == 5

    write_key_file(path, {1: os.urandom(32), 2: KEY2})  # someone swaps version 1's key
    assert server.decrypt(KeyRing(KEY).encrypt("y", "t.c:2"), "t.c:2") == "y"


def test_decrypting_an_unknown_version_looks_at_the_key_file_again(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    write_key_file(path, {1: KEY})
    server = KeyRing.load(key_file=path)
    sealed = KeyRing({1: KEY, 2: KEY2}).encrypt("x", "t.c:1")
    write_key_file(path, {1: KEY, 2: KEY2})
    assert server.decrypt(sealed, "t.c:1") == "x"
