"""A burst: many consumer events in one control request, each in its own signed delivery, queued in
order; a bad element refuses the whole burst and changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.client import BurstResult, SandboxClient, SandboxError
from sandbox.testing import RunningSandbox
from tests.sandbox.expected import (
    JANE_PSID,
    LINEN_POST,
    PAT_ID,
    assert_facebook_signed,
    assert_x_signed,
)
from tests.sandbox.webhook_receiver import Received, WebhookReceiver


def _world(client: SandboxClient) -> dict[str, Any]:
    """Everything the consumer UI shows (its version included), but the clock's reading."""
    return {name: value for name, value in client.state().items() if name != "now"}


def _received(
    client: SandboxClient, receiver: WebhookReceiver, burst: BurstResult, path: str
) -> list[Received]:
    """What the receiver got on ``path``, in arrival order, once the whole burst was delivered."""
    for delivery_id in burst.delivery_ids:
        client.wait_for_delivery(delivery_id)
    return receiver.received(path)


def test_a_facebook_burst_delivers_each_event_on_its_own_in_order(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    texts = [f"message {n}" for n in range(6)]
    events: list[dict[str, Any]] = [
        {"kind": "messenger", "persona": "jane", "text": text} for text in texts
    ]
    events.append({"kind": "comment", "user": "jane", "post_id": LINEN_POST, "text": "Blue?"})

    burst = client.burst("facebook", events)
    received = _received(client, receiver, burst, "/facebook")

    kinds = ["messenger"] * 6 + ["comment"]
    assert [event["kind"] for event in burst.events] == kinds
    assert [delivery.id for delivery in client.deliveries()] == burst.delivery_ids
    assert [delivery.kind for delivery in client.deliveries()] == kinds
    messagings = [item.json()["entry"][0]["messaging"] for item in received[:6]]
    assert [[event["message"]["mid"] for event in one] for one in messagings] == [
        [event["mid"]] for event in burst.events[:6]
    ]
    assert [one[0]["message"]["text"] for one in messagings] == texts
    assert {one[0]["sender"]["id"] for one in messagings} == {JANE_PSID}
    [change] = received[6].json()["entry"][0]["changes"]
    assert change["value"]["comment_id"] == burst.events[6]["comment_id"]
    assert len(received) == 7
    for item in received:
        assert item.headers["content-type"] == "application/json"
        assert_facebook_signed(item)


def test_an_x_burst_of_dms_delivers_each_on_its_own_in_order(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    events = [
        {"kind": "dm", "user": "pat", "text": "first"},
        {"kind": "dm", "user": "pat", "text": "second", "format": "xaa"},
        {"kind": "dm", "user": "pat", "text": "Yes", "quick_reply_metadata": "CONFIRM"},
    ]

    burst = client.burst("x", events)
    received = _received(client, receiver, burst, "/x")

    assert [event["kind"] for event in burst.events] == ["dm", "dm", "dm"]
    assert [delivery.kind for delivery in client.deliveries()] == ["dm", "dm.received", "dm"]
    first, second, third = (item.json() for item in received)
    [create] = [event["message_create"] for event in first["direct_message_events"]]
    assert first["direct_message_events"][0]["id"] == burst.events[0]["dm_event_id"]
    assert (create["sender_id"], create["message_data"]["text"]) == (PAT_ID, "first")
    payload = second["data"]["payload"]
    assert (payload["id"], payload["text"]) == (burst.events[1]["dm_event_id"], "second")
    assert third["direct_message_events"][0]["id"] == burst.events[2]["dm_event_id"]
    quick_reply = third["direct_message_events"][0]["message_create"]["message_data"]
    assert quick_reply["quick_reply_response"]["metadata"] == "CONFIRM"
    assert len({event["dm_conversation_id"] for event in burst.events}) == 1
    assert len(received) == 3
    for item in received:
        assert item.headers["content-type"] == "application/json; charset=utf-8"
        assert_x_signed(item)


def test_a_burst_answers_the_events_ids_and_every_queued_delivery(
    sandbox: RunningSandbox,
) -> None:
    answer = httpx.post(
        f"{sandbox.base_url}/sandbox/api/x/burst",
        json={
            "events": [
                {"kind": "tweet", "user": "pat", "text": "@Brightcart where is my parcel?"},
                {"kind": "tweet", "user": "pat", "text": "Lovely weather today"},  # not for us
                {"kind": "dm", "user": "pat", "text": "hello"},
            ],
            "duplicate": 1,
            "wait": True,
        },
    )

    assert answer.status_code == 201
    body = answer.json()
    assert list(body) == ["kind", "events", "delivery_ids"]
    assert body["kind"] == "burst"
    assert [list(event) for event in body["events"]] == [
        ["kind", "tweet_id", "text"],
        ["kind", "tweet_id", "text"],
        ["kind", "dm_event_id", "dm_conversation_id"],
    ]
    deliveries = sandbox.client.deliveries()
    assert body["delivery_ids"] == [delivery.id for delivery in deliveries]
    assert [delivery.kind for delivery in deliveries] == ["tweet", "tweet", "dm", "dm"]
    assert deliveries[0].body == deliveries[1].body  # the duplicate, right behind its original
    assert all(delivery.attempts for delivery in deliveries)  # waited for every first attempt


@pytest.mark.parametrize(
    ("platform", "bad", "message"),
    [
        ("facebook", {"kind": "messenger", "persona": "jane"}, "events[2].text: a non-empty"),
        ("facebook", {"kind": "tweet", "user": "jane"}, "events[2].kind: expected one of"),
        ("facebook", "hello", "events[2].kind: expected one of messenger, quick_reply"),
        (
            "facebook",
            {"kind": "comment", "user": "jane", "post_id": "1_2", "text": "hi"},
            "events[2].post_id: no post 1_2",
        ),
        (
            "facebook",
            {"kind": "messenger", "persona": "nobody", "text": "hi"},
            "events[2]: no Facebook persona 'nobody'",
        ),
        ("x", {"kind": "dm", "user": "nobody", "text": "hi"}, "events[2]: no X user 'nobody'"),
        ("x", {"kind": "dm", "user": "pat", "text": "hi", "format": "v3"}, "events[2].format:"),
        ("x", {"kind": "tweet", "user": "pat", "in_reply_to": "9"}, "events[2].in_reply_to:"),
    ],
)
def test_a_bad_element_refuses_the_burst_naming_it_and_changes_nothing(
    client: SandboxClient, platform: str, bad: Any, message: str
) -> None:
    good = (
        {"kind": "messenger", "persona": "jane", "text": "hi"}
        if platform == "facebook"
        else {"kind": "dm", "user": "pat", "text": "hi"}
    )
    before = _world(client)

    with pytest.raises(SandboxError) as refused:
        client.burst(platform, [good, good, bad, good])

    assert refused.value.status == 400
    assert str(refused.value).startswith(f"sandbox answered 400: {message}")
    assert client.deliveries() == []
    assert _world(client) == before


@pytest.mark.parametrize("body", [{}, {"events": []}, {"events": {"kind": "dm"}}])
def test_a_burst_without_a_list_of_events_is_refused(sandbox: RunningSandbox, body: Any) -> None:
    answer = httpx.post(f"{sandbox.base_url}/sandbox/api/x/burst", json=body)

    assert answer.status_code == 400
    assert answer.json()["error"].startswith("events: a non-empty list")
