"""Field encryption at rest and blind indexes.

Personal data (names, ID numbers, phone numbers) is never stored in plain text. Each
value is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from one master
key; the associated data binds a ciphertext to its table, column and row, so a value
copied to another row or column fails to decrypt. Phone numbers are also given a
*blind index*, a keyed hash under a separate derived key, so that a number can be
looked up without decrypting the table.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_VERSION = 1

# 16 hex chars = 64 bits. CipherSweet's planner puts coincidences at C = R / 2^L and
# advises 2 <= C <= sqrt(R) to blur the value distribution. We deliberately sit below
# that (C ~ 1e-13 at a million bindings): the space of mainland mobile numbers is only
# ~1e10 (~33 bits), so a leaked index key brute-forces every number whatever the
# length, and truncating to ~20 bits would not hide anything from such an attacker
# while forcing every lookup to decrypt ~1,000 candidates. The protection is the index
# key itself (HKDF-separated from the encryption key, kept outside the database); 64
# bits keeps lookups exact and the column short. Lookups still decrypt and compare.
BLIND_INDEX_HEX = 16


class KeyringError(Exception):
    """The master key cannot be had; the server refuses to start."""


class KeyFileInvalid(KeyringError):
    """The key file exists but does not hold a base64 32-byte key."""


class NoKeyConfigured(KeyringError):
    pass


class DecryptionFailed(Exception):
    """The ciphertext was tampered with, belongs elsewhere, or the key is wrong."""


def generate_master_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileInvalid(f"{source} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyFileInvalid(f"{source} holds {len(key)} bytes, expected {KEY_BYTES}")
    return key


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master)


class KeyRing:
    """The derived keys of one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(_derive(master_key, b"linkdesk field encryption v1"))
        self._index_key = _derive(master_key, b"linkdesk blind index v1")

    @classmethod
    def load(cls, *, master_key: str | None = None, key_file: Path | None = None) -> KeyRing:
        """From the base64 ``master_key`` if given, else from ``key_file`` (created if absent)."""
        if master_key:
            return cls(_decode_key(master_key, "the master key"))
        if key_file is None:
            raise NoKeyConfigured("no master key and no key file configured")
        return cls(_decode_key(_read_or_create(Path(key_file)), f"key file {key_file}"))

    def encrypt(self, plaintext: str, aad: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return bytes([KEY_VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, aad: str) -> str:
        if not blob or len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != KEY_VERSION:
            raise DecryptionFailed("unknown key version or truncated ciphertext")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, sealed, aad.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise DecryptionFailed("ciphertext does not authenticate") from None

    def blind_index(self, e164: str) -> str:
        digest = hmac.new(self._index_key, e164.encode("ascii"), hashlib.sha256).hexdigest()
        return digest[:BLIND_INDEX_HEX]


def aad(table: str, column: str, row_id: int) -> str:
    return f"{table}.{column}:{row_id}"


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii", errors="replace")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_master_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text(encoding="ascii", errors="replace")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)  # the umask may have narrowed it further; never wider
    return key
