"""``action_continue_from_public`` with real trackers, dispatchers and stores."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.continue_from_public import ActionContinueFromPublic
from bot.identities import IdentityLinks
from bot.origins import PublicOrigin, PublicOrigins
from bot.store import SocialStore
from tests.factories import PAGE_ID, context_dict, make_context

COMMENT_REF = "pub-122100000000000001_1234567890123456"


@pytest.fixture
def origins(store: SocialStore) -> PublicOrigins:
    kept = PublicOrigins(store)
    kept.record(
        PublicOrigin.of(
            make_context("facebook_comment"),
            "Is this available in blue?",
            intent="product_question",
        )
    )
    kept.record(PublicOrigin.of(make_context("tweet"), "my order never arrived"))
    return kept


@pytest.fixture
def links(store: SocialStore) -> IdentityLinks:
    return IdentityLinks(store)


async def arrive(
    origins: PublicOrigins, links: IdentityLinks, social: dict[str, Any], text: str
) -> dict[str, Any]:
    tracker = Tracker(
        sender_id="s",
        slots={},
        latest_message={"text": text, "metadata": {"social": social}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = await ActionContinueFromPublic(origins, links).run(dispatcher, tracker, {})
    assert dispatcher.messages == []  # the response follows from the domain
    return {event["name"]: event["value"] for event in events}


async def test_an_m_me_arrival_names_the_comment_and_fills_the_slots(
    origins: PublicOrigins, links: IdentityLinks
) -> None:
    social = context_dict("messenger", referral=COMMENT_REF)

    slots = await arrive(origins, links, social, "/continue_from_public")

    assert slots == {
        "public_origin_found": True,
        "public_origin_place": "your comment on our post",
        "public_origin_ref": COMMENT_REF,
        "public_origin_text": "Is this available in blue?",
        "public_origin_source": "facebook_comment",
        "public_origin_intent": "product_question",
    }


async def test_a_linked_messenger_user_is_found_through_the_identity_link(
    origins: PublicOrigins, links: IdentityLinks
) -> None:
    links.link(
        platform="facebook",
        account_id=PAGE_ID,
        public_user_id="7788990011223344",
        private_user_id="6543210987654321",
        via="private_reply",
    )

    slots = await arrive(origins, links, context_dict("messenger"), "I'm here about my comment")

    assert slots["public_origin_text"] == "Is this available in blue?"
    assert slots["public_origin_ref"] == COMMENT_REF


async def test_an_x_user_is_found_by_their_id_which_is_the_same_in_public_and_private(
    origins: PublicOrigins, links: IdentityLinks
) -> None:
    slots = await arrive(origins, links, context_dict("twitter_dm"), "hi, following up")

    assert slots["public_origin_place"] == "your tweet"
    assert slots["public_origin_text"] == "my order never arrived"


@pytest.mark.parametrize(
    "social",
    [
        context_dict("messenger", referral="summer_campaign"),
        context_dict("messenger", author={"id": "999", "name": "Someone", "handle": None}),
    ],
)
async def test_without_a_known_origin_the_consumer_is_greeted(
    origins: PublicOrigins, links: IdentityLinks, social: dict[str, Any]
) -> None:
    assert await arrive(origins, links, social, "/continue_from_public") == {
        "public_origin_found": False
    }
