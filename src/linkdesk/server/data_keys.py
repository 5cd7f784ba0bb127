"""Per-borrower data keys (envelope encryption), the basis of erasure by crypto-shredding.

Each borrower has a random 256-bit data key, kept in ``borrower_keys`` wrapped (sealed)
by the master :class:`KeyRing` under ``aad("borrower_keys", "wrapped_key", borrower_id)``.
Everything personal that belongs to the borrower is sealed under that key, with the same
row-bound associated data as before. Such a ciphertext describes itself::

    0x00 | borrower id (8 bytes, big-endian) | nonce (12) | AES-256-GCM ciphertext + tag

Master-key ciphertexts start with their key version (1–255), so version byte 0 is free:
values sealed before data keys existed still open (:func:`open_sealed` passes them to the
keyring). Blind indexes stay under the master keys (a lookup cannot know the borrower).

Erasure overwrites the wrapped key with NULL: from then on every value under it, wherever
it was copied in this database, fails to open. Unwrapped keys are cached only inside one
:class:`DataKeys` (one request, one rotation batch), never process-wide, so an erasure
takes effect at once in every server process.
"""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from linkdesk.server.crypto import KEY_BYTES, NONCE_BYTES, TAG_BYTES, DecryptionFailed, KeyRing, aad
from linkdesk.server.tables import BorrowerKeyRow

DATA_KEY_VERSION = 0
"""The reserved version byte of a value sealed under its borrower's data key."""
_ID_BYTES = 8
_HEADER = 1 + _ID_BYTES
TABLE = "borrower_keys"

OWNER_COLUMN = {"borrowers": "id", "phone_bindings": "borrower_id", "cases": "borrower_id"}
"""The sealed tables whose rows belong to a borrower, and the column naming the borrower."""

Bind = Session | Connection


class Erased(DecryptionFailed):
    """The borrower was erased: their data key is destroyed, nothing of theirs opens."""


class NoDataKey(DecryptionFailed):
    """The value names a borrower that has no data key in this desk."""


def is_under_data_key(blob: bytes | None) -> bool:
    return bool(blob) and blob[0] == DATA_KEY_VERSION  # type: ignore[index]


def owner_of(blob: bytes) -> int:
    """The borrower id a data-key ciphertext names."""
    if len(blob) < _HEADER + NONCE_BYTES + TAG_BYTES or blob[0] != DATA_KEY_VERSION:
        raise DecryptionFailed("not a data-key ciphertext")
    return int.from_bytes(blob[1:_HEADER], "big")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _wrap_aad(borrower_id: int) -> str:
    return aad(TABLE, "wrapped_key", borrower_id)


