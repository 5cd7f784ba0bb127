"""SLA policies: first-response and resolution targets in business time, pauses, breaches.

Existing cases: ``first_response_due_at`` stays NULL (no first-response target: business
time cannot be computed in SQL, and a desk's old cases were never promised one);
``first_responded_at`` is the first public comment by an agent, if any; pending cases
count as paused since their last update; the breach flags start false, so the first
sweep records the breaches of cases already overdue (once each).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


COLUMNS = ("first_response_due_at", "first_responded_at", "sla_paused_at", "sla_breached",
           "first_response_breached")


def upgrade() -> None:
    ts = sa.DateTime()
    op.add_column("cases", sa.Column("first_response_due_at", ts, nullable=True))
    op.add_column("cases", sa.Column("first_responded_at", ts, nullable=True))
    op.add_column("cases", sa.Column("sla_paused_at", ts, nullable=True))
    op.add_column("cases", sa.Column("sla_breached", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column(
        "cases", sa.Column("first_response_breached", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.execute(
        "UPDATE cases SET first_responded_at = (SELECT min(e.created_at) FROM case_events e "
        "WHERE e.case_id = cases.id AND e.kind = 'comment' AND e.internal = false "
        "AND e.actor_id IS NOT NULL)"
    )
    op.execute("UPDATE cases SET sla_paused_at = updated_at WHERE status = 'pending'")
    # the breach sweep (server/sla.py): open, not yet flagged, overdue
    op.create_index("ix_cases_sla_watch", "cases", ["is_open", "sla_breached", "sla_due_at"])
    op.create_index(
        "ix_cases_first_response_watch", "cases",
        ["is_open", "first_response_breached", "first_responded_at", "first_response_due_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_first_response_watch", "cases")
    op.drop_index("ix_cases_sla_watch", "cases")
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE cases DROP COLUMN {column}")
