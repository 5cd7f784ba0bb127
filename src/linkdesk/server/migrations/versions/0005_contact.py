"""Contact compliance: the contact log and masked calls.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime()
    op.create_table(
        "contact_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=True),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("phone_masked", sa.String(32), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("party", sa.String(24), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("contacted_at", ts, nullable=False),
    )
    op.create_index("ix_contact_log_borrower", "contact_log", ["borrower_id", "id"])
    op.create_index("ix_contact_log_case", "contact_log", ["case_id", "id"])
    op.create_index("ix_contact_log_day", "contact_log", ["borrower_id", "channel", "outcome", "contacted_at"])

    op.create_table(
        "masked_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("phone_masked", sa.String(32), nullable=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("agent_line_enc", sa.LargeBinary, nullable=True),
        sa.Column("agent_line_masked", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("secret_no", sa.String(32), nullable=False),
        sa.Column("subscription_id", sa.String(128), nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("expires_at", ts, nullable=False),
        sa.Column("ended_at", ts, nullable=True),
        sa.Column("ended_by", sa.String(100), nullable=True),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index("ix_masked_calls_expires", "masked_calls", ["ended_at", "expires_at", "id"])
    op.create_index("ix_masked_calls_case", "masked_calls", ["case_id", "id"])
    op.create_index("ix_masked_calls_key_version", "masked_calls", ["key_version", "id"])


def downgrade() -> None:
    op.drop_index("ix_masked_calls_key_version", "masked_calls")
    op.drop_index("ix_masked_calls_case", "masked_calls")
    op.drop_index("ix_masked_calls_expires", "masked_calls")
    op.drop_table("masked_calls")
    op.drop_index("ix_contact_log_day", "contact_log")
    op.drop_index("ix_contact_log_case", "contact_log")
    op.drop_index("ix_contact_log_borrower", "contact_log")
    op.drop_table("contact_log")
