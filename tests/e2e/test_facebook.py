"""Facebook end to end: the sandbox delivers signed webhooks to the real Rasa server, whose
Facebook channel answers through the sandbox's Graph API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from sandbox.client import ApiCall, SandboxClient
from tests.e2e.conftest import RunningStack

PAGE_ID = "100200300400500"
POST_ID = f"{PAGE_ID}_122100000000000001"
ASK_NUMBER = "What's your order number? It's in your confirmation email and looks like BC-123456."


def persona(sandbox: SandboxClient) -> dict[str, Any]:
    """A consumer of their own, so tests do not see each other's conversations."""
    key = uuid.uuid4().hex[:8]
    return sandbox.add_persona("facebook", f"Jane {key}", key=key)


def messages_to(sandbox: SandboxClient, psid: str, count: int, timeout: float = 30) -> list[Any]:
    """The next ``count`` Send API messages (not sender actions) to ``psid``."""
    calls = sandbox.wait_for_calls(
        lambda call: call.body.get("recipient", {}).get("id") == psid and "message" in call.body,
        count=count,
        timeout=timeout,
        endpoint="facebook.messages",
    )
    return [call.body["message"] for call in calls]


def text_of(message: dict[str, Any]) -> str:
    if "text" in message:
        return str(message["text"])
    return str(message["attachment"]["payload"]["text"])


def test_a_messenger_conversation_with_the_order_form_and_buttons(
    sandbox: SandboxClient,
) -> None:
    jane = persona(sandbox)
    psid = jane["psid"]

    sandbox.messenger(psid, "where is my order?")
    [asked] = messages_to(sandbox, psid, 1)
    sandbox.messenger(psid, "it's bc 104233")
    _, shipped, anything_else = messages_to(sandbox, psid, 3)
    template = anything_else["attachment"]["payload"]
    no_thanks = next(b for b in template["buttons"] if b["title"] == "No, thanks")
    sandbox.postback(psid, no_thanks["title"], no_thanks["payload"])
    goodbye = messages_to(sandbox, psid, 4)[-1]

    assert text_of(asked) == ASK_NUMBER
    assert text_of(shipped).startswith("Good news: order BC-104233")
    assert template["template_type"] == "button"
    assert template["text"] == "Is there anything else I can help you with?"
    assert [b["type"] for b in template["buttons"]] == ["postback", "postback"]
    assert text_of(goodbye) in {
        "Thanks for chatting with Brightcart. Have a great day!",
        "Bye for now! We're here whenever you need us.",
    }


def test_every_event_of_a_batched_delivery_is_answered(sandbox: SandboxClient) -> None:
    consumers = [persona(sandbox) for _ in range(3)]
    events = [
        {"kind": "messenger", "entry": index % 2, "persona": consumer["psid"], "text": "hi"}
        for index, consumer in enumerate(consumers)
    ]

    result = sandbox.batch(events, wait=True)

    assert result.outcome == "delivered"
    assert len(result.body["entry"]) == 2
    for consumer in consumers:
        [greeting] = messages_to(sandbox, consumer["psid"], 1)
        assert "Brightcart" in text_of(greeting)


def test_a_duplicate_delivery_is_answered_once(sandbox: SandboxClient) -> None:
    psid = persona(sandbox)["psid"]

    sandbox.messenger(psid, "what are your opening hours?", duplicate=2, wait=True)
    [answer] = messages_to(sandbox, psid, 1)
    time.sleep(3)  # time enough for a second answer, were one coming

    assert "Monday to Saturday" in text_of(answer)
    assert len(messages_to(sandbox, psid, 1)) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, 403),
        ({}, 403),
    ],
)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_answered(
    stack: RunningStack, sandbox: SandboxClient, headers: dict[str, str], status: int
) -> None:
    psid = persona(sandbox)["psid"]
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1,
                    "messaging": [
                        {
                            "sender": {"id": psid},
                            "recipient": {"id": PAGE_ID},
                            "timestamp": 1,
                            "message": {"mid": f"m_{psid}", "text": "hi"},
                        }
                    ],
                }
            ],
        }
    ).encode()

    refused = httpx.post(
        f"{stack.rasa_url}/webhooks/facebook/webhook", content=body, headers=headers
    )
    good = hmac.new(stack.settings.facebook_app_secret.encode(), body, hashlib.sha256).hexdigest()

    assert refused.status_code == status
    assert "signature" in refused.json()["error"].lower()
    assert good not in refused.text  # the expected signature is never revealed
    time.sleep(2)
    assert [
        call
        for call in sandbox.calls(endpoint="facebook.messages")
        if psid in json.dumps(call.body)
    ] == []


def test_a_public_comment_gets_one_private_reply_naming_it_and_nothing_in_public(
    sandbox: SandboxClient,
) -> None:
    jane = persona(sandbox)
    result = sandbox.comment(jane["asid"], POST_ID, "My order BC-104233 never arrived!!")
    comment_id = result.ids["comment_id"]
    sandbox.comment(jane["asid"], POST_ID, "hello?? anyone there?")

    def to_comment(call: ApiCall) -> bool:
        return call.body.get("recipient", {}).get("comment_id") == comment_id

    [private_reply] = sandbox.wait_for_calls(to_comment, timeout=30, endpoint="facebook.messages")
    time.sleep(3)
    public = [
        call
        for call in sandbox.calls(endpoint="facebook.comments")
        if jane["asid"] in json.dumps(call.body) or comment_id in call.path
    ]

    first_name = jane["name"].split()[0]
    assert private_reply.body["message"]["text"] == (
        f'Hi {first_name}, thanks for your comment on our post ("My order BC-104233 never '
        "arrived!!\"). We'd like to help with this personally, here in private: just reply to "
        "this message and we'll pick it up from there."
    )
    assert private_reply.response["recipient_id"] == jane["psid"]
    assert public == []
    assert (
        len([call for call in sandbox.calls(endpoint="facebook.messages") if to_comment(call)]) == 1
    )


def test_a_commenter_answering_the_private_reply_is_answered_about_their_comment(
    sandbox: SandboxClient,
) -> None:
    jane = persona(sandbox)
    comment_id = sandbox.comment(jane["asid"], POST_ID, "Is the linen duvet in blue?").ids[
        "comment_id"
    ]
    sandbox.wait_for_calls(
        lambda call: call.body.get("recipient", {}).get("comment_id") == comment_id,
        timeout=30,
        endpoint="facebook.messages",
    )

    sandbox.messenger(jane["psid"], "yes please, I'd like one")
    answers = [text_of(message) for message in messages_to(sandbox, jane["psid"], 2)]

    assert answers[0] == (
        'Thanks for messaging us! About your comment on our post: "Is the linen duvet in '
        "blue?\". I'm Brightcart's assistant and I'll help you from here. Tell me more, or share "
        "your order number (like BC-123456) if it's about an order."
    )
