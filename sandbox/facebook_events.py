"""Facebook webhook bodies, built as Meta documents them (key order included).

Pure functions from world objects to JSON-ready dicts: one per Messenger event or feed change,
and ``page_delivery`` to wrap events into entries. ``signing.facebook_json`` turns the result into
the exact bytes that are signed and sent.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sandbox.world import FACEBOOK_APP_ID, PAGE_ID, Comment, MessengerMessage, Post

__all__ = [
    "FeedChange",
    "MessagingEvent",
    "changes_entry",
    "comment_change",
    "echo_event",
    "messaging_entry",
    "messenger_event",
    "page_delivery",
    "visitor_post_change",
]

MessagingEvent = dict[str, Any]
FeedChange = dict[str, Any]


def page_delivery(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The envelope of one delivery: ``{"object": "page", "entry": [...]}``."""
    return {"object": "page", "entry": entries}


def messaging_entry(time_ms: int, events: list[MessagingEvent]) -> dict[str, Any]:
    """An entry of Messenger events (``time`` in milliseconds, as Meta sends it)."""
    return {"id": PAGE_ID, "time": time_ms, "messaging": events}


def changes_entry(time_s: int, changes: list[FeedChange]) -> dict[str, Any]:
    """An entry of Page feed changes (``time`` in seconds, as Meta sends it)."""
    return {"id": PAGE_ID, "time": time_s, "changes": changes}


def _participants(message: MessengerMessage) -> dict[str, Any]:
    consumer, page = {"id": message.psid}, {"id": PAGE_ID}
    if message.from_page:
        return {"sender": page, "recipient": consumer, "timestamp": message.timestamp_ms}
    return {"sender": consumer, "recipient": page, "timestamp": message.timestamp_ms}


def _referral(ref: str) -> dict[str, str]:
    return {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}


def messenger_event(message: MessengerMessage) -> MessagingEvent:
    """What a consumer did in Messenger: text, quick-reply tap, postback or m.me referral."""
    event = _participants(message)
    if message.kind == "postback":
        postback: dict[str, Any] = {
            "mid": message.mid,
            "title": message.text,
            "payload": message.payload,
        }
        if message.ref is not None:
            postback["referral"] = _referral(message.ref)
        event["postback"] = postback
    elif message.kind == "referral":
        event["referral"] = _referral(message.ref or "")
    else:
        body: dict[str, Any] = {"mid": message.mid, "text": message.text}
        if message.kind == "quick_reply":
            body["quick_reply"] = {"payload": message.payload}
        event["message"] = body
    return event


def echo_event(message: MessengerMessage) -> MessagingEvent:
    """The echo Meta delivers for every message the page sends (``is_echo``: channels skip it)."""
    sent = message.message or {}
    body: dict[str, Any] = {"is_echo": True, "app_id": FACEBOOK_APP_ID}
    if "metadata" in sent:
        body["metadata"] = sent["metadata"]
    body["mid"] = message.mid
    if "text" in sent:
        body["text"] = sent["text"]
    if "attachment" in sent:
        attachment = sent["attachment"]
        body["attachments"] = [
            {"type": attachment.get("type"), "payload": attachment.get("payload")}
        ]
    if "quick_replies" in sent:
        body["quick_replies"] = sent["quick_replies"]
    return {**_participants(message), "message": body}


def _post_summary(post: Post) -> dict[str, Any]:
    return {
        "status_type": post.status_type,
        "is_published": True,
        "updated_time": _graph_time(post.created_time),
        "permalink_url": post.permalink_url,
        "promotion_status": "inactive",
        "id": post.id,
    }


def _graph_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def comment_change(comment: Comment, post: Post, verb: str, time_s: int) -> FeedChange:
    """A feed change about a comment: ``add``, ``edited`` or ``remove`` (no ``message`` then)."""
    value: dict[str, Any] = {
        "from": {"id": comment.author_id, "name": comment.author_name},
        "post": _post_summary(post),
    }
    if verb != "remove":
        value["message"] = comment.message
    value.update(
        {
            "post_id": comment.post_id,
            "comment_id": comment.id,
            "created_time": time_s,
            "item": "comment",
            "parent_id": comment.parent_id,
            "verb": verb,
        }
    )
    return {"field": "feed", "value": value}


def visitor_post_change(post: Post) -> FeedChange:
    """A feed change for a post a visitor wrote on the Page."""
    value = {
        "from": {"id": post.author_id, "name": post.author_name},
        "item": post.item,
        "post_id": post.id,
        "verb": "add",
        "published": 1,
        "created_time": post.created_time,
        "message": post.message,
    }
    return {"field": "feed", "value": value}
