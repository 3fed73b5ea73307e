from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.public_to_private import ActionPublicToPrivate, shorten
from bot.origins import PublicOrigins
from bot.store import SocialStore
from channels.twitter.links import take_reference
from tests.factories import PAGE_ID, X_ACCOUNT_ID, context_dict


@pytest.fixture
def origins(store: SocialStore) -> PublicOrigins:
    return PublicOrigins(store)


def tracker_with(metadata: dict[str, Any], text: str = "where is my parcel??") -> Tracker:
    return Tracker(
        sender_id="s",
        slots={},
        latest_message={
            "text": text,
            "metadata": metadata,
            "intent": {"name": "delivery_problem", "confidence": 0.93},
            "entities": [{"entity": "order_number", "value": "BC-104233", "start": 0}],
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(origins: PublicOrigins, metadata: dict[str, Any]) -> dict[str, Any]:
    dispatcher = CollectingDispatcher()
    events = await ActionPublicToPrivate(origins).run(dispatcher, tracker_with(metadata), {})
    assert dispatcher.messages == []  # the response comes next, from the domain
    return {event["name"]: event["value"] for event in events}


async def test_a_facebook_commenter_is_invited_to_messenger_with_a_reference_to_the_comment(
    origins: PublicOrigins,
) -> None:
    slots = await run(origins, {"social": context_dict("facebook_comment")})

    link = urlparse(slots["cta_link"])
    assert slots["cta_name"] == "Jane"
    assert (link.scheme, link.netloc, link.path) == ("https", "m.me", f"/{PAGE_ID}")
    assert parse_qs(link.query) == {"ref": ["pub-122100000000000001_1234567890123456"]}


async def test_an_x_user_is_invited_to_a_dm_with_the_brand_and_a_prefilled_reference(
    origins: PublicOrigins,
) -> None:
    slots = await run(origins, {"social": context_dict("tweet")})

    link = urlparse(slots["cta_link"])
    query = parse_qs(link.query)
    assert slots["cta_name"] == "@pat_example"
    assert f"{link.netloc}{link.path}" == "x.com/messages/compose"
    assert query["recipient_id"] == [X_ACCOUNT_ID]
    assert take_reference(query["text"][0])[1] == "pub-1874000000000000001"


async def test_the_public_message_and_what_the_bot_understood_are_kept_under_the_reference(
    origins: PublicOrigins,
) -> None:
    await run(origins, {"social": context_dict("facebook_comment")})

    origin = origins.get("pub-122100000000000001_1234567890123456")
    assert origin is not None
    assert (origin.text, origin.intent, origin.confidence) == (
        "where is my parcel??",
        "delivery_problem",
        0.93,
    )
    assert origin.entities == [{"entity": "order_number", "value": "BC-104233"}]
    assert (origin.source, origin.author_id, origin.thread_id) == (
        "facebook_comment",
        "7788990011223344",
        f"{PAGE_ID}_122100000000000001",
    )
    assert origin.public_sender_id == f"facebook:{PAGE_ID}:7788990011223344"


@pytest.mark.parametrize(
    "metadata", [{}, {"is_external": True}, {"social": {"version": 1, "platform": "myspace"}}]
)
async def test_without_a_valid_social_context_nothing_is_prepared(
    origins: PublicOrigins, metadata: dict[str, Any]
) -> None:
    assert await run(origins, metadata) == {}


@pytest.mark.parametrize(
    ("metadata_mode", "slot"),
    [
        ("private_reply", "private_reply"),
        ("both", "both"),
        (None, "public_link"),
        ("x", "public_link"),
    ],
)
async def test_the_channels_cta_mode_selects_the_wording(
    origins: PublicOrigins, metadata_mode: str | None, slot: str
) -> None:
    metadata: dict[str, Any] = {"social": context_dict("facebook_comment")}
    if metadata_mode is not None:
        metadata["cta_mode"] = metadata_mode

    slots = await run(origins, metadata)

    assert slots["cta_mode"] == slot
    assert slots["cta_comment"] == "where is my parcel??"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("short", "short"),
        ("  two\n lines ", "two lines"),
        ("word " * 30, ("word " * 15).strip() + "…"),
    ],
)
def test_the_comment_is_shortened_at_a_word_boundary(text: str, expected: str) -> None:
    assert shorten(text) == expected
