"""The desk's policy (``desk_settings`` rows, one per field): read, and change with an
audit record per changed field."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkdesk.domain.audit import AuditAction
from linkdesk.domain.desk_policy import DeskPolicy, DeskPolicyPatch
from linkdesk.server import audit
from linkdesk.server.tables import DeskSettingRow

_FIELDS = tuple(DeskPolicy.model_fields)


def load(session: Session) -> DeskPolicy:
    rows = session.scalars(select(DeskSettingRow).where(DeskSettingRow.name.in_(_FIELDS)))
    return DeskPolicy(**{row.name: row.value for row in rows})


def change(session: Session, patch: DeskPolicyPatch, *, actor: str, at: datetime) -> DeskPolicy:
    """Stage the changed fields; the caller commits."""
    current = load(session)
    for name in patch.model_fields_set:
        new = getattr(patch, name)
        old = getattr(current, name)
        if new is None or new == old:
            continue
        row = session.get(DeskSettingRow, name)
        if row is None:
            session.add(DeskSettingRow(name=name, value=new))
        else:
            row.value = new
        audit.append(session, at=at, actor=actor, action=AuditAction.SETTINGS_CHANGE,
                     target=f"desk.settings.{name}", detail={"from": old, "to": new})
    session.flush()
    return load(session)
