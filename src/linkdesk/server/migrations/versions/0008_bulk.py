"""Bulk changes to cases, kept so that the last one can be undone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime()
    op.create_table(
        "bulk_changes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=True),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("undone_at", ts, nullable=True),
    )
    # the agent's last bulk change: the only one they may undo
    op.create_index("ix_bulk_changes_agent", "bulk_changes", ["agent_id", "id"])
    op.create_table(
        "bulk_change_cases",
        sa.Column("bulk_id", sa.Integer, sa.ForeignKey("bulk_changes.id"), primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("before", sa.JSON, nullable=False),
        sa.Column("after_version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bulk_change_cases")
    op.drop_index("ix_bulk_changes_agent", table_name="bulk_changes")
    op.drop_table("bulk_changes")
