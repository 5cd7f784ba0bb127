"""The initial schema: agents, borrowers, bindings, cases, events, tallies, idempotency, search.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FTS_SQLITE = [
    "CREATE VIRTUAL TABLE case_fts USING fts5(search_tokens, content='cases', content_rowid='id')",
    """CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
         INSERT INTO case_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens);
       END""",
    """CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
         INSERT INTO case_fts(case_fts, rowid, search_tokens)
           VALUES ('delete', old.id, old.search_tokens);
       END""",
    # only when the text changes: a status change must not rewrite the index
    """CREATE TRIGGER cases_fts_update AFTER UPDATE OF search_tokens ON cases BEGIN
         INSERT INTO case_fts(case_fts, rowid, search_tokens)
           VALUES ('delete', old.id, old.search_tokens);
         INSERT INTO case_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens);
       END""",
]


def upgrade() -> None:
    ts = sa.DateTime()
    agents = op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "borrowers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name_enc", sa.LargeBinary, nullable=True),
        sa.Column("name_masked", sa.String(64), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary, nullable=True),
        sa.Column("id_number_masked", sa.String(32), nullable=True),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_table(
        "phone_bindings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("phone_index", sa.String(32), nullable=False),
        sa.Column("phone_masked", sa.String(32), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("carrier", sa.String(64), nullable=True),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bound_at", ts, nullable=False),
        sa.Column("unbound_at", ts, nullable=True),
    )
    op.create_index("ix_phone_bindings_phone_index", "phone_bindings", ["phone_index"])
    op.create_index("ix_phone_bindings_borrower_id", "phone_bindings", ["borrower_id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("borrower_id", sa.Integer, sa.ForeignKey("borrowers.id"), nullable=True),
        sa.Column("binding_id", sa.Integer, sa.ForeignKey("phone_bindings.id"), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary, nullable=True),
        sa.Column("phone_index", sa.String(32), nullable=True),
        sa.Column("phone_masked", sa.String(32), nullable=True),
        sa.Column("phone_last4", sa.String(4), nullable=True),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("search_tokens", sa.Text, nullable=False),
        sa.Column("sla_due_at", ts, nullable=False),
        sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    for name, columns in [
        ("ix_cases_open_updated", ["is_open", "updated_at", "id"]),
        ("ix_cases_open_category_updated", ["is_open", "category", "updated_at", "id"]),
        ("ix_cases_open_assignee_updated", ["is_open", "assignee_id", "updated_at", "id"]),
        ("ix_cases_open_priority_updated", ["is_open", "priority", "updated_at", "id"]),
        ("ix_cases_updated", ["updated_at", "id"]),
        ("ix_cases_open_created", ["is_open", "created_at", "id"]),
        ("ix_cases_open_due", ["is_open", "sla_due_at", "id"]),
        ("ix_cases_phone_last4", ["phone_last4"]),
    ]:
        op.create_index(name, "cases", columns)
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("internal", sa.Boolean, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_case_events_case", "case_events", ["case_id", "id"])
    op.create_table(
        "case_tallies",
        sa.Column("category", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("priority", sa.String(16), primary_key=True),
        sa.Column("assignee_id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("agent_id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("method_path", sa.String(300), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response_json", sa.JSON, nullable=False),
        sa.Column("created_at", ts, nullable=False),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"])

    if op.get_bind().dialect.name == "sqlite":
        for statement in _FTS_SQLITE:
            op.execute(statement)
    else:
        op.execute(
            "CREATE INDEX ix_cases_search ON cases "
            "USING gin (to_tsvector('simple', search_tokens))"
        )

    op.bulk_insert(
        agents,
        [
            {
                "name": "local",
                "display_name": "Local agent",
                "role": "admin",
                "token_hash": None,
                "active": True,
                "created_at": datetime.now(UTC).replace(tzinfo=None),
            }
        ],
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("cases_fts_insert", "cases_fts_delete", "cases_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_fts")
    for table in (
        "idempotency_keys",
        "case_tallies",
        "case_events",
        "cases",
        "phone_bindings",
        "borrowers",
        "agents",
    ):
        op.drop_table(table)
