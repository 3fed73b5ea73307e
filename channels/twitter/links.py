"""X text rules: the DM deep link of the call to action and the weighted length of a tweet.

The length follows X's twitter-text (v3 configuration): the text is NFC-normalised; a code point
in the Latin and common-punctuation ranges weighs 1, any other (CJK, emoji...) weighs 2, an emoji
sequence (ZWJ, skin tones, variation selectors) weighs 2 in all; every URL weighs 23 whatever its
length; at most 280. URLs are those with a scheme, starting ``www.``, or bare domains under a
common top-level domain; a bare domain that X would link but this misses is counted by its
characters, so a text near the limit may still be refused by X (as ``InvalidRequest``).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlencode

__all__ = [
    "DM_COMPOSE_URL",
    "DM_LINK",
    "MAX_DM_LENGTH",
    "MAX_TWEET_LENGTH",
    "URL_LENGTH",
    "addressed_to",
    "dm_link",
    "dm_prefill",
    "replace_dm_links",
    "take_reference",
    "tweet_length",
    "without_prefill",
]

DM_COMPOSE_URL = "https://x.com/messages/compose"
DM_LINK = re.compile(r"https://(?:x|twitter)\.com/messages/compose\?\S*[^\s.,;:!?)\]'\"]")
MAX_TWEET_LENGTH = 280
MAX_DM_LENGTH = 10_000
URL_LENGTH = 23

# Code point ranges weighing 1 (twitter-text v3); everything else weighs 2.
_REFERENCE = re.compile(r"\s*\(ref ([A-Za-z0-9_=-]{1,255})\)")
_HANDLE_CHAR = re.compile(r"[A-Za-z0-9_]")
_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))

_TLDS = (
    "com|net|org|io|co|uk|de|fr|es|it|nl|eu|us|ca|au|app|dev|ly|me|tv|info|biz|shop|store|example"
)
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]']"
    rf"|\b(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})\b(?:/[^\s<>\"]*)?",
    re.IGNORECASE,
)
_EMOJI_PART = (
    r"(?:[\U0001F000-\U0001FAFF\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF\u3030\u303D\u3297\u3299]"
    r"[\U0001F3FB-\U0001F3FF\uFE0F\u20E3]*)"
)
_EMOJI = re.compile(rf"[\U0001F1E6-\U0001F1FF]{{2}}|{_EMOJI_PART}(?:\u200D{_EMOJI_PART})*")


def dm_link(recipient_id: str, text: str | None = None) -> str:
    """``https://x.com/messages/compose?recipient_id=<id>&text=<prefill>``.

    At the end of a tweet X renders it as a "Send a private message" button.
    """
    query = {"recipient_id": recipient_id}
    if text:
        query["text"] = text
    return f"{DM_COMPOSE_URL}?{urlencode(query)}"


def dm_prefill(reference: str) -> str:
    """The DM text a call to action's link prefills, carrying the public thread's ``reference``.

    ``take_reference`` finds the reference again in the consumer's first DM.
    """
    return f"Hi! About my tweet (ref {reference}): "


def without_prefill(typed: str) -> str:
    """What the consumer added to the prefilled DM text (``typed`` has lost its reference)."""
    words = dm_prefill("").replace("(ref )", "").strip().rstrip(":").strip()
    if typed.lower().startswith(words.lower()):
        typed = typed[len(words) :].lstrip().removeprefix(":")
    return typed.strip()


def take_reference(text: str) -> tuple[str, str | None]:
    """The DM text without the ``(ref ...)`` a prefilled link left in it, and that reference."""
    match = _REFERENCE.search(text)
    if match is None:
        return text, None
    return (text[: match.start()] + text[match.end() :]).strip(), match.group(1)


def replace_dm_links(text: str, replacement: str) -> str:
    """``text`` with every DM deep link replaced (the consumer's DMs are closed)."""
    return DM_LINK.sub(lambda _match: replacement, text)


def addressed_to(text: str, handle: str | None) -> str:
    """``text`` starting with ``@handle`` (added unless it starts with it already)."""
    if not handle:
        return text
    mention = f"@{handle}"
    stripped = text.lstrip()
    if stripped.lower().startswith(mention.lower()) and not _HANDLE_CHAR.match(
        stripped[len(mention) : len(mention) + 1]
    ):
        return stripped
    return f"{mention} {stripped}"


def _weight(character: str) -> int:
    point = ord(character)
    return 1 if any(low <= point <= high for low, high in _LIGHT_RANGES) else 2


def _plain_length(text: str) -> int:
    length = 0
    position = 0
    for emoji in _EMOJI.finditer(text):
        length += sum(_weight(character) for character in text[position : emoji.start()])
        length += 2
        position = emoji.end()
    return length + sum(_weight(character) for character in text[position:])


def tweet_length(text: str) -> int:
    """The length X counts for ``text`` (at most ``MAX_TWEET_LENGTH`` may be posted)."""
    normalised = unicodedata.normalize("NFC", text)
    length = 0
    position = 0
    for url in _URL.finditer(normalised):
        length += _plain_length(normalised[position : url.start()]) + URL_LENGTH
        position = url.end()
    return length + _plain_length(normalised[position:])
