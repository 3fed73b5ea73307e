"""Outbound messages remember the inbox event and the place in the bot's turn they answer, so a
turn replayed after a crash does not send its earlier messages twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("inbox_event", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("turn_seq", sa.Integer(), nullable=True))
        batch.create_index("ix_outbound_messages_inbox_event", ["inbox_event"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_index("ix_outbound_messages_inbox_event")
        batch.drop_column("turn_seq")
        batch.drop_column("inbox_event")
