"""Facebook deliveries → platform-neutral ``SocialEvent``s, or ``Skipped`` with the reason (pure).

| wire item                                   | becomes                                         |
| ------------------------------------------- | ----------------------------------------------- |
| Messenger text                              | private ``messenger``, text neutralised         |
| Messenger quick reply                       | private, text = the payload the bot offered     |
| Messenger attachments without text          | private, text ``[image] https://...``           |
| postback                                    | private, text = the payload (else the title)    |
| referral alone (m.me link, existing thread) | private, text ``/<referral_intent>``, ``ref``   |
| ... either with the ``ref`` of our CTA link | private, text ``/continue_from_public``         |
| ``standby`` items                           | as ``messaging``, with ``extra["standby"]``     |
| feed comment (top-level or reply), ``add``  | public ``facebook_comment``, ``parent_id`` kept |
| visitor post (status/photo/video/...)       | public ``facebook_post``                        |
| feed ``edited``                             | per ``edits``: skipped, or a new event          |
| echoes, the page's own comments and posts,  | skipped                                         |
| reads, deliveries, reactions, typing,       |                                                 |
| removals, hides, disabled or unknown pages, |                                                 |
| public items of a page with public off      |                                                 |

Dedupe keys: ``facebook:mid:<mid>`` for Messenger; ``facebook:feed:<comment or post id>:<verb>``
for the feed, where an edit's key also carries its time and a digest of its text, so a later
edit is new while a redelivery of the same edit is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from bot.context import Author, Platform, SocialContext, Source, Visibility
from bot.events import Skipped, SocialEvent, event_or_skip
from bot.inbound_text import neutralise_commands
from bot.origins import CONTINUE_FROM_PUBLIC, REF_PREFIX
from channels.facebook.config import EditPolicy, FacebookConfig, PageConfig
from channels.facebook.wire import (
    Attachment,
    Change,
    Delivery,
    Entry,
    FeedAuthor,
    FeedValue,
    Message,
    MessagingItem,
    Postback,
    Referral,
    Unreadable,
)

__all__ = [
    "CTA_MODE",
    "EDITED",
    "POST_ITEMS",
    "STANDBY",
    "attachment_text",
    "from_call_to_action",
    "normalise_delivery",
]


EDITED = "edited"  # extra key: this event is an edit of an earlier comment or post
STANDBY = "standby"  # extra key: another app owned the Messenger thread when it was written
CTA_MODE = "cta_mode"  # extra key of public events: private_reply, public_link or both
POST_ITEMS = frozenset({"status", "post", "photo", "video", "share", "link"})
_EDIT_VERBS = frozenset({"edited", "edit"})


def normalise_delivery(
    delivery: Delivery, config: FacebookConfig, *, received_at: datetime
) -> list[SocialEvent | Skipped]:
    """Every item of every entry of ``delivery``, in order, as an event or a skip.

    Args:
        delivery: the parsed webhook body.
        config: the channel's pages and options.
        received_at: when the delivery arrived: the time of items that carry none.
    """
    return [result for entry in delivery.entry for result in _entry(entry, config, received_at)]


def _entry(
    entry: Entry, config: FacebookConfig, received_at: datetime
) -> Iterator[SocialEvent | Skipped]:
    page = config.page(entry.id)
    if page is None or not page.enabled:
        reason = f"page {entry.id} is " + ("not configured" if page is None else "disabled")
        for item in (*entry.messaging, *entry.standby, *entry.changes):
            yield Skipped(reason, _key(item))
        return
    when = entry.time or received_at
    for standby, items in ((False, entry.messaging), (True, entry.standby)):
        for item in items:
            messaging = partial(_messaging, item, page, config, when, standby=standby)
            yield event_or_skip(messaging, _key(item))
    for change in entry.changes:
        yield event_or_skip(partial(_change, change, page, config, when), _key(change))


def _key(item: MessagingItem | Change | Unreadable) -> str | None:
    if isinstance(item, MessagingItem):
        if item.message is not None:
            return item.message.mid
        return item.postback.mid if item.postback is not None else None
    if isinstance(item, Change):
        return item.value.comment_id or item.value.post_id
    return None


# --- Messenger -------------------------------------------------------------------------------


def _messaging(
    item: MessagingItem | Unreadable,
    page: PageConfig,
    config: FacebookConfig,
    when: datetime,
    *,
    standby: bool,
) -> SocialEvent | Skipped:
    if isinstance(item, Unreadable):
        return Skipped(f"unreadable item: {item.reason}", malformed=True)
    key = _key(item)
    if item.sender is None:
        return Skipped("messaging item without sender", key)
    if (item.message is not None and item.message.is_echo) or item.sender.id == page.id:
        return Skipped("echo of the page's own message", key)
    signal = item.signal()
    if signal is not None:
        return Skipped(f"{signal} is not a message", key)
    occurred_at = item.timestamp or when
    extra: dict[str, Any] = {STANDBY: True} if standby else {}
    if item.message is not None:
        return _message(item.message, page, item.sender.id, occurred_at, extra)
    if item.postback is not None:
        return _postback(item.postback, page, item.sender.id, occurred_at, extra)
    if item.referral is not None:
        return _referral(item.referral, page, config, item.sender.id, occurred_at, extra)
    return Skipped("messaging item without message, postback or referral", key)


def _private_context(
    page: PageConfig, psid: str, event_id: str, referral: str | None
) -> SocialContext:
    return SocialContext(
        platform=Platform.FACEBOOK,
        visibility=Visibility.PRIVATE,
        source=Source.MESSENGER,
        account_id=page.id,
        event_id=event_id,
        thread_id=psid,
        author=Author(id=psid),
        referral=referral,
    )


def _attachment_kind(attachment: Attachment) -> str:
    if attachment.payload is not None and attachment.payload.sticker_id is not None:
        return "sticker"
    return attachment.type


def attachment_text(kind: str, url: str | None) -> str:
    """How an attachment reads to the bot: ``[image] https://...``, or ``[location]``."""
    return f"[{kind}] {url}" if url else f"[{kind}]"


