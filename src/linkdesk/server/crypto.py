"""Field encryption at rest, key versions and blind indexes.

Personal data (names, ID numbers, phone numbers) is never stored in plain text. Each
value is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from a master key;
the associated data binds a ciphertext to its table, column and row, so a value
copied to another row or column fails to decrypt. A ciphertext starts with the
version of the master key that sealed it: a :class:`KeyRing` holds every version a
desk may still have data under, writes under the newest one the desk has registered
and reads by the version byte. Phone numbers also get a *blind index*, a truncated
HMAC under a separate derived key, so that a number is found without decrypting
the table.

Blind index length. CipherSweet's planner counts coincidences, C = R / 2^L for R
rows and L bits, and advises 2 <= C <= sqrt(R): every index value then stands for a
few rows, so a copy of the table shows no value distribution to count, and a lookup
decrypts a handful of candidates to confirm (cheap). We take the largest L with
R / 2^L >= 2, clamped to [8, 64], for R = max(rows now, a planning floor of a
million by default), and store it with the key version it belongs to (``desk_keys``);
a rotation plans again for the size of the desk then. It is not a defence against a
stolen index key: mainland mobile numbers are only ~1e10 (~33 bits), so whoever holds
that key can hash them all. The index key is HKDF-separated from the encryption key
and lives with it outside the database. A keyring that was never checked against a
desk indexes with 64 bits, the format of desks older than key versions.

Key sources: a key file of ``<version> <base64 of 32 bytes>`` lines (a bare base64
line, the first format, is version 1), or the same entries in ``LINKDESK_MASTER_KEY``
separated by commas, ``1:<b64>,2:<b64>``. Key material never goes into a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_VERSION = 255  # one byte in every ciphertext
LEGACY_INDEX_BITS = 64
MIN_INDEX_BITS, MAX_INDEX_BITS = 8, 64
RELOAD_INTERVAL = 2.0
"""Seconds between looks at the key file (and the desk's key registry) before writing."""

log = logging.getLogger("linkdesk.keys")

Registry = Callable[[int], "tuple[int, str] | None"]
"""version -> (index bits, fingerprint) as the desk registered it, or None."""


class KeyringError(Exception):
    """The keys cannot be had or do not fit the desk; the server refuses to start."""


class KeyFileInvalid(KeyringError):
    """The key file (or LINKDESK_MASTER_KEY) exists but does not hold valid keys."""


class NoKeyConfigured(KeyringError):
    pass


class KeyFileMissing(KeyringError):
    """The desk has data under keys, and the key file is gone: it is not recreated."""


class DecryptionFailed(Exception):
    """The ciphertext was tampered with, belongs elsewhere, or its key is not here."""


def generate_master_key() -> str:
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def key_entry(version: int) -> str:
    """A fresh key as a LINKDESK_MASTER_KEY entry, ``<version>:<base64>``."""
    if not 1 <= version <= MAX_VERSION:
        raise ValueError(f"key versions run from 1 to {MAX_VERSION}")
    return f"{version}:{generate_master_key()}"


def plan_index_bits(rows: int) -> int:
    """The largest L with rows / 2^L >= 2 (at least two rows per index value), in [8, 64]."""
    return max(MIN_INDEX_BITS, min(MAX_INDEX_BITS, max(int(rows), 1).bit_length() - 2))


_ENTRY = re.compile(r"^(?:(\d{1,3})\s*[:\s]\s*)?(\S+)$")


def parse_keys(text: str, source: str) -> dict[int, bytes]:
    """``<version> <b64>`` / ``<version>:<b64>`` / bare ``<b64>`` (= version 1) entries,
    one per line or separated by commas; ``#`` starts a comment line."""
    keys: dict[int, bytes] = {}
    entries = [
        part.strip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for part in line.split(",")
    ]
    for number, entry in enumerate((e for e in entries if e), start=1):
        match = _ENTRY.match(entry)
        if match is None:
            raise KeyFileInvalid(f"{source}: entry {number} is not '<version> <base64 key>'")
        version = int(match.group(1) or 1)
        if not 1 <= version <= MAX_VERSION:
            raise KeyFileInvalid(f"{source}: key version {version} is not between 1 and {MAX_VERSION}")
        if version in keys:
            raise KeyFileInvalid(f"{source}: key version {version} appears twice")
        try:
            key = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise KeyFileInvalid(f"{source}: key version {version} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise KeyFileInvalid(
                f"{source}: key version {version} holds {len(key)} bytes, expected {KEY_BYTES}"
            )
        keys[version] = key
    if not keys:
        raise KeyFileInvalid(f"{source} holds no key")
    return keys


def format_keys(keys: Mapping[int, bytes]) -> str:
    lines = ["# LinkDesk master keys: <version> <base64>. Keep every version the desk has data under."]
    lines += [f"{v} {base64.b64encode(k).decode('ascii')}" for v, k in sorted(keys.items())]
    return "\n".join(lines) + "\n"


def write_key_file(path: Path, keys: Mapping[int, bytes]) -> None:
    """Replace the key file atomically (a 0600 temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(format_keys(keys))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose).derive(master)


@dataclass(frozen=True)
class _Version:
    """The keys derived from one master key version."""

    aead: AESGCM
    index_key: bytes
    fingerprint: str

    @classmethod
    def derive(cls, master: bytes) -> _Version:
        if len(master) != KEY_BYTES:
            raise ValueError(f"master key must be {KEY_BYTES} bytes")
        check = _derive(master, b"linkdesk key check v1")
        return cls(
            aead=AESGCM(_derive(master, b"linkdesk field encryption v1")),
            index_key=_derive(master, b"linkdesk blind index v1"),
            fingerprint=hmac.new(check, b"linkdesk key fingerprint", hashlib.sha256).hexdigest(),
        )


@dataclass
class _FileWatch:
    path: Path
    stamp: tuple[int, int, int] | None = None
    next_look: float = field(default=0.0)


class KeyRing:
    """The master key versions of a desk and their derived keys.

    Writes go under :meth:`writing_version`: the newest version whose index length is
    known (registered with the desk, see :mod:`linkdesk.server.keys`). With a key file,
    the ring looks at the file again (at most every :data:`RELOAD_INTERVAL`) so that a
    server keeps working, and starts writing under a new version, while
    ``linkdesk keys rotate`` runs. A version it already holds is never replaced.
    """

    def __init__(
        self,
        keys: bytes | Mapping[int, bytes],
        *,
        source: str = "the master key",
        key_file: Path | None = None,
    ) -> None:
        keys = {1: keys} if isinstance(keys, bytes) else dict(keys)
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self.source = source
        self._versions = {v: _Version.derive(k) for v, k in keys.items()}
        self._bits: dict[int, int] = {}
        self._registry: Registry | None = None
        self._next_resolve = 0.0
        self._watch = _FileWatch(Path(key_file)) if key_file is not None else None
        if self._watch is not None:
            self._watch.stamp = _stamp(self._watch.path)
            self._watch.next_look = time.monotonic() + RELOAD_INTERVAL
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, *, master_key: str | None = None, key_file: Path | None = None, create: bool = True
    ) -> KeyRing:
        """From ``master_key`` (LINKDESK_MASTER_KEY) if given, else from ``key_file``,
        which is created (one new version-1 key, mode 0600) if absent and ``create``."""
        if master_key:
            return cls(parse_keys(master_key, "LINKDESK_MASTER_KEY"), source="LINKDESK_MASTER_KEY")
        if key_file is None:
            raise NoKeyConfigured("no master key and no key file configured")
        path = Path(key_file)
        source = f"key file {path}"
        if not path.exists() and not create:
            raise KeyFileMissing(f"the {source} is missing")
        return cls(parse_keys(_read_or_create(path), source), source=source, key_file=path)

    # -- versions ----------------------------------------------------------------------

    @property
    def key_file(self) -> Path | None:
        return self._watch.path if self._watch else None

    @property
    def versions(self) -> list[int]:
        return sorted(self._versions)

    def fingerprint(self, version: int) -> str:
        return self._versions[version].fingerprint

    def index_bits(self, version: int) -> int | None:
        """The index length of ``version``; None while the desk has not registered it."""
        if version in self._bits:
            return self._bits[version]
        return None if self._registry is not None else LEGACY_INDEX_BITS

    def plan(self, version: int, bits: int) -> None:
        """Use ``bits``-bit blind indexes under ``version`` (as registered with the desk)."""
        if not MIN_INDEX_BITS <= bits <= MAX_INDEX_BITS:
            raise ValueError(f"index bits must be in [{MIN_INDEX_BITS}, {MAX_INDEX_BITS}]")
        self._bits[version] = bits

    def attach(self, registry: Registry) -> None:
        """From now on write only under versions the desk's registry knows."""
        self._registry = registry

    def add(self, version: int, master: bytes) -> None:
        with self._lock:
            if version in self._versions:
                if self._versions[version].fingerprint != _Version.derive(master).fingerprint:
                    raise KeyringError(f"key version {version} is already held with another key")
                return
            self._versions = self._versions | {version: _Version.derive(master)}  # readers iterate the old one

    def writing_version(self) -> int:
        """The version new data is sealed and indexed under; take it once per row."""
        self._refresh()
        ready = [v for v in self._versions if self.index_bits(v) is not None]
        if not ready:
            raise KeyringError(f"none of the key versions in {self.source} is registered with this desk")
        return max(ready)

    def _refresh(self) -> None:
        now = time.monotonic()
        changed = False
        if self._watch is not None and now >= self._watch.next_look:
            changed = self._reload_file()
        pending = [v for v in self._versions if v not in self._bits]
        if self._registry is not None and pending and (changed or now >= self._next_resolve):
            self._next_resolve = now + RELOAD_INTERVAL
            for version in pending:  # a version is written under once the desk registered it
                found = self._registry(version)
                if found is not None and found[1] == self._versions[version].fingerprint:
                    self._bits[version] = found[0]

    def _reload_file(self) -> bool:
        """Take new versions from the key file if it changed; True when it did."""
        watch = self._watch
        assert watch is not None
        with self._lock:
            watch.next_look = time.monotonic() + RELOAD_INTERVAL
            stamp = _stamp(watch.path)
            if stamp is None or stamp == watch.stamp:
                return False
            watch.stamp = stamp
            try:
                keys = parse_keys(watch.path.read_text(encoding="ascii", errors="replace"), self.source)
            except (OSError, KeyringError) as exc:
                log.warning("key file not reloaded: %s", exc)
                return False
            versions = dict(self._versions)  # replaced whole: other threads iterate the old one
            for version, master in keys.items():
                derived = _Version.derive(master)
                held = versions.get(version)
                if held is None:
                    versions[version] = derived
                    log.info("key version %d loaded from %s", version, self.source)
                elif held.fingerprint != derived.fingerprint:
                    log.warning("%s now holds another key for version %d: ignored", self.source, version)
            self._versions = versions
            return True

    # -- sealing -----------------------------------------------------------------------

    def encrypt(self, plaintext: str, aad: str, *, version: int | None = None) -> bytes:
        version = self.writing_version() if version is None else version
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._versions[version].aead.encrypt(nonce, plaintext.encode("utf-8"), aad.encode("utf-8"))
        return bytes([version]) + nonce + sealed

    def decrypt(self, blob: bytes, aad: str) -> str:
        if not blob or len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("truncated ciphertext")
        version = blob[0]
        if version not in self._versions and self._watch is not None:
            self._reload_file()  # perhaps a rotation added it meanwhile
        held = self._versions.get(version)
        if held is None:
            raise DecryptionFailed(f"unknown key version {version}")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return held.aead.decrypt(nonce, sealed, aad.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise DecryptionFailed(f"ciphertext does not authenticate under key version {version}") from None

    def blind_index(self, e164: str, *, version: int | None = None) -> str:
        """The index of a number under ``version`` (default: the writing version): the top
        L bits of HMAC-SHA256, as ceil(L/4) hex digits."""
        version = self.writing_version() if version is None else version
        bits = self.index_bits(version)
        if bits is None:
            raise KeyringError(f"key version {version} is not registered with this desk")
        digest = hmac.new(self._versions[version].index_key, e164.encode("ascii"), hashlib.sha256).digest()
        value = int.from_bytes(digest[:8], "big") >> (64 - bits)
        return format(value, f"0{(bits + 3) // 4}x")

    def mac_key(self, label: bytes, version: int) -> bytes:
        """A key for a MAC of its own (``label`` separates uses), derived from ``version``'s
        index key: never stored, so a copy of the database alone cannot test guesses."""
        if version not in self._versions:
            raise KeyringError(f"key version {version} is not held by this keyring")
        return hmac.new(self._versions[version].index_key, label, hashlib.sha256).digest()

    def blind_indexes(self, e164: str) -> list[str]:
        """The number's index under every usable version: what a lookup asks for, so that
        rows sealed before and after a rotation are both found."""
        self._refresh()
        found = {self.blind_index(e164, version=v) for v in self._versions if self.index_bits(v) is not None}
        return sorted(found)


def aad(table: str, column: str, row_id: int) -> str:
    return f"{table}.{column}:{row_id}"


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size, info.st_ino


def _read_or_create(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii", errors="replace")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = format_keys({1: base64.b64decode(generate_master_key())})
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text(encoding="ascii", errors="replace")
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # the umask may have narrowed it further; never wider
    return text
