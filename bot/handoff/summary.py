"""What the bot learnt of a conversation, for routing and for the agent who takes it over.

Pure functions over tracker events as JSON dicts (what rasa-sdk hands an action, and what
``event.as_dict()`` gives in Rasa): ``summarise`` builds the context summary stored with a
handoff, ``routing_context`` the context the routing rules decide on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from bot.context import SocialContext
from bot.errors import InvalidSocialContext
from bot.routing.model import RoutingContext

__all__ = [
    "GENERIC_INTENTS",
    "INTERNAL_SLOTS",
    "REST_PLATFORM",
    "routing_context",
    "social_context",
    "summarise",
    "topic",
    "visible_slots",
]

REST_PLATFORM = "rest"  # a conversation without a social context (Rasa's REST channel, shell)

# Intents that say nothing about what the conversation is about: routing looks past them to
# the latest one that does ("my parcel never came" ... "BC-104233" ... "a human please").
GENERIC_INTENTS = frozenset(
    {
        "request_human",
        "cancel_handoff",
        "affirm",
        "deny",
        "thanks",
        "greet",
        "goodbye",
        "inform",
        "bot_challenge",
    }
)

# Slots of the plumbing, not of the conversation: not shown to agents, not routed on.
INTERNAL_SLOTS = frozenset({"requested_slot", "session_started_metadata", "social_visibility"})
_INTERNAL_PREFIXES = ("handoff_", "cta_")


def social_context(metadata: Mapping[str, Any] | None) -> SocialContext | None:
    """The social context of a message's metadata; None when absent or invalid."""
    try:
        return SocialContext.from_metadata(metadata)
    except InvalidSocialContext:
        return None


def _user_turns(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [event for event in events if event.get("event") == "user"]


def _intent(event: Mapping[str, Any]) -> tuple[str | None, float]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def _entities(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((event.get("parse_data") or {}).get("entities") or [])


def _at(event: Mapping[str, Any]) -> str | None:
    timestamp = event.get("timestamp")
    if timestamp is None:
        return None
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).isoformat()


def topic(
    events: Sequence[Mapping[str, Any]], generic: Collection[str] = GENERIC_INTENTS
) -> tuple[str | None, float]:
    """The intent the conversation is about, and its confidence.

    The latest user intent that is not generic; the latest intent when all are generic.
    """
    turns = _user_turns(events)
    for event in reversed(turns):
        name, confidence = _intent(event)
        if name and name not in generic:
            return name, confidence
    return _intent(turns[-1]) if turns else (None, 0.0)


def visible_slots(slots: Mapping[str, Any]) -> dict[str, Any]:
    """The slots worth showing and routing on: set, and not of the plumbing."""
    return {
        name: value
        for name, value in slots.items()
        if value is not None
        and name not in INTERNAL_SLOTS
        and not name.startswith(_INTERNAL_PREFIXES)
    }


def routing_context(
    events: Sequence[Mapping[str, Any]],
    slots: Mapping[str, Any],
    latest_metadata: Mapping[str, Any] | None,
    generic: Collection[str] = GENERIC_INTENTS,
) -> RoutingContext:
    """What the routing rules decide on: the latest message's social context (none: REST,
    private), the topic intent, every entity seen, the referral that brought the consumer, and
    the slots."""
    context = social_context(latest_metadata)
    intent, confidence = topic(events, generic)
    turns = _user_turns(events)
    entities = frozenset(
        str(entity.get("entity")) for event in turns for entity in _entities(event)
    )
    referral = context.referral if context else None
    if referral is None:
        for event in turns:
            earlier = social_context(event.get("metadata"))
            if earlier is not None and earlier.referral:
                referral = earlier.referral
    language = (latest_metadata or {}).get("language")
    return RoutingContext(
        platform=context.platform.value if context else REST_PLATFORM,
        account_id=context.account_id if context else None,
        visibility=context.visibility.value if context else "private",
        source=context.source.value if context else None,
        intent=intent,
        confidence=confidence,
        entities=entities,
        language=str(language) if language else None,
        referral=referral,
        slots=visible_slots(slots),
    )


def _message(event: Mapping[str, Any]) -> dict[str, Any]:
    metadata = event.get("metadata") or {}
    if event.get("event") == "user":
        context = social_context(metadata)
        return {
            "from": "consumer",
            "text": event.get("text"),
            "at": _at(event),
            "visibility": context.visibility.value if context else "private",
        }
    return {
        "from": "agent" if metadata.get("origin") == "agent" else "bot",
        "text": event.get("text"),
        "at": _at(event),
        "visibility": metadata.get("visibility", "private"),
    }


def _public_origin(turns: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    for event in reversed(turns):
        context = social_context(event.get("metadata"))
        if context is not None and context.is_public:
            return {
                "platform": context.platform.value,
                "source": context.source.value,
                "thread_id": context.thread_id,
                "event_id": context.event_id,
                "parent_id": context.parent_id,
                "text": event.get("text"),
                "at": _at(event),
                "intent": _intent(event)[0],
            }
    return None


def _consumer(turns: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    for event in reversed(turns):
        metadata = event.get("metadata") or {}
        context = social_context(metadata)
        if context is not None:
            raw_author = (metadata.get("social") or {}).get("author") or {}
            return {
                "id": context.author.id,
                "name": context.author.name,
                "handle": context.author.handle,
                "picture": raw_author.get("picture"),
            }
    return {}


def summarise(
    events: Sequence[Mapping[str, Any]],
    slots: Mapping[str, Any],
    *,
    last: int = 10,
) -> dict[str, Any]:
    """The context summary stored with a handoff (JSON).

    Keys: ``intents`` (each intent seen: name, count, latest confidence), ``entities``
    (values seen per entity), ``slots``, ``public_origin`` (the latest public message, if
    any), ``consumer`` (name, handle, picture where the channel gives one), ``last_messages``
    (the ``last`` latest messages of consumer, bot and agents).
    """
    turns = _user_turns(events)
    intents: dict[str, dict[str, Any]] = {}
    entities: dict[str, list[str]] = {}
    for event in turns:
        name, confidence = _intent(event)
        if name:
            seen = intents.setdefault(name, {"name": name, "count": 0, "confidence": 0.0})
            seen["count"] += 1
            seen["confidence"] = round(confidence, 3)
        for entity in _entities(event):
            values = entities.setdefault(str(entity.get("entity")), [])
            value = str(entity.get("value"))
            if value not in values:
                values.append(value)
    messages = [
        _message(event)
        for event in events
        if event.get("event") in ("user", "bot") and event.get("text")
    ]
    return {
        "intents": list(intents.values()),
        "entities": entities,
        "slots": visible_slots(slots),
        "public_origin": _public_origin(turns),
        "consumer": _consumer(turns),
        "last_messages": messages[-last:],
    }
