"""The inbox: every inbound social event, stored before the webhook answers, processed once.

Platforms deliver at least once and in batches. Each event is stored under its unique
``dedupe_key`` (a second delivery is recognised and dropped), then claimed by one inbox worker,
handed to Rasa and marked done. The state of an event::

    pending ──claim──▶ processing ──complete──▶ done
       ▲                   │
       └──fail (retry)─────┤──fail (attempts exhausted)──▶ parked ──replay──▶ pending
                           └──lease expired (crashed worker)──▶ claimed again

A worker renews the leases of the events it is still processing (``renew``), so a lease can be
short: it bounds how long the events of a dead worker on another host wait, not how long a turn
may take.

Per-conversation order: only the oldest unfinished event of a sender can be claimed, so a
conversation's events are processed one after the other, in arrival order, across every worker
and replica. Arrival order is the order the events reached our webhook (the table's ``id``),
not the platforms' timestamps, which are kept in each event's ``occurred_at``: platforms do not
promise ordered deliveries, and waiting for an earlier one could mean waiting forever. On
PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED``; on every database the claim is a
conditional ``UPDATE`` whose row count says who won.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, case, exists, func, insert, select, text, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.sql import Select

from bot.errors import StoreError
from bot.events import SocialEvent
from bot.schema import inbox_events
from bot.store import SocialStore

__all__ = ["Inbox", "InboxRecord", "InboxStatus", "event_document"]

logger = logging.getLogger(__name__)


class InboxStatus(str, Enum):
    """Where an inbound event stands."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    PARKED = "parked"


UNFINISHED = (InboxStatus.PENDING.value, InboxStatus.PROCESSING.value)

# The statements of every event's path (store, claim, take, complete) are built once, with bound
# parameters: building a SQLAlchemy statement costs far more than SQLite takes to run it.
_TIME = inbox_events.c.next_attempt_at.type
_INSERT = insert(inbox_events)


def _claim_query(*, by_platform: bool, skip_locked: bool) -> Select:
    """Due events that are the oldest unfinished of their conversation, oldest first."""
    events = inbox_events
    earlier = inbox_events.alias("earlier")
    now = bindparam("b_now", type_=_TIME)
    # Due: pending with its next attempt reached, or processing under an expired lease. One
    # comparison, not an OR of two, so that the databases walk the unfinished events in order
    # (the partial index) and stop at ``limit``, rather than sort the whole backlog.
    due_at = case(
        (events.c.status == InboxStatus.PENDING.value, events.c.next_attempt_at),
        else_=events.c.claimed_until,
    )
    due = due_at <= now
    oldest_of_its_conversation = ~exists().where(
        earlier.c.sender_id == events.c.sender_id,
        earlier.c.id < events.c.id,
        text("earlier.status IN ('pending', 'processing')"),
    )
    # ``status IN`` (implied by ``due``), written out as the partial indexes' own condition,
    # lets the databases use them: a claim reads the backlog, not the history.
    unfinished = text("inbox_events.status IN ('pending', 'processing')")
    query = select(events).where(unfinished, due, oldest_of_its_conversation).order_by(events.c.id)
    if by_platform:
        query = query.where(events.c.platform == bindparam("b_platform"))
    query = query.limit(bindparam("b_limit"))
    if skip_locked:
        query = query.with_for_update(skip_locked=True, of=events)
    return query


_CLAIM_QUERIES = {
    (by_platform, skip_locked): _claim_query(by_platform=by_platform, skip_locked=skip_locked)
    for by_platform in (False, True)
    for skip_locked in (False, True)
}

# Conditional on the state read: another replica that got there first makes it a no-op.
_TAKE = (
    update(inbox_events)
    .where(
        inbox_events.c.id == bindparam("b_id"),
        inbox_events.c.status == bindparam("b_status"),
        inbox_events.c.attempts == bindparam("b_attempts"),
    )
    .values(
        status=InboxStatus.PROCESSING.value,
        attempts=inbox_events.c.attempts + 1,
        claimed_by=bindparam("b_worker"),
        claimed_until=bindparam("b_until", type_=_TIME),
        updated_at=bindparam("b_now", type_=_TIME),
    )
)

