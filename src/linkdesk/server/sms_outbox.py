"""Reading the sandbox SMS provider's outbox (``GET /sms-outbox``): newest first, keyset
pages on ``id``, recipients masked."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkdesk.domain.paging import Page
from linkdesk.domain.rebind import OutboxMessage
from linkdesk.domain.refs import case_ref
from linkdesk.server import cursors
from linkdesk.server.tables import SmsOutboxRow


def list_outbox(
    session: Session, *, case_id: int | None = None, cursor: str | None = None, limit: int = 50
) -> Page[OutboxMessage]:
    stmt = select(SmsOutboxRow)
    if case_id is not None:
        stmt = stmt.where(SmsOutboxRow.case_id == case_id)
    filters = cursors.fingerprint({"case": case_id})
    if cursor:
        payload = cursors.decode(cursor, sort="outbox", filters=filters)
        stmt = stmt.where(SmsOutboxRow.id < payload["i"])
    rows = list(session.scalars(stmt.order_by(SmsOutboxRow.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = cursors.encode({"s": "outbox", "f": filters, "i": rows[-1].id})
    return Page[OutboxMessage](
        items=[
            OutboxMessage(
                id=row.id, to=row.phone_masked, text=row.text, provider=row.provider, sent_at=row.sent_at,
                case=case_ref(row.case_id) if row.case_id else None, rebind=row.rebind_id,
            )
            for row in rows
        ],
        next_cursor=next_cursor,
    )
