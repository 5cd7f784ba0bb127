"""The embedded default provider: a number-lifecycle registry kept in the desk's database.

Each number of the registry (``number_lifecycle``) has the dates a carrier keeps —
activated, cancelled, re-issued to a new holder, ported in — its carrier and region,
whether it is a virtual number, its holder's line status and the holder's identity
(name and ID number, sealed like every other personal value). :func:`evaluate` applies
the carriers' rules to such an entry and answers an :class:`IntelReport` of the same
shape the real providers answer:

* **reassigned** (二次放号, as Dytnsapi's ``DescribePhoneTwiceTelVerify``): ``yes`` when
  the reference date is before the number's last assignment to a holder (a re-issue, or
  its first activation); otherwise ``cancelled`` when it is cancelled and not re-issued
  since; otherwise ``no``. A number the registry does not hold is ``unknown``.
* **tenure** (在网时长): whole months from the holder's start — activation, or the last
  re-issue or port-in (a port-in date counts as the opening date) — to the check, in
  the carriers' buckets; unknown for a cancelled number.
* **line status**: the holder's status; a cancelled number is ``empty`` (空号).
* **ported** and **recent port** (a port within :data:`RECENT_PORT_DAYS` days).
* **identity** (三要素): ``match`` / ``mismatch`` against the holder's sealed identity;
  ``not_found`` for a cancelled number or one without a known holder.

Dates after the check are not yet known to the registry: a test or a demo can set them
and move the clock. The registry is read in a worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from linkdesk.domain.intel import (
    Identity,
    IdentityMatch,
    IntelReport,
    IntelUnavailable,
    LineStatus,
    Reassigned,
    Tenure,
)
from linkdesk.server.crypto import DecryptionFailed, KeyRing, aad
from linkdesk.server.tables import LifecycleRow

NAME = "sandbox"
RECENT_PORT_DAYS = 90
TABLE = "number_lifecycle"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Lifecycle:
    """One number's history as the registry keeps it (plain values: server-side only)."""

    activated_at: datetime
    cancelled_at: datetime | None = None
    reissued_at: datetime | None = None
    """The last time the number was issued to a new holder after a cancellation."""
    ported_at: datetime | None = None
    carrier: str | None = None
    region: str | None = None
    virtual: bool = False
    status: LineStatus = LineStatus.NORMAL
    """The current holder's line status."""
    owner_name: str | None = field(default=None, repr=False)
    owner_id_number: str | None = field(default=None, repr=False)


def _known(moment: datetime | None, checked_at: datetime) -> datetime | None:
    """``moment`` if it happened by the check (the registry cannot know the future)."""
    return moment if moment is not None and moment <= checked_at else None


