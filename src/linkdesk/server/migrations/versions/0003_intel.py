"""Phone intelligence: the sandbox's number-lifecycle registry, intel reports, risk
assessments, the cases' risk score, the do-not-contact list, the monitor's seen changes
and its lease.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime()
    op.create_table(
        "number_lifecycle",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("phone_index", sa.String(32), nullable=False),
        sa.Column("activated_at", ts, nullable=False),
        sa.Column("cancelled_at", ts, nullable=True),
        sa.Column("reissued_at", ts, nullable=True),
        sa.Column("ported_at", ts, nullable=True),
        sa.Column("carrier", sa.String(64), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("virtual", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner_name_enc", sa.LargeBinary, nullable=True),
        sa.Column("owner_id_number_enc", sa.LargeBinary, nullable=True),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_number_lifecycle_phone_index", "number_lifecycle", ["phone_index"])
    op.create_index("ix_number_lifecycle_key_version", "number_lifecycle", ["key_version", "id"])

    op.create_table(
        "intel_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("checked_at", ts, nullable=False),
        sa.Column("report", sa.JSON, nullable=True),
        sa.Column("unavailable", sa.Text, nullable=True),
    )
    op.create_index("ix_intel_reports_binding", "intel_reports", ["binding_id", "id"])
    op.create_index("ix_intel_reports_case", "intel_reports", ["case_id", "id"])

    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True, unique=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True, unique=True),
        sa.Column("score", sa.Integer, nullable=True),
        sa.Column("level", sa.String(16), nullable=True),
        sa.Column("stop_contact", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("assessment", sa.JSON, nullable=True),
        sa.Column("assessed_at", ts, nullable=True),
        sa.Column("checked_at", ts, nullable=True),
        sa.Column("attempted_at", ts, nullable=True),
    )

    # plain ADD COLUMN: a batch rebuild would drop the FTS triggers on cases
    op.add_column("cases", sa.Column("risk_score", sa.Integer, nullable=True))
    # risk_min: counts and fetches the few high-risk cases (see server.listing)
    op.create_index("ix_cases_open_risk", "cases", ["is_open", "risk_score", "id"])
    # a re-scored borrower's cases get their new risk
    op.create_index("ix_cases_borrower", "cases", ["borrower_id", "binding_id"])

    op.create_table(
        "do_not_contact",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("phone_index", sa.String(32), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("added_by", sa.String(100), nullable=False),
        sa.Column("added_at", ts, nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_do_not_contact_phone_index", "do_not_contact", ["phone_index"])
    op.create_index("ix_do_not_contact_key_version", "do_not_contact", ["key_version", "id"])

    op.create_table(
        "risk_alerts_seen",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("change", sa.String(64), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("seen_at", ts, nullable=False),
        sa.UniqueConstraint("binding_id", "kind", "change", name="uq_risk_alerts_seen_change"),
    )

    lease = op.create_table(
        "monitor_lease",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("expires_at", ts, nullable=True),
    )
    op.bulk_insert(lease, [{"id": 1, "holder": None, "expires_at": None}])


def downgrade() -> None:
    op.drop_table("monitor_lease")
    op.drop_table("risk_alerts_seen")
    op.drop_index("ix_do_not_contact_key_version", "do_not_contact")
    op.drop_index("ix_do_not_contact_phone_index", "do_not_contact")
    op.drop_table("do_not_contact")
    op.drop_index("ix_cases_borrower", "cases")
    op.drop_index("ix_cases_open_risk", "cases")
    op.execute("ALTER TABLE cases DROP COLUMN risk_score")
    op.drop_table("risk_assessments")
    op.drop_index("ix_intel_reports_case", "intel_reports")
    op.drop_index("ix_intel_reports_binding", "intel_reports")
    op.drop_table("intel_reports")
    op.drop_index("ix_number_lifecycle_key_version", "number_lifecycle")
    op.drop_index("ix_number_lifecycle_phone_index", "number_lifecycle")
    op.drop_table("number_lifecycle")
