"""Idempotency keys for creates: a repeat answers the first result; kept 24 hours."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from linkdesk.server.errors import IdempotencyConflict
from linkdesk.server.tables import IdempotencyRow

RETENTION = timedelta(hours=24)


def request_hash(method_path: str, body: Any) -> str:
    text = json.dumps([method_path, body], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lookup(
    session: Session, agent_id: int, key: str, digest: str, now: datetime
) -> IdempotencyRow | None:
    """The stored answer for ``key``; raises when the key came with another request."""
    row = session.get(IdempotencyRow, (agent_id, key))
    if row is None:
        return None
    if row.created_at < now - RETENTION:
        session.delete(row)
        session.commit()
        return None
    if row.request_hash != digest:
        raise IdempotencyConflict(
            "this Idempotency-Key was used with another request; use a new key"
        )
    return row


def remember(
    session: Session,
    agent_id: int,
    key: str,
    method_path: str,
    digest: str,
    status_code: int,
    response: dict[str, Any],
    now: datetime,
) -> None:
    """Stage the answer in the current transaction (the caller commits with its write)."""
    session.add(
        IdempotencyRow(
            agent_id=agent_id,
            key=key,
            method_path=method_path,
            request_hash=digest,
            status_code=status_code,
            response_json=response,
            created_at=now,
        )
    )


def prune(session: Session, now: datetime) -> int:
    result = session.execute(delete(IdempotencyRow).where(IdempotencyRow.created_at < now - RETENTION))
    session.commit()
    return result.rowcount or 0
