"""Tables of the social store. Changes here need an Alembic migration in ``bot/migrations``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "agent_skills",
    "agent_tokens",
    "agents",
    "consumer_flags",
    "handoff_counts",
    "handoff_events",
    "handoff_waits",
    "handoffs",
    "identity_links",
    "inbox_events",
    "metadata",
    "outbound_messages",
    "public_origins",
    "sign_in_failures",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
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
    # The platform id of the message (mid, comment id, tweet id...): finds a stored event by it,
    # e.g. the tweet a reply answers. Added by revision 0003.
    Column("event_id", String(255), nullable=True),
    Index("ix_inbox_events_sender_id", "sender_id", "id"),
    Index("ix_inbox_events_event_id", "platform", "account_id", "event_id"),
)

# The events still to process, in arrival order, overall and per conversation (revision 0010,
# which drops the index on (status, next_attempt_at)): a claim walks the backlog in order and
# stops at its limit, however many events were done before and however long the backlog.
_UNFINISHED = text("status IN ('pending', 'processing')")
Index(
    "ix_inbox_events_unfinished",
    inbox_events.c.id,
    sqlite_where=_UNFINISHED,
    postgresql_where=_UNFINISHED,
)
Index(
    "ix_inbox_events_unfinished_sender",
    inbox_events.c.sender_id,
    inbox_events.c.id,
    sqlite_where=_UNFINISHED,
    postgresql_where=_UNFINISHED,
)

# Every outbound message or call the brand made or refused to make: what agents see in the
# transcript, how a Private Reply is known to be sent once per comment, where failures show.
outbound_messages = Table(
    "outbound_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("origin", String(16), nullable=False),  # bot, cta, agent
    Column("visibility", String(16), nullable=False),  # public, private
    Column("kind", String(32), nullable=False),  # message, private_reply, comment, like, tweet, dm
    Column("target_id", String(255), nullable=True),  # PSID, comment id, tweet id...
    Column("text", Text, nullable=True),
    Column("status", String(16), nullable=False),  # sent, failed, refused
    Column("platform_message_id", String(255), nullable=True),
    Column("error_type", String(64), nullable=True),
    Column("error_code", Integer, nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The inbox event whose turn sent it, and its place in that turn (revision 0006): a turn
    # replayed after a crash skips what it sent before.
    Column("inbox_event", String(255), nullable=True),
    Column("turn_seq", Integer, nullable=True),
    # The public thread (root post or tweet) or the private conversation; the call to action's
    # limits are per author and thread. Added by revision 0007.
    Column("thread_id", String(255), nullable=True),
    Index("ix_outbound_messages_sender_id", "sender_id", "id"),
    Index("ix_outbound_messages_target", "platform", "kind", "target_id"),
    Index("ix_outbound_messages_inbox_event", "inbox_event"),
)

# A consumer's public identity (a Facebook commenter's id) linked to their private one (the
# Messenger PSID), learnt from a Private Reply's answer or an m.me ``ref``.
identity_links = Table(
    "identity_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("public_user_id", String(255), nullable=False),
    Column("private_user_id", String(255), nullable=False),
    Column("via", String(32), nullable=False),  # private_reply, referral
    Column("origin_event_id", String(255), nullable=True),  # the comment / post / tweet
    Column("ref", String(2083), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "platform", "account_id", "public_user_id", "private_user_id", name="uq_identity_links"
    ),
    Index("ix_identity_links_private", "platform", "account_id", "private_user_id"),
)

# Facts about one conversation that every replica must know (``dms_closed``, ``unreachable``...).
consumer_flags = Table(
    "consumer_flags",
    metadata,
    Column("sender_id", String(255), primary_key=True),
    Column("flag", String(64), primary_key=True),
    Column("value", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# A public message answered with the call to action, kept under the reference its link carries
# (``pub-<event id>``), so the private conversation that follows knows where it came from: the
# post or tweet, the consumer's public text and what the bot understood of it.
public_origins = Table(
    "public_origins",
    metadata,
    Column("ref", String(255), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("author_id", String(255), nullable=False),
    Column("public_sender_id", String(255), nullable=False),
    Column("source", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("thread_id", String(255), nullable=False),
    Column("parent_id", String(255), nullable=True),
    Column("text", Text, nullable=False),
    Column("intent", String(128), nullable=True),
    Column("confidence", Float, nullable=True),
    Column("entities", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_public_origins_author", "platform", "account_id", "author_id"),
)

# Human agents who work handoffs in the workspace. Revision 0005 adds the tables below.
agents = Table(
    "agents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=True),  # scrypt; None: API tokens only
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="offline"),  # online, offline
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status_changed_at", DateTime(timezone=True), nullable=False),
)

# The skills (routing.yml) an agent works: the queues they see and may accept from.
agent_skills = Table(
    "agent_skills",
    metadata,
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("skill", String(64), primary_key=True),
    Index("ix_agent_skills_skill", "skill"),
)

# Session cookies and API tokens, stored as SHA-256 digests of 256-bit random secrets.
agent_tokens = Table(
    "agent_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agent_id", Integer, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # session, api
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),  # None: until revoked
)

# One conversation handed to humans. ``open_conversation`` holds the conversation id while the
# handoff is queued or assigned and is NULL after: its unique constraint allows one open handoff
# per conversation on every database (NULLs are distinct).
handoffs = Table(
    "handoffs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_id", String(255), nullable=False),
    Column("open_conversation", String(255), nullable=True, unique=True),
    Column("platform", String(16), nullable=False),  # facebook, twitter, rest
    Column("account_id", String(64), nullable=True),
    Column("visibility", String(16), nullable=False),  # public, private
    Column("source", String(32), nullable=True),
    Column("skill", String(64), nullable=False),
    Column("priority", Integer, nullable=False),  # 1 is the most urgent
    Column("rule", String(255), nullable=True),  # the routing rule; None: the default
    Column("reason", String(64), nullable=False),  # request_human, bot_failed, ...
    Column("summary", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # queued, assigned, closed, cancelled
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=True),
    Column("transfer_note", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),  # kept across transfers
    Column("assigned_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_handoffs_status_skill", "status", "skill", "priority", "queued_at"),
    Index("ix_handoffs_agent_id", "agent_id", "status"),
    Index("ix_handoffs_conversation_id", "conversation_id", "id"),
)

# The audit trail of each handoff: created, accepted, transferred, replied, closed, cancelled...
handoff_events = Table(
    "handoff_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("handoff_id", Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("agent_id", Integer, ForeignKey("agents.id"), nullable=True),
    Column("detail", JSON, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_handoff_events_handoff_id", "handoff_id", "id"),
)

# Metrics of handoffs, added to in the transaction of each change (``bot.handoff.tallies``):
# ``/metrics`` of any replica reads store-wide totals, whichever process changed the handoff.
handoff_counts = Table(
    "handoff_counts",
    metadata,
    Column("skill", String(64), primary_key=True),
    Column("outcome", String(16), primary_key=True),  # queued, accepted, transferred, closed...
    Column("count", Integer, nullable=False),
)

# The queue wait histogram: per skill and bucket (``le``, its upper bound as Prometheus writes
# it), the number of waits that fell in it (not cumulative) and their total seconds.
handoff_waits = Table(
    "handoff_waits",
    metadata,
    Column("skill", String(64), primary_key=True),
    Column("le", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
)

# Failed sign-ins to the workspace, per agent name and per client address (``key``), kept for the
# limit's window: in the shared store, so the limit holds across replicas.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False),  # "agent:<name>" or "address:<ip>"
    Column("failed_at", DateTime(timezone=True), nullable=False),
    Index("ix_sign_in_failures_key", "key", "failed_at"),
)
