"""X end to end: the sandbox delivers signed Account Activity and X Activity webhooks to the real
Rasa server, whose X channel answers through the sandbox's X API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from sandbox.client import ApiCall, SandboxClient
from tests.e2e.conftest import RunningStack

ACCOUNT_ID = "2244994945"
ASK_NUMBER = "What's your order number? It's in your confirmation email and looks like BC-123456."


def consumer(sandbox: SandboxClient) -> dict[str, Any]:
    """An X user of their own, so tests do not see each other's conversations."""
    key = f"pat{uuid.uuid4().hex[:8]}"
    return sandbox.add_persona("x", f"Pat {key}", key=key, handle=key)


def dms_to(sandbox: SandboxClient, user_id: str, count: int, timeout: float = 30) -> list[str]:
    calls = sandbox.wait_for_calls(
        lambda call: call.path.rstrip("/").endswith(f"/with/{user_id}/messages"),
        count=count,
        timeout=timeout,
        endpoint="x.dm",
    )
    return [str(call.body["text"]) for call in calls]


def replies_to(sandbox: SandboxClient, tweet_id: str, timeout: float = 30) -> list[ApiCall]:
    return sandbox.wait_for_calls(
        lambda call: (call.body.get("reply") or {}).get("in_reply_to_tweet_id") == tweet_id,
        timeout=timeout,
        endpoint="x.tweets",
    )


@pytest.mark.parametrize("wire_format", ["aaa", "xaa"])
def test_a_mention_gets_exactly_one_call_to_action_in_public(
    sandbox: SandboxClient, wire_format: str
) -> None:
    pat = consumer(sandbox)

    tweet_id = sandbox.mention(
        pat["id"], "where is my order BC-104233?? it's been a week", format=wire_format
    ).ids["tweet_id"]
    [reply] = replies_to(sandbox, tweet_id)
    time.sleep(3)  # time enough for anything else the bot might wrongly send

    text = reply.body["text"]
    link = urlparse(text.rsplit(" ", 1)[-1])
    assert text.startswith(f"@{pat['handle']} ")
    assert (link.netloc, link.path) == ("x.com", "/messages/compose")
    assert parse_qs(link.query)["recipient_id"] == [ACCOUNT_ID]
    assert f"ref pub-{tweet_id}" in parse_qs(link.query)["text"][0]
    assert reply.status == 201
    assert (
        len([c for c in sandbox.calls(endpoint="x.tweets") if pat["handle"] in c.body["text"]]) == 1
    )
    assert dms_to_count(sandbox, pat["id"]) == 0


def dms_to_count(sandbox: SandboxClient, user_id: str) -> int:
    return len(
        [
            call
            for call in sandbox.calls(endpoint="x.dm")
            if call.path.rstrip("/").endswith(f"/with/{user_id}/messages")
        ]
    )


@pytest.mark.parametrize("wire_format", ["aaa", "xaa"])
def test_a_dm_conversation_with_the_order_form(sandbox: SandboxClient, wire_format: str) -> None:
    pat = consumer(sandbox)

    sandbox.dm(pat["id"], "where is my order?", format=wire_format)
    [asked] = dms_to(sandbox, pat["id"], 1)
    sandbox.dm(pat["id"], "it's bc 104233", format=wire_format)
    _, shipped, anything_else = dms_to(sandbox, pat["id"], 3)
    sandbox.dm(pat["id"], "2", format=wire_format)  # the number of "No, thanks"
    goodbye = dms_to(sandbox, pat["id"], 4)[-1]

    assert asked == ASK_NUMBER
    assert shipped.startswith("Good news: order BC-104233")
    assert anything_else.splitlines()[0] == "Is there anything else I can help you with?"
    assert "1. Yes, please" in anything_else
    assert "2. No, thanks" in anything_else
    assert goodbye in {
        "Thanks for chatting with Brightcart. Have a great day!",
        "Bye for now! We're here whenever you need us.",
    }


def test_a_mention_then_the_dm_link_continue_one_conversation(
    stack: RunningStack, sandbox: SandboxClient
) -> None:
    pat = consumer(sandbox)
    tweet_id = sandbox.mention(pat["id"], "my parcel never arrived, order BC-104233").ids[
        "tweet_id"
    ]
    [reply] = replies_to(sandbox, tweet_id)
    prefill = parse_qs(urlparse(reply.body["text"].rsplit(" ", 1)[-1]).query)["text"][0]

    sandbox.dm(pat["id"], prefill + "can you check it?")
    first = dms_to(sandbox, pat["id"], 1)[0]

    assert first.startswith(
        'Thanks for messaging us! About your tweet: "my parcel never arrived, order BC-104233".'
    )
    sender = f"twitter:{ACCOUNT_ID}:{pat['id']}"
    events = stack.tracker(sender)["events"]
    visibilities = [
        event["metadata"]["social"]["visibility"]
        for event in events
        if event["event"] == "user" and "social" in (event.get("metadata") or {})
    ]
    assert visibilities[0] == "public"
    assert "private" in visibilities


def test_a_duplicate_dm_is_answered_once(sandbox: SandboxClient) -> None:
    pat = consumer(sandbox)

    sandbox.dm(pat["id"], "what are your opening hours?", duplicate=2, wait=True)
    [answer] = dms_to(sandbox, pat["id"], 1)
    time.sleep(3)

    assert "Monday to Saturday" in answer
    assert dms_to_count(sandbox, pat["id"]) == 1


def test_a_bad_signature_is_refused_with_403(stack: RunningStack, sandbox: SandboxClient) -> None:
    pat = consumer(sandbox)
    body = json.dumps(
        {
            "for_user_id": ACCOUNT_ID,
            "direct_message_events": [
                {
                    "type": "message_create",
                    "id": f"99{int(time.time())}",
                    "created_timestamp": "1767227000000",
                    "message_create": {
                        "target": {"recipient_id": ACCOUNT_ID},
                        "sender_id": pat["id"],
                        "message_data": {"text": "hi"},
                    },
                }
            ],
        }
    ).encode()
    wrong = base64.b64encode(hmac.new(b"not-the-secret", body, hashlib.sha256).digest()).decode()

    refused = httpx.post(
        f"{stack.rasa_url}/webhooks/twitter/webhook",
        content=body,
        headers={"x-twitter-webhooks-signature": f"sha256={wrong}"},
    )

    assert refused.status_code == 403
    time.sleep(2)
    assert dms_to_count(sandbox, pat["id"]) == 0


def test_the_crc_check_is_answered(stack: RunningStack) -> None:
    answer = httpx.get(
        f"{stack.rasa_url}/webhooks/twitter/webhook", params={"crc_token": "challenge-123"}
    )

    digest = hmac.new(
        stack.settings.x_consumer_secret.encode(), b"challenge-123", hashlib.sha256
    ).digest()
    assert answer.status_code == 200
    assert answer.json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}
