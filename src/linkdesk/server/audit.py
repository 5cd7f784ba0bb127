"""The audit chain in the database: append (inside the caller's transaction), list, walk.

``append`` locks the chain's head row with ``UPDATE … RETURNING`` before it reads it,
so appends are serialised on PostgreSQL (row lock) and SQLite (the write lock) alike,
and a record commits or rolls back with the change it records.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from linkdesk.domain.audit import GENESIS_HASH, AuditAction, AuditRecord, canonical, chain_hash
from linkdesk.domain.paging import Page
from linkdesk.server import cursors
from linkdesk.server.tables import AuditHeadRow, AuditRow


def cli_actor() -> str:
    """The actor of an administrator's command run on the server's machine."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


_HEAD = AuditHeadRow.__table__
_RECORDS = AuditRow.__table__
# Built once: building a statement per call (and its cache key) cost twenty times the
# chain's own work. Core statements on the tables, run on the session's connection.
_ADVANCE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq + 1).returning(_HEAD.c.seq, _HEAD.c.hash)
)
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(hash=bindparam("head_hash"))
_INSERT_RECORD = insert(_RECORDS)


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: AuditAction,
    target: str,
    case: str | None = None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditRecord:
    """Stage one record; it commits with the caller's transaction."""
    detail = dict(detail or {})
    connection = session.connection()
    seq, prev_hash = connection.execute(_ADVANCE_HEAD).one()
    encoded = canonical(
        seq=seq, at=at, actor=actor, action=action, target=target, case=case,
        reason=reason, detail=detail,
    )
    record = AuditRecord(
        seq=seq, at=at, actor=actor, action=action, target=target, case=case,
        reason=reason, detail=detail, prev_hash=prev_hash, hash=chain_hash(prev_hash, encoded),
    )
    connection.execute(_SET_HEAD_HASH, {"head_hash": record.hash})
    connection.execute(
        _INSERT_RECORD,
        {
            "seq": seq, "at": at, "actor": actor, "action": str(action), "target": target,
            "case_ref": case, "reason": reason, "detail": detail, "prev_hash": prev_hash,
            "hash": record.hash,
        },
    )
    return record


def to_record(row: AuditRow) -> AuditRecord:
    """As stored, unvalidated: a tampered row (an unknown action) is shown, not a 500."""
    return AuditRecord.model_construct(
        seq=row.seq, at=row.at, actor=row.actor, action=_action(row.action), target=row.target,
        case=row.case_ref, reason=row.reason, detail=row.detail if row.detail is not None else {},
        prev_hash=row.prev_hash, hash=row.hash,
    )


def list_records(
    session: Session,
    *,
    actor: str | None = None,
    action: AuditAction | None = None,
    case: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> Page[AuditRecord]:
    """Newest first, keyset pages on ``seq``."""
    stmt = select(AuditRow)
    if actor:
        stmt = stmt.where(AuditRow.actor == actor)
    if action:
        stmt = stmt.where(AuditRow.action == str(action))
    if case:
        stmt = stmt.where(AuditRow.case_ref == case)
    if since:
        stmt = stmt.where(AuditRow.at >= since)
    if until:
        stmt = stmt.where(AuditRow.at < until)
    filters = cursors.fingerprint(
        {"actor": actor, "action": action, "case": case, "since": since, "until": until}
    )
    if cursor:
        payload = cursors.decode(cursor, sort="audit", filters=filters)
        stmt = stmt.where(AuditRow.seq < payload["i"])
    rows = list(session.scalars(stmt.order_by(AuditRow.seq.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode({"s": "audit", "f": filters, "i": rows[-1].seq})
    return Page[AuditRecord](items=[to_record(row) for row in rows], next_cursor=next_cursor)


_WALK_COLUMNS = (
    AuditRow.seq, AuditRow.at, AuditRow.actor, AuditRow.action, AuditRow.target, AuditRow.case_ref,
    AuditRow.reason, AuditRow.detail, AuditRow.prev_hash, AuditRow.hash,
)


def walk(session: Session, *, batch: int = 5000, start: int = 1) -> Iterator[AuditRecord]:
    """Every record from ``start`` in sequence order, a batch at a time, exactly as stored.

    Plain rows and unvalidated models (three times faster than ORM objects and validation):
    verification must hash what is stored, and report a record the model would reject
    (an unknown action, a ``detail`` that is not an object) rather than fail on it."""
    last = start - 1
    while True:
        rows = session.execute(
            select(*_WALK_COLUMNS).where(AuditRow.seq > last).order_by(AuditRow.seq).limit(batch)
        ).all()
        if not rows:
            return
        for seq, at, actor, action, target, case_ref, reason, detail, prev_hash, hash_ in rows:
            yield AuditRecord.model_construct(
                seq=seq, at=at, actor=actor, action=_action(action), target=target, case=case_ref,
                reason=reason, detail=detail, prev_hash=prev_hash, hash=hash_,
            )
        last = rows[-1][0]


def _action(value: str) -> AuditAction | str:
    try:
        return AuditAction(value)
    except ValueError:
        return value


def head(session: Session) -> tuple[int, str]:
    """The chain's length and last hash, as the records say (not the head row)."""
    row = session.execute(select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def head_row(session: Session) -> tuple[int, str] | None:
    """The chain's length and last hash, as the head row says (``None``: the row is gone)."""
    row = session.execute(select(AuditHeadRow.seq, AuditHeadRow.hash).where(AuditHeadRow.id == 1)).first()
    return (row[0], row[1]) if row else None


def lock_head(session: Session) -> tuple[int, str]:
    """Take the lock ``append`` takes, without appending, and answer the head row: nothing
    can be appended until the caller's transaction ends (a checkpoint signs that head and
    then appends its own record right after it)."""
    seq, head_hash = session.execute(
        update(AuditHeadRow)
        .where(AuditHeadRow.id == 1)
        .values(seq=AuditHeadRow.seq)
        .returning(AuditHeadRow.seq, AuditHeadRow.hash)
        .execution_options(synchronize_session=False)
    ).one()
    return seq, head_hash


def count_since(session: Session, *, actor: str, action: AuditAction, since: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditRow).where(
            AuditRow.actor == actor, AuditRow.action == str(action), AuditRow.at > since
        )
    ) or 0


def oldest_since(session: Session, *, actor: str, action: AuditAction, since: datetime) -> datetime | None:
    return session.scalar(
        select(func.min(AuditRow.at)).where(
            AuditRow.actor == actor, AuditRow.action == str(action), AuditRow.at > since
        )
    )
