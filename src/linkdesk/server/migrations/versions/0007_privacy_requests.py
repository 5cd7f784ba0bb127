"""Privacy requests: per-borrower data keys (crypto-shredding) and legal holds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    ts = sa.DateTime()
    # plain ADD COLUMN (no batch rebuild): existing rows are version 1, not erased
    op.add_column("borrowers", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("borrowers", sa.Column("erased_at", ts, nullable=True))
    op.create_table(
        "borrower_keys",
        sa.Column("id", sa.Integer, sa.ForeignKey("borrowers.id"), primary_key=True, autoincrement=False),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("key_version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("shredded_at", ts, nullable=True),
    )
    op.create_index("ix_borrower_keys_key_version", "borrower_keys", ["key_version", "id"])
    op.create_table(
        "borrower_corrections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("before_enc", sa.LargeBinary, nullable=True),
        sa.Column("after_enc", sa.LargeBinary, nullable=True),
        sa.Column("before_masked", sa.String(64), nullable=True),
        sa.Column("after_masked", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("corrected_at", ts, nullable=False),
        sa.Column("audit_seq", sa.Integer, nullable=True),
    )
    op.create_index("ix_borrower_corrections_borrower", "borrower_corrections", ["borrower_id", "id"])
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(100), nullable=False),
        sa.Column("placed_at", ts, nullable=False),
        sa.Column("lifted_by", sa.String(100), nullable=True),
        sa.Column("lifted_at", ts, nullable=True),
    )
    op.create_index("ix_legal_holds_borrower", "legal_holds", ["borrower_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_legal_holds_borrower", "legal_holds")
    op.drop_table("legal_holds")
    op.drop_index("ix_borrower_corrections_borrower", "borrower_corrections")
    op.drop_table("borrower_corrections")
    op.drop_index("ix_borrower_keys_key_version", "borrower_keys")
    op.drop_table("borrower_keys")
    op.execute("ALTER TABLE borrowers DROP COLUMN erased_at")
    op.execute("ALTER TABLE borrowers DROP COLUMN version")
