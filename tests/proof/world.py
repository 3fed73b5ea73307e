"""A small world for the output property test: the real Facebook and X channels over fake
platforms that record every call, a real (migrated) SQLite social store, and one clock.

Nothing here decides what is allowed: the world only builds consumer messages the way the
channels store them, hands out the channels' own output channels, and says which recorded
platform calls are public.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from bot.consumers import ConsumerFlags
from bot.cta_limits import CtaLimiter
from bot.events import SocialEvent
from bot.guard import OutboundGuard, Target
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundRecord
from bot.store import SocialStore
from channels.facebook import FacebookInput
from channels.platform_client import CallRetry
from channels.social_output import SocialOutputChannel
from channels.twitter import TwitterInput
from tests.channels.facebook.factories import make_config, page
from tests.channels.facebook.fake_graph import FakeGraph, GraphCall
from tests.channels.twitter.builders import config as x_config
from tests.channels.twitter.fake_x import Call, FakeX
from tests.factories import PAGE_ID, X_ACCOUNT_ID, make_context

START = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
COOLDOWN = timedelta(hours=24)
BRAND = "brand"  # the author who is the page or the account itself
AUTHORS = {"ana": "1000000000000001", "ben": "1000000000000002", "cleo": "1000000000000003"}
ACCOUNTS = {"facebook": PAGE_ID, "twitter": X_ACCOUNT_ID}
PUBLIC_SOURCES = {"facebook": ("facebook_comment", "facebook_post"), "twitter": ("tweet",)}
PRIVATE_SOURCES = {"facebook": "messenger", "twitter": "twitter_dm"}


@dataclass
class Clock:
    """The one UTC clock of the channels, the outbound log and the limiter."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


def author_id(platform: str, author: str) -> str:
    """The platform id of ``author`` (``BRAND``: the page or account itself)."""
    return ACCOUNTS[platform] if author == BRAND else AUTHORS[author]


@dataclass
class World:
    """The channels of one example, over a fresh copy of a migrated SQLite store."""

    store_path: Path
    cta_mode: str
    clock: Clock = field(default_factory=Clock)
    graph: FakeGraph = field(default_factory=FakeGraph)
    x: FakeX = field(default_factory=FakeX)
    guard: OutboundGuard = field(default_factory=OutboundGuard)

    def __post_init__(self) -> None:
        self.store = SocialStore.from_url(f"sqlite:///{self.store_path}")
        self.inbox = Inbox(self.store)
        self.outbound = OutboundLog(self.store, clock=self.clock)
        limiter = CtaLimiter(self.outbound, cooldown=COOLDOWN)
        self.facebook = FacebookInput(
            make_config(pages=[page(cta=self.cta_mode)]),
            store=self.store,
            guard=self.guard,
            cta_limiter=limiter,
            transport=self.graph.transport,
            graph_retry=CallRetry(attempts=1),
            clock=self.clock,
        )
        self.twitter = TwitterInput(
            x_config(),
            transport=self.x.transport,
            inbox=self.inbox,
            flags=ConsumerFlags(self.store),
            outbound=self.outbound,
            guard=self.guard,
            cta_limiter=limiter,
        )
        self._ids = itertools.count(1)

    def close(self) -> None:
        self.store.dispose()

    # --- consumers write -----------------------------------------------------------------

    def message(
        self, platform: str, source: str, author: str, thread: int, text: str
    ) -> SocialEvent:
        """A consumer's message stored in the inbox as the channel would store it, now."""
        number = next(self._ids)
        account = ACCOUNTS[platform]
        user = author_id(platform, author)
        public = source != PRIVATE_SOURCES[platform]
        fields: dict[str, Any] = {"account_id": account}
        if source == "facebook_comment":
            fields.update(
                event_id=f"12210000000000000{thread}_{number}",
                thread_id=f"{account}_12210000000000000{thread}",
                parent_id=f"{account}_12210000000000000{thread}",
            )
        elif source == "facebook_post":
            post = f"{account}_9{number:05d}"
            fields.update(event_id=post, thread_id=post, parent_id=None)
        elif source == "tweet":
            fields.update(event_id=f"18{number:017d}", thread_id=f"18740000000000000{thread}")
        else:
            fields.update(event_id=f"{platform[0]}m_{number}", thread_id=user)
        handle = f"user{user[-4:]}" if platform == "twitter" else None
        fields["author"] = {"id": user, "name": f"{author.title()} Doe", "handle": handle}
        context = make_context(source, **fields)
        event = SocialEvent(
            context=context,
            text=text,
            dedupe_key=f"{platform}:{source}:{context.event_id}",
            occurred_at=self.clock(),
        )
        assert self.inbox.add(event)
        assert (context.visibility.value == "public") == public
        return event

    # --- the bot and agents answer -------------------------------------------------------

    def bound(self, event: SocialEvent) -> SocialOutputChannel:
        """The output channel the input channel binds to ``event`` (the bot's answers)."""
        if event.context.platform.value == "facebook":
            return self.facebook.output_channel_for(event)
        return self.twitter.output_channel_for(event)

    def unbound(self, platform: str) -> SocialOutputChannel:
        """Rasa's ``output_channel=latest``: external events, reminders, the REST API."""
        if platform == "facebook":
            return self.facebook.get_output_channel()
        return self.twitter.get_output_channel()

    # --- what happened -------------------------------------------------------------------

    def mark(self) -> tuple[int, int]:
        """Where the fakes' call records stand now, for ``calls_since``."""
        return len(self.graph.calls), len(self.x.calls)

    def calls_since(self, mark: tuple[int, int]) -> list[GraphCall | Call]:
        """The calls to the platforms since ``mark``, but typing indicators (sent in the
        background by a turn's output channel, whenever the event loop runs them)."""
        graph = [
            call for call in self.graph.calls[mark[0] :] if "sender_action" not in (call.body or {})
        ]
        return [*graph, *self.x.calls[mark[1] :]]

    def records(self, conversation: str) -> list[OutboundRecord]:
        return self.outbound.for_conversation(conversation, limit=10_000)


def is_public_call(call: GraphCall | Call) -> bool:
    """True for a platform call that writes where others can see it, or a Private Reply.

    Private: Send API messages and sender actions to a PSID, profile reads, X DMs. Public:
    everything else (comments, likes, tweets), and a Private Reply (addressed to a comment),
    which only the call to action may send.
    """
    if isinstance(call, GraphCall):
        recipient = (call.body or {}).get("recipient") or {}
        private_message = call.path.endswith("/messages") and "id" in recipient
        return call.method != "GET" and not private_message
    return not call.path.startswith("/2/dm_conversations/")


def text_only(call: GraphCall | Call) -> str | None:
    """The text a public call carries if it carries nothing but text, else None."""
    body = call.body or {}
    if isinstance(call, GraphCall):
        if call.path.endswith("/comments") and set(body) == {"message"}:
            return str(body["message"])
        message = body.get("message")
        if (
            call.path.endswith("/messages")
            and isinstance(message, dict)
            and set(message) == {"text"}
        ):
            return str(message["text"])
        return None
    if call.path == "/2/tweets" and set(body) <= {"text", "reply"}:
        return str(body["text"])
    return None


def public_target(target: Target) -> bool:
    return target.visibility.value == "public"
