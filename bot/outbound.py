"""``OutboundLog``: every message the brand sent, failed to send or refused to send.

Agents see it in the transcript (with the reason of each failure), the Facebook channel asks it
whether a comment already got its one Private Reply, the call to action's limiter asks it when
an author last got one in a thread (``bot.cta_limits``), and operators count failures from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import OutboundRefused, PlatformError, StoreError
from bot.schema import outbound_messages
from bot.store import SocialStore

__all__ = ["OutboundLog", "OutboundRecord", "OutboundStatus"]


class OutboundStatus(str, Enum):
    """What became of one outbound message."""

    SENT = "sent"
    FAILED = "failed"  # the platform refused it or could not be reached
    REFUSED = "refused"  # the output guard stopped it


@dataclass(frozen=True)
class OutboundRecord:
    """One outbound message as the log holds it."""

    id: int
    sender_id: str
    platform: str
    account_id: str
    origin: str
    visibility: str
    kind: str
    target_id: str | None
    text: str | None
    status: OutboundStatus
    platform_message_id: str | None
    error_type: str | None
    error_code: int | None
    error_message: str | None
    created_at: datetime
    thread_id: str | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _record(row: RowMapping) -> OutboundRecord:
    values = {key: row[key] for key in OutboundRecord.__dataclass_fields__}
    values["status"] = OutboundStatus(row["status"])
    values["created_at"] = _aware(row["created_at"])
    return OutboundRecord(**values)


class OutboundLog:
    """The ``outbound_messages`` table of the social store; all its SQL lives here.

    Args:
        store: the social store.
        clock: the current UTC time, the ``created_at`` of new records (tests pass their own).
    """

    def __init__(self, store: SocialStore, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._engine = store.engine
        self.clock = clock

    def record(
        self,
        *,
        sender_id: str,
        platform: str,
        account_id: str,
        origin: str,
        visibility: str,
        kind: str,
        target_id: str | None,
        text: str | None,
        status: OutboundStatus,
        platform_message_id: str | None = None,
        error: PlatformError | OutboundRefused | None = None,
        thread_id: str | None = None,
    ) -> None:
        """Appends one outbound message.

        Raises:
            StoreError: the store failed.
        """
        row: dict[str, Any] = {
            "sender_id": sender_id,
            "platform": platform,
            "account_id": account_id,
            "origin": origin,
            "visibility": visibility,
            "kind": kind,
            "target_id": target_id,
            "text": text,
            "status": status.value,
            "platform_message_id": platform_message_id,
            "error_type": type(error).__name__ if error is not None else None,
            "error_code": error.code if isinstance(error, PlatformError) else None,
            "error_message": str(error)[:2000] if error is not None else None,
            "created_at": self.clock(),
            "thread_id": thread_id,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(outbound_messages).values(**row))
        except SQLAlchemyError as exc:
            raise StoreError(f"recording an outbound {kind} failed: {exc}") from exc

    def has_sent(self, platform: str, kind: str, target_id: str) -> bool:
        """True when a message of ``kind`` was sent to ``target_id`` (e.g. a Private Reply)."""
        table = outbound_messages
        query = (
            select(table.c.id)
            .where(
                table.c.platform == platform,
                table.c.kind == kind,
                table.c.target_id == target_id,
                table.c.status == OutboundStatus.SENT.value,
            )
            .limit(1)
        )
        return bool(self._rows(query, f"reading outbound {kind} to {target_id}"))

    def last_cta(self, sender_id: str, thread_id: str | None) -> datetime | None:
        """When the conversation's author was last sent a call to action in public thread
        ``thread_id``, or None."""
        table = outbound_messages
        query = (
            select(table.c.created_at)
            .where(
                table.c.sender_id == sender_id,
                table.c.thread_id == thread_id,
                table.c.origin == "cta",
                table.c.visibility == "public",
                table.c.status == OutboundStatus.SENT.value,
            )
            .order_by(table.c.id.desc())
            .limit(1)
        )
        rows = self._rows(query, f"reading the calls to action of {sender_id}")
        return _aware(rows[0]["created_at"]) if rows else None

    def for_conversation(self, sender_id: str, limit: int = 100) -> list[OutboundRecord]:
        """The conversation's outbound messages, oldest first (the newest ``limit``)."""
        table = outbound_messages
        query = (
            select(table)
            .where(table.c.sender_id == sender_id)
            .order_by(table.c.id.desc())
            .limit(limit)
        )
        rows = self._rows(query, f"reading the outbound messages of {sender_id}")
        return [_record(row) for row in reversed(rows)]

    def failures(self, sender_id: str) -> list[OutboundRecord]:
        """The conversation's messages that failed or were refused, oldest first."""
        return [
            record
            for record in self.for_conversation(sender_id, limit=1000)
            if record.status is not OutboundStatus.SENT
        ]

    def _rows(self, query: Any, what: str) -> list[RowMapping]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(query).mappings().all())
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
