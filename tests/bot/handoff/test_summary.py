"""What routing decides on and what the agent is told, from tracker events as JSON."""

from __future__ import annotations

import pytest

from bot.handoff.summary import routing_context, summarise, topic
from tests.factories import PAGE_ID, bot_event, context_dict, user_event

DELIVERY = [
    user_event("my parcel never came", "delivery_problem", timestamp=1.0),
    bot_event("I'm sorry your delivery didn't go as planned.", timestamp=2.0),
    user_event("BC-104233", "inform", entities={"order_number": "BC-104233"}, timestamp=3.0),
    user_event("a human please", "request_human", confidence=0.99, timestamp=4.0),
]


@pytest.mark.parametrize(
    ("intents", "expected"),
    [
        (["delivery_problem", "inform", "request_human"], "delivery_problem"),
        (["complaint", "thanks", "request_human"], "complaint"),
        (["greet", "request_human"], "request_human"),
        (["out_of_scope", "out_of_scope"], "out_of_scope"),
        ([], None),
    ],
)
def test_routing_looks_past_generic_intents_to_the_topic(
    intents: list[str], expected: str | None
) -> None:
    events = [user_event("...", intent) for intent in intents]

    assert topic(events)[0] == expected


def test_a_rest_conversation_is_routed_as_private_on_the_rest_platform() -> None:
    events = [user_event(event["text"], "x", source=None) for event in DELIVERY[:1]]
    events[0]["parse_data"]["intent"]["name"] = "delivery_problem"

    context = routing_context(events, {"order_checked": "BC-104233"}, {})

    assert (context.platform, context.visibility, context.account_id) == ("rest", "private", None)
    assert context.intent == "delivery_problem"
    assert context.slots == {"order_checked": "BC-104233"}


def test_a_social_conversation_is_routed_on_its_context_every_entity_and_the_referral() -> None:
    referred = user_event(
        "hi", "greet", timestamp=0.5, referral="winter-sale-2026", thread_id="6543210987654321"
    )
    events = [referred, *DELIVERY]
    slots = {"handoff_active": "queued", "requested_slot": None, "order_state": "shipped"}

    context = routing_context(events, slots, DELIVERY[-1]["metadata"])

    assert (context.platform, context.account_id, context.source) == (
        "facebook",
        PAGE_ID,
        "messenger",
    )
    assert (context.intent, context.confidence) == ("delivery_problem", 0.95)
    assert context.entities == frozenset({"order_number"})
    assert context.referral == "winter-sale-2026"
    assert context.slots == {"order_state": "shipped"}  # not the plumbing


def test_the_summary_holds_what_the_bot_understood_and_where_it_started() -> None:
    public = user_event(
        "where is my parcel?!", "delivery_problem", source="facebook_comment", timestamp=0.5
    )
    agent_reply = bot_event("Hi, Sam here.", timestamp=5.0, origin="agent", agent="sam")

    summary = summarise([public, *DELIVERY, agent_reply], {"order_checked": "BC-104233"})

    assert summary["intents"] == [
        {"name": "delivery_problem", "count": 2, "confidence": 0.95},
        {"name": "inform", "count": 1, "confidence": 0.95},
        {"name": "request_human", "count": 1, "confidence": 0.99},
    ]
    assert summary["entities"] == {"order_number": ["BC-104233"]}
    assert summary["slots"] == {"order_checked": "BC-104233"}
    assert summary["public_origin"]["text"] == "where is my parcel?!"
    assert summary["public_origin"]["thread_id"] == context_dict("facebook_comment")["thread_id"]
    assert summary["consumer"] == {
        "id": "6543210987654321",
        "name": "Jane Doe",
        "handle": None,
        "picture": None,
    }
    assert [message["from"] for message in summary["last_messages"]] == [
        "consumer",
        "consumer",
        "bot",
        "consumer",
        "consumer",
        "agent",
    ]
    assert summary["last_messages"][0]["visibility"] == "public"


def test_the_summary_keeps_only_the_last_messages() -> None:
    events = [user_event(f"message {n}", "greet", timestamp=float(n)) for n in range(30)]

    summary = summarise(events, {}, last=3)

    assert [message["text"] for message in summary["last_messages"]] == [
        "message 27",
        "message 28",
        "message 29",
    ]


def test_an_invalid_social_context_counts_as_none() -> None:
    broken = user_event("hi", "greet")
    broken["metadata"] = {"social": {"version": 1, "platform": "myspace"}}

    assert routing_context([broken], {}, broken["metadata"]).platform == "rest"
    assert summarise([broken], {})["consumer"] == {}
