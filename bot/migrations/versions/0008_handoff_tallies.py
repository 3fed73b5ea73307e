"""Handoff metrics in the store: outcomes per skill and the queue wait histogram.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_counts",
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("skill", "outcome", name="pk_handoff_counts"),
    )
    op.create_table(
        "handoff_waits",
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("le", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("skill", "le", name="pk_handoff_waits"),
    )


def downgrade() -> None:
    op.drop_table("handoff_waits")
    op.drop_table("handoff_counts")
