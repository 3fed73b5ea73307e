"""Fixtures of the X channel tests: a fake X API, a real store, the channel over both."""

from __future__ import annotations

import pytest

from bot.consumers import ConsumerFlags
from bot.guard import OutboundGuard
from bot.inbox import Inbox
from bot.outbound import OutboundLog
from bot.store import SocialStore
from channels.twitter import TwitterInput
from tests.channels.twitter.builders import config
from tests.channels.twitter.fake_x import FakeX


@pytest.fixture
def fake() -> FakeX:
    return FakeX()


@pytest.fixture
def inbox(store: SocialStore) -> Inbox:
    return Inbox(store)


@pytest.fixture
def flags(store: SocialStore) -> ConsumerFlags:
    return ConsumerFlags(store)


@pytest.fixture
def log(store: SocialStore) -> OutboundLog:
    return OutboundLog(store)


@pytest.fixture
def channel(fake: FakeX, inbox: Inbox, flags: ConsumerFlags, log: OutboundLog) -> TwitterInput:
    return TwitterInput(
        config(),
        transport=fake.transport,
        inbox=inbox,
        flags=flags,
        outbound=log,
        guard=OutboundGuard(),
    )
