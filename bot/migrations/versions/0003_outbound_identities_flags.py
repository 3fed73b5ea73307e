"""Outbound log, identity links, consumer flags; inbox events findable by their platform id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox_events") as batch:
        batch.add_column(sa.Column("event_id", sa.String(length=255), nullable=True))
        batch.create_index(
            "ix_inbox_events_event_id", ["platform", "account_id", "event_id"], unique=False
        )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("platform_message_id", sa.String(length=255), nullable=True),
        sa.Column("error_type", sa.String(length=64), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_messages"),
    )
    op.create_index(
        "ix_outbound_messages_sender_id", "outbound_messages", ["sender_id", "id"], unique=False
    )
    op.create_index(
        "ix_outbound_messages_target",
        "outbound_messages",
        ["platform", "kind", "target_id"],
        unique=False,
    )
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("public_user_id", sa.String(length=255), nullable=False),
        sa.Column("private_user_id", sa.String(length=255), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("origin_event_id", sa.String(length=255), nullable=True),
        sa.Column("ref", sa.String(length=2083), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_links"),
        sa.UniqueConstraint(
            "platform", "account_id", "public_user_id", "private_user_id", name="uq_identity_links"
        ),
    )
    op.create_index(
        "ix_identity_links_private",
        "identity_links",
        ["platform", "account_id", "private_user_id"],
        unique=False,
    )
    op.create_table(
        "consumer_flags",
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("flag", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", "flag", name="pk_consumer_flags"),
    )


def downgrade() -> None:
    op.drop_table("consumer_flags")
    op.drop_index("ix_identity_links_private", table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index("ix_outbound_messages_target", table_name="outbound_messages")
    op.drop_index("ix_outbound_messages_sender_id", table_name="outbound_messages")
    op.drop_table("outbound_messages")
    with op.batch_alter_table("inbox_events") as batch:
        batch.drop_index("ix_inbox_events_event_id")
        batch.drop_column("event_id")
