"""Handoff to a human through the real processes: Rasa's REST channel for the consumer, the
workspace's JSON API for an agent created with the CLI, the real action server and stores."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningStack

ASK_NUMBER = "What's your order number? It's in your confirmation email and looks like BC-123456."
AGENT = "sam_e2e"
PASSWORD = "correct horse battery"


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(message.get("text", "")) for message in messages]


@pytest.fixture(scope="module")
def agent(stack: RunningStack) -> httpx.Client:
    """An agent added with the CLI, signed in through the JSON API, online."""
    added = stack.bot_cli(
        *("agents", "add", AGENT, "--skill", "deliveries", "--skill", "care_private"),
        *("--password", PASSWORD),
    )
    assert added.stdout.strip() == f"agent {AGENT} added (skills: care_private, deliveries)"
    client = httpx.Client(timeout=30)
    signed_in = client.post(
        stack.workspace("/api/session"), json={"name": AGENT, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    client.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
    online = client.put(stack.workspace("/api/me/status"), json={"status": "online"})
    assert online.json()["status"] == "online"
    return client


def queued_handoff(stack: RunningStack, agent: httpx.Client, sender: str) -> dict[str, Any]:
    queues = agent.get(stack.workspace("/api/queues")).json()
    [entry] = [
        entry
        for skill in queues["skills"]
        for entry in skill["queued"]
        if entry["conversation_id"] == sender
    ]
    return entry


def test_a_consumer_routed_by_a_rule_is_served_by_an_agent_then_by_the_bot_again(
    stack: RunningStack, agent: httpx.Client
) -> None:
    sender = f"e2e-handoff-{uuid.uuid4().hex[:10]}"
    stack.say(sender, "my package never showed up")
    stack.say(sender, "BC-104233")

    asked = texts(stack.say(sender, "I want to talk to a person"))
    waiting = texts(stack.say(sender, "hello? anyone there?"))
    entry = queued_handoff(stack, agent, sender)
    unauthenticated = httpx.get(stack.workspace(f"/api/handoffs/{entry['id']}"), timeout=30)

    assert len(asked) == 1
    assert asked[0].startswith("Sure, I've asked a colleague to take over. You're number 1 in")
    assert waiting == []  # the bot keeps quiet while queued
    assert entry["skill"] == "deliveries"
    assert entry["rule"] == "Delivery problems with an order number go to the deliveries team"
    assert (entry["platform"], entry["visibility"], entry["position"]) == ("rest", "private", 1)
    assert unauthenticated.status_code == 401

    accepted = agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/accept"))
    view = agent.get(stack.workspace(f"/api/handoffs/{entry['id']}")).json()

    assert accepted.status_code == 200, accepted.text
    assert view["reason"] == "request_human"
    assert view["understood"]["entities"] == {"order_number": ["BC-104233"]}
    assert view["understood"]["slots"]["order_checked"] == "BC-104233"
    assert "delivery_problem" in [intent["name"] for intent in view["understood"]["intents"]]
    consumer_said = [item["text"] for item in view["timeline"] if item["from"] == "consumer"]
    assert consumer_said == [
        "my package never showed up",
        "BC-104233",
        "I want to talk to a person",
        "hello? anyone there?",
    ]

    restarted = texts(stack.say(sender, "/restart"))
    replied = agent.post(
        stack.workspace(f"/api/handoffs/{entry['id']}/reply"),
        json={"text": "Hi, Sam here: I'm checking with DPD now."},
    )
    stack.age(sender, hours=2)  # the session expires: Rasa starts a new one and unpauses
    after_expiry = texts(stack.say(sender, "are you still there?"))
    tracker = stack.tracker(sender)

    assert restarted == []
    assert replied.status_code == 200, replied.text
    assert after_expiry == []
    assert tracker["slots"]["handoff_active"] == "assigned"
    assert "restart" not in [event["event"] for event in tracker["events"]]
    assert "session_started" in [event["event"] for event in tracker["events"]]
    agent_lines = [
        event
        for event in tracker["events"]
        if event["event"] == "bot" and (event.get("metadata") or {}).get("origin") == "agent"
    ]
    assert [(event["text"], event["metadata"]["agent"]) for event in agent_lines] == [
        ("Hi, Sam here: I'm checking with DPD now.", AGENT)
    ]

    closed = agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/close"), json={})
    answered = texts(stack.say(sender, "where is my order?"))

    assert closed.json()["closing_question"] == "Is there anything else I can help you with?"
    assert answered == [ASK_NUMBER]
    assert stack.tracker(sender)["slots"]["handoff_active"] is None


def test_a_consumer_who_says_never_mind_leaves_the_queue_and_gets_the_bot_back(
    stack: RunningStack, agent: httpx.Client
) -> None:
    sender = f"e2e-cancel-{uuid.uuid4().hex[:10]}"

    queued = texts(stack.say(sender, "can I talk to a human please"))
    entry = queued_handoff(stack, agent, sender)
    left = texts(stack.say(sender, "never mind"))
    answered = texts(stack.say(sender, "where is my order?"))
    late = agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/accept"))

    assert queued[0].startswith("Sure, I've asked a colleague to take over.")
    assert entry["skill"] == "care_private"
    assert left == ["No problem, I've taken you out of the queue. I'm back: what can I do for you?"]
    assert answered == [ASK_NUMBER]
    assert late.status_code == 409
    assert late.json() == {"error": "the handoff is cancelled"}
