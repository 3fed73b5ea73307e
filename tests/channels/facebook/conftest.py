"""Fixtures of the Facebook channel tests: a fake Graph API and the store's tables."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from bot.consumers import ConsumerFlags
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog
from bot.store import SocialStore
from channels.facebook.config import FacebookConfig
from channels.facebook.graph import GraphClient
from channels.facebook.sender import FacebookSender
from channels.platform_client import CallRetry
from tests.channels.facebook.factories import NOW, make_config
from tests.channels.facebook.fake_graph import FakeGraph

__all__ = ["NOW", "make_sender"]


@pytest.fixture
def graph() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
def config() -> FacebookConfig:
    return make_config()


@pytest.fixture
def inbox(store: SocialStore) -> Inbox:
    return Inbox(store)


@pytest.fixture
def outbound(store: SocialStore) -> OutboundLog:
    return OutboundLog(store)


@pytest.fixture
def links(store: SocialStore) -> IdentityLinks:
    return IdentityLinks(store)


@pytest.fixture
def flags(store: SocialStore) -> ConsumerFlags:
    return ConsumerFlags(store)


def make_sender(
    config: FacebookConfig,
    graph: FakeGraph,
    inbox: Inbox,
    *,
    outbound: OutboundLog | None = None,
    links: IdentityLinks | None = None,
    flags: ConsumerFlags | None = None,
    retry: CallRetry | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> FacebookSender:
    """A sender over the fake Graph API at the fixed time ``NOW`` (no retries unless ``retry``;
    ``sleep`` waits between them)."""
    client = GraphClient(
        config.graph_url,
        config.graph_version,
        transport=graph.transport,
        retry=retry or CallRetry(attempts=1),
        sleep=sleep,
    )
    return FacebookSender(
        config, client, inbox=inbox, outbound=outbound, links=links, flags=flags, clock=lambda: NOW
    )


@pytest.fixture
def sender(
    config: FacebookConfig,
    graph: FakeGraph,
    inbox: Inbox,
    outbound: OutboundLog,
    links: IdentityLinks,
    flags: ConsumerFlags,
) -> FacebookSender:
    return make_sender(config, graph, inbox, outbound=outbound, links=links, flags=flags)
