"""Tables of the social store. Changes here need an Alembic migration in ``bot/migrations``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["inbox_events", "metadata"]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Every inbound social event, stored before the webhook answers 200. ``dedupe_key`` is unique:
# platforms deliver at least once, and a second delivery of one item must not be processed twice.
inbox_events = Table(
    "inbox_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(255), nullable=False, unique=True),
    Column("sender_id", String(255), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("visibility", String(16), nullable=False),
    Column("event", JSON, nullable=False),
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The lease of the worker processing the event; an expired lease (a crashed worker) is
    # claimed again. Added by revision 0002.
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("processed_at", DateTime(timezone=True), nullable=True),
    Index("ix_inbox_events_status_next_attempt_at", "status", "next_attempt_at"),
    Index("ix_inbox_events_sender_id", "sender_id", "id"),
)
