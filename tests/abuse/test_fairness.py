"""A flood from one consumer does not starve the others.

The inbox hands out only the oldest unfinished event of a conversation, so however many events
one consumer sends, they hold one of the worker's ``concurrency`` slots at a time, processed
one after the other in arrival order, while the other slots serve everyone else.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import pytest

from bot.inbox import Inbox, InboxRecord, InboxStatus
from bot.inbox_worker import InboxWorker
from bot.store import SocialStore
from tests.abuse.strategies import ON_SQLITE
from tests.factories import make_event

FLOOD = 500
OTHERS = 20
CONCURRENCY = 4
HANDLING = 0.01  # seconds the slow bot takes per event
FLOODER = "4242424242"


@dataclass
class SlowBot:
    """Takes ``HANDLING`` s per event; records when each event started and finished."""

    started: dict[str, float] = field(default_factory=dict)
    finished: dict[str, float] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    others_done: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, record: InboxRecord) -> None:
        self.started[record.dedupe_key] = time.monotonic()
        await asyncio.sleep(HANDLING)
        self.finished[record.dedupe_key] = time.monotonic()
        self.order.append(record.dedupe_key)
        if all(f"other-{n}" in self.finished for n in range(OTHERS)):
            self.others_done.set()


def flooded_inbox(store: SocialStore) -> Inbox:
    """``FLOOD`` events of one consumer, then one event of each of ``OTHERS`` consumers."""
    inbox = Inbox(store)
    for n in range(FLOOD):
        inbox.add(make_event("messenger", dedupe_key=f"flood-{n:03d}", author_id=FLOODER))
    for n in range(OTHERS):
        inbox.add(make_event("messenger", dedupe_key=f"other-{n}", author_id=f"77{n:03d}"))
    return inbox


@pytest.mark.parametrize("replicas", [1, 2], ids=["one worker", "two workers"])
async def test_a_flood_from_one_consumer_does_not_starve_the_others(
    unsynced_store: SocialStore, replicas: int
) -> None:
    inbox = flooded_inbox(unsynced_store)
    bot = SlowBot()
    workers = [
        InboxWorker(inbox, bot, concurrency=CONCURRENCY, poll_interval=0.05, worker_id=f"w{n}")
        for n in range(replicas)
    ]
    began = time.monotonic()
    for worker in workers:
        worker.start()

    await asyncio.wait_for(bot.others_done.wait(), 20)
    for worker in workers:
        await worker.stop()

    flood_done = [key for key in bot.order if key.startswith("flood-")]
    # Every other consumer was answered while the flood had barely begun: its events hold
    # one slot, one at a time, in the order they arrived. The others share the remaining
    # slots: a few rounds of the slow bot (timing on a busy machine allows some more).
    slots_for_others = CONCURRENCY * replicas - 1
    rounds = -(-OTHERS // slots_for_others)
    assert len(flood_done) <= 3 * rounds, len(flood_done)
    assert flood_done == [f"flood-{n:03d}" for n in range(len(flood_done))]
    assert inbox.counts()[InboxStatus.PENDING] >= FLOOD - len(flood_done) - replicas
    last_other = max(bot.finished[f"other-{n}"] for n in range(OTHERS))
    assert last_other - began < 5.0  # the flood alone takes 500 x 10 ms and more


@ON_SQLITE  # the claim's order on both databases: the test above
async def test_the_flood_itself_is_processed_one_at_a_time_in_arrival_order(
    unsynced_store: SocialStore,
) -> None:
    inbox = Inbox(unsynced_store)
    for n in range(30):
        inbox.add(make_event("messenger", dedupe_key=f"flood-{n:03d}", author_id=FLOODER))
    bot = SlowBot()
    worker = InboxWorker(inbox, bot, concurrency=CONCURRENCY, poll_interval=0.05)

    while await worker.run_once():
        pass

    assert bot.order == [f"flood-{n:03d}" for n in range(30)]
    starts = [bot.started[key] for key in bot.order]
    ends = [bot.finished[key] for key in bot.order]
    assert all(start >= end for start, end in zip(starts[1:], ends[:-1], strict=True))
