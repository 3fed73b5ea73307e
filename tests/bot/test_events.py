from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from bot.events import conversation_id
from tests.factories import PAGE_ID, X_ACCOUNT_ID, make_context, make_event


@pytest.mark.parametrize(
    ("source", "sender_id"),
    [
        ("messenger", f"facebook:{PAGE_ID}:6543210987654321"),
        ("facebook_comment", f"facebook:{PAGE_ID}:7788990011223344"),
        ("tweet", f"twitter:{X_ACCOUNT_ID}:1205290247124217856"),
        ("twitter_dm", f"twitter:{X_ACCOUNT_ID}:1205290247124217856"),
    ],
)
def test_sender_id_is_one_consumer_with_one_brand_account(source: str, sender_id: str) -> None:
    assert make_event(source).sender_id == sender_id


def test_a_tweet_and_a_dm_of_one_consumer_share_a_conversation() -> None:
    assert make_event("tweet").sender_id == make_event("twitter_dm").sender_id


@pytest.mark.parametrize(
    ("platform", "account_id", "user_id", "bad"),
    [
        ("facebook", "", "1", "account_id"),
        ("facebook", "1:2", "1", "account_id"),
        ("twitter", "1", "", "user_id"),
        ("", "1", "2", "platform"),
    ],
)
def test_conversation_id_rejects_ids_that_would_be_ambiguous(
    platform: str, account_id: str, user_id: str, bad: str
) -> None:
    with pytest.raises(ValueError, match=f"^{bad}: "):
        conversation_id(platform, account_id, user_id)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"author_id": "12:34"}, "user_id: expected a non-empty id without ':'"),
        ({"author_id": "9" * 300}, "sender id: 325 characters; at most 255 are stored"),
        ({"dedupe_key": "k" * 256}, "at most 255 characters"),
    ],
    ids=["colon", "long sender", "long dedupe key"],
)
def test_an_event_that_cannot_be_stored_or_named_is_refused(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_event("messenger", **overrides)


def test_an_event_id_longer_than_the_store_holds_is_refused() -> None:
    context = make_context("messenger", event_id="m" * 256)

    with pytest.raises(ValidationError, match="event_id: 256 characters; at most 255"):
        make_event("messenger", context=context, dedupe_key="facebook:mid:short")


def test_metadata_carries_extras_and_the_social_context() -> None:
    event = make_event("messenger", extra={"attachment": {"type": "image", "url": "https://x/y"}})

    metadata = event.metadata()

    assert metadata["attachment"] == {"type": "image", "url": "https://x/y"}
    assert metadata["social"]["source"] == "messenger"


def test_extras_cannot_overwrite_the_social_context() -> None:
    event = make_event("messenger", extra={"social": {"visibility": "public"}})

    assert event.metadata()["social"]["visibility"] == "private"


@pytest.mark.parametrize(
    "occurred_at",
    [
        datetime(2026, 1, 1, 0, 10),
        datetime(2026, 1, 1, 1, 10, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_occurred_at_is_stored_in_utc(occurred_at: datetime) -> None:
    event = make_event(occurred_at=occurred_at)

    assert event.occurred_at == datetime(2026, 1, 1, 0, 10, tzinfo=timezone.utc)