def _message(
    message: Message, page: PageConfig, psid: str, occurred_at: datetime, extra: dict[str, Any]
) -> SocialEvent | Skipped:
    text = ""
    if message.quick_reply is not None:
        # A payload the bot itself offered: Rasa reads it as is (it may be an /intent).
        text = message.quick_reply.payload
        extra["quick_reply"] = {"payload": message.quick_reply.payload, "title": message.text}
    elif message.text and message.text.strip():
        text = neutralise_commands(message.text)
    attachments = [
        (_attachment_kind(attachment), attachment.payload.url if attachment.payload else None)
        for attachment in message.attachments
    ]
    if attachments:
        extra["attachments"] = [{"type": kind, "url": url} for kind, url in attachments]
        text = text or "\n".join(attachment_text(kind, url) for kind, url in attachments)
    if not text:
        return Skipped("message without text or attachments", message.mid)
    if message.reply_to is not None:
        extra["reply_to"] = message.reply_to.mid
    referral = message.referral.ref if message.referral is not None else None
    return SocialEvent(
        context=_private_context(page, psid, message.mid, referral),
        text=text,
        dedupe_key=f"facebook:mid:{message.mid}",
        occurred_at=occurred_at,
        extra=extra,
    )


def _millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _postback(
    postback: Postback, page: PageConfig, psid: str, occurred_at: datetime, extra: dict[str, Any]
) -> SocialEvent | Skipped:
    referral = postback.referral.ref if postback.referral is not None else None
    if from_call_to_action(referral):
        # "Get started" of a thread opened from our link: its payload says nothing more.
        text = CONTINUE_FROM_PUBLIC
    elif postback.payload:
        text = postback.payload  # offered by the bot: not neutralised
    elif postback.title and postback.title.strip():
        text = neutralise_commands(postback.title)
    else:
        return Skipped("postback without payload or title", postback.mid)
    extra["postback"] = {"payload": postback.payload, "title": postback.title}
    if postback.mid:
        event_id, dedupe_key = postback.mid, f"facebook:mid:{postback.mid}"
    else:  # older postbacks carry no mid: the consumer and the moment identify them
        event_id = f"postback-{psid}-{_millis(occurred_at)}"
        dedupe_key = f"facebook:postback:{page.id}:{psid}:{_millis(occurred_at)}"
    return SocialEvent(
        context=_private_context(page, psid, event_id, referral),
        text=text,
        dedupe_key=dedupe_key,
        occurred_at=occurred_at,
        extra=extra,
    )


def from_call_to_action(ref: str | None) -> bool:
    """True for the ``ref`` of our call to action's m.me link (``pub-<public event id>``)."""
    return ref is not None and ref.startswith(REF_PREFIX) and len(ref) > len(REF_PREFIX)


