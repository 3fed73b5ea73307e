"""action_handoff and action_cancel_handoff with real rasa-sdk trackers and a real store."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionCancelHandoff, ActionHandoff, handoff_reason
from bot.handoff.agents import AgentDirectory, AgentStatus
from bot.handoff.handoffs import HandoffStore
from bot.handoff.service import HandoffService
from bot.store import SocialStore
from tests.factories import bot_event, make_routing, user_event

NOON = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(sqlite_store: SocialStore) -> SocialStore:
    return sqlite_store  # one database is enough here: the store's own tests run on both


@pytest.fixture
def service(store: SocialStore) -> HandoffService:
    return HandoffService(make_routing(), HandoffStore(store, lambda: NOON), lambda: NOON)


def go_online(store: SocialStore, *skills: str) -> None:
    directory = AgentDirectory(store)
    agent = directory.add("sam", skills)
    directory.set_status(agent.id, AgentStatus.ONLINE)


def tracker(
    *events: dict[str, Any],
    slots: dict[str, Any] | None = None,
    active_loop: dict[str, Any] | None = None,
    sender: str = "facebook:100200300400500:6543210987654321",
) -> Tracker:
    users = [event for event in events if event["event"] == "user"]
    latest = users[-1]
    return Tracker(
        sender_id=sender,
        slots={"handoff_active": None, "order_number": None, **(slots or {})},
        latest_message={
            "text": latest["text"],
            "intent": latest["parse_data"]["intent"],
            "entities": latest["parse_data"]["entities"],
            "metadata": latest["metadata"],
        },
        events=list(events),
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


def test_a_consumer_asking_for_a_human_is_queued_and_told_their_place(
    store: SocialStore, service: HandoffService
) -> None:
    go_online(store, "deliveries")
    dispatcher = CollectingDispatcher()
    conversation = tracker(
        user_event("my parcel never came", "delivery_problem"),
        bot_event("Sorry! What's your order number?"),
        user_event("BC-104233", "inform", entities={"order_number": "BC-104233"}),
        user_event("I want to talk to a person", "request_human"),
        slots={"order_checked": "BC-104233"},
    )

    events = ActionHandoff(service).run(dispatcher, conversation, {})

    assert dispatcher.messages == []  # HandoffPolicy says utter_handoff_queued next
    assert slots_of(events) == {
        "handoff_active": "queued",
        "handoff_position": "1",
        "handoff_wait": "less than a minute",
        "handoff_message": None,
        "handoff_outcome": "queued",
    }
    handoff = HandoffStore(store).open_for(conversation.sender_id)
    assert handoff is not None
    assert (handoff.skill, handoff.platform, handoff.visibility, handoff.reason) == (
        "deliveries",
        "facebook",
        "private",
        "request_human",
    )
    assert handoff.summary["slots"] == {"order_checked": "BC-104233"}
    assert handoff.summary["entities"] == {"order_number": ["BC-104233"]}
    assert handoff.summary["last_messages"][-1]["text"] == "I want to talk to a person"


def test_over_rest_without_agents_the_bot_keeps_the_conversation(
    service: HandoffService,
) -> None:
    events = ActionHandoff(service).run(
        CollectingDispatcher(),
        tracker(user_event("agent", "request_human", source=None), sender="rest-1"),
        {},
    )

    assert slots_of(events) == {
        "handoff_active": None,
        "handoff_message": None,
        "handoff_outcome": "unavailable",
    }


def test_a_form_in_progress_is_left(store: SocialStore, service: HandoffService) -> None:
    go_online(store, "care_private")

    events = ActionHandoff(service).run(
        CollectingDispatcher(),
        tracker(
            user_event("agent", "request_human"),
            active_loop={"name": "order_status_form"},
            slots={"requested_slot": "order_number"},
        ),
        {},
    )

    assert events[0] == {"event": "active_loop", "timestamp": None, "name": None}
    assert slots_of(events)["requested_slot"] is None


def test_a_broken_store_means_the_bot_keeps_the_conversation(tmp_path: Path) -> None:
    broken = SocialStore.from_url(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    service = HandoffService(make_routing(), HandoffStore(broken))

    events = ActionHandoff(service).run(
        CollectingDispatcher(), tracker(user_event("agent", "request_human")), {}
    )

    assert slots_of(events) == {"handoff_active": None, "handoff_outcome": "unavailable"}


def test_never_mind_takes_the_consumer_out_of_the_queue(
    store: SocialStore, service: HandoffService
) -> None:
    go_online(store, "care_private")
    asked = tracker(user_event("agent", "request_human"))
    ActionHandoff(service).run(CollectingDispatcher(), asked, {})

    left = ActionCancelHandoff(service).run(
        CollectingDispatcher(), tracker(user_event("never mind", "cancel_handoff")), {}
    )
    again = ActionCancelHandoff(service).run(
        CollectingDispatcher(), tracker(user_event("never mind", "cancel_handoff")), {}
    )

    assert slots_of(left) == {"handoff_active": None, "handoff_outcome": "cancelled"}
    assert slots_of(again) == {"handoff_active": None, "handoff_outcome": "nothing_to_cancel"}


def test_too_late_to_leave_once_an_agent_accepted(
    store: SocialStore, service: HandoffService
) -> None:
    go_online(store, "care_private")
    conversation = tracker(user_event("agent", "request_human"))
    ActionHandoff(service).run(CollectingDispatcher(), conversation, {})
    handoffs = HandoffStore(store)
    handoff = handoffs.open_for(conversation.sender_id)
    sam = AgentDirectory(store).by_name("sam")
    assert handoff is not None
    assert sam is not None
    handoffs.accept(handoff.id, sam)

    events = ActionCancelHandoff(service).run(
        CollectingDispatcher(), tracker(user_event("never mind", "cancel_handoff")), {}
    )

    assert slots_of(events) == {"handoff_outcome": "taken"}  # handoff_active stays


@pytest.mark.parametrize(
    ("intent", "reason"),
    [
        ("request_human", "request_human"),
        ("out_of_scope", "bot_failed"),
        ("nlu_fallback", "bot_failed"),
        ("complaint", "intent:complaint"),
        (None, "rule"),
    ],
)
def test_the_reason_agents_read(intent: str | None, reason: str) -> None:
    assert handoff_reason(intent) == reason
