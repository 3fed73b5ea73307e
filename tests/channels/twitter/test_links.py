"""The DM deep link and the weighted length of a tweet."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from channels.twitter.links import MAX_TWEET_LENGTH, dm_link, tweet_length


def test_the_dm_link_opens_a_dm_with_the_brand_and_a_prefilled_text() -> None:
    link = urlparse(dm_link("2244994945", "Hi! About my tweet & order #12"))

    assert f"{link.scheme}://{link.netloc}{link.path}" == "https://x.com/messages/compose"
    assert parse_qs(link.query) == {
        "recipient_id": ["2244994945"],
        "text": ["Hi! About my tweet & order #12"],
    }


def test_the_dm_link_without_a_text_has_only_the_recipient() -> None:
    assert dm_link("2244994945") == "https://x.com/messages/compose?recipient_id=2244994945"


LINK = dm_link("2244994945", "Hi! About my tweet (ref pub-1874000000000000001): " * 3)


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("", 0),
        ("café", 4),
        ("cafe\u0301", 4),  # NFC: one character
        ("日本語", 6),
        ("👍", 2),
        ("👍🏽", 2),
        ("👨‍👩‍👧", 2),
        ("🇬🇧", 2),
        ("❤️", 2),
        ("https://brightcart.example/orders/BC-104233?utm=very-long-tracking-value", 23),
        ("http://a.co", 23),
        ("see www.brightcart.example/help.", 4 + 23 + 1),
        ("brightcart.example", 23),
        (f"DM us: {LINK}", 7 + 23),
        ("a\u2014b", 3),  # an em dash is in the light ranges
    ],
)
def test_tweet_length_weighs_characters_and_counts_every_url_as_23(text: str, length: int) -> None:
    assert tweet_length(text) == length


def test_a_280_character_text_fits_and_one_more_does_not() -> None:
    assert tweet_length("x" * MAX_TWEET_LENGTH) == MAX_TWEET_LENGTH
    assert tweet_length("x" * 258 + "https://example.com/" + "y" * 50) == MAX_TWEET_LENGTH + 1