def _whole_months(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def tenure_bucket(months: int) -> Tenure:
    if months < 3:
        return Tenure.UNDER_3M
    if months < 6:
        return Tenure.M3_TO_6
    if months < 12:
        return Tenure.M6_TO_12
    if months < 24:
        return Tenure.M12_TO_24
    return Tenure.OVER_24M


def _same_id(a: str, b: str) -> bool:
    return a.strip().upper() == b.strip().upper()


def evaluate(
    entry: Lifecycle | None,
    *,
    reference_date: date,
    checked_at: datetime,
    identity: Identity | None = None,
) -> IntelReport:
    """What the carriers' rules say of ``entry`` (``None``: a number the registry lacks)."""
    if entry is None:
        return IntelReport(
            provider=NAME, checked_at=checked_at, reference_date=reference_date,
            identity=None if identity is None else IdentityMatch.UNKNOWN,
        )
    activated = entry.activated_at if entry.activated_at <= checked_at else None
    reissued = _known(entry.reissued_at, checked_at)
    cancelled_at = _known(entry.cancelled_at, checked_at)
    ported = _known(entry.ported_at, checked_at)
    cancelled = cancelled_at is not None and (reissued is None or cancelled_at > reissued)
    assigned = max((d for d in (activated, reissued) if d is not None), default=None)

    if assigned is not None and reference_date < assigned.date():
        reassigned = Reassigned.YES
    elif cancelled:
        reassigned = Reassigned.CANCELLED
    elif assigned is None:
        reassigned = Reassigned.UNKNOWN  # not yet issued at the check
    else:
        reassigned = Reassigned.NO

    start = max((d for d in (activated, reissued, ported) if d is not None), default=None)
    if cancelled or start is None:
        tenure = Tenure.UNKNOWN
    else:
        tenure = tenure_bucket(_whole_months(start.date(), checked_at.date()))

    match: IdentityMatch | None = None
    if identity is not None:
        if cancelled or entry.owner_name is None or entry.owner_id_number is None:
            match = IdentityMatch.NOT_FOUND
        elif identity.name.strip() == entry.owner_name.strip() and _same_id(
            identity.id_number, entry.owner_id_number
        ):
            match = IdentityMatch.MATCH
        else:
            match = IdentityMatch.MISMATCH

    return IntelReport(
        provider=NAME,
        checked_at=checked_at,
        reference_date=reference_date,
        line_status=LineStatus.EMPTY if cancelled else entry.status,
        tenure=tenure,
        reassigned=reassigned,
        virtual=entry.virtual,
        ported=ported is not None,
        carrier=entry.carrier,
        region=entry.region,
        recent_port_or_swap=ported is not None and (checked_at - ported).days < RECENT_PORT_DAYS,
        identity=match,
    )


# -- the registry in the database --------------------------------------------------------


def _open(blob: bytes | None, keyring: KeyRing, column: str, row_id: int) -> str | None:
    if blob is None:
        return None
    try:
        return keyring.decrypt(blob, aad(TABLE, column, row_id))
    except DecryptionFailed:
        return None


def _row_of(session: Session, keyring: KeyRing, e164: str) -> LifecycleRow | None:
    rows = session.scalars(
        select(LifecycleRow)
        .where(LifecycleRow.phone_index.in_(keyring.blind_indexes(e164)))
        .order_by(LifecycleRow.id.desc())
    )
    for row in rows:  # the index is a hash: confirm on the plaintext
        if _open(row.phone_enc, keyring, "phone_enc", row.id) == e164:
            return row
    return None


def lookup(session: Session, keyring: KeyRing, e164: str) -> Lifecycle | None:
    """The registry's entry for ``e164``, or None."""
    row = _row_of(session, keyring, e164)
    if row is None:
        return None
    try:
        status = LineStatus(row.status)
    except ValueError:
        status = LineStatus.UNKNOWN
    return Lifecycle(
        activated_at=row.activated_at,
        cancelled_at=row.cancelled_at,
        reissued_at=row.reissued_at,
        ported_at=row.ported_at,
        carrier=row.carrier,
        region=row.region,
        virtual=bool(row.virtual),
        status=status,
        owner_name=_open(row.owner_name_enc, keyring, "owner_name_enc", row.id),
        owner_id_number=_open(row.owner_id_number_enc, keyring, "owner_id_number_enc", row.id),
    )


def row_values(keyring: KeyRing, row_id: int, e164: str, entry: Lifecycle, version: int) -> dict[str, Any]:
    """Every column of a registry row, sealed under ``version`` for row ``row_id``."""

    def seal(value: str | None, column: str) -> bytes | None:
        return None if value is None else keyring.encrypt(value, aad(TABLE, column, row_id), version=version)

    return {
        "id": row_id,
        "phone_enc": seal(e164, "phone_enc"),
        "phone_index": keyring.blind_index(e164, version=version),
        "activated_at": entry.activated_at,
        "cancelled_at": entry.cancelled_at,
        "reissued_at": entry.reissued_at,
        "ported_at": entry.ported_at,
        "carrier": entry.carrier,
        "region": entry.region,
        "virtual": entry.virtual,
        "status": str(entry.status),
        "owner_name_enc": seal(entry.owner_name, "owner_name_enc"),
        "owner_id_number_enc": seal(entry.owner_id_number, "owner_id_number_enc"),
        "key_version": version,
    }


def register(session: Session, keyring: KeyRing, e164: str, entry: Lifecycle) -> int:
    """Put ``entry`` in the registry for ``e164`` (replacing what it held); stages the
    write, the caller commits. Returns the row id."""
    version = keyring.writing_version()
    row = _row_of(session, keyring, e164)
    if row is None:
        row_id = session.execute(
            insert(LifecycleRow)
            .values(phone_index=keyring.blind_index(e164, version=version), activated_at=entry.activated_at,
                    status=str(entry.status), virtual=entry.virtual, key_version=version)
            .returning(LifecycleRow.id)
        ).scalar_one()
    else:
        row_id = row.id
    values = row_values(keyring, row_id, e164, entry, version)
    del values["id"]
    session.execute(
        update(LifecycleRow).where(LifecycleRow.id == row_id).values(**values)
        .execution_options(synchronize_session=False)
    )
    return row_id


def change(session: Session, keyring: KeyRing, e164: str, **changes: Any) -> Lifecycle:
    """Change some fields of a number's entry (e.g. ``cancelled_at=…``); the caller commits."""
    entry = lookup(session, keyring, e164)
    if entry is None:
        raise KeyError("the number is not in the registry")
    entry = replace(entry, **changes)
    register(session, keyring, e164, entry)
    return entry


class SandboxProvider:
    """:class:`~linkdesk.intel.base.IntelProvider` over the registry."""

    name = NAME

    def __init__(
        self,
        session_factory: sessionmaker[Session] | Engine,
        keyring: KeyRing,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if isinstance(session_factory, Engine):
            session_factory = sessionmaker(session_factory, expire_on_commit=False)
        self._sessions = session_factory
        self._keyring = keyring
        self._clock = clock

    def __repr__(self) -> str:
        return "SandboxProvider()"

    async def check(
        self, e164: str, *, reference_date: date, identity: Identity | None = None
    ) -> IntelReport:
        return await anyio.to_thread.run_sync(self._check, e164, reference_date, identity)

    def _check(self, e164: str, reference_date: date, identity: Identity | None) -> IntelReport:
        try:
            with self._sessions() as session:
                entry = lookup(session, self._keyring, e164)
        except SQLAlchemyError as exc:
            raise IntelUnavailable(self.name, f"the registry cannot be read ({type(exc).__name__})") from None
        return evaluate(entry, reference_date=reference_date, checked_at=self._clock(), identity=identity)

    async def aclose(self) -> None:
        return None
