"""A real Sanic app with the workspace channel, a real SQLite store and a real Rasa agent
(the project's domain, in-memory tracker and lock stores); platforms are a recording fake."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from sanic import Sanic

from bot.handoff.agents import AgentDirectory, AgentRecord, TokenKind
from bot.handoff.clock import utcnow
from bot.handoff.delivery import Delivered, DeliveryRegistry
from bot.handoff.handoffs import HandoffRecord, HandoffStore, NewHandoff
from bot.handoff.summary import summarise
from bot.store import SocialStore
from channels.workspace import WorkspaceInput
from tests.factories import PAGE_ID, context_dict, make_routing

ROOT = Path(__file__).resolve().parents[3]
PRIVATE = f"facebook:{PAGE_ID}:6543210987654321"
PUBLIC = f"facebook:{PAGE_ID}:7788990011223344"
REST_SENDER = "rest-consumer"


@dataclass
class FakeDelivery:
    """Records every call; answers like a platform, or raises ``fail_with``."""

    platform: str = "facebook"
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    fail_with: Exception | None = None

    def _call(self, *call: Any) -> None:
        self.calls.append(call)
        if self.fail_with is not None:
            raise self.fail_with

    async def reply_private(self, conversation_id: str, text: str) -> Delivered:
        self._call("reply_private", conversation_id, text)
        return Delivered("message", conversation_id.rsplit(":", 1)[-1], "m_sent_1", text)

    async def reply_public(
        self, conversation_id: str, in_reply_to: str, text: str, mention: bool
    ) -> Delivered:
        self._call("reply_public", conversation_id, in_reply_to, text, mention)
        sent = f"Jane, {text}" if mention else text
        return Delivered("comment", in_reply_to, "comment_sent_1", sent)

    async def like(self, conversation_id: str, object_id: str) -> Delivered:
        self._call("like", conversation_id, object_id)
        return Delivered("like", object_id)

    async def send_cta(self, conversation_id: str, in_reply_to: str) -> Delivered:
        self._call("send_cta", conversation_id, in_reply_to)
        return Delivered("comment", in_reply_to, "cta_1", "Hi Jane, please DM us: https://m.me/x")


class MovableClock:
    """The real time, moved forward by ``shift``."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def shift(self, **span: float) -> None:
        self.offset += timedelta(**span)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@dataclass
class Workbench:
    """Everything a workspace test touches."""

    app: Sanic
    store: SocialStore
    channel: WorkspaceInput
    delivery: FakeDelivery
    agent: Agent
    tokens: dict[str, str]
    agents: dict[str, AgentRecord]
    clock: MovableClock

    @property
    def handoffs(self) -> HandoffStore:
        return HandoffStore(self.store)

    def auth(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    async def request(self, method: str, path: str, agent: str | None = None, **kwargs: Any) -> Any:
        headers = {**kwargs.pop("headers", {}), **(self.auth(agent) if agent else {})}
        client = self.app.asgi_client
        _, answer = await getattr(client, method)(
            f"/webhooks/workspace{path}", headers=headers, **kwargs
        )
        return answer

    async def tracker_events(self, conversation_id: str) -> list[Event]:
        tracker = await self.agent.tracker_store.retrieve(conversation_id)
        return [] if tracker is None else list(tracker.events)

    async def slot(self, conversation_id: str, name: str) -> Any:
        tracker = await self.agent.tracker_store.retrieve(conversation_id)
        return tracker.get_slot(name)

    async def consumer_says(
        self,
        conversation_id: str,
        text: str,
        intent: str,
        source: str | None = "messenger",
        timestamp: float | None = None,
        **context: Any,
    ) -> None:
        metadata = {"social": context_dict(source, **context)} if source else {}
        tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id)
        event = UserUttered(
            text, {"name": intent, "confidence": 0.93}, metadata=metadata, timestamp=timestamp
        )
        tracker.update(event, self.agent.domain)
        if source is None:
            tracker.update(ActionExecuted("action_listen"))
        await self.agent.tracker_store.save(tracker)

    async def hand_over(
        self,
        conversation_id: str = PRIVATE,
        skill: str = "care_private",
        platform: str = "facebook",
    ) -> HandoffRecord:
        tracker = await self.agent.tracker_store.get_or_create_tracker(conversation_id)
        events = [event.as_dict() for event in tracker.events]
        tracker.update(SlotSet("handoff_active", "queued"))
        await self.agent.tracker_store.save(tracker)
        record, _ = self.handoffs.create(
            NewHandoff(
                conversation_id=conversation_id,
                platform=platform,
                account_id=PAGE_ID if platform == "facebook" else None,
                visibility="private",
                source="messenger" if platform == "facebook" else None,
                skill=skill,
                priority=2,
                reason="request_human",
                rule="Delivery problems with an order number",
                summary=summarise(events, tracker.current_slot_values()),
            )
        )
        return record


@pytest.fixture(scope="session")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture
def bench(sqlite_store: SocialStore, domain: Domain) -> Workbench:
    store = sqlite_store
    delivery = FakeDelivery()
    registry = DeliveryRegistry()
    registry.register("facebook", delivery)
    clock = MovableClock()
    channel = WorkspaceInput(
        store=store, routing=make_routing(), deliveries=registry, poll_seconds=0.01, clock=clock
    )
    agent = Agent(
        domain=domain,
        tracker_store=InMemoryTrackerStore(domain),
        lock_store=InMemoryLockStore(),
    )

    async def on_new_message(_message: Any) -> None:
        raise AssertionError("the workspace receives no consumer messages")

    app = Sanic(f"workspace_test_{uuid.uuid4().hex[:8]}")
    app.ctx.agent = agent
    app.ctx.input_channels = [channel]
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/workspace")
    directory = AgentDirectory(store)
    agents = {
        "sam": directory.add("sam", ["care_private"], password="sam's password"),
        "ann": directory.add("ann", ["care_private"]),
        "kim": directory.add("kim", ["deliveries"]),
        "boss": directory.add("boss", [], is_admin=True),
    }
    tokens = {
        name: directory.issue_token(record.id, TokenKind.API) for name, record in agents.items()
    }
    return Workbench(app, store, channel, delivery, agent, tokens, agents, clock)
