"""Builders of test data: one place that knows a valid value for every field."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.context import SocialContext
from bot.events import SocialEvent
from bot.routing import RoutingFile
from channels.social import SocialInputChannel

PAGE_ID = "100200300400500"
X_ACCOUNT_ID = "2244994945"

_SOURCES: dict[str, dict[str, Any]] = {
    "messenger": {
        "platform": "facebook",
        "visibility": "private",
        "account_id": PAGE_ID,
        "event_id": "m_AbCdEf123",
        "thread_id": "6543210987654321",
        "parent_id": None,
        "author": {"id": "6543210987654321", "name": "Jane Doe", "handle": None},
    },
    "facebook_comment": {
        "platform": "facebook",
        "visibility": "public",
        "account_id": PAGE_ID,
        "event_id": "122100000000000001_1234567890123456",
        "thread_id": f"{PAGE_ID}_122100000000000001",
        "parent_id": f"{PAGE_ID}_122100000000000001",
        "author": {"id": "7788990011223344", "name": "Jane Doe", "handle": None},
    },
    "facebook_post": {
        "platform": "facebook",
        "visibility": "public",
        "account_id": PAGE_ID,
        "event_id": f"{PAGE_ID}_122100000000000009",
        "thread_id": f"{PAGE_ID}_122100000000000009",
        "parent_id": None,
        "author": {"id": "7788990011223344", "name": "Jane Doe", "handle": None},
    },
    "tweet": {
        "platform": "twitter",
        "visibility": "public",
        "account_id": X_ACCOUNT_ID,
        "event_id": "1874000000000000001",
        "thread_id": "1874000000000000001",
        "parent_id": None,
        "author": {"id": "1205290247124217856", "name": "Pat Example", "handle": "pat_example"},
    },
    "twitter_dm": {
        "platform": "twitter",
        "visibility": "private",
        "account_id": X_ACCOUNT_ID,
        "event_id": "1874000000000000777",
        "thread_id": "1205290247124217856",
        "parent_id": None,
        "author": {"id": "1205290247124217856", "name": "Pat Example", "handle": "pat_example"},
    },
}

SOURCES = tuple(_SOURCES)


def context_dict(source: str = "messenger", **overrides: Any) -> dict[str, Any]:
    """A valid ``metadata["social"]`` mapping for ``source``, with ``overrides`` applied."""
    data: dict[str, Any] = {"version": 1, "source": source, "referral": None, **_SOURCES[source]}
    data["author"] = dict(data["author"])
    data.update(overrides)
    return data


def make_context(source: str = "messenger", **overrides: Any) -> SocialContext:
    """A valid ``SocialContext`` for ``source``."""
    return SocialContext.parse_obj(context_dict(source, **overrides))


def make_event(
    source: str = "messenger",
    text: str = "where is my order?",
    *,
    author_id: str | None = None,
    **overrides: Any,
) -> SocialEvent:
    """A valid ``SocialEvent`` for ``source``; ``overrides`` apply to the event's own fields.

    ``author_id`` makes it another consumer's (in private, the thread is the consumer's too).
    """
    context_overrides: dict[str, Any] = {}
    if author_id is not None:
        author = {**_SOURCES[source]["author"], "id": author_id}
        context_overrides["author"] = author
        if _SOURCES[source]["visibility"] == "private":
            context_overrides["thread_id"] = author_id
    context = make_context(source, **context_overrides)
    fields: dict[str, Any] = {
        "context": context,
        "text": text,
        "dedupe_key": f"{context.platform.value}:{source}:{context.event_id}",
        "occurred_at": datetime(2026, 1, 1, 0, 10, tzinfo=timezone.utc),
        **overrides,
    }
    return SocialEvent(**fields)


# --- handoff ------------------------------------------------------------------------------

ALWAYS_OPEN = {"mon-sun": "00:00-24:00"}


def routing_document(**skill_overrides: dict[str, Any]) -> dict[str, Any]:
    """A routing file as a mapping: the project's skills, open around the clock unless
    ``skill_overrides`` (per skill name) say otherwise, and a rule per routing dimension used."""
    skills = {
        "care_private": {"capacity_per_agent": 2, "max_queue": 5, "when_full": {"bot": True}},
        "care_public": {"when_closed": {"skill": "care_private"}},
        "deliveries": {"when_closed": {"skill": "care_private"}},
    }
    return {
        "skills": [
            {"name": name, "hours": ALWAYS_OPEN, **fields, **skill_overrides.get(name, {})}
            for name, fields in skills.items()
        ],
        "rules": [
            {
                "name": "Delivery problems with an order number",
                "when": {"intents": ["delivery_problem"], "entities": ["order_number"]},
                "then": {"skill": "deliveries", "priority": 2},
            },
            {
                "name": "Public complaints",
                "when": {"visibility": "public", "intents": ["complaint"]},
                "then": {"skill": "care_public", "priority": 1},
            },
        ],
        "default": {"skill": "care_private", "priority": 3},
    }


def make_routing(**skill_overrides: dict[str, Any]) -> RoutingFile:
    """A validated ``RoutingFile`` of ``routing_document``."""
    return RoutingFile.parse_obj(routing_document(**skill_overrides))


def user_event(
    text: str,
    intent: str,
    *,
    confidence: float = 0.95,
    entities: dict[str, str] | None = None,
    source: str | None = "messenger",
    timestamp: float = 1_767_225_600.0,
    **context: Any,
) -> dict[str, Any]:
    """A ``user`` tracker event as rasa-sdk hands it to an action (``source=None``: REST)."""
    return {
        "event": "user",
        "timestamp": timestamp,
        "text": text,
        "parse_data": {
            "intent": {"name": intent, "confidence": confidence},
            "entities": [
                {"entity": name, "value": value} for name, value in (entities or {}).items()
            ],
        },
        "metadata": {"social": context_dict(source, **context)} if source else {},
    }


def bot_event(text: str, timestamp: float = 1_767_225_601.0, **metadata: Any) -> dict[str, Any]:
    """A ``bot`` tracker event (``origin="agent", agent=...`` for an agent's message)."""
    return {"event": "bot", "timestamp": timestamp, "text": text, "metadata": metadata}


async def _ignore(_message: UserMessage) -> None:
    return None


def webhook_app(
    channel: SocialInputChannel,
    on_new_message: Callable[[UserMessage], Awaitable[Any]] = _ignore,
) -> Sanic:
    """A real Sanic app serving ``channel`` under ``/webhooks/<name>/``, as Rasa mounts it.

    Each ``app.asgi_client`` request runs the server's start and stop listeners, so the
    channel's inbox worker runs (with ``on_new_message``) while the request is handled.
    """
    app = Sanic(f"{channel.name()}_test_{id(channel)}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
    return app


@asynccontextmanager
async def served(app: Sanic) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` started once, as an ASGI server starts it (the lifespan protocol), and a client
    whose requests it handles in-process; stopped on exit.

    Unlike ``app.asgi_client``, which starts and stops the server around every request, the
    channel's inbox worker keeps running between requests, as in ``rasa run``.
    """
    # Sanic marks itself an ASGI app in its own __call__, which sanic-testing replaces once any
    # test used app.asgi_client; without the mark, the app refuses to hand out its loop.
    app.asgi = True
    events: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    answers: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    lifespan = asyncio.get_running_loop().create_task(
        app({"type": "lifespan", "asgi": {"version": "3.0"}}, events.get, answers.put)
    )
    await events.put({"type": "lifespan.startup"})
    answer = asyncio.ensure_future(answers.get())
    await asyncio.wait({answer, lifespan}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if not answer.done():
        answer.cancel()
        lifespan.cancel()
        raise AssertionError(f"{app.name} did not start: {lifespan}")
    assert answer.result()["type"] == "lifespan.startup.complete", answer.result()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client
    finally:
        await events.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(answers.get(), 30)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        # Sanic 21.12 then handles the finished lifespan as if it were a request, and fails.
        with contextlib.suppress(AttributeError):
            await lifespan


class SteppedClock:
    """A fixed UTC time (7 January 2026, noon) that a test moves on with ``wait``."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