_COMPLETE = (
    update(inbox_events)
    .where(
        inbox_events.c.id == bindparam("b_id"),
        inbox_events.c.status == InboxStatus.PROCESSING.value,
        inbox_events.c.claimed_by == bindparam("b_worker"),
    )
    .values(
        status=InboxStatus.DONE.value,
        processed_at=bindparam("b_now", type_=_TIME),
        last_error=None,
        claimed_until=None,
        updated_at=bindparam("b_now", type_=_TIME),
    )
)


@dataclass(frozen=True)
class InboxRecord:
    """One stored inbound event and its processing state."""

    id: int
    dedupe_key: str
    sender_id: str
    status: InboxStatus
    attempts: int
    event: SocialEvent
    received_at: datetime
    last_error: str | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything stored is UTC.
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def event_document(social_event: SocialEvent) -> dict[str, Any]:
    """The JSON document an event is stored as (read back by ``SocialEvent.parse_obj``)."""
    return {
        "context": social_event.context.to_dict(),
        "text": social_event.text,
        "dedupe_key": social_event.dedupe_key,
        "occurred_at": social_event.occurred_at.isoformat(),
        "extra": social_event.extra,
    }


def _record(row: RowMapping) -> InboxRecord:
    return InboxRecord(
        id=row["id"],
        dedupe_key=row["dedupe_key"],
        sender_id=row["sender_id"],
        status=InboxStatus(row["status"]),
        attempts=row["attempts"],
        event=SocialEvent.parse_obj(row["event"]),
        received_at=_aware(row["received_at"]),
        last_error=row["last_error"],
    )


