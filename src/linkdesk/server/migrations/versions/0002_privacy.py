"""Privacy: the audit chain (append-only), key versions, desk settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
ENCRYPTED_TABLES = ("borrowers", "phone_bindings", "cases")

_APPEND_ONLY_SQLITE = [
    """CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records BEGIN
         SELECT RAISE(ABORT, 'audit records are append-only');
       END""",
    """CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records BEGIN
         SELECT RAISE(ABORT, 'audit records are append-only');
       END""",
]

_APPEND_ONLY_POSTGRESQL = [
    """CREATE FUNCTION audit_records_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = 'insufficient_privilege';
       END $$""",
    """CREATE TRIGGER audit_records_no_change BEFORE UPDATE OR DELETE ON audit_records
       FOR EACH ROW EXECUTE FUNCTION audit_records_refuse()""",
    """CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
       FOR EACH STATEMENT EXECUTE FUNCTION audit_records_refuse()""",
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_records FROM PUBLIC",
]


def upgrade() -> None:
    ts = sa.DateTime()
    op.create_table(
        "audit_records",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", ts, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("case_ref", sa.String(32), nullable=True),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    for name, columns in [
        ("ix_audit_records_actor", ["actor", "seq"]),
        ("ix_audit_records_action", ["action", "seq"]),
        ("ix_audit_records_case", ["case_ref", "seq"]),
        ("ix_audit_records_at", ["at"]),
        ("ix_audit_records_actor_action_at", ["actor", "action", "at"]),
    ]:
        op.create_index(name, "audit_records", columns)
    # One row: the chain's head. Appending locks it (UPDATE … RETURNING), which
    # serialises appends on PostgreSQL and SQLite alike inside the business transaction.
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH}])
    dialect = op.get_bind().dialect.name
    for statement in _APPEND_ONLY_SQLITE if dialect == "sqlite" else _APPEND_ONLY_POSTGRESQL:
        op.execute(statement)

    op.create_table(
        "desk_keys",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("index_bits", sa.Integer, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "desk_settings",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
    )
    for table in ENCRYPTED_TABLES:
        # plain ADD COLUMN: a batch rebuild would drop the FTS triggers on cases
        op.add_column(table, sa.Column("key_version", sa.Integer, nullable=False, server_default="1"))
        op.create_index(f"ix_{table}_key_version", table, ["key_version", "id"])


def downgrade() -> None:
    for table in ENCRYPTED_TABLES:
        op.drop_index(f"ix_{table}_key_version", table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN key_version")
    op.drop_table("desk_settings")
    op.drop_table("desk_keys")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_records_no_truncate ON audit_records")
        op.execute("DROP TRIGGER IF EXISTS audit_records_no_change ON audit_records")
        op.execute("DROP FUNCTION IF EXISTS audit_records_refuse()")
    op.drop_table("audit_head")
    op.drop_table("audit_records")
