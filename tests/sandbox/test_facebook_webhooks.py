"""Each Facebook webhook kind arrives byte for byte in Meta's documented shape, correctly signed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sandbox.client import ActionResult, SandboxClient
from sandbox.testing import TEST_SECRETS, RunningSandbox
from tests.sandbox.expected import (
    JANE_ASID,
    JANE_PSID,
    LINEN_POST,
    PAGE_ID,
    assert_facebook_signed,
    assert_graph_time,
    assert_recent_ms,
    assert_recent_s,
    meta_bytes,
    received_delivery,
    reference,
)
from tests.sandbox.webhook_receiver import WebhookReceiver

Expect = Callable[[dict[str, Any]], dict[str, Any]]
Case = Callable[[SandboxClient], tuple[ActionResult, Expect]]


def _messaging(event: dict[str, Any], actual: dict[str, Any]) -> dict[str, Any]:
    """The reference envelope around ``event``: sender, recipient, timestamp, then the rest."""
    entry = actual["entry"][0]
    assert_recent_ms(entry["time"])
    sender, recipient = event.pop("sender"), event.pop("recipient")
    timestamp = assert_recent_ms(entry["messaging"][0]["timestamp"])
    event = {"sender": sender, "recipient": recipient, "timestamp": timestamp, **event}
    body = reference("facebook-messenger-text.json")
    body["entry"][0]["time"] = entry["time"]
    body["entry"][0]["messaging"] = [event]
    return body


def _reference_event(name: str, actual: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A reference Messenger delivery with the times of ``actual``, and its one event."""
    body = reference(name)
    body["entry"][0]["time"] = assert_recent_ms(actual["entry"][0]["time"])
    event = body["entry"][0]["messaging"][0]
    event["timestamp"] = assert_recent_ms(actual["entry"][0]["messaging"][0]["timestamp"])
    return body, event


def _from_jane() -> dict[str, Any]:
    return {"sender": {"id": JANE_PSID}, "recipient": {"id": PAGE_ID}}


def messenger_text(client: SandboxClient) -> tuple[ActionResult, Expect]:
    text = "Hé, ça va? My order #1234 hasn't arrived 👋"
    sent = client.messenger("jane", text)

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        body, event = _reference_event("facebook-messenger-text.json", actual)
        event["message"] = {"mid": sent.mid, "text": text}
        return body

    return sent, expect


