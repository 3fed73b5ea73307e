"""``PublicOrigins``: the public message behind a call to action, for the private conversation.

``action_public_to_private`` records the public message (its text, where it was written, what the
bot understood) under the reference its link carries (``pub-<event id>``: the m.me ``ref``, the X
DM prefill). When the consumer arrives in private with that reference, the private conversation
reads it back, so neither the bot nor an agent asks again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.context import SocialContext
from bot.errors import StoreError
from bot.events import SocialEvent, conversation_id
from bot.schema import public_origins
from bot.store import SocialStore

__all__ = [
    "CONTINUE_FROM_PUBLIC",
    "REF_PREFIX",
    "PublicOrigin",
    "PublicOrigins",
    "arrival",
    "thread_reference",
]

REF_PREFIX = "pub-"
# What a channel hands the bot when a consumer arrives in private with a reference (the referral).
CONTINUE_FROM_PUBLIC = "/continue_from_public"


def arrival(event: SocialEvent, ref: str) -> SocialEvent:
    """The ``/continue_from_public`` message that goes before ``event``, the consumer's first
    private message after a call to action (``ref``: its reference).

    Stored once per consumer and reference: its dedupe key says who arrived from where.
    """
    context = event.context
    return SocialEvent(
        context=context.copy(update={"referral": ref}),
        text=CONTINUE_FROM_PUBLIC,
        dedupe_key=f"{context.platform.value}:{context.account_id}:arrival:{context.author.id}:{ref}"[
            :255
        ],
        occurred_at=event.occurred_at,
        extra={"arrival": True},
    )


def thread_reference(context: SocialContext) -> str:
    """The reference of a public message, safe in an m.me ``ref`` (``[A-Za-z0-9_=-]``)."""
    return f"{REF_PREFIX}{context.event_id}".replace(":", "-")


@dataclass(frozen=True)
class PublicOrigin:
    """A public message answered with the call to action, and what the bot understood of it."""

    ref: str
    platform: str
    account_id: str
    author_id: str
    public_sender_id: str
    source: str
    event_id: str
    thread_id: str
    parent_id: str | None
    text: str
    intent: str | None = None
    confidence: float | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def of(
        cls,
        context: SocialContext,
        text: str,
        *,
        intent: str | None = None,
        confidence: float | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> PublicOrigin:
        """The origin of the public message ``context`` describes."""
        return cls(
            ref=thread_reference(context),
            platform=context.platform.value,
            account_id=context.account_id,
            author_id=context.author.id,
            public_sender_id=conversation_id(
                context.platform.value, context.account_id, context.author.id
            ),
            source=context.source.value,
            event_id=context.event_id,
            thread_id=context.thread_id,
            parent_id=context.parent_id,
            text=text,
            intent=intent,
            confidence=confidence,
            entities=list(entities or []),
        )


def _origin(row: RowMapping) -> PublicOrigin:
    values = {key: row[key] for key in PublicOrigin.__dataclass_fields__}
    created = values["created_at"]
    values["created_at"] = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
    values["entities"] = list(values["entities"] or [])
    return PublicOrigin(**values)


class PublicOrigins:
    """The ``public_origins`` table of the social store; all its SQL lives here."""

    def __init__(self, store: SocialStore) -> None:
        self._engine = store.engine

    def record(self, origin: PublicOrigin) -> bool:
        """Keeps ``origin`` under its reference; False when that reference was kept already."""
        row = {key: getattr(origin, key) for key in PublicOrigin.__dataclass_fields__}
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(public_origins).values(**row))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"recording the public origin {origin.ref} failed: {exc}") from exc
        return True

    def get(self, ref: str) -> PublicOrigin | None:
        """The origin kept under ``ref``, or None (an unknown or campaign reference)."""
        return self._first(select(public_origins).where(public_origins.c.ref == ref))

    def latest_of_author(
        self, platform: str, account_id: str, author_id: str
    ) -> PublicOrigin | None:
        """The author's newest public origin with this brand account, or None."""
        table = public_origins
        query = (
            select(table)
            .where(
                table.c.platform == platform,
                table.c.account_id == account_id,
                table.c.author_id == author_id,
            )
            .order_by(table.c.created_at.desc())
            .limit(1)
        )
        return self._first(query)

    def _first(self, query: Any) -> PublicOrigin | None:
        try:
            with self._engine.connect() as connection:
                row = connection.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading public origins failed: {exc}") from exc
        return None if row is None else _origin(row)
