"""What a database superuser can do to the audit chain, for the tests that must catch it."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from linkdesk.domain.audit import GENESIS_HASH, AuditRecord, canonical, chain_hash
from linkdesk.server import audit
from linkdesk.server.db import make_session_factory
from linkdesk.server.tables import AuditHeadRow, AuditRow


def drop_append_only_triggers(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_change ON audit_records")
            connection.exec_driver_sql("DROP TRIGGER audit_records_no_truncate ON audit_records")


def records_of(engine: sa.Engine) -> list[AuditRecord]:
    with make_session_factory(engine)() as session:
        return list(audit.walk(session))


def rewrite(engine: sa.Engine, change: Callable[[list[AuditRecord]], list[AuditRecord]]) -> list[AuditRecord]:
    """Replace the whole chain by ``change(records)``, renumbered and with every hash and
    the head row recomputed: a rewrite the hash chain alone cannot tell from the real one."""
    drop_append_only_triggers(engine)
    changed = change(records_of(engine))
    prev_hash, rebuilt = GENESIS_HASH, []
    for seq, record in enumerate(changed, 1):
        fields = record.model_dump(exclude={"seq", "prev_hash", "hash"})
        digest = chain_hash(prev_hash, canonical(seq=seq, **fields))
        rebuilt.append(AuditRecord(seq=seq, prev_hash=prev_hash, hash=digest, **fields))
        prev_hash = digest
    with make_session_factory(engine)() as session:
        session.execute(sa.delete(AuditRow))
        session.add_all(
            AuditRow(
                seq=r.seq, at=r.at, actor=r.actor, action=str(r.action), target=r.target,
                case_ref=r.case, reason=r.reason, detail=r.detail, prev_hash=r.prev_hash, hash=r.hash,
            )
            for r in rebuilt
        )
        session.execute(sa.update(AuditHeadRow).values(seq=len(rebuilt), hash=prev_hash))
        session.commit()
    return rebuilt
