"""How X counts and shortens the text of a post: pure functions.

The weighted length follows twitter-text's v3 configuration: code points in the Latin and common
punctuation ranges weigh 1, every other code point (CJK, emoji) weighs 2, and every URL counts as
23 whatever its length; a post may weigh at most 280. v1.1 compatibility mode shows at most 140
characters in ``text`` and sets ``truncated``; posts above 280 are long posts (``note_tweet``).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "COMPAT_DISPLAY_LIMIT",
    "MAX_WEIGHTED_LENGTH",
    "URL_WEIGHT",
    "cut",
    "truncate_for_compat",
    "weighted_length",
]

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
COMPAT_DISPLAY_LIMIT = 140

_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _weight(character: str) -> int:
    point = ord(character)
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


def weighted_length(text: str) -> int:
    """The length X checks against 280: URLs 23, light characters 1, others 2."""
    normalised = unicodedata.normalize("NFC", text)
    total, position = 0, 0
    for match in _URL.finditer(normalised):
        total += sum(_weight(character) for character in normalised[position : match.start()])
        total += URL_WEIGHT
        position = match.end()
    return total + sum(_weight(character) for character in normalised[position:])


def cut(text: str, limit: int) -> str:
    """The first ``limit`` code points of ``text`` (what X shows of a long post)."""
    return text[:limit]


def truncate_for_compat(text: str, status_url: str) -> str:
    """The v1.1 ``text`` of a post longer than 140: the start, an ellipsis and the post's link."""
    room = COMPAT_DISPLAY_LIMIT - URL_WEIGHT - 2  # "… " before the link
    return text[:room].rstrip() + "… " + status_url
