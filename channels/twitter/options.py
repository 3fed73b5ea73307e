"""Buttons and quick replies in X DMs, which have neither: numbered text lines and their answers.

The bot's options go out as ``1. Title`` lines under the text. The options offered last are
remembered on the conversation; when the consumer answers ``1``, ``1.``, ``#1`` or the title,
the answer becomes that option's payload, exactly as a tap on a button would on Messenger.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "OFFERED_OPTIONS",
    "NumberedOption",
    "chosen_option",
    "dump_options",
    "load_options",
    "render_options",
]

# The conversation flag (``bot.consumers.ConsumerFlags``) holding the options offered last.
OFFERED_OPTIONS = "x_dm_options"

_NUMBERED_ANSWER = re.compile(r"^[#(]?\s*(\d{1,2})\s*[.):]?\s*(.*)$", re.DOTALL)
_EDGE_PUNCTUATION = " \t\n.!?,;:\"'()[]"


@dataclass(frozen=True)
class NumberedOption:
    """One option offered in a DM, as the consumer saw it."""

    number: int
    title: str
    payload: str


def _comparable(text: str) -> str:
    return " ".join(text.strip(_EDGE_PUNCTUATION).casefold().split())


def render_options(
    text: str, choices: Iterable[Mapping[str, Any]]
) -> tuple[str, list[NumberedOption]]:
    """The DM text with the choices (Rasa buttons or quick replies) as lines under it.

    Choices with a payload become ``1. Title`` lines; link buttons (``url``) become
    ``Title: url`` lines, unnumbered, since following them needs no answer.

    Returns:
        The text to send and the numbered options it offers (empty when there are none).
    """
    lines: list[str] = []
    options: list[NumberedOption] = []
    for choice in choices:
        title = str(choice.get("title") or "").strip()
        if choice.get("url"):
            lines.append(f"{title}: {choice['url']}" if title else str(choice["url"]))
            continue
        payload = choice.get("payload")
        if payload is None or payload == "":
            payload = title
        if not title:
            continue
        option = NumberedOption(len(options) + 1, title, str(payload))
        options.append(option)
        lines.append(f"{option.number}. {option.title}")
    if not lines:
        return text, []
    body = "\n".join(lines)
    return (f"{text}\n\n{body}" if text else body), options


def chosen_option(answer: str, options: Sequence[NumberedOption]) -> NumberedOption | None:
    """The option the consumer's answer picks, by number (``2``, ``2.``, ``#2``) or by title.

    ``2. Track my order`` (the line copied) picks option 2 when its title matches too.
    """
    if not options:
        return None
    wanted = _comparable(answer)
    for option in options:
        if wanted and wanted == _comparable(option.title):
            return option
    match = _NUMBERED_ANSWER.match(answer.strip())
    if match is None:
        return None
    number, rest = int(match.group(1)), match.group(2)
    picked = next((option for option in options if option.number == number), None)
    if picked is None or (rest.strip() and _comparable(rest) != _comparable(picked.title)):
        return None
    return picked


def dump_options(options: Sequence[NumberedOption]) -> str:
    """The options as a compact JSON text, to remember them on the conversation."""
    return json.dumps(
        [[option.number, option.title, option.payload] for option in options],
        separators=(",", ":"),
        ensure_ascii=False,
    )


def load_options(text: str | None) -> list[NumberedOption]:
    """The options remembered by ``dump_options``; nothing for a missing or unreadable value."""
    if not text:
        return []
    try:
        rows = json.loads(text)
        return [NumberedOption(int(n), str(title), str(payload)) for n, title, payload in rows]
    except (ValueError, TypeError):
        return []
