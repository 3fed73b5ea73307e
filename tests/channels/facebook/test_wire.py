from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from bot.errors import MalformedPayload
from channels.facebook.wire import Change, MessagingItem, Unreadable, parse_delivery
from tests.channels.facebook.factories import (
    comment,
    delivery,
    encode,
    entry,
    reference,
    text_message,
)
from tests.factories import PAGE_ID


def test_a_reference_delivery_is_parsed_into_typed_items() -> None:
    parsed = parse_delivery(reference("facebook-feed-comment"))

    [page_entry] = parsed.entry
    [change] = page_entry.changes
    assert page_entry.id == PAGE_ID
    assert isinstance(change, Change)
    assert change.value.author is not None
    assert change.value.author.name == "Jane Doe"
    assert change.value.created_time == datetime(2026, 1, 1, 0, 3, 19, tzinfo=timezone.utc)


def test_messenger_times_in_milliseconds_and_feed_times_in_seconds_both_read_right() -> None:
    messenger = parse_delivery(reference("facebook-messenger-text")).entry[0]
    feed = parse_delivery(reference("facebook-feed-visitor-post")).entry[0]

    [item] = messenger.messaging
    assert isinstance(item, MessagingItem)
    assert item.timestamp == datetime(2025, 12, 31, 23, 59, 59, 876000, tzinfo=timezone.utc)
    assert feed.time == datetime(2026, 1, 1, 0, 6, 40, tzinfo=timezone.utc)


def test_unknown_fields_are_ignored() -> None:
    body = delivery(entry(messaging=(text_message(nlp={"entities": {}}, new_field=1),)))
    body["new_top_level_field"] = {"anything": True}

    [item] = parse_delivery(encode(body)).entry[0].messaging

    assert isinstance(item, MessagingItem)


def test_an_item_with_wrong_types_is_unreadable_and_the_rest_of_the_batch_is_kept() -> None:
    bad = {"sender": {"id": "1"}, "message": {"mid": "m_1", "attachments": "not a list"}}
    body = delivery(entry(messaging=(bad, text_message())), entry(changes=(comment(),)))

    first, second = parse_delivery(encode(body)).entry

    unreadable, good = first.messaging
    assert isinstance(unreadable, Unreadable)
    assert unreadable.reason.startswith("entry[0].messaging[0]: message.attachments")
    assert isinstance(good, MessagingItem)
    assert isinstance(second.changes[0], Change)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not JSON"),
        (b"\xff\xfe", "the body is not JSON"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (json.dumps({"object": "instagram", "entry": []}).encode(), "object: expected 'page'"),
        (json.dumps({"entry": []}).encode(), "got None"),
        (json.dumps({"object": "page"}).encode(), "entry: field required"),
        (json.dumps({"object": "page", "entry": {}}).encode(), "entry: value is not a valid list"),
        (
            json.dumps({"object": "page", "entry": [{"time": 1}]}).encode(),
            "entry.0.id: field required",
        ),
        (
            json.dumps({"object": "page", "entry": [{"id": "1", "messaging": [1]}]}).encode(),
            "entry.0.messaging.0: value is not a valid dict",
        ),
    ],
)
def test_a_body_that_is_not_a_page_delivery_is_malformed_and_says_why(
    body: bytes, message: str
) -> None:
    with pytest.raises(MalformedPayload, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_delivery(body)