class Inbox:
    """The inbox table of the social store; every inbox SQL statement lives here."""

    def __init__(self, store: SocialStore) -> None:
        self._engine = store.engine
        self._skip_locked = store.engine.dialect.name == "postgresql"

    def add(self, social_event: SocialEvent) -> bool:
        """Stores an inbound event as pending.

        Returns:
            True when stored; False when an event with its ``dedupe_key`` is already there.

        Raises:
            StoreError: the store failed for another reason.
        """
        now = _utcnow()
        context = social_event.context
        row = {
            "dedupe_key": social_event.dedupe_key,
            "sender_id": social_event.sender_id,
            "platform": context.platform.value,
            "account_id": context.account_id,
            "visibility": context.visibility.value,
            "event_id": context.event_id,
            "event": event_document(social_event),
            "status": InboxStatus.PENDING.value,
            "attempts": 0,
            "received_at": now,
            "next_attempt_at": now,
            "updated_at": now,
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(_INSERT, row)
        except IntegrityError:
            logger.debug("duplicate delivery of %s ignored", social_event.dedupe_key)
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"storing event {social_event.dedupe_key} failed: {exc}") from exc
        return True

    def get(self, dedupe_key: str) -> InboxRecord | None:
        """The stored event with ``dedupe_key``, or None."""
        query = select(inbox_events).where(inbox_events.c.dedupe_key == dedupe_key)
        row = self._read_one(query, f"reading event {dedupe_key}")
        return None if row is None else _record(row)

    def latest_for(self, sender_id: str, *, visibility: str | None = None) -> InboxRecord | None:
        """The newest stored event of a conversation (of one visibility, if given), or None."""
        query = select(inbox_events).where(inbox_events.c.sender_id == sender_id)
        if visibility is not None:
            query = query.where(inbox_events.c.visibility == visibility)
        query = query.order_by(inbox_events.c.id.desc()).limit(1)
        row = self._read_one(query, f"reading the latest event of {sender_id}")
        return None if row is None else _record(row)

    def find_event(self, platform: str, account_id: str, event_id: str) -> InboxRecord | None:
        """The first stored event with this platform id (a tweet, a comment...), or None."""
        query = (
            select(inbox_events)
            .where(
                inbox_events.c.platform == platform,
                inbox_events.c.account_id == account_id,
                inbox_events.c.event_id == event_id,
            )
            .order_by(inbox_events.c.id)
            .limit(1)
        )
        row = self._read_one(query, f"reading event {platform}:{event_id}")
        return None if row is None else _record(row)

    def claim(
        self,
        worker_id: str,
        *,
        lease: timedelta,
        limit: int = 10,
        platform: str | None = None,
        now: datetime | None = None,
    ) -> list[InboxRecord]:
        """Claims up to ``limit`` due events, at most one per conversation (its oldest unfinished).

        Due: pending with ``next_attempt_at`` reached, or processing under an expired lease (its
        worker died). The claim holds until ``now + lease``; ``attempts`` counts it.
        """
        now = now or _utcnow()
        query = _CLAIM_QUERIES[platform is not None, self._skip_locked]
        parameters: dict[str, Any] = {"b_now": now, "b_limit": limit}
        if platform is not None:
            parameters["b_platform"] = platform
        claimed: list[InboxRecord] = []
        try:
            with self._engine.begin() as connection:
                for row in connection.execute(query, parameters).mappings().all():
                    try:
                        record = _record(row)
                    except ValidationError as exc:
                        self._park_unreadable(connection, row, exc, now)
                        continue
                    if self._take(connection, row, worker_id, now, lease):
                        claimed.append(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"claiming inbox events failed: {exc}") from exc
        return claimed

    @staticmethod
    def _park_unreadable(
        connection: Connection, row: RowMapping, error: ValidationError, now: datetime
    ) -> None:
        # Written by another version of the code, or by hand: raising here would stop every
        # worker at this row; parked, it waits for an operator and the rest goes on.
        reason = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        logger.error("inbox event %s cannot be read and is parked: %s", row["id"], reason)
        events = inbox_events
        connection.execute(
            update(events)
            .where(events.c.id == row["id"], events.c.status == row["status"])
            .values(
                status=InboxStatus.PARKED.value,
                last_error=f"the stored event cannot be read: {reason}"[:2000],
                claimed_until=None,
                updated_at=now,
            )
        )

    @staticmethod
    def _take(
        connection: Connection,
        row: RowMapping,
        worker_id: str,
        now: datetime,
        lease: timedelta,
    ) -> bool:
        result = connection.execute(
            _TAKE,
            {
                "b_id": row["id"],
                "b_status": row["status"],
                "b_attempts": row["attempts"],
                "b_worker": worker_id,
                "b_until": now + lease,
                "b_now": now,
            },
        )
        return bool(result.rowcount == 1)

    def complete(self, record: InboxRecord, worker_id: str) -> bool:
        """Marks a claimed event done; False when the claim was lost (lease expired, taken over)."""
        parameters = {"b_id": record.id, "b_worker": worker_id, "b_now": _utcnow()}
        return self._update_claimed(record, _COMPLETE, parameters)

    def fail(
        self, record: InboxRecord, worker_id: str, error: str, *, retry_at: datetime | None
    ) -> bool:
        """Releases a claimed event after a failure: pending again at ``retry_at``, or parked."""
        now = _utcnow()
        if retry_at is None:
            values: dict[str, Any] = {"status": InboxStatus.PARKED.value}
        else:
            values = {"status": InboxStatus.PENDING.value, "next_attempt_at": retry_at}
        return self._finish(
            record,
            worker_id,
            last_error=error[:2000],
            claimed_until=None,
            updated_at=now,
            **values,
        )

    def _finish(self, record: InboxRecord, worker_id: str, **values: Any) -> bool:
        events = inbox_events
        statement = (
            update(events)
            .where(
                events.c.id == record.id,
                events.c.status == InboxStatus.PROCESSING.value,
                events.c.claimed_by == worker_id,
            )
            .values(**values)
        )
        return self._update_claimed(record, statement, {})

    def _update_claimed(
        self, record: InboxRecord, statement: Any, parameters: dict[str, Any]
    ) -> bool:
        finished = self._write(statement, f"updating event {record.dedupe_key}", parameters) == 1
        if not finished:
            logger.warning("inbox event %s: the claim was lost before it finished", record.id)
        return finished

    def renew(
        self,
        worker_id: str,
        ids: Sequence[int],
        *,
        lease: timedelta,
        now: datetime | None = None,
    ) -> int:
        """Extends ``worker_id``'s claims on the events ``ids`` (still being processed) to
        ``now + lease``; returns how many it still holds."""
        if not ids:
            return 0
        now = now or _utcnow()
        events = inbox_events
        statement = (
            update(events)
            .where(
                events.c.id.in_(list(ids)),
                events.c.status == InboxStatus.PROCESSING.value,
                events.c.claimed_by == worker_id,
            )
            .values(claimed_until=now + lease)
        )
        return self._write(statement, f"renewing the claims of {worker_id}")

    def release_claims(self, claimed_by: Sequence[str]) -> int:
        """Puts the events claimed by these (dead) workers back to pending at once, rather than
        when their leases expire. Returns how many were released."""
        if not claimed_by:
            return 0
        now = _utcnow()
        events = inbox_events
        statement = (
            update(events)
            .where(
                events.c.status == InboxStatus.PROCESSING.value,
                events.c.claimed_by.in_(list(claimed_by)),
            )
            .values(
                status=InboxStatus.PENDING.value,
                claimed_by=None,
                claimed_until=None,
                next_attempt_at=now,
                updated_at=now,
            )
        )
        return self._write(statement, "releasing claims")

    def claimants(self) -> list[str]:
        """The workers holding claims right now."""
        query = (
            select(inbox_events.c.claimed_by)
            .where(
                inbox_events.c.status == InboxStatus.PROCESSING.value,
                inbox_events.c.claimed_by.is_not(None),
            )
            .distinct()
        )
        try:
            with self._engine.connect() as connection:
                return [row[0] for row in connection.execute(query).all()]
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the claimants failed: {exc}") from exc

    def replay(self, dedupe_keys: Sequence[str] = ()) -> int:
        """Puts parked events back to pending (the given ones, or every parked one).

        Returns:
            How many events will be processed again.
        """
        now = _utcnow()
        events = inbox_events
        statement = (
            update(events)
            .where(events.c.status == InboxStatus.PARKED.value)
            .values(
                status=InboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                updated_at=now,
            )
        )
        if dedupe_keys:
            statement = statement.where(events.c.dedupe_key.in_(list(dedupe_keys)))
        return self._write(statement, "replaying parked events")

    def counts(self) -> dict[InboxStatus, int]:
        """How many events are in each state."""
        query = select(inbox_events.c.status, func.count()).group_by(inbox_events.c.status)
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"counting inbox events failed: {exc}") from exc
        counts = dict.fromkeys(InboxStatus, 0)
        for status, count in rows:
            counts[InboxStatus(status)] = count
        return counts

    def oldest_unfinished_at(self) -> datetime | None:
        """When the oldest pending or processing event was received (the inbox's age)."""
        query = select(func.min(inbox_events.c.received_at)).where(
            inbox_events.c.status.in_(UNFINISHED)
        )
        row = self._read_scalar(query, "reading the inbox age")
        return None if row is None else _aware(row)

    def parked(self, limit: int = 100) -> list[InboxRecord]:
        """Parked events, oldest first, for an operator to inspect and replay.

        Events that cannot be read back are left out and logged with their id.
        """
        query = (
            select(inbox_events)
            .where(inbox_events.c.status == InboxStatus.PARKED.value)
            .order_by(inbox_events.c.id)
            .limit(limit)
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading parked events failed: {exc}") from exc
        records = []
        for row in rows:
            try:
                records.append(_record(row))
            except ValidationError:
                logger.error("parked inbox event %s cannot be read", row["id"], exc_info=True)
        return records

    def _write(self, statement: Any, what: str, parameters: dict[str, Any] | None = None) -> int:
        """Runs an UPDATE in a transaction of its own; returns how many rows it changed."""
        try:
            with self._engine.begin() as connection:
                changed: int = connection.execute(statement, parameters or {}).rowcount
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
        return changed

    def _read_one(self, query: Any, what: str) -> RowMapping | None:
        try:
            with self._engine.connect() as connection:
                row: RowMapping | None = connection.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
        return row

    def _read_scalar(self, query: Any, what: str) -> Any:
        try:
            with self._engine.connect() as connection:
                return connection.execute(query).scalar()
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc
