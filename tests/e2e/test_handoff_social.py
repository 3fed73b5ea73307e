"""Handoff on Facebook and X through the real processes and the sandbox: the consumer asks for a
human in Messenger or in a DM, an agent (CLI, JSON API) accepts, sees the public message too,
answers in private and in public, closes, and the bot answers the next message."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from sandbox.client import SandboxClient
from tests.e2e.conftest import RunningStack

AGENT = "alex_e2e"
PASSWORD = "correct horse battery staple"
POST_ID = "100200300400500_122100000000000001"
ASK_NUMBER = "What's your order number? It's in your confirmation email and looks like BC-123456."


@pytest.fixture(scope="module")
def agent(stack: RunningStack) -> httpx.Client:
    stack.bot_cli(
        *("agents", "add", AGENT, "--skill", "care_private", "--skill", "deliveries"),
        *("--skill", "care_public", "--password", PASSWORD),
    )
    client = httpx.Client(timeout=60)
    signed_in = client.post(
        stack.workspace("/api/session"), json={"name": AGENT, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    client.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
    client.put(stack.workspace("/api/me/status"), json={"status": "online"})
    return client


def wait_queued(stack: RunningStack, agent: httpx.Client, sender: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        queues = agent.get(stack.workspace("/api/queues")).json()
        for skill in queues["skills"]:
            for entry in skill["queued"]:
                if entry["conversation_id"] == sender:
                    return dict(entry)
        time.sleep(0.3)
    raise AssertionError(f"{sender} was never queued")


def messenger_texts(sandbox: SandboxClient, psid: str, count: int) -> list[str]:
    calls = sandbox.wait_for_calls(
        lambda call: call.body.get("recipient", {}).get("id") == psid and "message" in call.body,
        count=count,
        timeout=30,
        endpoint="facebook.messages",
    )
    return [
        str(
            call.body["message"].get("text")
            or call.body["message"]["attachment"]["payload"]["text"]
        )
        for call in calls
    ]


def test_a_messenger_consumer_is_handed_to_an_agent_who_answers_in_private_and_in_public(
    stack: RunningStack, sandbox: SandboxClient, agent: httpx.Client
) -> None:
    key = uuid.uuid4().hex[:8]
    jane = sandbox.add_persona("facebook", f"Jane {key}", key=key)
    comment_id = sandbox.comment(jane["asid"], POST_ID, "My order never arrived!").ids["comment_id"]
    sandbox.wait_for_calls(
        lambda call: call.body.get("recipient", {}).get("comment_id") == comment_id,
        timeout=30,
        endpoint="facebook.messages",
    )
    sender = f"facebook:100200300400500:{jane['psid']}"

    sandbox.messenger(jane["psid"], "I want to talk to a person")
    entry = wait_queued(stack, agent, sender)
    told = messenger_texts(sandbox, jane["psid"], 2)[-1]

    assert told.startswith("Sure, I've asked a colleague to take over. You're number")
    assert (entry["platform"], entry["visibility"]) == ("facebook", "private")

    assert agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/accept")).status_code == 200
    view = agent.get(stack.workspace(f"/api/handoffs/{entry['id']}")).json()
    public = [item for item in view["timeline"] if item.get("visibility") == "public"]
    assert [item["text"] for item in public if item["from"] == "consumer"] == [
        "My order never arrived!"
    ]

    private = agent.post(
        stack.workspace(f"/api/handoffs/{entry['id']}/reply"),
        json={"text": "Hi Jane, Alex here. Let me check your order."},
    )
    in_public = agent.post(
        stack.workspace(f"/api/handoffs/{entry['id']}/reply"),
        json={
            "text": "we're on it in Messenger.",
            "visibility": "public",
            "in_reply_to": comment_id,
            "mention": True,
        },
    )
    assert private.status_code == 200, private.text
    assert in_public.status_code == 200, in_public.text
    assert messenger_texts(sandbox, jane["psid"], 3)[-1] == (
        "Hi Jane, Alex here. Let me check your order."
    )
    [comment_reply] = [
        call for call in sandbox.calls(endpoint="facebook.comments") if comment_id in call.path
    ]
    assert comment_reply.body["message"] == "Jane, we're on it in Messenger."

    closed = agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/close"), json={})
    assert closed.status_code == 200, closed.text
    sandbox.messenger(jane["psid"], "where is my order?")

    assert messenger_texts(sandbox, jane["psid"], 5)[-1] == ASK_NUMBER


def test_an_x_consumer_is_handed_to_an_agent_who_answers_by_dm_and_under_the_tweet(
    stack: RunningStack, sandbox: SandboxClient, agent: httpx.Client
) -> None:
    key = f"pat{uuid.uuid4().hex[:8]}"
    pat = sandbox.add_persona("x", f"Pat {key}", key=key, handle=key)
    tweet_id = sandbox.mention(pat["id"], "my order never arrived!").ids["tweet_id"]
    sandbox.wait_for_calls(
        lambda call: (call.body.get("reply") or {}).get("in_reply_to_tweet_id") == tweet_id,
        timeout=30,
        endpoint="x.tweets",
    )
    sender = f"twitter:2244994945:{pat['id']}"

    def dms(count: int) -> list[str]:
        calls = sandbox.wait_for_calls(
            lambda call: f"/with/{pat['id']}/" in call.path,
            count=count,
            timeout=30,
            endpoint="x.dm",
        )
        return [str(call.body["text"]) for call in calls]

    sandbox.dm(pat["id"], "I want to talk to a person")
    entry = wait_queued(stack, agent, sender)

    assert dms(1)[0].startswith("Sure, I've asked a colleague to take over.")
    assert entry["platform"] == "twitter"

    assert agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/accept")).status_code == 200
    private = agent.post(
        stack.workspace(f"/api/handoffs/{entry['id']}/reply"),
        json={"text": "Hi Pat, Alex here. Checking now."},
    )
    in_public = agent.post(
        stack.workspace(f"/api/handoffs/{entry['id']}/reply"),
        json={
            "text": "we've sent you a DM.",
            "visibility": "public",
            "in_reply_to": tweet_id,
            "mention": True,
        },
    )
    assert private.status_code == 200, private.text
    assert in_public.status_code == 200, in_public.text
    assert dms(2)[-1] == "Hi Pat, Alex here. Checking now."
    replies = [
        call
        for call in sandbox.calls(endpoint="x.tweets")
        if (call.body.get("reply") or {}).get("in_reply_to_tweet_id") == tweet_id
    ]
    assert replies[-1].body["text"] == f"@{key} we've sent you a DM."

    assert (
        agent.post(stack.workspace(f"/api/handoffs/{entry['id']}/close"), json={}).status_code
        == 200
    )
    sandbox.dm(pat["id"], "where is my order?")

    assert dms(4)[-1] == ASK_NUMBER
