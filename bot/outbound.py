"""``OutboundLog``: every message the brand sent, failed to send or refused to send.

Agents see it in the transcript (with the reason of each failure), the Facebook channel asks it
whether a comment already got its one Private Reply, the call to action's limiter asks it when
an author last got one in a thread (``bot.cta_limits``), and operators count failures from it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import OutboundRefused, PlatformError, StoreError
from bot.schema import outbound_messages
from bot.store import SocialStore

__all__ = ["OutboundLog", "OutboundRecord", "OutboundStatus"]


class OutboundStatus(str, Enum):
    """What became of one outbound message."""

    SENDING = "sending"  # on its way: the outcome is not known yet (in doubt after a crash)
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
    inbox_event: str | None = None
    turn_seq: int | None = None
    thread_id: str | None = None


# Built once, with bound parameters, for every message's path (record, finish, the echo's check).
_INSERT = insert(outbound_messages)
_IN_DOUBT = (
    outbound_messages.c.inbox_event == bindparam("b_event"),
    outbound_messages.c.turn_seq == bindparam("b_seq"),
    outbound_messages.c.status == OutboundStatus.SENDING.value,
)
_FIND_IN_DOUBT = select(outbound_messages.c.id).where(*_IN_DOUBT).limit(1)
_CONFIRM = update(outbound_messages).where(*_IN_DOUBT).values(status=OutboundStatus.SENT.value)
_SENT = (
    update(outbound_messages)
    .where(outbound_messages.c.id == bindparam("b_id"))
    .values(status=OutboundStatus.SENT.value, platform_message_id=bindparam("b_message_id"))
)


# Turns' messages this process finished (sent or failed), the newest so many: Messenger's echo
# of one has nothing to confirm. An echo of an older one asks the store, as any echo did.
_REMEMBERED_FINISHES = 4096


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
        self._sending: dict[int, tuple[str, int]] = {}  # row -> (inbox event, place)
        self._finished: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._remember = threading.Lock()  # the bot's threads finish, the webhook's loop asks

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
        inbox_event: str | None = None,
        turn_seq: int | None = None,
        thread_id: str | None = None,
    ) -> int:
        """Appends one outbound message (``inbox_event``, ``turn_seq``: the turn it belongs to;
        ``thread_id``: the public thread or private conversation); returns its row id.

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
            "inbox_event": inbox_event,
            "turn_seq": turn_seq,
            "thread_id": thread_id,
        }
        try:
            with self._engine.begin() as connection:
                result = connection.execute(_INSERT, row)
        except SQLAlchemyError as exc:
            raise StoreError(f"recording an outbound {kind} failed: {exc}") from exc
        row_id = int(result.inserted_primary_key[0])
        if status is OutboundStatus.SENDING and inbox_event is not None and turn_seq is not None:
            with self._remember:
                self._sending[row_id] = (inbox_event, turn_seq)
                if len(self._sending) > _REMEMBERED_FINISHES:  # never finished: a store error
                    del self._sending[next(iter(self._sending))]
        return row_id

    def finished_here(self, inbox_event: str, turn_seq: int) -> bool:
        """True when this process finished that message of a turn (the store has its
        outcome): nothing about it is in doubt. False says nothing: ask the store."""
        return (inbox_event, turn_seq) in self._finished

    def _sending_here(self, inbox_event: str, turn_seq: int) -> bool:
        with self._remember:
            return (inbox_event, turn_seq) in self._sending.values()

    def _finished_now(self, row_id: int) -> None:
        with self._remember:
            turn = self._sending.pop(row_id, None)
            if turn is not None:
                self._finished[turn] = None
                if len(self._finished) > _REMEMBERED_FINISHES:
                    self._finished.popitem(last=False)

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

    def turn_outcomes(self, inbox_event: str) -> dict[int, OutboundStatus]:
        """What became of each message (by place) of the turn answering ``inbox_event``: a
        replay skips the finished ones and asks about those left ``sending`` (in doubt)."""
        table = outbound_messages
        query = select(table.c.turn_seq, table.c.status).where(
            table.c.inbox_event == inbox_event, table.c.turn_seq.is_not(None)
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the turn of {inbox_event} failed: {exc}") from exc
        outcomes: dict[int, OutboundStatus] = {}
        for turn_seq, status in rows:
            state = OutboundStatus(status)
            if outcomes.get(turn_seq) in (None, OutboundStatus.SENDING):
                outcomes[turn_seq] = state
        return outcomes

    def turn_progress(self, inbox_event: str) -> int:
        """The place of the last finished message of the turn answering ``inbox_event``."""
        finished = [
            turn_seq
            for turn_seq, status in self.turn_outcomes(inbox_event).items()
            if status is not OutboundStatus.SENDING
        ]
        return max(finished, default=0)

    def confirm(self, inbox_event: str, turn_seq: int) -> bool:
        """The platform says a message left ``sending`` did go out (Messenger's echo of it)."""
        if self.finished_here(inbox_event, turn_seq):
            return False
        parameters = {"b_event": inbox_event, "b_seq": turn_seq}
        try:
            # A message this process is sending is in doubt until the platform answers: straight
            # to the write. Of others, most are finished (by another process): a read, no write.
            if not self._sending_here(inbox_event, turn_seq):
                with self._engine.connect() as connection:
                    if connection.execute(_FIND_IN_DOUBT, parameters).first() is None:
                        return False
            with self._engine.begin() as connection:
                return bool(connection.execute(_CONFIRM, parameters).rowcount)
        except SQLAlchemyError as exc:
            raise StoreError(f"confirming {inbox_event}#{turn_seq} failed: {exc}") from exc

    def finish(
        self,
        row_id: int,
        *,
        status: OutboundStatus,
        kind: str | None = None,
        target_id: str | None = None,
        text: str | None = None,
        platform_message_id: str | None = None,
        error: PlatformError | OutboundRefused | None = None,
    ) -> None:
        """Records the outcome of a message recorded as ``sending``."""
        if status is OutboundStatus.SENT and kind is None and error is None:  # nearly always
            self._execute(_SENT, {"b_id": row_id, "b_message_id": platform_message_id}, row_id)
            self._finished_now(row_id)
            return
        values: dict[str, Any] = {"status": status.value}
        if kind is not None:
            values.update(kind=kind, target_id=target_id, text=text)
        if platform_message_id is not None:
            values["platform_message_id"] = platform_message_id
        if error is not None:
            values.update(
                error_type=type(error).__name__,
                error_code=error.code if isinstance(error, PlatformError) else None,
                error_message=str(error)[:2000],
            )
        statement = update(outbound_messages).where(outbound_messages.c.id == row_id)
        self._execute(statement.values(**values), {}, row_id)
        if status is not OutboundStatus.SENDING:
            self._finished_now(row_id)

    def _execute(self, statement: Any, parameters: dict[str, Any], row_id: int) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(statement, parameters)
        except SQLAlchemyError as exc:
            raise StoreError(f"recording the outcome of outbound {row_id} failed: {exc}") from exc

    def discard(self, row_id: int) -> None:
        """Forgets a message recorded as ``sending`` of which nothing was sent."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    delete(outbound_messages).where(outbound_messages.c.id == row_id)
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"discarding outbound {row_id} failed: {exc}") from exc
        with self._remember:
            self._sending.pop(row_id, None)

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
            if record.status in (OutboundStatus.FAILED, OutboundStatus.REFUSED)
        ]

    def _rows(self, query: Any, what: str) -> list[RowMapping]:
        try:
            with self._engine.connect() as connection:
                return list(connection.execute(query).mappings().all())
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
