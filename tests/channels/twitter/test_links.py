"""The DM deep link and the weighted length of a tweet."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from channels.twitter.links import (
    MAX_TWEET_LENGTH,
    addressed_to,
    dm_link,
    dm_prefill,
    replace_dm_links,
    take_reference,
    tweet_length,
)


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


@pytest.mark.parametrize(
    ("typed", "text", "reference"),
    [
        (dm_prefill("pub-1874") + "where is it?", "Hi! About my tweet: where is it?", "pub-1874"),
        (dm_prefill("pub-1874"), "Hi! About my tweet:", "pub-1874"),
        ("where is it? (ref me)", "where is it?", "me"),
        ("where is it?", "where is it?", None),
        ("(ref has spaces)", "(ref has spaces)", None),
    ],
)
def test_the_reference_a_prefilled_dm_carries_is_taken_out_of_the_text(
    typed: str, text: str, reference: str | None
) -> None:
    assert take_reference(typed) == (text, reference)


def test_a_call_to_action_text_gets_the_alternative_instead_of_the_dm_link() -> None:
    text = f"Hi @pat_example, DM us: {LINK} or {dm_link('1')}."

    assert replace_dm_links(text, "call 0800 123") == (
        "Hi @pat_example, DM us: call 0800 123 or call 0800 123."
    )


@pytest.mark.parametrize(
    ("text", "handle", "addressed"),
    [
        ("Sorry about that!", "pat_example", "@pat_example Sorry about that!"),
        ("@pat_example sorry", "pat_example", "@pat_example sorry"),
        ("  @PAT_EXAMPLE sorry", "pat_example", "@PAT_EXAMPLE sorry"),
        ("@pat_example2 hi", "pat_example", "@pat_example @pat_example2 hi"),
        ("Hi @pat_example!", "pat_example", "@pat_example Hi @pat_example!"),
        ("Sorry!", None, "Sorry!"),
    ],
)
def test_a_public_reply_starts_with_the_consumers_handle(
    text: str, handle: str | None, addressed: str
) -> None:
    assert addressed_to(text, handle) == addressed
