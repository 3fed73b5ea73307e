"""Property: whatever the bot sends, in whatever order, nothing automated reaches a public thread
except the call to action, which carries text only and keeps to its limits.

Random sequences of consumer messages (public and private, on Facebook and X, by consumers and by
the brand itself), each followed by several messages in a row (a ``FollowupAction`` chain, a custom
action that utters directly: random texts, buttons, quick replies, images, attachments, elements,
custom payloads, under random response names that include the call to action's), agents' replies,
external events (reminders, ``/trigger_intent``, the REST API: unbound output channels that find
their target in the inbox) and time passing. They drive the real guard, ``FacebookOutput`` and
``TwitterOutput`` with their real senders and clients, over fake Graph and X APIs that record every
call, and a real SQLite social store. A model of the rules says what must have happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import OutboundRefused, PlatformError
from bot.events import conversation_id
from bot.guard import Origin, Target
from bot.outbound import OutboundRecord, OutboundStatus
from bot.public_thread import CTA_RESPONSE
from bot.store import SocialStore
from channels.social_output import SocialOutputChannel, outbound_message
from tests.proof.world import (
    ACCOUNTS,
    AUTHORS,
    BRAND,
    COOLDOWN,
    PRIVATE_SOURCES,
    PUBLIC_SOURCES,
    World,
    author_id,
    is_public_call,
    public_target,
    text_only,
)

PARTS = ("text", "buttons", "quick_replies", "image", "attachment", "elements", "custom")
GUARD_ERRORS = {"OutboundRefused", "CtaLimitReached"}  # refusals the guard counts

# --- what happens ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One message: ``response`` is the domain response it was rendered from (None: a custom
    action's ``dispatcher.utter_message``); ``parts`` are Rasa's message keys."""

    response: str | None
    parts: dict[str, Any]

    def as_rasa_sends_it(self) -> dict[str, Any]:
        return {**self.parts, "utter_action": self.response} if self.response else self.parts

    @property
    def is_empty(self) -> bool:
        return not any(self.parts.get(part) for part in PARTS)


@dataclass(frozen=True)
class Written:
    """A consumer writes; the bot sends ``replies`` in a row, then agents send ``agent``."""

    platform: str
    public: bool
    source: int
    author: str
    thread: int
    replies: tuple[Reply, ...]
    agent: tuple[Reply, ...]


@dataclass(frozen=True)
class External:
    """An external event for a conversation (None: one never seen); the bot sends ``replies``."""

    platform: str
    author: str | None
    replies: tuple[Reply, ...]


@dataclass(frozen=True)
class Later:
    """Time passes."""

    hours: int


Step = Written | External | Later

words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
texts = st.one_of(
    words,
    st.sampled_from(["", "   ", "Please DM us: https://m.me/x"]),
    st.text("ab ", min_size=270),
)
links = st.sampled_from(["https://cdn.test/parcel.png", "https://cdn.test/label.pdf"])
choices = st.lists(
    st.fixed_dictionaries(
        {"title": words, "payload": st.sampled_from(["/affirm", "/deny", "/restart"])}
    ),
    max_size=3,
)
parts = st.fixed_dictionaries(
    {},
    optional={
        "text": texts,
        "buttons": choices,
        "quick_replies": choices,
        "image": links,
        "attachment": links,
        "elements": st.lists(st.fixed_dictionaries({"title": words}), max_size=2),
        "custom": st.dictionaries(st.sampled_from(["type", "blocks"]), st.integers(), max_size=2),
    },
)
response_names = st.one_of(
    st.none(),
    st.just(CTA_RESPONSE),
    st.sampled_from(
        [
            "utter_greet",
            "utter_order_shipped",
            "utter_ask_order_number",
            "utter_anything_else",
            "utter_continue_from_public",
            "utter_public_to_private_2",
        ]
    ),
    st.from_regex(r"utter_[a-z_]{1,16}", fullmatch=True),
)
replies = st.lists(st.builds(Reply, response_names, parts), max_size=4).map(tuple)
agent_replies = st.lists(
    st.builds(Reply, st.none(), st.fixed_dictionaries({"text": words.filter(str.strip)})),
    max_size=1,
).map(tuple)
platforms = st.sampled_from(["facebook", "twitter"])
authors = st.sampled_from([*AUTHORS, BRAND])
steps = st.one_of(
    st.builds(
        Written,
        platform=platforms,
        public=st.booleans(),
        source=st.integers(0, 1),
        author=authors,
        thread=st.integers(0, 1),
        replies=replies,
        agent=agent_replies,
    ),
    st.builds(External, platforms, st.one_of(st.none(), authors), replies),
    st.builds(Later, st.sampled_from([1, 6, 23, 25, 200])),
)

# --- the model of the rules ------------------------------------------------------------------


@dataclass
class Model:
    """What the rules say, kept beside the world: where each conversation was last written, when
    a call to action last reached each author's thread, how many refusals the guard counted."""

    latest: dict[str, Target] = field(default_factory=dict)
    last_cta: dict[tuple[str, str | None], datetime] = field(default_factory=dict)
    public_ctas: dict[tuple[str, str | None], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )
    refusals: Counter[tuple[str, str]] = field(default_factory=Counter)

    def cta_limited(self, target: Target, now: datetime) -> bool:
        last = self.last_cta.get((target.conversation_id, target.thread_id))
        return target.user_id == target.account_id or (last is not None and now - last < COOLDOWN)


