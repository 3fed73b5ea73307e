"""Rasa responses → Send API ``message`` objects, within Messenger's limits (pure).

- Text longer than 2000 characters is split on sentence boundaries (else on spaces).
- Quick replies: at most 13 natively, titles cut to 20 characters at a word; the rest follow as
  numbered lines of text.
- Buttons: 1 to 3 as a button template when the text fits its 640 characters; otherwise postback
  buttons become quick replies and link buttons become ``title: url`` lines.
- Images and attachments become attachment messages; ``elements`` a generic template; ``custom``
  is sent as the ``message`` object it is.
Quick replies ride on the last message, where Messenger shows them.
"""

from __future__ import annotations

import re
from typing import Any

from bot.guard import OutboundMessage

__all__ = [
    "BUTTON_TEMPLATE_TEXT_LIMIT",
    "MAX_BUTTONS",
    "MAX_QUICK_REPLIES",
    "QUICK_REPLY_TITLE_LIMIT",
    "TEXT_LIMIT",
    "render_message",
    "short_title",
    "split_text",
]

TEXT_LIMIT = 2000
BUTTON_TEMPLATE_TEXT_LIMIT = 640
MAX_BUTTONS = 3
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LIMIT = 20
BUTTON_TITLE_LIMIT = 20
ELLIPSIS = "\u2026"
_SENTENCE_END = re.compile(r"[.!?\u2026][)\"'\u201d\u2019]*\s+|\n+")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut after sentences where possible."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = max((match.end() for match in _SENTENCE_END.finditer(window)), default=0)
        if cut == 0 or cut > limit:
            cut = window.rfind(" ", 0, limit) + 1
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def short_title(title: str, limit: int = QUICK_REPLY_TITLE_LIMIT) -> str:
    """``title`` within ``limit`` characters: cut at a word where one fits, with an ellipsis."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    room = title[: limit - 1]
    at_word = room.rsplit(" ", 1)[0] if " " in room else room
    if len(at_word) < limit // 2:  # one long word: cut inside it rather than keep too little
        at_word = room
    return at_word.rstrip(" ,.;:-") + ELLIPSIS


def _quick_reply(choice: dict[str, Any]) -> dict[str, Any]:
    content_type = choice.get("content_type", "text")
    if content_type != "text":  # user_email, user_phone_number: no title or payload
        return {"content_type": content_type}
    title = str(choice.get("title") or choice.get("payload") or "")
    reply = {
        "content_type": "text",
        "title": short_title(title),
        "payload": str(choice.get("payload") or title),
    }
    if choice.get("image_url"):
        reply["image_url"] = choice["image_url"]
    return reply


def _button(button: dict[str, Any]) -> dict[str, Any]:
    title = short_title(str(button.get("title") or ""), BUTTON_TITLE_LIMIT)
    if button.get("url"):
        return {"type": "web_url", "title": title, "url": button["url"]}
    return {"type": "postback", "title": title, "payload": str(button.get("payload") or title)}


def _attachment(kind: str, url: str) -> dict[str, Any]:
    return {"attachment": {"type": kind, "payload": {"url": url, "is_reusable": True}}}


def _file_attachment(attachment: Any) -> dict[str, Any]:
    if isinstance(attachment, dict):  # already a Send API attachment ({"type", "payload"})
        return {"attachment": attachment}
    return _attachment("file", str(attachment))


def _button_template(text: str, buttons: tuple[dict[str, Any], ...]) -> dict[str, Any] | None:
    if not 1 <= len(buttons) <= MAX_BUTTONS or not text or len(text) > BUTTON_TEMPLATE_TEXT_LIMIT:
        return None
    payload = {"template_type": "button", "text": text, "buttons": [_button(b) for b in buttons]}
    return {"attachment": {"type": "template", "payload": payload}}


def _choices(
    quick_replies: tuple[dict[str, Any], ...], buttons: tuple[dict[str, Any], ...]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The native quick replies, and the lines of text for what cannot be one."""
    links = [button for button in buttons if button.get("url")]
    choices = [*quick_replies, *(button for button in buttons if not button.get("url"))]
    native, overflow = choices[:MAX_QUICK_REPLIES], choices[MAX_QUICK_REPLIES:]
    lines = [f"{button.get('title')}: {button['url']}" for button in links]
    lines += [
        f"{number}. {choice.get('title') or choice.get('payload')}"
        for number, choice in enumerate(overflow, start=MAX_QUICK_REPLIES + 1)
    ]
    return [_quick_reply(choice) for choice in native], lines


def _media(message: OutboundMessage) -> list[dict[str, Any]]:
    media: list[dict[str, Any]] = []
    if message.image:
        media.append(_attachment("image", message.image))
    if message.attachment:
        media.append(_file_attachment(message.attachment))
    if message.elements:
        payload = {"template_type": "generic", "elements": list(message.elements)}
        media.append({"attachment": {"type": "template", "payload": payload}})
    if message.custom:
        media.append(dict(message.custom))
    return media


def render_message(message: OutboundMessage) -> list[dict[str, Any]]:
    """The Send API ``message`` objects that show ``message`` in Messenger, in order."""
    text = message.text.strip()
    template = None if message.quick_replies else _button_template(text, message.buttons)
    buttons = () if template else message.buttons
    quick_replies, lines = _choices(message.quick_replies, buttons)
    text = "\n".join(part for part in ("" if template else text, *lines) if part)
    messages: list[dict[str, Any]] = [{"text": piece} for piece in split_text(text)]
    if template is not None:
        messages.append(template)
    messages += _media(message)
    if quick_replies:
        if not messages:
            messages.append({"text": "\u2063"})  # quick replies need a message to ride on
        messages[-1] = {**messages[-1], "quick_replies": quick_replies}
    return messages
