"""Handoffs in the social store, on SQLite and PostgreSQL: queue order, audit trail, the race."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from bot.errors import HandoffConflict, HandoffNotFound
from bot.handoff.agents import AgentDirectory, AgentRecord, AgentStatus
from bot.handoff.handoffs import HandoffStatus, HandoffStore, NewHandoff
from bot.store import SocialStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)  # every change happens a second later
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def handoffs(store: SocialStore, clock: Clock) -> HandoffStore:
    return HandoffStore(store, clock)


@pytest.fixture
def directory(store: SocialStore) -> AgentDirectory:
    return AgentDirectory(store)


def new(conversation: str = "rest-1", skill: str = "care_private", priority: int = 3) -> NewHandoff:
    return NewHandoff(
        conversation_id=conversation,
        platform="rest",
        visibility="private",
        skill=skill,
        priority=priority,
        reason="request_human",
        summary={"intents": [{"name": "complaint", "count": 1, "confidence": 0.9}]},
        rule="Complaints in private",
    )


def agent(directory: AgentDirectory, name: str, *skills: str, admin: bool = False) -> AgentRecord:
    return directory.add(name, skills or ("care_private",), is_admin=admin)


def test_a_conversation_has_one_open_handoff_and_asking_again_returns_it(
    handoffs: HandoffStore,
) -> None:
    first, created = handoffs.create(new("rest-1"))
    again, created_again = handoffs.create(new("rest-1"))

    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert first.status is HandoffStatus.QUEUED
    assert first.summary["intents"][0]["name"] == "complaint"
    assert handoffs.open_for("rest-1") == first


def test_the_queue_is_ordered_by_priority_then_waiting_time(handoffs: HandoffStore) -> None:
    late_urgent = None
    for name, priority in (("a", 3), ("b", 2), ("c", 3), ("d", 1)):
        record, _ = handoffs.create(new(name, priority=priority))
        if name == "d":
            late_urgent = record
    handoffs.create(new("other-skill", skill="deliveries", priority=1))

    queue = handoffs.queue(["care_private"])

    assert [record.conversation_id for record in queue] == ["d", "b", "a", "c"]
    assert [handoffs.position(record) for record in queue] == [1, 2, 3, 4]
    assert late_urgent is not None
    assert handoffs.position(late_urgent) == 1
    assert len(handoffs.queue()) == 5


def test_accept_transfer_close_leave_an_audit_trail(
    handoffs: HandoffStore, directory: AgentDirectory
) -> None:
    sam = agent(directory, "sam")
    record, _ = handoffs.create(new())

    accepted = handoffs.accept(record.id, sam)
    transferred = handoffs.transfer(record.id, sam, "deliveries", "order BC-104233 lost")
    kim = agent(directory, "kim", "deliveries")
    handoffs.accept(record.id, kim)
    closed = handoffs.close(record.id, kim)

    assert (accepted.status, accepted.agent_name) == (HandoffStatus.ASSIGNED, "sam")
    assert (transferred.status, transferred.skill, transferred.agent_name) == (
        HandoffStatus.QUEUED,
        "deliveries",
        None,
    )
    assert transferred.queued_at == record.queued_at  # keeps their place in line
    assert transferred.transfer_note == "order BC-104233 lost"
    assert closed.status is HandoffStatus.CLOSED
    assert handoffs.open_for("rest-1") is None
    assert [(event.kind, event.agent_name) for event in handoffs.events(record.id)] == [
        ("created", None),
        ("accepted", "sam"),
        ("transferred", "sam"),
        ("accepted", "kim"),
        ("closed", "kim"),
    ]
    assert handoffs.events(record.id)[2].detail == {
        "to_skill": "deliveries",
        "note": "order BC-104233 lost",
    }


def test_only_the_holder_or_an_admin_may_close_or_transfer(
    handoffs: HandoffStore, directory: AgentDirectory
) -> None:
    sam, kim = agent(directory, "sam"), agent(directory, "kim")
    boss = agent(directory, "boss", admin=True)
    record, _ = handoffs.create(new())
    handoffs.accept(record.id, sam)

    with pytest.raises(HandoffConflict, match="assigned to sam"):
        handoffs.close(record.id, kim)
    with pytest.raises(HandoffConflict, match="assigned to sam"):
        handoffs.transfer(record.id, kim, "deliveries", None)
    assert handoffs.close(record.id, boss).status is HandoffStatus.CLOSED
    with pytest.raises(HandoffConflict, match="closed already"):
        handoffs.close(record.id, sam)


def test_a_queued_handoff_must_be_accepted_before_it_is_closed(
    handoffs: HandoffStore, directory: AgentDirectory
) -> None:
    record, _ = handoffs.create(new())

    with pytest.raises(HandoffConflict, match="accept it first"):
        handoffs.close(record.id, agent(directory, "sam"))


def test_accept_respects_the_agents_capacity(
    handoffs: HandoffStore, directory: AgentDirectory
) -> None:
    sam = agent(directory, "sam")
    first, _ = handoffs.create(new("one"))
    second, _ = handoffs.create(new("two"))
    handoffs.accept(first.id, sam, capacity=1)

    with pytest.raises(HandoffConflict, match="you hold 1 conversations already"):
        handoffs.accept(second.id, sam, capacity=1)
    assert handoffs.accept(first.id, sam, capacity=1).agent_name == "sam"  # a double click


def test_the_consumer_may_leave_the_queue_but_not_once_an_agent_has_it(
    handoffs: HandoffStore, directory: AgentDirectory
) -> None:
    handoffs.create(new("left"))
    taken, _ = handoffs.create(new("taken"))
    handoffs.accept(taken.id, agent(directory, "sam"))

    cancelled = handoffs.cancel_queued("left")

    assert cancelled is not None
    assert cancelled.status is HandoffStatus.CANCELLED
    assert handoffs.cancel_queued("left") is None
    assert handoffs.cancel_queued("never-asked") is None
    with pytest.raises(HandoffConflict, match="already taken by sam") as raised:
        handoffs.cancel_queued("taken")
    assert raised.value.holder == "sam"


def test_loads_count_online_agents_free_slots_and_the_queue(
    handoffs: HandoffStore, directory: AgentDirectory
) -> None:
    sam = agent(directory, "sam", "care_private", "deliveries")
    kim = agent(directory, "kim", "care_private")
    agent(directory, "off", "care_private")  # offline: not counted
    for online in (sam, kim):
        directory.set_status(online.id, AgentStatus.ONLINE)
    held, _ = handoffs.create(new("held"))
    handoffs.accept(held.id, sam)
    handoffs.create(new("waiting"))
    handoffs.close(held.id, sam)  # 1 closed handoff gives the handle time
    again, _ = handoffs.create(new("held-again"))
    handoffs.accept(again.id, sam)

    loads = handoffs.loads({"care_private": 2, "deliveries": 4})

    assert loads["care_private"].agents_online == 2
    assert loads["care_private"].free_slots == 1 + 2
    assert loads["care_private"].queued == 1
    assert loads["care_private"].handle_time == timedelta(seconds=2)
    assert loads["deliveries"].agents_online == 1
    assert loads["deliveries"].free_slots == 3
    assert loads["deliveries"].handle_time == timedelta(minutes=6)  # none closed: the default


def test_an_unknown_handoff_is_not_found(handoffs: HandoffStore) -> None:
    with pytest.raises(HandoffNotFound, match="no handoff with id 42"):
        handoffs.get(42)


def race(store: SocialStore, handoff_id: int, contenders: list[AgentRecord]) -> dict[str, str]:
    """Every contender accepts at the same moment, each on its own connection and thread."""
    barrier = threading.Barrier(len(contenders))
    outcomes: dict[str, str] = {}

    def take(contender: AgentRecord) -> None:
        mine = HandoffStore(store)
        barrier.wait()
        try:
            mine.accept(handoff_id, contender)
            outcomes[contender.name] = "won"
        except HandoffConflict as lost:
            outcomes[contender.name] = str(lost)

    threads = [threading.Thread(target=take, args=(each,)) for each in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_agents_accepting_at_once_one_wins_the_other_is_told_who(
    store: SocialStore, directory: AgentDirectory
) -> None:
    contenders = [agent(directory, f"agent{index}") for index in range(2)]
    handoffs = HandoffStore(store)
    for round_number in range(8):
        record, _ = handoffs.create(new(f"race-{round_number}"))

        outcomes = race(store, record.id, contenders)

        winners = [name for name, outcome in outcomes.items() if outcome == "won"]
        assert len(winners) == 1, outcomes
        [loser] = [name for name in outcomes if name not in winners]
        assert outcomes[loser] == f"already taken by {winners[0]}"
        assert handoffs.get(record.id).agent_name == winners[0]
        accepted = [event for event in handoffs.events(record.id) if event.kind == "accepted"]
        assert len(accepted) == 1