async def send(
    world: World,
    model: Model,
    target: Target | None,
    channel: SocialOutputChannel,
    reply: Reply,
) -> None:
    """Sends ``reply`` through ``channel`` as Rasa would, and checks what came out."""
    conversation = target.conversation_id if target else "facebook:0:nobody"
    mark = world.mark()
    records_before = len(world.records(conversation))
    refusals_before = Counter(world.guard.refusals)
    now = world.clock()

    await channel.send_response(conversation, reply.as_rasa_sends_it())

    calls = world.calls_since(mark)
    public = [call for call in calls if is_public_call(call)]
    records = world.records(conversation)[records_before:]
    refused = Counter(world.guard.refusals) - refusals_before
    origin = Origin.CTA if reply.response == CTA_RESPONSE else Origin.BOT

    # Whatever the target: nothing automated but the call to action is ever public, and what is
    # public carries text only.
    if origin is Origin.BOT:
        assert public == [], (reply, public)
    assert_text_only(public)

    if target is None or reply.is_empty:
        assert (calls, records, refused) == ([], [], Counter()), reply
        return
    if not public_target(target):
        assert public == []
        assert not [r for r in records if r.status is OutboundStatus.REFUSED], records
        return
    key = (target.platform.value, origin.value)
    if origin is Origin.BOT:
        assert calls == []
        assert_refused(records, origin, "OutboundRefused")
        assert refused == Counter({key: 1})
        model.refusals[key] += 1
        return
    if model.cta_limited(target, now):
        assert calls == []
        assert_refused(records, origin, "CtaLimitReached")
        assert refused == Counter({key: 1})
        model.refusals[key] += 1
        return
    assert refused == Counter()
    assert all(record.error_type not in GUARD_ERRORS for record in records), records
    text = str(reply.parts.get("text") or "")
    if not text.strip():
        assert public == []  # public threads show text only: nothing is left to say
    elif len(text) < 200 and (
        target.platform.value == "twitter" or world.cta_mode != "private_reply"
    ):
        assert public, reply  # within its limits, the invitation goes (a Private Reply may not)
    if any(record.status is OutboundStatus.SENT for record in records):
        model.last_cta[(target.conversation_id, target.thread_id)] = now
    if public:
        model.public_ctas[(target.conversation_id, target.thread_id)].append(now)


def assert_text_only(calls: list[Any]) -> None:
    for call in calls:
        text = text_only(call)
        assert text is not None, call
        assert text.strip(), call
        words = text.split()
        assert len(words) > 1 or not words[0].startswith("@"), call  # not a bare @handle


def assert_refused(records: list[OutboundRecord], origin: Origin, error_type: str) -> None:
    assert [(r.status, r.origin, r.error_type) for r in records] == [
        (OutboundStatus.REFUSED, origin.value, error_type)
    ], records


async def agent_send(
    world: World, target: Target, channel: SocialOutputChannel, reply: Reply
) -> None:
    """An agent's reply (the workspace's path): the guard lets it through, in public as text."""
    mark = world.mark()
    message = await channel.checked(Origin.AGENT, target, outbound_message(reply.parts))
    # A closed window, a text too long for X: the agent sees the error, nothing is sent.
    with contextlib.suppress(PlatformError, OutboundRefused):
        await channel.deliver(target, Origin.AGENT, message)
    assert_text_only([call for call in world.calls_since(mark) if is_public_call(call)])


async def play(world: World, model: Model, scenario: list[Step]) -> None:
    for step in scenario:
        if isinstance(step, Later):
            world.clock.now += timedelta(hours=step.hours)
        elif isinstance(step, Written):
            sources = PUBLIC_SOURCES[step.platform] if step.public else None
            source = (
                sources[step.source % len(sources)] if sources else PRIVATE_SOURCES[step.platform]
            )
            event = world.message(step.platform, source, step.author, step.thread, "hi")
            target = Target.from_context(event.context)
            model.latest[target.conversation_id] = target
            channel = world.bound(event)
            for reply in step.replies:  # one turn: several messages in a row
                await send(world, model, target, channel, reply)
            for reply in step.agent:
                await agent_send(world, target, channel, reply)
        else:
            account = ACCOUNTS[step.platform]
            user = author_id(step.platform, step.author) if step.author else "999"
            known = model.latest.get(conversation_id(step.platform, account, user))
            channel = world.unbound(step.platform)
            for reply in step.replies:
                await send(world, model, known, channel, reply)


@pytest.fixture(scope="module")
def migrated_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite social store, copied for each example (migrating takes longer)."""
    path = tmp_path_factory.mktemp("store") / "social.db"
    store = SocialStore.from_url(f"sqlite:///{path}")
    store.upgrade()
    store.dispose()
    return path


def fresh_world(template: Path, cta_mode: str) -> Iterator[World]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "social.db"
        shutil.copy(template, path)
        world = World(path, cta_mode)
        try:
            yield world
        finally:
            world.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cta_mode=st.sampled_from(["private_reply", "public_link", "both"]),
    scenario=st.lists(steps, min_size=1, max_size=12),
)
def test_only_the_call_to_action_reaches_public_threads_and_it_keeps_to_its_limits(
    migrated_store: Path, cta_mode: str, scenario: list[Step]
) -> None:
    for world in fresh_world(migrated_store, cta_mode):
        model = Model()

        asyncio.run(play(world, model, scenario))

        # every refusal is counted by the guard, and recorded in the log as refused
        assert world.guard.refusals == model.refusals
        for (conversation, _thread), moments in model.public_ctas.items():
            assert conversation.split(":")[1] != conversation.split(":")[2]  # never the brand
            assert all(b - a >= COOLDOWN for a, b in itertools.pairwise(moments)), moments
