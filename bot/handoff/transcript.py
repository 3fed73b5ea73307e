"""The story of a conversation as an agent reads it: one timeline, public and private.

Pure functions over tracker events as JSON dicts (of one or more linked conversations: on
Facebook a commenter's public conversation and their Messenger one), the outbound log's failed
sends and the handoff's audit trail. Public messages carry their thread and parent, and the parent
itself where the timeline holds it, so the workspace shows a comment nested under its post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from bot.handoff.summary import social_context

__all__ = ["last_private_message_at", "timeline"]

_SYSTEM = {
    "pause": "The bot is paused: an agent owns the conversation.",
    "resume": "The bot is back.",
    "session_started": "A new session started.",
    "restart": "The conversation was restarted.",
}


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat()


def _consumer_item(event: Mapping[str, Any]) -> dict[str, Any]:
    context = social_context(event.get("metadata"))
    parse = event.get("parse_data") or {}
    intent = parse.get("intent") or {}
    item: dict[str, Any] = {
        "from": "consumer",
        "text": event.get("text"),
        "visibility": context.visibility.value if context else "private",
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")}
        if intent.get("name")
        else None,
        "entities": [
            {"entity": entity.get("entity"), "value": entity.get("value")}
            for entity in parse.get("entities") or []
        ],
    }
    if context is not None:
        item.update(
            platform=context.platform.value,
            source=context.source.value,
            event_id=context.event_id,
            thread_id=context.thread_id,
            parent_id=context.parent_id,
        )
    return item


def _sender_item(event: Mapping[str, Any]) -> dict[str, Any]:
    metadata = event.get("metadata") or {}
    is_agent = metadata.get("origin") == "agent"
    return {
        "from": "agent" if is_agent else "bot",
        "agent": metadata.get("agent") if is_agent else None,
        "text": event.get("text"),
        "visibility": metadata.get("visibility", "private"),
        "kind": metadata.get("kind"),
        "event_id": metadata.get("platform_message_id"),
        "parent_id": metadata.get("in_reply_to"),
    }


def _from_tracker(
    events: Iterable[Mapping[str, Any]], conversation_id: str
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            item = _consumer_item(event)
        elif kind == "bot" and event.get("text"):
            item = _sender_item(event)
        elif kind in _SYSTEM:
            item = {"from": "system", "text": _SYSTEM[str(kind)], "visibility": None}
        else:
            continue
        timestamp = event.get("timestamp")
        item.update(
            ts=float(timestamp) if timestamp is not None else 0.0,
            at=_iso(timestamp),
            conversation_id=conversation_id,
        )
        items.append(item)
    return items


def _failures(failed: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "from": record.get("origin", "bot"),
            "text": record.get("text"),
            "visibility": record.get("visibility"),
            "status": record.get("status"),
            "error": record.get("error_message"),
            "error_type": record.get("error_type"),
            "kind": record.get("kind"),
            "conversation_id": record.get("sender_id"),
            "ts": record["created_at"].timestamp(),
            "at": record["created_at"].isoformat(),
        }
        for record in failed
    ]


def _audit(trail: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    items = []
    for entry in trail:
        detail = entry.get("detail") or {}
        who = entry.get("agent") or "the consumer"
        text = {
            "created": f"Handed over to {detail.get('skill', 'a skill')}.",
            "accepted": f"{who} accepted.",
            "transferred": f"{who} transferred it to {detail.get('to_skill')}"
            + (f": {detail['note']}" if detail.get("note") else "."),
            "closed": f"{who} closed it; the bot is back.",
            "cancelled": "The consumer left the queue.",
        }.get(str(entry.get("kind")))
        if text is None:
            continue
        at: datetime = entry["at"]
        items.append(
            {
                "from": "system",
                "text": text,
                "visibility": None,
                "ts": at.timestamp(),
                "at": at.isoformat(),
            }
        )
    return items


def timeline(
    conversations: Mapping[str, Sequence[Mapping[str, Any]]],
    failed_sends: Iterable[Mapping[str, Any]] = (),
    audit: Iterable[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """Every message of the conversations, the failed sends and the handoff's steps, by time.

    Args:
        conversations: tracker events (JSON dicts) per conversation id.
        failed_sends: outbound log records that failed or were refused (``created_at`` aware),
            as mappings of their fields.
        audit: the handoff's audit trail as mappings with ``kind``, ``agent``, ``detail`` and
            ``at`` (aware datetime).

    Public items carry ``thread_id`` and ``parent_id``; ``parent`` holds the text of the parent
    when the timeline has it (the post a comment answers, the comment a reply answers).
    """
    items: list[dict[str, Any]] = []
    for conversation_id, events in conversations.items():
        items += _from_tracker(events, conversation_id)
    items += _failures(failed_sends)
    items += _audit(audit)
    items.sort(key=lambda item: item["ts"])
    by_event = {item["event_id"]: item for item in items if item.get("event_id")}
    for item in items:
        parent_id = item.get("parent_id")
        if item.get("visibility") == "public" and parent_id:
            parent = by_event.get(parent_id)
            item["parent"] = {
                "event_id": parent_id,
                "text": parent.get("text") if parent else None,
                "from": parent.get("from") if parent else None,
                "is_thread_root": parent_id == item.get("thread_id"),
            }
    return items


def last_private_message_at(events: Iterable[Mapping[str, Any]], platform: str) -> datetime | None:
    """When the consumer last wrote in private on ``platform`` (the Messenger window's start)."""
    latest: float | None = None
    for event in events:
        if event.get("event") != "user" or event.get("timestamp") is None:
            continue
        context = social_context(event.get("metadata"))
        if context is None or context.is_public or context.platform.value != platform:
            continue
        latest = max(latest or 0.0, float(event["timestamp"]))
    return datetime.fromtimestamp(latest, tz=timezone.utc) if latest is not None else None
