"""Key rotation: a new key version, then every sealed value re-encrypted under it.

The work goes in short batches ordered by id, one transaction each, so the desk keeps
answering, and a rotation stopped half-way (Ctrl-C, a crash) resumes where it stopped:
rows carry their ``key_version``. Lookups meanwhile ask for a number's blind index
under every version (:meth:`KeyRing.blind_indexes`). A row is only rewritten if it
still holds the ciphertexts that were read, so a concurrent change is never undone;
servers that wrote under the old version meanwhile are caught by scanning again.
Values that do not decrypt are left as they are and reported.

Borrowers' data (:mod:`linkdesk.server.data_keys`): values already under a borrower's data
key are not re-encrypted — only their blind index is recomputed, and the data keys
themselves (``borrower_keys``) are re-wrapped like any sealed value, which is cheap.
Legacy values of a borrower still under a master key move under the borrower's data key
(made on the way if they have none): after a rotation every borrower's data is shreddable.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlalchemy.orm import Session

from linkdesk.domain.audit import AuditAction
from linkdesk.server import audit, keys
from linkdesk.server.crypto import (
    MAX_VERSION,
    RELOAD_INTERVAL,
    DecryptionFailed,
    KeyRing,
    KeyringError,
    aad,
    parse_keys,
    plan_index_bits,
    write_key_file,
)
from linkdesk.server.data_keys import OWNER_COLUMN, DataKeys, is_under_data_key
from linkdesk.server.tables import DeskKeyRow

BATCH_SIZE = 500
MAX_PASSES = 10
AUDIT_TARGET = "desk.keys"


class RotationRefused(KeyringError):
    """There is nothing to rotate to (a LINKDESK_MASTER_KEY desk needs a new version first)."""


@dataclass(frozen=True)
class Failure:
    table: str
    row_id: int
    column: str
    problem: str


@dataclass
class Plan:
    target: int
    previous: int | None
    pending: int
    added: bool
    """True when this run made the new version (else it resumes a rotation)."""


@dataclass
class Result:
    target: int
    rows: int = 0
    failures: list[Failure] = field(default_factory=list)
    left: int = 0
    """Rows still under older versions that are not failures (written meanwhile by a
    server that does not hold the new key, or interrupted)."""
    finished: bool = False


def _utcnow() -> datetime:
    return datetime.now(UTC)


def pending_rows(conn: Connection, target: int) -> int:
    return sum(
        conn.scalar(select(func.count()).select_from(table).where(table.key_version < target)) or 0
        for table, _ in keys.SEALED.values()
    )


def begin(
    engine: Engine,
    keyring: KeyRing,
    *,
    planning_rows: int = keys.DEFAULT_PLANNING_ROWS,
    grace: float = RELOAD_INTERVAL + 0.5,
    now: Callable[[], datetime] = _utcnow,
) -> Plan:
    """Resume a rotation that left rows under older versions, or start one: with a key
    file, a new version is registered, added to the file, and — after ``grace`` seconds,
    the time running servers take to notice the file changed — becomes the target."""
    target = keyring.writing_version()
    with engine.connect() as conn:
        pending = pending_rows(conn, target)
        in_use = keys.versions_in_use(conn)
        registered = set(conn.scalars(select(DeskKeyRow.version)))
    if pending:
        return Plan(target, max((v for v in in_use if v < target), default=None), pending, added=False)
    if keyring.key_file is None:
        raise RotationRefused(
            f"every row is already under key version {target}, the newest in {keyring.source}: "
            f"add a version {target + 1} to it first (`linkdesk keys generate` prints one), "
            "give the servers the new value and restart them, then run `linkdesk keys rotate`"
        )
    version = max(registered | set(keyring.versions)) + 1
    if version > MAX_VERSION:
        raise RotationRefused(f"key versions end at {MAX_VERSION}")
    master = os.urandom(32)
    keyring.add(version, master)
    # Registered before it appears in the file, so a server that reads the file can
    # write under it at once; a crash in between leaves a version nothing is under.
    with Session(engine) as session, session.begin():
        conn = session.connection()
        bits = plan_index_bits(max(keys.numbers_count(conn), planning_rows))
        keys.register(conn, keyring, version, bits, now())
        rows = pending_rows(conn, version)
        audit.append(
            session, at=now(), actor=audit.cli_actor(), action=AuditAction.KEY_ROTATION,
            target=AUDIT_TARGET, detail={"from": target, "to": version, "rows": rows, "step": "new key"},
        )
    path = keyring.key_file
    on_file = parse_keys(path.read_text(encoding="ascii", errors="replace"), keyring.source)
    write_key_file(path, on_file | {version: master})
    if grace > 0:
        time.sleep(grace)  # no running server can be told; they look at the file this often
    return Plan(version, target, rows, added=True)


def rotate(
    engine: Engine,
    keyring: KeyRing,
    target: int,
    *,
    previous: int | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> Result:
    """Re-encrypt every row under a version older than ``target``; ``max_batches`` stops
    early (the next call resumes). Scans again while servers keep writing old rows."""
    result = Result(target)
    failed: set[tuple[str, int]] = set()
    batches = 0
    with engine.connect() as conn:
        total = pending_rows(conn, target)
    for _ in range(MAX_PASSES):
        moved = 0
        for name, (table, columns) in keys.SEALED.items():
            with engine.connect() as conn:
                versions = sorted(
                    conn.scalars(select(table.key_version).where(table.key_version < target).distinct())
                )
            for version in versions:
                last = 0
                while True:
                    if max_batches is not None and batches >= max_batches:
                        return _left(engine, result, failed)
                    owner = OWNER_COLUMN.get(name)
                    extra = [getattr(table, owner)] if owner and owner != "id" else []
                    with engine.begin() as conn:
                        rows = conn.execute(
                            select(table.id, *(getattr(table, c) for c in columns), *extra)
                            .where(table.key_version == version, table.id > last)
                            .order_by(table.id)
                            .limit(batch_size)
                        ).all()
                        if not rows:
                            break
                        last = rows[-1][0]
                        done = _rotate_rows(conn, keyring, name, table, columns, rows, version, target, result, failed)
                    batches += 1
                    moved += done
                    result.rows += done
                    if on_progress:
                        total = max(total, result.rows)
                        on_progress(result.rows, total)
        _left(engine, result, failed)
        if result.left == 0 or moved == 0:
            break
        total = result.rows + result.left
    result.finished = result.left == 0
    with Session(engine) as session, session.begin():
        audit.append(
            session, at=now(), actor=audit.cli_actor(), action=AuditAction.KEY_ROTATION,
            target=AUDIT_TARGET,
            detail={"from": previous, "to": target, "rows": result.rows, "step": "re-encrypted",
                    "failed": len(result.failures), "left": result.left},
        )
    return result


def _left(engine: Engine, result: Result, failed: set[tuple[str, int]]) -> Result:
    with engine.connect() as conn:
        result.left = max(0, pending_rows(conn, result.target) - len(failed))
    return result


def _rotate_rows(
    conn: Connection, keyring: KeyRing, name: str, table: Any, columns: tuple[str, ...],
    rows: list[Any], version: int, target: int, result: Result, failed: set[tuple[str, int]],
) -> int:
    """Re-seal one batch with one prepared UPDATE run for every row (``executemany``):
    building a statement per row cost ten times the cryptography. A row is rewritten only
    if it still holds the ciphertexts that were read, so a concurrent edit is never undone."""
    params = []
    owner = OWNER_COLUMN.get(name)
    data_keys = DataKeys(keyring, conn)
    owners = {row[0] if owner == "id" else row[1 + len(columns)] for row in rows} if owner else set()
    owners.discard(None)
    if owners:  # one query for the batch's data keys, not one per borrower
        data_keys.preload(sorted(owners))
    for row in rows:
        row_id, blobs = row[0], dict(zip(columns, row[1 : 1 + len(columns)], strict=True))
        borrower_id = row_id if owner == "id" else (row[1 + len(columns)] if owner else None)
        if (name, row_id) in failed:
            continue
        values: dict[str, Any] = {"b_id": row_id}
        problems = []
        for column, blob in blobs.items():
            values[f"old_{column}"] = blob
            values[f"new_{column}"] = blob
            if blob is None:
                continue
            where = aad(name, column, row_id)
            try:
                plain = data_keys.open(blob, where)
                if is_under_data_key(blob):
                    pass  # the data key is re-wrapped instead (its borrower_keys row)
                elif borrower_id is not None:
                    data_keys.ensure(borrower_id, version=target)
                    values[f"new_{column}"] = data_keys.seal(borrower_id, plain, where)
                else:
                    values[f"new_{column}"] = keyring.encrypt(plain, where, version=target)
            except DecryptionFailed as exc:
                problems.append(Failure(name, row_id, column, str(exc)))
                continue
            if column == "phone_enc":
                values["new_phone_index"] = keyring.blind_index(plain, version=target)
        if problems:
            failed.add((name, row_id))
            result.failures.extend(problems)
            continue
        params.append(values)
    if not params:
        return 0
    phone = "phone_enc" in columns
    without_number = [p for p in params if phone and p["old_phone_enc"] is None]
    with_number = [p for p in params if not (phone and p["old_phone_enc"] is None)]
    done = 0
    for batch, reindex in ((with_number, phone), (without_number, False)):
        if batch:
            done += conn.execute(_reseal(table, columns, version, target, reindex=reindex), batch).rowcount
    return done


def _reseal(table: Any, columns: tuple[str, ...], version: int, target: int, *, reindex: bool) -> Any:
    values: dict[str, Any] = {"key_version": target}
    values |= {column: bindparam(f"new_{column}") for column in columns}
    if reindex:
        values["phone_index"] = bindparam("new_phone_index")
    unchanged = [table.id == bindparam("b_id"), table.key_version == version] + [
        getattr(table, column).is_not_distinct_from(bindparam(f"old_{column}")) for column in columns
    ]
    return update(table).where(*unchanged).values(**values).execution_options(synchronize_session=False)
