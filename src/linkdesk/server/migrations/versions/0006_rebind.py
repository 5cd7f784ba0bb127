"""Rebinds: requests, verification factors, one-time codes, the SMS outbox, approvals.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime()
    op.create_table(
        "rebinds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("old_binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("new_binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("phone_index", sa.String(32), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("bound_elsewhere", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("requested_by_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("approved_by_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("completed_at", ts, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_rebinds_case", "rebinds", ["case_id", "id"])
    op.create_index("ix_rebinds_borrower", "rebinds", ["borrower_id", "id"])
    op.create_index("ix_rebinds_key_version", "rebinds", ["key_version", "id"])

    op.create_table(
        "rebind_factors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rebind_id", sa.Integer, sa.ForeignKey("rebinds.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("report", sa.JSON, nullable=True),
        sa.Column("recorded_by_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("recorded_at", ts, nullable=False),
    )
    op.create_index("ix_rebind_factors_rebind", "rebind_factors", ["rebind_id", "id"])

    op.create_table(
        "rebind_codes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rebind_id", sa.Integer, sa.ForeignKey("rebinds.id"), nullable=False),
        sa.Column("factor", sa.String(20), nullable=False),
        sa.Column("code_mac", sa.String(64), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("sent_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("used_at", ts, nullable=True),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_rebind_codes_rebind", "rebind_codes", ["rebind_id", "factor", "id"])

    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("phone_index", sa.String(32), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("rebind_id", sa.Integer, sa.ForeignKey("rebinds.id"), nullable=True),
        sa.Column("sent_at", ts, nullable=False),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_sms_outbox_key_version", "sms_outbox", ["key_version", "id"])


def downgrade() -> None:
    op.drop_index("ix_sms_outbox_key_version", "sms_outbox")
    op.drop_table("sms_outbox")
    op.drop_index("ix_rebind_codes_rebind", "rebind_codes")
    op.drop_table("rebind_codes")
    op.drop_index("ix_rebind_factors_rebind", "rebind_factors")
    op.drop_table("rebind_factors")
    op.drop_index("ix_rebinds_key_version", "rebinds")
    op.drop_index("ix_rebinds_borrower", "rebinds")
    op.drop_index("ix_rebinds_case", "rebinds")
    op.drop_table("rebinds")