def quick_reply(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.quick_reply("jane", "Track my order", "TRACK_ORDER")
    message = {"mid": sent.mid, "text": "Track my order", "quick_reply": {"payload": "TRACK_ORDER"}}
    return sent, lambda actual: _messaging({**_from_jane(), "message": message}, actual)


def postback_with_referral(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.postback("jane", "Track my order", "TRACK_ORDER", ref="summer_campaign")

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        body, event = _reference_event("facebook-messenger-postback.json", actual)
        event["postback"]["mid"] = sent.mid
        return body

    return sent, expect


def postback_without_referral(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.postback("jane", "Talk to a human", "HUMAN")
    postback = {"mid": sent.mid, "title": "Talk to a human", "payload": "HUMAN"}
    return sent, lambda actual: _messaging({**_from_jane(), "postback": postback}, actual)


def referral(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.referral("jane", "pub-122100000000000001_123")
    ref = {"ref": "pub-122100000000000001_123", "source": "SHORTLINK", "type": "OPEN_THREAD"}
    return sent, lambda actual: _messaging({**_from_jane(), "referral": ref}, actual)


def _feed(actual: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    body = reference("facebook-feed-comment.json")
    body["entry"][0]["time"] = assert_recent_s(actual["entry"][0]["time"])
    body["entry"][0]["changes"] = [{"field": "feed", "value": value}]
    return body


def _comment_value(actual: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The reference comment value with ``fields`` replaced (None removes the key)."""
    actual_value = actual["entry"][0]["changes"][0]["value"]
    value = reference("facebook-feed-comment.json")["entry"][0]["changes"][0]["value"]
    value["post"]["updated_time"] = assert_graph_time(actual_value["post"]["updated_time"])
    value["created_time"] = assert_recent_s(actual_value["created_time"])
    for name, replacement in fields.items():
        if replacement is None:
            del value[name]
        else:
            value[name] = replacement
    return value


def comment(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.comment("jane", LINEN_POST, "Is this available in blue?")
    assert sent.comment_id.startswith("122100000000000001_")
    return sent, lambda actual: _feed(actual, _comment_value(actual, comment_id=sent.comment_id))


def reply_to_comment(client: SandboxClient) -> tuple[ActionResult, Expect]:
    parent = client.comment("jane", LINEN_POST, "Is this available in blue?")
    sent = client.reply("jane", parent.comment_id, "Or in green?")

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        value = _comment_value(
            actual, message="Or in green?", comment_id=sent.comment_id, parent_id=parent.comment_id
        )
        return _feed(actual, value)

    return sent, expect


def visitor_post(client: SandboxClient) -> tuple[ActionResult, Expect]:
    text = "Your store on Main St was closed during opening hours today."
    sent = client.visitor_post("jane", text)

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        body = reference("facebook-feed-visitor-post.json")
        body["entry"][0]["time"] = assert_recent_s(actual["entry"][0]["time"])
        value = body["entry"][0]["changes"][0]["value"]
        value["post_id"] = sent.post_id
        value["created_time"] = assert_recent_s(
            actual["entry"][0]["changes"][0]["value"]["created_time"]
        )
        return body

    assert sent.post_id.startswith(f"{PAGE_ID}_")
    return sent, expect


def edit(client: SandboxClient) -> tuple[ActionResult, Expect]:
    original = client.comment("jane", LINEN_POST, "Is this available in blue?")
    sent = client.edit_comment(original.comment_id, "Is this available in navy blue?")

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        value = _comment_value(
            actual, message="Is this available in navy blue?", comment_id=original.comment_id
        )
        value["verb"] = "edited"
        return _feed(actual, value)

    return sent, expect


def removal(client: SandboxClient) -> tuple[ActionResult, Expect]:
    original = client.comment("jane", LINEN_POST, "Is this available in blue?")
    sent = client.remove_comment(original.comment_id)

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        value = _comment_value(actual, message=None, comment_id=original.comment_id)
        value["verb"] = "remove"
        return _feed(actual, value)

    return sent, expect


@pytest.mark.parametrize(
    "case",
    [
        messenger_text,
        quick_reply,
        postback_with_referral,
        postback_without_referral,
        referral,
        comment,
        reply_to_comment,
        visitor_post,
        edit,
        removal,
    ],
)
def test_consumer_action_delivers_the_documented_body_signed_by_meta(
    case: Case, client: SandboxClient, receiver: WebhookReceiver
) -> None:
    sent, expect = case(client)
    received = received_delivery(client, receiver, sent.delivery_id)

    assert received.path == "/facebook"
    assert received.headers["content-type"] == "application/json"
    assert received.body == meta_bytes(expect(received.json()))
    assert_facebook_signed(received)


def test_non_ascii_is_escaped_as_meta_does_and_signed_over_those_bytes(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    sent = client.messenger("jane", "Grüße 👋")
    received = received_delivery(client, receiver, sent.delivery_id)

    assert b'"text":"Gr\\u00fc\\u00dfe \\ud83d\\udc4b"' in received.body
    assert received.body.isascii()
    assert_facebook_signed(received)


def test_page_messages_are_echoed_with_is_echo_and_app_id(
    sandbox: RunningSandbox, receiver: WebhookReceiver
) -> None:
    client = sandbox.client
    client.messenger("jane", "hi")
    answer = httpx.post(
        f"{sandbox.graph_url()}/me/messages",
        params={"access_token": TEST_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]},
        json={
            "recipient": {"id": JANE_PSID},
            "messaging_type": "RESPONSE",
            "message": {"text": "Hello Jane!", "metadata": "bot"},
        },
    ).json()
    [echo] = client.deliveries(kind="echo")
    received = received_delivery(client, receiver, echo.id)

    event = received.json()["entry"][0]["messaging"][0]
    app_id = event["message"]["app_id"]
    assert isinstance(app_id, int)
    expected_event = {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": JANE_PSID},
        "message": {
            "is_echo": True,
            "app_id": app_id,
            "metadata": "bot",
            "mid": answer["message_id"],
            "text": "Hello Jane!",
        },
    }
    assert received.body == meta_bytes(_messaging(expected_event, received.json()))
    assert_facebook_signed(received)


def test_page_public_reply_arrives_as_a_feed_change_from_the_page(
    sandbox: RunningSandbox, receiver: WebhookReceiver
) -> None:
    client = sandbox.client
    parent = client.comment("jane", LINEN_POST, "Is this available in blue?")
    answer = httpx.post(
        f"{sandbox.graph_url()}/{parent.comment_id}/comments",
        params={"access_token": TEST_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]},
        json={"message": "It is! Check your messages."},
    ).json()
    [delivery] = client.deliveries(kind="page_comment")
    received = received_delivery(client, receiver, delivery.id)

    value = _comment_value(
        received.json(),
        message="It is! Check your messages.",
        comment_id=answer["id"],
        parent_id=parent.comment_id,
    )
    value["from"] = {"id": PAGE_ID, "name": "Brightcart"}
    assert received.body == meta_bytes(_feed(received.json(), value))


def test_batch_puts_several_entries_and_events_in_one_delivery(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    parent = client.comment("jane", LINEN_POST, "Is this available in blue?")
    sent = client.batch(
        [
            {"kind": "messenger", "persona": "jane", "text": "first", "entry": 0},
            {
                "kind": "quick_reply",
                "persona": "jane",
                "title": "Yes",
                "payload": "YES",
                "entry": 0,
            },
            {"kind": "comment", "user": "jane", "post_id": LINEN_POST, "text": "c1", "entry": 1},
            {
                "kind": "comment",
                "user": "lena",
                "post_id": LINEN_POST,
                "parent_id": parent.comment_id,
                "text": "c2",
                "entry": 1,
            },
            {"kind": "postback", "persona": "lena", "title": "Help", "payload": "HELP", "entry": 2},
        ]
    )
    received = received_delivery(client, receiver, sent.delivery_id)
    body = received.json()

    assert [list(entry) for entry in body["entry"]] == [
        ["id", "time", "messaging"],
        ["id", "time", "changes"],
        ["id", "time", "messaging"],
    ]
    first, second, third = body["entry"]
    assert [event["message"]["mid"] for event in first["messaging"]] == [
        sent.events[0]["mid"],
        sent.events[1]["mid"],
    ]
    assert [change["value"]["comment_id"] for change in second["changes"]] == [
        sent.events[2]["comment_id"],
        sent.events[3]["comment_id"],
    ]
    assert second["changes"][1]["value"]["parent_id"] == parent.comment_id
    assert third["messaging"][0]["postback"]["mid"] == sent.events[4]["mid"]
    assert received.body == meta_bytes(body)
    assert_facebook_signed(received)


def test_duplicate_delivers_the_same_bytes_again(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    sent = client.messenger("jane", "Where is my order?", duplicate=2)

    assert len(sent.delivery_ids) == 3
    copies = receiver.wait_for_body(client.delivery(sent.delivery_id or "").body, count=3)
    assert {copy.headers["x-hub-signature-256"] for copy in copies} == {
        copies[0].headers["x-hub-signature-256"]
    }


def test_the_commenter_is_known_by_app_scoped_id_in_the_feed_and_psid_in_messenger(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    commented = client.comment("jane", LINEN_POST, "Hello")
    messaged = client.messenger("jane", "Hello")

    feed = received_delivery(client, receiver, commented.delivery_id).json()
    messenger = received_delivery(client, receiver, messaged.delivery_id).json()
    assert feed["entry"][0]["changes"][0]["value"]["from"]["id"] == JANE_ASID
    assert messenger["entry"][0]["messaging"][0]["sender"]["id"] == JANE_PSID
