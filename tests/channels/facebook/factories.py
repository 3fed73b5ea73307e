"""Builders of Facebook webhook deliveries and channel settings, in Meta's documented shapes.

The reference deliveries under ``payloads/`` are real-shaped examples; the builders write every
other case (batches, standby, echoes, edits, removals, reactions, attachments, ...).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from bot.guard import OutboundGuard
from bot.store import SocialStore
from channels.facebook.config import FacebookConfig
from channels.facebook.input import FacebookInput
from channels.facebook.verify import sign
from channels.platform_client import CallRetry
from tests.factories import PAGE_ID

PAYLOADS = Path(__file__).parent / "payloads"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PAGE_TOKEN = "test-page-token"
OTHER_PAGE_ID = "900800700600500"
PSID = "6543210987654321"
COMMENTER_ID = "7788990011223344"
POST_ID = f"{PAGE_ID}_122100000000000001"
COMMENT_ID = "122100000000000001_1234567890123456"
NOW = datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)  # the channel's clock in tests
MESSAGE_TIME_MS = 1767225599876  # 2026-01-01T00:00:00Z minus a little, in milliseconds
FEED_TIME_S = 1767225799


def reference(name: str) -> bytes:
    """The bytes of a reference delivery, e.g. ``reference("facebook-feed-comment")``."""
    return (PAYLOADS / f"{name}.json").read_bytes()


def settings(**overrides: Any) -> dict[str, Any]:
    """The channel's mapping in credentials.yml, with one page unless ``pages`` is given."""
    page = {"id": PAGE_ID, "access_token": PAGE_TOKEN, "username": "brightcart"}
    values: dict[str, Any] = {
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "graph_url": "http://graph.test",
        "pages": [page],
    }
    values.update(overrides)
    return values


def page(page_id: str = PAGE_ID, **overrides: Any) -> dict[str, Any]:
    """One entry of ``pages``."""
    return {"id": page_id, "access_token": PAGE_TOKEN, **overrides}


def make_config(**overrides: Any) -> FacebookConfig:
    """A valid channel configuration."""
    return FacebookConfig.from_credentials(settings(**overrides))


def make_input(
    store: SocialStore,
    transport: httpx.AsyncBaseTransport,
    config: FacebookConfig | None = None,
    **options: Any,
) -> FacebookInput:
    """The channel over ``store`` and a fake Graph API, at ``NOW``, without Graph retries.

    ``config`` defaults to ``make_config(max_body_bytes=20_000)``; ``options`` go to
    ``FacebookInput`` (``retry``, ``worker_concurrency``...).
    """
    return FacebookInput(
        config or make_config(max_body_bytes=20_000),
        store=store,
        guard=OutboundGuard(),
        transport=transport,
        graph_retry=CallRetry(attempts=1),
        clock=lambda: NOW,
        **options,
    )


def signed(body: bytes) -> dict[str, str]:
    """The headers of a delivery Meta signed with the app secret."""
    return {"X-Hub-Signature-256": sign(APP_SECRET, body), "Content-Type": "application/json"}


def delivery(*entries: dict[str, Any]) -> dict[str, Any]:
    """A webhook body of page entries."""
    return {"object": "page", "entry": list(entries)}


def entry(
    *,
    page_id: str = PAGE_ID,
    messaging: tuple[dict[str, Any], ...] = (),
    standby: tuple[dict[str, Any], ...] = (),
    changes: tuple[dict[str, Any], ...] = (),
    time: int = MESSAGE_TIME_MS + 200,
) -> dict[str, Any]:
    """One page's entry; lists that are empty are left out, as Meta does."""
    built: dict[str, Any] = {"id": page_id, "time": time}
    for key, items in (("messaging", messaging), ("standby", standby), ("changes", changes)):
        if items:
            built[key] = list(items)
    return built


def encode(body: dict[str, Any]) -> bytes:
    """The bytes Meta would send (non-ASCII escaped as \\uXXXX)."""
    return json.dumps(body, ensure_ascii=True).encode()


# --- Messenger items ---------------------------------------------------------------------------


def messaging_item(
    *, sender: str = PSID, recipient: str = PAGE_ID, timestamp: int = MESSAGE_TIME_MS, **fields: Any
) -> dict[str, Any]:
    """A ``messaging`` / ``standby`` item with ``fields`` (``message``, ``postback``, ...)."""
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": timestamp,
        **fields,
    }


def text_message(
    text: str = "Where is my order?", *, mid: str = "m_text1", **fields: Any
) -> dict[str, Any]:
    """A consumer's Messenger text."""
    return messaging_item(message={"mid": mid, "text": text, **fields})


def quick_reply(title: str, payload: str, *, mid: str = "m_qr1") -> dict[str, Any]:
    """A tap on a quick reply: the title as text, the payload the bot offered."""
    return messaging_item(message={"mid": mid, "text": title, "quick_reply": {"payload": payload}})


def attachments_message(
    *attachments: dict[str, Any], mid: str = "m_att1", text: str | None = None
) -> dict[str, Any]:
    """A Messenger message with attachments (and optionally text)."""
    message: dict[str, Any] = {"mid": mid, "attachments": list(attachments)}
    if text is not None:
        message["text"] = text
    return messaging_item(message=message)


def attachment(
    kind: str = "image", url: str | None = "https://cdn.test/p.jpg", **payload: Any
) -> dict[str, Any]:
    """One Messenger attachment."""
    body = {**({"url": url} if url else {}), **payload}
    return {"type": kind, "payload": body}


def postback(
    payload: str | None = "TRACK_ORDER",
    *,
    title: str = "Track my order",
    mid: str | None = "m_pb1",
    ref: str | None = None,
) -> dict[str, Any]:
    """A tap on a postback button."""
    body: dict[str, Any] = {"title": title}
    if payload is not None:
        body["payload"] = payload
    if mid is not None:
        body["mid"] = mid
    if ref is not None:
        body["referral"] = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    return messaging_item(postback=body)


def referral(ref: str = "pub-122100000000000001_1234567890123456") -> dict[str, Any]:
    """An m.me link opened on an existing thread (``messaging_referrals``)."""
    return messaging_item(referral={"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"})


def echo(
    text: str = "Your order ships today.", *, mid: str = "m_echo1", metadata: str | None = None
) -> dict[str, Any]:
    """The page's own message, echoed back (with the ``metadata`` it was sent with)."""
    message: dict[str, Any] = {"mid": mid, "text": text, "is_echo": True, "app_id": 1234}
    if metadata is not None:
        message["metadata"] = metadata
    return messaging_item(sender=PAGE_ID, recipient=PSID, message=message)


def signal(kind: str) -> dict[str, Any]:
    """A read, delivery, reaction or typing signal."""
    bodies: dict[str, dict[str, Any]] = {
        "read": {"watermark": MESSAGE_TIME_MS},
        "delivery": {"mids": ["m_text1"], "watermark": MESSAGE_TIME_MS},
        "reaction": {"mid": "m_text1", "action": "react", "reaction": "love", "emoji": "\u2764"},
        "typing": {"action": "typing_on"},
    }
    return messaging_item(**{kind: bodies[kind]})


# --- Page feed changes ------------------------------------------------------------------------


def feed_change(
    *,
    item: str = "comment",
    verb: str = "add",
    author: tuple[str, str] | None = (COMMENTER_ID, "Jane Doe"),
    message: str | None = "Is this available in blue?",
    post_id: str = POST_ID,
    comment_id: str | None = COMMENT_ID,
    parent_id: str | None = POST_ID,
    created_time: int = FEED_TIME_S,
    **extra: Any,
) -> dict[str, Any]:
    """A ``feed`` change: a comment by default."""
    value: dict[str, Any] = {
        "item": item,
        "verb": verb,
        "post_id": post_id,
        "created_time": created_time,
    }
    if author is not None:
        value["from"] = {"id": author[0], "name": author[1]}
    for key, field in (("message", message), ("comment_id", comment_id), ("parent_id", parent_id)):
        if field is not None:
            value[key] = field
    value.update(extra)
    return {"field": "feed", "value": value}


def comment(message: str = "Is this available in blue?", **overrides: Any) -> dict[str, Any]:
    """A top-level comment on the page's post."""
    return feed_change(message=message, **overrides)


def visitor_post(
    message: str = "Your store was closed today.",
    *,
    post_id: str = f"{PAGE_ID}_122100000000000099",
    **overrides: Any,
) -> dict[str, Any]:
    """A visitor's post on the page."""
    fields: dict[str, Any] = {
        "item": "status",
        "comment_id": None,
        "parent_id": None,
        "published": 1,
    }
    fields.update(overrides)
    return feed_change(message=message, post_id=post_id, **fields)
