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
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Bumped by a correction (If-Match); issue 5, migration 0007."""
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when the borrower's data key was destroyed (erasure); issue 5."""


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
        # issue 5, SLAs: the breach sweep seeks the open, not yet flagged, overdue cases
        Index("ix_cases_sla_watch", "is_open", "sla_breached", "sla_due_at"),
        Index("ix_cases_first_response_watch", "is_open", "first_response_breached",
              "first_responded_at", "first_response_due_at"),
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
    # issue 5, SLAs (server/sla.py): sla_due_at above is the resolution target
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """None: no first-response target (cases from before SLAs)."""
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the case went pending; None while the clocks run."""
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    """The resolution breach was recorded (set once, by a conditional update)."""
    first_response_breached: Mapped[bool] = mapped_column(Boolean, default=False)


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


class ContactLogRow(Base):
    """One contact with a borrower (server/contact_log.py); the number only by binding."""

    __tablename__ = "contact_log"
    __table_args__ = (
        Index("ix_contact_log_borrower", "borrower_id", "id"),
        Index("ix_contact_log_case", "case_id", "id"),
        Index("ix_contact_log_day", "borrower_id", "channel", "outcome", "contacted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"))
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(24))
    direction: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    contacted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MaskedCallRow(Base):
    """A privacy-number (AXB) binding asked for by an agent (server/masked_calls.py)."""

    __tablename__ = "masked_calls"
    __table_args__ = (
        Index("ix_masked_calls_expires", "ended_at", "expires_at", "id"),
        Index("ix_masked_calls_case", "case_id", "id"),
        Index("ix_masked_calls_key_version", "key_version", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    agent_line_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    agent_line_masked: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    secret_no: Mapped[str] = mapped_column(String(32))
    subscription_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(100))
    key_version: Mapped[int] = mapped_column(Integer, default=1)


# -- issue 5: rebinds, one-time codes, SMS outbox (server/rebind.py) -----------------------


class RebindRow(Base):
    """A rebind request: the new number (sealed), its factors and codes, who asked, who
    approved. Ends completed or cancelled."""

    __tablename__ = "rebinds"
    __table_args__ = (
        Index("ix_rebinds_case", "case_id", "id"),
        Index("ix_rebinds_borrower", "borrower_id", "id"),
        Index("ix_rebinds_key_version", "key_version", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    old_binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    new_binding_id: Mapped[int | None] = mapped_column(ForeignKey("phone_bindings.id"))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(32))
    phone_masked: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    bound_elsewhere: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class RebindFactorRow(Base):
    """One verification factor as recorded (the latest of each kind counts)."""

    __tablename__ = "rebind_factors"
    __table_args__ = (Index("ix_rebind_factors_rebind", "rebind_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rebind_id: Mapped[int] = mapped_column(ForeignKey("rebinds.id"))
    kind: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The provider's report of a three-element check (scores the new binding)."""
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OneTimeCodeRow(Base):
    """A code sent for a factor: only its keyed HMAC is kept."""

    __tablename__ = "rebind_codes"
    __table_args__ = (Index("ix_rebind_codes_rebind", "rebind_id", "factor", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rebind_id: Mapped[int] = mapped_column(ForeignKey("rebinds.id"))
    factor: Mapped[str] = mapped_column(String(20))
    code_mac: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    key_version: Mapped[int] = mapped_column(Integer, default=1)


class SmsOutboxRow(Base):
    """What the sandbox SMS provider "sent": recipient sealed and masked, the text."""

    __tablename__ = "sms_outbox"
    __table_args__ = (Index("ix_sms_outbox_key_version", "key_version", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(32))
    phone_masked: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(String(32))
    borrower_id: Mapped[int | None] = mapped_column(ForeignKey("borrowers.id"))
    """Whose number it is (its data key seals ``phone_enc``), when known."""
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    rebind_id: Mapped[int | None] = mapped_column(ForeignKey("rebinds.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_version: Mapped[int] = mapped_column(Integer, default=1)



# -- issue 5: privacy requests, data keys, legal holds (server/data_keys.py, server/privacy_requests.py)


class BorrowerKeyRow(Base):
    """A borrower's data key, wrapped (sealed) by the master keyring under ``key_version``.
    ``id`` is the borrower's id. Erasure NULLs ``wrapped_key`` and sets ``shredded_at``."""

    __tablename__ = "borrower_keys"
    __table_args__ = (Index("ix_borrower_keys_key_version", "key_version", "id"),)

    id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"), primary_key=True, autoincrement=False)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BorrowerCorrectionRow(Base):
    """One corrected field: the full before/after, sealed under the borrower's data key
    (read by an export, unreadable after an erasure); the timeline shows them masked."""

    __tablename__ = "borrower_corrections"
    __table_args__ = (Index("ix_borrower_corrections_borrower", "borrower_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    field: Mapped[str] = mapped_column(String(16))
    before_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    after_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    before_masked: Mapped[str | None] = mapped_column(String(64))
    after_masked: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(100))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    audit_seq: Mapped[int | None] = mapped_column(Integer)


class LegalHoldRow(Base):
    """A legal hold on a borrower's data: erasure is refused while one is not lifted."""

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_borrower", "borrower_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("borrowers.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(100))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# -- issue 5: bulk changes and undo (server/bulk.py) ---------------------------------------


class BulkChangeRow(Base):
    """One bulk change by one agent; ``undone_at`` once undone (undo happens once)."""

    __tablename__ = "bulk_changes"
    __table_args__ = (Index("ix_bulk_changes_agent", "agent_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    action: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BulkChangeCaseRow(Base):
    """A case a bulk change changed: what it was before and the version it was left at
    (undo restores only cases still at that version)."""

    __tablename__ = "bulk_change_cases"

    bulk_id: Mapped[int] = mapped_column(ForeignKey("bulk_changes.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after_version: Mapped[int] = mapped_column(Integer)
