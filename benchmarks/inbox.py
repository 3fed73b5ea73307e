"""The inbox with 10,000 pending events: how long the workers take to drain it, what a claim costs
as the backlog shrinks, and the memory it takes, on SQLite and on PostgreSQL.

The events come from 2,000 conversations, 5 each, stored before any worker starts (an outage, a
burst); the handler does no work, so the figures are the inbox's own: the claims, the
per-conversation order, the outcomes. One worker, and two workers as two replicas would run them.

Run: .venv/bin/python -m benchmarks.inbox [--events 10000] [--postgres URL]
     (prints a table; writes benchmarks/results/inbox.md)
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.future import create_engine

from benchmarks.report import p99, publish
from bot.context import SocialContext
from bot.events import SocialEvent
from bot.inbox import Inbox, InboxRecord, InboxStatus
from bot.inbox_worker import InboxWorker
from bot.store import SocialStore

CONVERSATIONS_PER_EVENTS = 5
DEFAULT_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@dataclass
class Drain:
    """The figures of one drain."""

    store: str
    workers: int
    events: int
    fill_seconds: float
    drain_seconds: float
    claim_ms: list[float]
    rss_mib: float
    in_order: bool

    def row(self) -> str:
        rate = self.events / self.drain_seconds
        return (
            f"| {self.store} | {self.workers} | {self.events} | {self.fill_seconds:.1f} | "
            f"{self.drain_seconds:.1f} | {rate:.0f} | {statistics.median(self.claim_ms):.2f} | "
            f"{p99(self.claim_ms):.2f} | {self.rss_mib:.0f} | {'yes' if self.in_order else 'NO'} |"
        )


def _event(conversation: int, position: int) -> SocialEvent:
    user = f"psid{conversation}"
    context = SocialContext.parse_obj(
        {
            "platform": "facebook",
            "account_id": "100200300400500",
            "source": "messenger",
            "visibility": "private",
            "event_id": f"m_{conversation}_{position}",
            "thread_id": user,
            "author": {"id": user, "name": f"Consumer {conversation}"},
        }
    )
    return SocialEvent(
        context=context,
        text=f"message {position} of conversation {conversation}",
        dedupe_key=f"facebook:messenger:m_{conversation}_{position}",
        occurred_at=datetime.now(timezone.utc),
    )


class TimedInbox(Inbox):
    """The inbox, each claim timed."""

    def __init__(self, store: SocialStore) -> None:
        super().__init__(store)
        self.claim_ms: list[float] = []

    def claim(self, *args: object, **kwargs: object) -> list[InboxRecord]:  # type: ignore[override]
        started = time.perf_counter()
        try:
            return super().claim(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self.claim_ms.append((time.perf_counter() - started) * 1000)


async def drain(store: SocialStore, name: str, events: int, workers: int) -> Drain:
    """Fills the inbox with ``events`` pending events, then drains it with ``workers`` workers."""
    inbox = TimedInbox(store)
    conversations = max(1, events // CONVERSATIONS_PER_EVENTS)
    started = time.perf_counter()
    for position in range(CONVERSATIONS_PER_EVENTS):
        for conversation in range(conversations):
            inbox.add(_event(conversation, position))
    fill = time.perf_counter() - started
    handled: dict[str, list[str]] = {}

    async def handle(record: InboxRecord) -> None:
        handled.setdefault(record.sender_id, []).append(record.event.context.event_id)

    pool = [InboxWorker(inbox, handle, concurrency=16, poll_interval=0.05) for _ in range(workers)]
    started = time.perf_counter()
    for worker in pool:
        worker.start()
        worker.notify()
    while True:
        counts = await asyncio.to_thread(inbox.counts)
        if counts[InboxStatus.DONE] >= conversations * CONVERSATIONS_PER_EVENTS:
            break
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    for worker in pool:
        await worker.stop()
    in_order = (
        all(
            ids == [f"m_{ids[0].split('_')[1]}_{position}" for position in range(len(ids))]
            for ids in handled.values()
        )
        and sum(len(ids) for ids in handled.values()) == conversations * CONVERSATIONS_PER_EVENTS
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Drain(name, workers, events, fill, seconds, inbox.claim_ms, rss, in_order)


@contextmanager
def fresh_database(url: str, prefix: str) -> Iterator[str | None]:
    """The URL of a new database on the PostgreSQL server of ``url``, dropped afterwards (None
    when the server cannot be reached)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as error:
        print(f"PostgreSQL at {url} cannot be reached: {error}")
        admin.dispose()
        yield None
        return
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def postgres_store(url: str) -> Iterator[SocialStore | None]:
    """A migrated social store in a new database (None when PostgreSQL cannot be reached)."""
    with fresh_database(url, "bench_inbox") as database:
        if database is None:
            yield None
            return
        store = SocialStore.from_url(database)
        try:
            store.upgrade()
            yield store
        finally:
            store.dispose()


@contextmanager
def sqlite_store() -> Iterator[SocialStore]:
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as folder:
        store = SocialStore.from_url(f"sqlite:///{folder}/social.db")
        store.upgrade()
        try:
            yield store
        finally:
            store.dispose()


async def measure(events: int, postgres: str) -> list[Drain]:
    results = []
    for workers in (1, 2):
        with sqlite_store() as store:
            results.append(await drain(store, "SQLite", events, workers))
            print(results[-1].row(), flush=True)
        with postgres_store(postgres) as pg:
            if pg is not None:
                results.append(await drain(pg, "PostgreSQL", events, workers))
                print(results[-1].row(), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inbox", description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args(argv)
    results = asyncio.run(measure(args.events, args.postgres))
    publish(
        "inbox",
        [
            f"# Inbox: {args.events} pending events drained",
            "",
            f"{args.events // CONVERSATIONS_PER_EVENTS} conversations of "
            f"{CONVERSATIONS_PER_EVENTS} events, stored before the workers start; a handler "
            "that does no work; 16 conversations at once per worker.",
            f"Command: `.venv/bin/python -m benchmarks.inbox --events {args.events}`",
            "",
            "| store | workers | events | fill (s) | drain (s) | events/s | claim p50 (ms) "
            "| claim p99 (ms) | peak RSS (MiB) | in order per conversation |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *(result.row() for result in results),
        ],
    )
    return 0 if all(result.in_order for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
