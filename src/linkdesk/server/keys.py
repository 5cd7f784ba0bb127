"""The desk's key registry (``desk_keys``): the check at start, registering versions, status.

Every key version a desk writes under is registered with its fingerprint (an HMAC of a
fixed label under a key derived from it, never the key) and the blind index length
planned for it. At start, :func:`open_keyring` compares the configured keys with the
registry and refuses — before anything is written — a key that is not the desk's, a
keyring that lacks a version the desk has data under, and a desk whose key file is
gone (it is not recreated: a new key would seal new data that nothing else opens).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from linkdesk.server.crypto import (
    LEGACY_INDEX_BITS,
    DecryptionFailed,
    KeyFileMissing,
    KeyRing,
    KeyringError,
    aad,
    plan_index_bits,
)
from linkdesk.server.settings import ServerSettings
from linkdesk.server.tables import (
    BindingRow,
    BorrowerKeyRow,
    BorrowerRow,
    CaseRow,
    DeskKeyRow,
    DoNotContactRow,
    LifecycleRow,
    MaskedCallRow,
    RebindRow,
    SmsOutboxRow,
)

log = logging.getLogger("linkdesk.keys")

SEALED: dict[str, tuple[Any, tuple[str, ...]]] = {
    "borrowers": (BorrowerRow, ("name_enc", "id_number_enc")),
    "phone_bindings": (BindingRow, ("phone_enc",)),
    "cases": (CaseRow, ("phone_enc",)),
    "number_lifecycle": (LifecycleRow, ("phone_enc", "owner_name_enc", "owner_id_number_enc")),
    "do_not_contact": (DoNotContactRow, ("phone_enc",)),
    "borrower_keys": (BorrowerKeyRow, ("wrapped_key",)),
    "rebinds": (RebindRow, ("phone_enc",)),
    "sms_outbox": (SmsOutboxRow, ("phone_enc",)),
    "masked_calls": (MaskedCallRow, ("agent_line_enc",)),
}
"""Every table with sealed columns; a ``phone_enc`` column has a ``phone_index`` beside it.
Values under a borrower's data key (version byte 0, :mod:`linkdesk.server.data_keys`) are
not under any master version; their row's ``key_version`` is the version of its index."""
DEFAULT_PLANNING_ROWS = ServerSettings.model_fields["index_planning_rows"].default


class WrongKey(KeyringError):
    """The configured key is not the one the desk was written with."""


class MissingKeyVersion(KeyringError):
    """The desk has data under a key version the keyring does not hold."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def open_keyring(engine: Engine, settings: ServerSettings, keyring: KeyRing | None = None) -> KeyRing:
    """The settings' keyring (or ``keyring``), checked against the desk: what a server
    may write with. Raises a :class:`KeyringError` with a message for the operator."""
    if keyring is None:
        keyring = _load(engine, settings)
    check(engine, keyring, planning_rows=settings.index_planning_rows)
    return keyring


def _load(engine: Engine, settings: ServerSettings) -> KeyRing:
    if settings.master_key:
        return KeyRing.load(master_key=settings.master_key)
    with engine.connect() as conn:
        registered = sorted(conn.scalars(select(DeskKeyRow.version)))
        sealed = not registered and _has_sealed_data(conn)
    try:
        return KeyRing.load(key_file=settings.key_file, create=not (registered or sealed))
    except KeyFileMissing:
        under = f"key version {_versions_text(registered)}" if registered else "a key"
        raise KeyFileMissing(
            f"the key file {settings.key_file} is missing, and this desk holds data sealed "
            f"under {under}: restore that file (or set LINKDESK_MASTER_KEY). A new key would "
            "not open the data, so none was made."
        ) from None


def check(
    engine: Engine,
    keyring: KeyRing,
    *,
    planning_rows: int = DEFAULT_PLANNING_ROWS,
    now: datetime | None = None,
) -> None:
    """Compare ``keyring`` with the registry, register the versions new to the desk, and
    set the keyring's index lengths. Raises :class:`WrongKey` / :class:`MissingKeyVersion`."""
    for attempt in range(2):
        try:
            with engine.begin() as conn:
                planned = _check(conn, keyring, planning_rows, now or _utcnow())
            break
        except IntegrityError:  # another process registered the same version meanwhile
            if attempt:
                raise
    for version, bits in planned.items():
        keyring.plan(version, bits)
    keyring.attach(_registry(engine))


def _check(conn: Connection, keyring: KeyRing, planning_rows: int, now: datetime) -> dict[int, int]:
    registered = {row.version: row for row in conn.execute(select(DeskKeyRow))}
    in_use = versions_in_use(conn)
    planned: dict[int, int] = {}
    for version, row in sorted(registered.items()):
        if version in keyring.versions:
            if keyring.fingerprint(version) != row.fingerprint:
                raise WrongKey(
                    f"the key in {keyring.source} is not the key this desk was written with "
                    f"(version {version})"
                )
            planned[version] = row.index_bits
        elif version in in_use:
            raise _missing(keyring, version)
    for version in sorted(in_use - registered.keys()):
        # Sealed before the desk kept a registry (or by a keyring never checked): prove the
        # key on a few values, and keep the index length such keyrings used.
        if version not in keyring.versions:
            raise _missing(keyring, version)
        if not _opens_sample(conn, keyring, version):
            raise WrongKey(
                f"the key in {keyring.source} is not the key this desk was written with "
                f"(version {version}: its data does not decrypt)"
            )
        _register(conn, keyring, version, LEGACY_INDEX_BITS, now)
        planned[version] = LEGACY_INDEX_BITS
    new = [v for v in keyring.versions if v not in registered and v not in in_use]
    if new:
        bits = plan_index_bits(max(numbers_count(conn), planning_rows))
        for version in new:
            _register(conn, keyring, version, bits, now)
            planned[version] = bits
    return planned


def _missing(keyring: KeyRing, version: int) -> MissingKeyVersion:
    return MissingKeyVersion(
        f"this desk has data under key version {version}, which {keyring.source} does not "
        "hold: put that version back beside the newer ones"
    )


def register(conn: Connection, keyring: KeyRing, version: int, bits: int, now: datetime) -> None:
    """Register a version the keyring holds (a rotation's new key) and use it."""
    _register(conn, keyring, version, bits, now)
    keyring.plan(version, bits)


def _register(conn: Connection, keyring: KeyRing, version: int, bits: int, now: datetime) -> None:
    conn.execute(
        insert(DeskKeyRow).values(
            version=version, fingerprint=keyring.fingerprint(version), index_bits=bits, created_at=now
        )
    )
    log.info("key version %d registered (%d-bit blind index)", version, bits)


def _registry(engine: Engine):  # type: ignore[no-untyped-def]
    def lookup(version: int) -> tuple[int, str] | None:
        try:
            with engine.connect() as conn:
                row = conn.execute(
                    select(DeskKeyRow.index_bits, DeskKeyRow.fingerprint).where(DeskKeyRow.version == version)
                ).first()
        except SQLAlchemyError as exc:
            log.warning("key registry not read: %s", exc)
            return None
        return (row.index_bits, row.fingerprint) if row else None

    return lookup


def _opens_sample(conn: Connection, keyring: KeyRing, version: int, sample: int = 3) -> bool:
    """True when one of the first few values sealed under ``version`` decrypts (or none exists):
    a tampered row does not stop the desk, a wrong key fails them all."""
    tried = 0
    for table_name, (table, columns) in SEALED.items():
        for column in columns:
            col = getattr(table, column)
            rows = conn.execute(
                select(table.id, col).where(table.key_version == version, col.is_not(None))
                .order_by(table.id).limit(sample)
            )
            for row_id, blob in rows:
                if blob[:1] == b"\x00":  # under a borrower's data key, not a master version
                    continue
                tried += 1
                try:
                    keyring.decrypt(blob, aad(table_name, column, row_id))
                    return True
                except DecryptionFailed:
                    continue
    return tried == 0


def versions_in_use(conn: Connection) -> set[int]:
    """The key versions rows are under, by index seeks on ``(key_version, id)``."""
    found: set[int] = set()
    for table, _ in SEALED.values():
        version = conn.scalar(select(func.min(table.key_version)))
        while version is not None:
            found.add(version)
            version = conn.scalar(select(func.min(table.key_version)).where(table.key_version > version))
    return found


def numbers_count(conn: Connection) -> int:
    """The rows that carry a blind index: what its length is planned for."""
    return sum(
        conn.scalar(select(func.count()).select_from(table)) or 0
        for table in (BindingRow, CaseRow, LifecycleRow, DoNotContactRow)
    )


def _has_sealed_data(conn: Connection) -> bool:
    return any(
        conn.scalar(select(table.id).limit(1)) is not None for table in (BorrowerRow, BindingRow)
    ) or conn.scalar(select(CaseRow.id).where(CaseRow.phone_enc.is_not(None)).limit(1)) is not None


def _versions_text(versions: Iterable[int]) -> str:
    return ", ".join(str(v) for v in versions)


# -- status -----------------------------------------------------------------------------


@dataclass
class VersionStatus:
    version: int
    fingerprint: str | None
    """As registered (or as held, for a version the desk does not know yet)."""
    index_bits: int | None
    registered: bool
    held: bool
    matches: bool | None
    """Whether the held key is the registered one (None when either side lacks it)."""
    rows: dict[str, int] = field(default_factory=dict)
    writing: bool = False


def status(conn: Connection, keyring: KeyRing | None) -> list[VersionStatus]:
    """Every version the desk or the keyring knows, with row counts; changes nothing."""
    registered = {row.version: row for row in conn.execute(select(DeskKeyRow))}
    counts: dict[int, dict[str, int]] = {}
    for name, (table, _) in SEALED.items():
        for version, n in conn.execute(
            select(table.key_version, func.count()).group_by(table.key_version)
        ):
            counts.setdefault(version, {})[name] = n
    held = set(keyring.versions) if keyring else set()
    writing = max((v for v in held if v in registered), default=None)
    out = []
    for version in sorted(registered.keys() | held | counts.keys()):
        row = registered.get(version)
        mine = keyring.fingerprint(version) if keyring and version in held else None
        out.append(
            VersionStatus(
                version=version,
                fingerprint=row.fingerprint if row else mine,
                index_bits=row.index_bits if row else None,
                registered=row is not None,
                held=version in held,
                matches=None if row is None or mine is None else mine == row.fingerprint,
                rows={name: counts.get(version, {}).get(name, 0) for name in SEALED},
                writing=version == writing,
            )
        )
    return out
