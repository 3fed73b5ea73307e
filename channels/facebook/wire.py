"""The webhook deliveries of a Facebook Page, as Meta sends them (pydantic v1, parsed once).

``parse_delivery`` is the edge: the raw body becomes a ``Delivery`` or a ``MalformedPayload``
saying what is wrong. Unknown fields are ignored. Item fields are optional where Meta may leave
them out: whether an item is usable is the normaliser's question, not a parse failure. An item
whose fields have the wrong types becomes an ``Unreadable`` item, so one odd item never costs the
rest of the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Extra, Field, ValidationError

from bot.errors import MalformedPayload
from channels.json_body import json_type, load_json

__all__ = [
    "PAGE_OBJECT",
    "Attachment",
    "Change",
    "Delivery",
    "Entry",
    "FeedAuthor",
    "FeedPost",
    "FeedValue",
    "Message",
    "MessagingItem",
    "Party",
    "Postback",
    "QuickReply",
    "Referral",
    "Unreadable",
    "parse_delivery",
]

PAGE_OBJECT = "page"


class _Wire(BaseModel):
    class Config:
        extra = Extra.ignore
        allow_mutation = False
        allow_population_by_field_name = True


class Party(_Wire):
    """A sender or recipient of a Messenger event."""

    id: str


class QuickReply(_Wire):
    """The quick reply a consumer tapped."""

    payload: str


class AttachmentPayload(_Wire):
    """Where an attachment lives (``url``), or what it is (stickers, locations)."""

    url: str | None = None
    title: str | None = None
    sticker_id: int | None = None


class Attachment(_Wire):
    """A file, image, video, audio, location or fallback link sent in Messenger."""

    type: str
    payload: AttachmentPayload | None = None


class Referral(_Wire):
    """How a consumer came into the thread: an m.me link, an ad, ..."""

    ref: str | None = None
    source: str | None = None
    type: str | None = None


class ReplyTo(_Wire):
    """The message a consumer replied to."""

    mid: str


class Message(_Wire):
    """``message`` of a Messenger event."""

    mid: str
    text: str | None = None
    is_echo: bool = False
    metadata: str | None = None  # echoed back from what the page sent
    quick_reply: QuickReply | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    reply_to: ReplyTo | None = None
    referral: Referral | None = None


class Postback(_Wire):
    """A button the consumer tapped (``payload`` is what the bot offered)."""

    mid: str | None = None
    title: str | None = None
    payload: str | None = None
    referral: Referral | None = None


class MessagingItem(_Wire):
    """One item of ``messaging`` or ``standby``: a message, a postback, a referral or a signal."""

    sender: Party | None = None
    recipient: Party | None = None
    timestamp: datetime | None = None  # epoch milliseconds on the wire
    message: Message | None = None
    postback: Postback | None = None
    referral: Referral | None = None
    # Signals that are not messages; only their presence matters.
    delivery: dict[str, Any] | None = None
    read: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None
    optin: dict[str, Any] | None = None
    typing: dict[str, Any] | None = None

    def signal(self) -> str | None:
        """The name of the signal this item carries instead of a message, if any."""
        for name in ("delivery", "read", "reaction", "optin", "typing"):
            if getattr(self, name) is not None:
                return name
        return None


class FeedAuthor(_Wire):
    """``from`` of a feed change."""

    id: str
    name: str | None = None


class FeedPost(_Wire):
    """``post`` of a feed change: the post a comment belongs to."""

    id: str | None = None
    permalink_url: str | None = None
    is_published: bool | None = None


class FeedValue(_Wire):
    """``value`` of a ``feed`` change: a comment, a post, a reaction... and what happened to it."""

    item: str | None = None
    verb: str | None = None
    author: FeedAuthor | None = Field(None, alias="from")
    post_id: str | None = None
    comment_id: str | None = None
    parent_id: str | None = None
    message: str | None = None
    created_time: datetime | None = None  # epoch seconds on the wire
    published: int | None = None
    photo: str | None = None
    video: str | None = None
    link: str | None = None
    post: FeedPost | None = None


class Change(_Wire):
    """One item of ``changes``."""

    field: str
    value: FeedValue


@dataclass(frozen=True)
class Unreadable:
    """An item whose fields have the wrong types: skipped with this reason, the batch goes on."""

    reason: str


@dataclass(frozen=True)
class Entry:
    """One page's events in a delivery, each item parsed on its own."""

    id: str
    time: datetime | None = None
    messaging: tuple[MessagingItem | Unreadable, ...] = ()
    standby: tuple[MessagingItem | Unreadable, ...] = ()
    changes: tuple[Change | Unreadable, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One webhook POST: ``{"object": "page", "entry": [...]}``."""

    object: str
    entry: tuple[Entry, ...]


class _RawEntry(_Wire):
    id: str
    time: datetime | None = None
    messaging: list[dict[str, Any]] = Field(default_factory=list)
    standby: list[dict[str, Any]] = Field(default_factory=list)
    changes: list[dict[str, Any]] = Field(default_factory=list)


class _RawDelivery(_Wire):
    object: str
    entry: list[_RawEntry]


_Item = TypeVar("_Item", MessagingItem, Change)


def _item(model: type[_Item], raw: Mapping[str, Any], where: str) -> _Item | Unreadable:
    try:
        return model.parse_obj(raw)
    except ValidationError as exc:
        return Unreadable(reason=f"{where}: {_describe(exc)}")


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )


def parse_delivery(body: bytes) -> Delivery:
    """The delivery in ``body``.

    Raises:
        MalformedPayload: not JSON (see ``load_json``), not a page delivery, or without
            ``entry``; says which.
    """
    raw = load_json(body)
    if not isinstance(raw, dict):
        raise MalformedPayload(f"expected a JSON object, got {json_type(raw)}")
    if raw.get("object") != PAGE_OBJECT:
        raise MalformedPayload(
            f"object: expected {PAGE_OBJECT!r} (a Page subscription), got {raw.get('object')!r}"
        )
    try:
        envelope = _RawDelivery.parse_obj(raw)
    except ValidationError as exc:
        raise MalformedPayload(f"not a page delivery: {_describe(exc)}") from exc
    return Delivery(
        object=envelope.object,
        entry=tuple(
            _entry(entry, f"entry[{number}]") for number, entry in enumerate(envelope.entry)
        ),
    )


def _entry(entry: _RawEntry, here: str) -> Entry:
    return Entry(
        id=entry.id,
        time=entry.time,
        messaging=_items(MessagingItem, entry.messaging, f"{here}.messaging"),
        standby=_items(MessagingItem, entry.standby, f"{here}.standby"),
        changes=_items(Change, entry.changes, f"{here}.changes"),
    )


def _items(
    model: type[_Item], raw: list[dict[str, Any]], where: str
) -> tuple[_Item | Unreadable, ...]:
    return tuple(_item(model, item, f"{where}[{index}]") for index, item in enumerate(raw))
