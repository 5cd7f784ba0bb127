"""Field encryption and blind indexes."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from linkdesk.server.crypto import (
    BLIND_INDEX_HEX,
    DecryptionFailed,
    KeyFileInvalid,
    KeyRing,
    NoKeyConfigured,
    aad,
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
    with pytest.raises(DecryptionFailed):
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
    assert len(index) == BLIND_INDEX_HEX and int(index, 16) >= 0
    assert index != ring.blind_index("+8613812345679")
    assert index != KeyRing(os.urandom(32)).blind_index("+8613812345678")
