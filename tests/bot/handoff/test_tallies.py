"""Handoff metrics kept in the store: every change of ``HandoffStore`` adds to them, on SQLite
and PostgreSQL, in the change's transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import HandoffConflict
from bot.handoff.agents import AgentDirectory
from bot.handoff.handoffs import HandoffStore, NewHandoff
from bot.handoff.tallies import WAIT_BUCKETS, HandoffTallies
from bot.store import SocialStore
from tests.factories import SteppedClock


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def handoffs(store: SocialStore, clock: SteppedClock) -> HandoffStore:
    return HandoffStore(store, clock)


def new(conversation: str, skill: str = "care_private") -> NewHandoff:
    return NewHandoff(
        conversation_id=conversation,
        platform="facebook",
        visibility="private",
        skill=skill,
        priority=2,
        reason="request_human",
    )


def counts(tallies: HandoffTallies, skill: str) -> dict[str, int]:
    return {outcome: total for (name, outcome), total in tallies.counts.items() if name == skill}


def test_a_handoff_is_counted_in_each_skill_it_passes_through(
    store: SocialStore, handoffs: HandoffStore
) -> None:
    directory = AgentDirectory(store)
    sam = directory.add("sam", ["care_private"])
    kim = directory.add("kim", ["deliveries"])
    record, _ = handoffs.create(new("c-1"))
    handoffs.create(new("c-1"))  # asked again: the same handoff, not counted twice

    handoffs.accept(record.id, sam)
    handoffs.transfer(record.id, sam, "deliveries", "an order question")
    handoffs.accept(record.id, kim)
    handoffs.close(record.id, kim)
    handoffs.create(new("c-2"))
    handoffs.cancel_queued("c-2")

    tallies = handoffs.tallies()
    assert counts(tallies, "care_private") == {
        "queued": 2,
        "accepted": 1,
        "transferred": 1,
        "cancelled": 1,
    }
    assert counts(tallies, "deliveries") == {"queued": 1, "accepted": 1, "closed": 1}


def test_a_refused_change_counts_nothing(store: SocialStore, handoffs: HandoffStore) -> None:
    directory = AgentDirectory(store)
    sam, ann = directory.add("sam", ["care_private"]), directory.add("ann", ["care_private"])
    record, _ = handoffs.create(new("c-1"))
    handoffs.accept(record.id, sam)

    with pytest.raises(HandoffConflict):
        handoffs.accept(record.id, ann)
    with pytest.raises(HandoffConflict):
        handoffs.close(record.id, ann)

    assert counts(handoffs.tallies(), "care_private") == {"queued": 1, "accepted": 1}


def test_queue_waits_fall_in_their_buckets_from_creation_or_the_last_transfer(
    store: SocialStore, handoffs: HandoffStore, clock: SteppedClock
) -> None:
    sam = AgentDirectory(store).add("sam", ["care_private", "deliveries"])
    first, _ = handoffs.create(new("c-1"))
    clock.wait(45)
    handoffs.accept(first.id, sam)  # waited 45 s
    clock.wait(600)
    handoffs.transfer(first.id, sam, "deliveries", None)
    clock.wait(7)
    handoffs.accept(first.id, sam)  # waited 7 s in the deliveries queue, not 652 s
    second, _ = handoffs.create(new("c-2"))
    clock.wait(2 * 86400)
    handoffs.accept(second.id, sam)  # two days: beyond the last bucket

    waits = handoffs.tallies().waits
    care = dict(waits["care_private"].buckets)
    assert care["30.0"] == 0
    assert care["60.0"] == 1
    assert care[repr(float(WAIT_BUCKETS[-1]))] == 1
    assert care["+Inf"] == waits["care_private"].count == 2
    assert waits["care_private"].total_seconds == pytest.approx(45 + 2 * 86400)
    assert dict(waits["deliveries"].buckets)["10.0"] == 1
    assert waits["deliveries"].total_seconds == pytest.approx(7)


def test_the_queues_now_give_their_size_and_oldest_entry(
    handoffs: HandoffStore, clock: SteppedClock
) -> None:
    started = clock.now
    handoffs.create(new("c-1"))
    clock.wait(30)
    handoffs.create(new("c-2"))
    handoffs.create(new("c-3", skill="deliveries"))

    waiting = handoffs.tallies().waiting

    assert waiting["care_private"] == (2, started)
    assert waiting["deliveries"] == (1, started + timedelta(seconds=30))
