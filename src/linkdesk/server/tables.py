"""The desk's tables (SQLAlchemy 2 declarative). The schema itself is made by migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (same text order in SQLite), returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class AgentRow(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BorrowerRow(Base):
    __tablename__ = "borrowers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class BindingRow(Base):
    __tablename__ = "phone_bindings"
    __table_args__ = (Index("ix_phone_bindings_phone_index", "phone_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(32))
    phone_masked: Mapped[str] = mapped_column(String(32))
    last4: Mapped[str] = mapped_column(String(4))
    carrier: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_open_updated", "is_open", "updated_at", "id"),
        Index("ix_cases_open_category_updated", "is_open", "category", "updated_at", "id"),
        Index("ix_cases_open_assignee_updated", "is_open", "assignee_id", "updated_at", "id"),
        Index("ix_cases_open_priority_updated", "is_open", "priority", "updated_at", "id"),
        Index("ix_cases_updated", "updated_at", "id"),
        Index("ix_cases_open_created", "is_open", "created_at", "id"),
        Index("ix_cases_open_due", "is_open", "sla_due_at", "id"),
        Index("ix_cases_phone_last4", "phone_last4"),
        Index("ix_cases_open_risk", "is_open", "risk_score", "id"),
        Index("ix_cases_borrower", "borrower_id", "binding_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    is_open: Mapped[bool] = mapped_column(Boolean)
    priority: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"))
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(32))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    phone_last4: Mapped[str | None] = mapped_column(String(4))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    search_tokens: Mapped[str] = mapped_column(Text, default="")
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    risk_score: Mapped[int | None] = mapped_column(Integer)
    """Denormalised from ``risk_assessments`` (see ``server.intel.refresh_case_risk``)."""


class EventRow(Base):
    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TallyRow(Base):
    """Maintained counts of cases per (category, status, priority, assignee); 0 = none."""

    __tablename__ = "case_tallies"

    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    assignee_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class IdempotencyRow(Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created", "created_at"),)

    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    method_path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One link of the audit chain. Append-only: triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    case_ref: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class DeskKeyRow(Base):
    """A key version the desk has written under: its fingerprint (to refuse a wrong key)
    and the blind index length planned for it."""

    __tablename__ = "desk_keys"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    index_bits: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DeskSettingRow(Base):
    __tablename__ = "desk_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


# -- issue 4: phone intelligence, risk, monitoring, do-not-contact -------------------------


class LifecycleRow(Base):
    """The sandbox provider's number-lifecycle registry: one row per number."""

    __tablename__ = "number_lifecycle"
    __table_args__ = (
        Index("ix_number_lifecycle_phone_index", "phone_index"),
        Index("ix_number_lifecycle_key_version", "key_version", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(32))
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reissued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    carrier: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    virtual: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    """The current holder's line status (``domain.intel.LineStatus``)."""
    owner_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    owner_id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class IntelReportRow(Base):
    """One check of a binding's number (or of a case's own number): the provider's
    report, or why there was none. A few are kept per number."""

    __tablename__ = "intel_reports"
    __table_args__ = (
        Index("ix_intel_reports_binding", "binding_id", "id"),
        Index("ix_intel_reports_case", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    provider: Mapped[str] = mapped_column(String(32))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    unavailable: Mapped[str | None] = mapped_column(Text)


class RiskAssessmentRow(Base):
    """The latest assessment of a binding (or of a case's own number)."""

    __tablename__ = "risk_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), unique=True)
    score: Mapped[int | None] = mapped_column(Integer)
    level: Mapped[str | None] = mapped_column(String(16))
    stop_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The last check a provider answered."""
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """The last check asked for, answered or not (the monitor goes round by it)."""


class DoNotContactRow(Base):
    __tablename__ = "do_not_contact"
    __table_args__ = (
        Index("ix_do_not_contact_phone_index", "phone_index"),
        Index("ix_do_not_contact_key_version", "key_version", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(32))
    phone_masked: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    added_by: Mapped[str] = mapped_column(String(100))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class RiskAlertSeenRow(Base):
    """One row per change the desk opened a risk alert for: the unique key keeps a
    change from opening a second alert, however often it is seen again."""

    __tablename__ = "risk_alerts_seen"
    __table_args__ = (
        UniqueConstraint("binding_id", "kind", "change", name="uq_risk_alerts_seen_change"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    binding_id: Mapped[int] = mapped_column(ForeignKey("phone_bindings.id"))
    kind: Mapped[str] = mapped_column(String(32))
    change: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonitorLeaseRow(Base):
    """Which process runs the monitor: several workers or servers share one desk, and
    only the holder of an unexpired lease checks."""

    __tablename__ = "monitor_lease"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- issue 5: SLAs (server/sla.py) ---------------------------------------------------------


# -- issue 5: contact log, masked calls, playbook (server/contact.py, server/playbook.py) --


# -- issue 5: rebinds, one-time codes, SMS outbox (server/rebind.py) -----------------------


# -- issue 5: privacy requests, data keys, legal holds (server/data_keys.py, server/privacy_requests.py)


# -- issue 5: bulk changes and undo (server/bulk.py) ---------------------------------------