class DataKeys:
    """The data keys used during one unit of work (a request, a batch): unwrapped on first
    use and kept only as long as this object. ``bind`` is the session or connection whose
    transaction reads and writes ``borrower_keys`` (None: :meth:`issue` only, for seeding)."""

    def __init__(self, keyring: KeyRing, bind: Bind | None = None) -> None:
        self.keyring = keyring
        self.bind = bind
        self._keys: dict[int, AESGCM | None] = {}  # None: erased
        self.issued: list[dict[str, Any]] = []
        """The rows :meth:`issue` made, for a bulk insert."""

    # -- keys ----------------------------------------------------------------------------

    def issue(self, borrower_id: int, *, version: int | None = None, now: datetime | None = None) -> dict[str, Any]:
        """A new data key for ``borrower_id``, held here; returns the ``borrower_keys`` row
        to insert (in the same transaction, after the borrower's row)."""
        key = os.urandom(KEY_BYTES)
        version = self.keyring.writing_version() if version is None else version
        wrapped = self.keyring.encrypt(
            base64.b64encode(key).decode("ascii"), _wrap_aad(borrower_id), version=version
        )
        self._keys[borrower_id] = AESGCM(key)
        row = {"id": borrower_id, "wrapped_key": wrapped, "key_version": version,
               "created_at": now or _utcnow(), "shredded_at": None}
        self.issued.append(row)
        return row

    def ensure(self, borrower_id: int, *, version: int | None = None, now: datetime | None = None) -> None:
        """Give ``borrower_id`` a data key unless they have one (or were erased: raises)."""
        if self._load(borrower_id) is not None:
            return
        if borrower_id in self._keys:  # loaded as erased
            raise Erased(f"B-{borrower_id:06d} was erased")
        row = self.issue(borrower_id, version=version, now=now)
        self._keys.pop(borrower_id)
        self._insert_if_absent(row)
        if self._load(borrower_id, fresh=True) is None:
            raise Erased(f"B-{borrower_id:06d} was erased")

    def _insert_if_absent(self, row: dict[str, Any]) -> None:
        bind = self._bind()
        dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        # two processes may give one borrower a key at once: the first one wins, both use it
        bind.execute(module.insert(BorrowerKeyRow.__table__).values(**row).on_conflict_do_nothing())

    def preload(self, borrower_ids: list[int] | None = None) -> None:
        """Unwrap many keys with one query (bulk work); all of them when ``borrower_ids`` is None."""
        query = select(BorrowerKeyRow.id, BorrowerKeyRow.wrapped_key)
        if borrower_ids is not None:
            query = query.where(BorrowerKeyRow.id.in_(borrower_ids))
        for borrower_id, wrapped in self._bind().execute(query):
            self._keys[borrower_id] = self._unwrap(borrower_id, wrapped)

    def _load(self, borrower_id: int, *, fresh: bool = False) -> AESGCM | None:
        if borrower_id in self._keys and not fresh:
            return self._keys[borrower_id]
        row = self._bind().execute(
            select(BorrowerKeyRow.wrapped_key).where(BorrowerKeyRow.id == borrower_id)
        ).first()
        if row is None:
            self._keys.pop(borrower_id, None)
            return None
        self._keys[borrower_id] = self._unwrap(borrower_id, row[0])
        return self._keys[borrower_id]

    def _unwrap(self, borrower_id: int, wrapped: bytes | None) -> AESGCM | None:
        if wrapped is None:
            return None
        key = base64.b64decode(self.keyring.decrypt(wrapped, _wrap_aad(borrower_id)))
        return AESGCM(key)

    def _bind(self) -> Bind:
        if self.bind is None:
            raise RuntimeError("these data keys have no database to read from")
        return self.bind

    def is_erased(self, borrower_id: int) -> bool:
        return self._load(borrower_id) is None and borrower_id in self._keys

    def shred(self, borrower_id: int, now: datetime) -> None:
        """Destroy the borrower's data key (in the caller's transaction): the wrapped key is
        overwritten with NULL. A borrower with no key yet gets a destroyed one, so that
        nothing is ever sealed for them again."""
        bind = self._bind()
        result = bind.execute(
            update(BorrowerKeyRow).where(BorrowerKeyRow.id == borrower_id)
            .values(wrapped_key=None, shredded_at=now).execution_options(synchronize_session=False)
        )
        if result.rowcount == 0:
            self._insert_if_absent({"id": borrower_id, "wrapped_key": None, "key_version": 1,
                                    "created_at": now, "shredded_at": now})
        self._keys[borrower_id] = None

    # -- values --------------------------------------------------------------------------

    def seal(self, borrower_id: int, plaintext: str, where: str) -> bytes:
        """``plaintext`` under the borrower's data key (made if they have none)."""
        key = self._keys.get(borrower_id) if borrower_id in self._keys else None
        if key is None:
            if borrower_id in self._keys:
                raise Erased(f"B-{borrower_id:06d} was erased")
            self.ensure(borrower_id)
            key = self._keys[borrower_id]
            assert key is not None
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.encrypt(nonce, plaintext.encode("utf-8"), where.encode("utf-8"))
        return bytes([DATA_KEY_VERSION]) + borrower_id.to_bytes(_ID_BYTES, "big") + nonce + sealed

    def open(self, blob: bytes, where: str) -> str:
        """A sealed value in clear, whichever key it is under; :class:`Erased` when its
        borrower's key was destroyed."""
        if not is_under_data_key(blob):
            return self.keyring.decrypt(blob, where)
        borrower_id = owner_of(blob)
        key = self._keys[borrower_id] if borrower_id in self._keys else self._load(borrower_id)
        if key is None:
            if borrower_id in self._keys:
                raise Erased(f"the data key of B-{borrower_id:06d} was destroyed (erased)")
            raise NoDataKey(f"B-{borrower_id:06d} has no data key in this desk")
        nonce, sealed = blob[_HEADER : _HEADER + NONCE_BYTES], blob[_HEADER + NONCE_BYTES :]
        try:
            return key.decrypt(nonce, sealed, where.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise DecryptionFailed(f"ciphertext does not authenticate under the data key of "
                                   f"B-{borrower_id:06d}") from None


# -- the one-call forms other modules use ---------------------------------------------------


def seal_for(bind: Bind, keyring: KeyRing, borrower_id: int | None, plaintext: str, where: str,
             *, version: int | None = None) -> bytes:
    """Seal a value: under its borrower's data key, or (no borrower) under the master key
    ``version``. Every borrower-owned value is sealed through here or :class:`DataKeys`."""
    if borrower_id is None:
        return keyring.encrypt(plaintext, where, version=version)
    return DataKeys(keyring, bind).seal(borrower_id, plaintext, where)


def open_sealed(bind: Bind, keyring: KeyRing, blob: bytes, where: str) -> str:
    """Open a sealed value, under a data key or the master key (legacy)."""
    if not is_under_data_key(blob):
        return keyring.decrypt(blob, where)
    return DataKeys(keyring, bind).open(blob, where)
