from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.public_to_private import ActionPublicToPrivate
from channels.twitter.links import take_reference
from tests.factories import PAGE_ID, X_ACCOUNT_ID, context_dict


def run(metadata: dict[str, Any]) -> dict[str, Any]:
    tracker = Tracker(
        sender_id="s",
        slots={},
        latest_message={"text": "where is my parcel??", "metadata": metadata},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = ActionPublicToPrivate().run(dispatcher, tracker, {})
    assert dispatcher.messages == []  # the response comes next, from the domain
    return {event["name"]: event["value"] for event in events}


def test_a_facebook_commenter_is_invited_to_messenger_with_a_reference_to_the_comment() -> None:
    slots = run({"social": context_dict("facebook_comment")})

    link = urlparse(slots["cta_link"])
    assert slots["cta_name"] == "Jane"
    assert (link.scheme, link.netloc, link.path) == ("https", "m.me", f"/{PAGE_ID}")
    assert parse_qs(link.query) == {"ref": ["pub-122100000000000001_1234567890123456"]}


def test_an_x_user_is_invited_to_a_dm_with_the_brand_and_a_prefilled_reference() -> None:
    slots = run({"social": context_dict("tweet")})

    link = urlparse(slots["cta_link"])
    query = parse_qs(link.query)
    assert slots["cta_name"] == "@pat_example"
    assert f"{link.netloc}{link.path}" == "x.com/messages/compose"
    assert query["recipient_id"] == [X_ACCOUNT_ID]
    assert take_reference(query["text"][0])[1] == "pub-1874000000000000001"


@pytest.mark.parametrize(
    "metadata", [{}, {"is_external": True}, {"social": {"version": 1, "platform": "myspace"}}]
)
def test_without_a_valid_social_context_nothing_is_prepared(metadata: dict[str, Any]) -> None:
    assert run(metadata) == {}
