"""X's weighted length: URLs count 23, CJK and emoji count 2, the rest 1."""

from __future__ import annotations

import pytest

from sandbox.tweet_text import truncate_for_compat, weighted_length


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("hello", 5),
        ("https://brightcart.example/a/very/long/path/that/is/longer/than/23", 23),
        ("see https://t.co/x and http://example.com/y", 4 + 23 + 5 + 23),
        ("漢字", 4),
        ("👋", 2),
        ("café", 4),
        ("e\u0301", 1),  # NFC: one code point
    ],
)
def test_weighted_length_counts_as_x_does(text: str, length: int) -> None:
    assert weighted_length(text) == length


def test_compat_text_fits_140_and_ends_with_the_posts_link() -> None:
    shown = truncate_for_compat("word " * 60, "https://t.co/abcdefghij")

    assert len(shown) <= 140
    assert shown.endswith("… https://t.co/abcdefghij")
