"""HandoffService: routing, availability and the queue together, on a real store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff.agents import AgentDirectory, AgentStatus
from bot.handoff.availability import Outcome
from bot.handoff.handoffs import HandoffStatus, HandoffStore
from bot.handoff.service import CancelOutcome, HandoffRequest, HandoffService
from bot.handoff.summary import routing_context
from bot.store import SocialStore
from tests.factories import make_routing, user_event

NOON = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)
NIGHT = datetime(2026, 1, 7, 23, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(sqlite_store: SocialStore) -> SocialStore:
    return sqlite_store  # one database is enough here: the store's own tests run on both


@pytest.fixture
def directory(store: SocialStore) -> AgentDirectory:
    return AgentDirectory(store)


def online(directory: AgentDirectory, name: str, *skills: str) -> None:
    agent = directory.add(name, skills)
    directory.set_status(agent.id, AgentStatus.ONLINE)


def service(
    store: SocialStore, now: datetime = NOON, **overrides: dict[str, object]
) -> HandoffService:
    return HandoffService(make_routing(**overrides), HandoffStore(store, lambda: now), lambda: now)  # type: ignore[arg-type]


def request(conversation: str, *events: dict[str, object]) -> HandoffRequest:
    return HandoffRequest(
        conversation_id=conversation,
        context=routing_context(list(events), {}, events[-1]["metadata"]),  # type: ignore[arg-type]
        reason="request_human",
        summary={"consumer": {"name": "Jane Doe"}},
    )


DELIVERY = (
    user_event("my parcel never came", "delivery_problem"),
    user_event("BC-104233", "inform", entities={"order_number": "BC-104233"}),
    user_event("a human please", "request_human"),
)


def test_a_rule_routes_to_its_skill_and_the_consumer_learns_their_place(
    store: SocialStore, directory: AgentDirectory
) -> None:
    online(directory, "kim", "deliveries")
    handoffs = service(store)
    handoffs.request(request("first", *DELIVERY))

    result = handoffs.request(request("second", *DELIVERY))

    assert result.outcome is Outcome.QUEUED
    assert result.decision.rule == "Delivery problems with an order number"
    assert result.handoff is not None
    assert result.handoff.skill == "deliveries"
    assert result.handoff.priority == 2
    assert result.position == 2
    assert result.wait == timedelta(0)  # kim has room for both (default capacity 3)
    assert result.handoff.summary["routing"]["rule"] == "Delivery problems with an order number"
    assert result.handoff.summary["consumer"] == {"name": "Jane Doe"}


def test_asking_twice_reports_the_same_place(store: SocialStore, directory: AgentDirectory) -> None:
    online(directory, "sam", "care_private")
    handoffs = service(store)

    first = handoffs.request(request("rest-1", user_event("human!", "request_human", source=None)))
    again = handoffs.request(request("rest-1", user_event("hello??", "request_human", source=None)))

    assert again.created is False
    assert again.handoff is not None
    assert first.handoff is not None
    assert again.handoff.id == first.handoff.id
    assert again.position == 1


def test_when_nobody_is_online_the_bot_keeps_the_conversation(store: SocialStore) -> None:
    result = service(store).request(request("rest-1", user_event("human", "request_human")))

    assert result.outcome is Outcome.UNAVAILABLE
    assert result.handoff is None
    assert HandoffStore(store).open_for("rest-1") is None


def test_out_of_hours_the_consumer_gets_the_skills_message_and_waits_in_the_queue(
    store: SocialStore, directory: AgentDirectory
) -> None:
    online(directory, "sam", "care_private")
    closed = {
        "hours": {"mon-fri": "08:00-20:00"},
        "time_zone": "Europe/London",
        "when_closed": {"message": "We're back at 8."},
    }
    handoffs = service(store, NIGHT, care_private=closed)

    result = handoffs.request(request("rest-1", user_event("human", "request_human")))

    assert result.outcome is Outcome.OUT_OF_HOURS
    assert result.message == "We're back at 8."
    assert result.handoff is not None
    assert result.handoff.status is HandoffStatus.QUEUED


def test_a_consumer_leaves_the_queue_unless_an_agent_took_it(
    store: SocialStore, directory: AgentDirectory
) -> None:
    online(directory, "sam", "care_private")
    handoffs = service(store)
    handoffs.request(request("leaves", user_event("human", "request_human")))
    taken = handoffs.request(request("taken", user_event("human", "request_human")))
    assert taken.handoff is not None
    sam = directory.by_name("sam")
    assert sam is not None
    HandoffStore(store).accept(taken.handoff.id, sam)

    assert handoffs.cancel("leaves") is CancelOutcome.CANCELLED
    assert handoffs.cancel("leaves") is CancelOutcome.NOTHING_TO_CANCEL
    assert handoffs.cancel("taken") is CancelOutcome.TAKEN