def _referral(
    referral: Referral,
    page: PageConfig,
    config: FacebookConfig,
    psid: str,
    occurred_at: datetime,
    extra: dict[str, Any],
) -> SocialEvent | Skipped:
    # No message to answer, but the consumer just opened the thread from a link: from our call
    # to action, the bot picks up the public thread; from another link (a campaign), it greets.
    if from_call_to_action(referral.ref):
        text = CONTINUE_FROM_PUBLIC
    elif config.referral_intent is not None:
        text = f"/{config.referral_intent}"
    else:
        return Skipped("a referral alone is not handled (referral_intent is null)")
    extra["referral"] = referral.dict()
    moment = _millis(occurred_at)
    return SocialEvent(
        context=_private_context(page, psid, f"referral-{psid}-{moment}", referral.ref),
        text=text,
        dedupe_key=f"facebook:referral:{page.id}:{psid}:{moment}",
        occurred_at=occurred_at,
        extra=extra,
    )


# --- Page feed -------------------------------------------------------------------------------


def _change(
    change: Change | Unreadable, page: PageConfig, config: FacebookConfig, when: datetime
) -> SocialEvent | Skipped:
    if isinstance(change, Unreadable):
        return Skipped(f"unreadable item: {change.reason}", malformed=True)
    value = change.value
    key = _key(change)
    if change.field != "feed":
        return Skipped(f"{change.field!r} changes are not handled", key)
    if not page.public:
        return Skipped(f"public events of page {page.id} are off (public: false)", key)
    if value.item == "comment":
        source, event_id = Source.FACEBOOK_COMMENT, value.comment_id
    elif value.item in POST_ITEMS:
        source, event_id = Source.FACEBOOK_POST, value.post_id
    else:
        return Skipped(f"feed item {value.item!r} is not a message", key)
    what = "comment" if source is Source.FACEBOOK_COMMENT else "post"
    edited = value.verb in _EDIT_VERBS
    if value.verb != "add" and not edited:
        return Skipped(f"{value.verb!r} of a {what} is not a message", key)
    if edited and config.edits is EditPolicy.IGNORE:
        return Skipped(f"edit of a {what} (edits: ignore)", key)
    if not event_id or not value.post_id:
        return Skipped(f"{what} without its id", key)
    if value.author is None:
        return Skipped(f"{what} without from: its author is unknown", key)
    if value.author.id == page.id:
        return Skipped(f"the page's own {what}", key)
    if source is Source.FACEBOOK_POST and value.published == 0:
        return Skipped("unpublished post", key)
    return _public_event(
        value, page, source, event_id, value.post_id, value.author, when, edited=edited
    )


def _public_event(
    value: FeedValue,
    page: PageConfig,
    source: Source,
    event_id: str,
    post_id: str,
    author: FeedAuthor,
    when: datetime,
    *,
    edited: bool,
) -> SocialEvent | Skipped:
    # How this page's call to action reaches the commenter: the invitation's wording follows it.
    extra: dict[str, Any] = {CTA_MODE: page.cta_mode.value}
    text = neutralise_commands(value.message) if value.message and value.message.strip() else ""
    media = [(kind, url) for kind, url in (("image", value.photo), ("video", value.video)) if url]
    if media:
        extra["attachments"] = [{"type": kind, "url": url} for kind, url in media]
        text = text or "\n".join(attachment_text(kind, url) for kind, url in media)
    if not text:
        return Skipped("feed item without text", event_id)
    occurred_at = value.created_time or when
    if edited:
        extra[EDITED] = True
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        dedupe_key = f"facebook:feed:{event_id}:edited:{int(occurred_at.timestamp())}:{digest}"
    else:
        dedupe_key = f"facebook:feed:{event_id}:add"
    is_comment = source is Source.FACEBOOK_COMMENT
    context = SocialContext(
        platform=Platform.FACEBOOK,
        visibility=Visibility.PUBLIC,
        source=source,
        account_id=page.id,
        event_id=event_id,
        thread_id=post_id,
        parent_id=(value.parent_id or post_id) if is_comment else None,
        author=Author(id=author.id, name=author.name),
    )
    return SocialEvent(
        context=context, text=text, dedupe_key=dedupe_key, occurred_at=occurred_at, extra=extra
    )
