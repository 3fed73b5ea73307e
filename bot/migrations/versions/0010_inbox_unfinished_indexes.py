"""Partial indexes of the unfinished inbox events: a claim reads the backlog, not the history.

The index on (status, next_attempt_at) goes: with it, the databases sorted the whole backlog at
every claim instead of walking the unfinished events in order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UNFINISHED = sa.text("status IN ('pending', 'processing')")


def upgrade() -> None:
    op.drop_index("ix_inbox_events_status_next_attempt_at", table_name="inbox_events")
    op.create_index(
        "ix_inbox_events_unfinished",
        "inbox_events",
        ["id"],
        sqlite_where=UNFINISHED,
        postgresql_where=UNFINISHED,
    )
    op.create_index(
        "ix_inbox_events_unfinished_sender",
        "inbox_events",
        ["sender_id", "id"],
        sqlite_where=UNFINISHED,
        postgresql_where=UNFINISHED,
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_events_unfinished_sender", table_name="inbox_events")
    op.drop_index("ix_inbox_events_unfinished", table_name="inbox_events")
    op.create_index(
        "ix_inbox_events_status_next_attempt_at", "inbox_events", ["status", "next_attempt_at"]
    )
