"""One timeline of a conversation's public and private messages, failures and handoff steps."""

from __future__ import annotations

from datetime import datetime, timezone

from bot.handoff.transcript import last_private_message_at, timeline
from tests.factories import PAGE_ID, bot_event, context_dict, user_event

PUBLIC_ID = f"facebook:{PAGE_ID}:7788990011223344"
PRIVATE_ID = f"facebook:{PAGE_ID}:6543210987654321"
COMMENT = context_dict("facebook_comment")


def test_public_and_private_conversations_merge_by_time_with_comments_under_their_parents() -> None:
    reply_to_comment = user_event(
        "still nothing!",
        "complaint",
        source="facebook_comment",
        timestamp=3.0,
        event_id="122100000000000001_999",
        parent_id=COMMENT["event_id"],
    )
    conversations = {
        PUBLIC_ID: [
            user_event(
                "where is my parcel?", "order_status", source="facebook_comment", timestamp=1.0
            ),
            reply_to_comment,
        ],
        PRIVATE_ID: [
            user_event("hi, about my comment", "greet", timestamp=2.0),
            bot_event("Hello!", timestamp=2.5),
            {"event": "pause", "timestamp": 4.0},
            bot_event("Sam here, looking into it.", timestamp=5.0, origin="agent", agent="sam"),
        ],
    }

    items = timeline(conversations)

    assert [(item["from"], item["text"]) for item in items] == [
        ("consumer", "where is my parcel?"),
        ("consumer", "hi, about my comment"),
        ("bot", "Hello!"),
        ("consumer", "still nothing!"),
        ("system", "The bot is paused: an agent owns the conversation."),
        ("agent", "Sam here, looking into it."),
    ]
    comment, _, _, reply, _, agent = items
    assert comment["parent"] == {
        "event_id": COMMENT["parent_id"],
        "text": None,  # the brand's post itself is not in the conversation
        "from": None,
        "is_thread_root": True,
    }
    assert reply["parent"]["text"] == "where is my parcel?"
    assert reply["parent"]["is_thread_root"] is False
    assert comment["intent"] == {"name": "order_status", "confidence": 0.95}
    assert (comment["visibility"], items[1]["visibility"]) == ("public", "private")
    assert agent["agent"] == "sam"
    assert items[1]["conversation_id"] == PRIVATE_ID


def test_failed_sends_and_handoff_steps_are_in_the_timeline() -> None:
    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    failed = {
        "origin": "agent",
        "text": "Are you still there?",
        "visibility": "private",
        "status": "failed",
        "error_message": "outside the messaging window",
        "error_type": "OutsideMessagingWindow",
        "kind": "message",
        "sender_id": PRIVATE_ID,
        "created_at": at,
    }
    steps = [
        {"kind": "created", "agent": None, "detail": {"skill": "care_private"}, "at": at},
        {
            "kind": "transferred",
            "agent": "sam",
            "detail": {"to_skill": "deliveries", "note": "lost parcel"},
            "at": at,
        },
        {"kind": "replied", "agent": "sam", "detail": {}, "at": at},
    ]

    items = timeline({}, [failed], steps)

    assert [(item["from"], item["text"]) for item in items] == [
        ("agent", "Are you still there?"),
        ("system", "Handed over to care_private."),
        ("system", "sam transferred it to deliveries: lost parcel"),
    ]
    assert items[0]["error_type"] == "OutsideMessagingWindow"


def test_the_messenger_window_starts_at_the_last_private_message() -> None:
    events = [
        user_event("hi", "greet", timestamp=100.0),
        user_event("public!", "complaint", source="facebook_comment", timestamp=300.0),
        user_event("dm", "greet", source="twitter_dm", timestamp=400.0),
        user_event("again", "greet", timestamp=200.0),
    ]

    assert last_private_message_at(events, "facebook") == datetime.fromtimestamp(
        200.0, timezone.utc
    )
    assert last_private_message_at(events, "twitter") == datetime.fromtimestamp(400.0, timezone.utc)
    assert last_private_message_at([], "facebook") is None
