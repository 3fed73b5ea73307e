"""Deliveries repeated, interleaved, concurrent and out of order, through both real webhooks.

Platforms deliver at least once: the same Messenger ``mid`` or X DM id may come again in
another batch, beside other items, or while the first delivery is still being answered (a
retry after a slow answer). Each is stored, and handed to the bot, exactly once.

Order: a conversation's events are handled in the order they *arrived at our webhook* (the
inbox's insertion order), not in the order of the platforms' own timestamps, which are kept
as each event's ``occurred_at`` (and in its metadata) for whoever needs them. Platforms do not
promise ordered deliveries, and a bot that waited for an earlier timestamp could wait forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.inbox import InboxStatus
from bot.store import SocialStore
from channels.social import SocialInputChannel
from tests.abuse.strategies import ON_SQLITE, encode
from tests.abuse.webhooks import WEBHOOKS, Webhook
from tests.factories import served, webhook_app

WRITTEN_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass
class Bot:
    """Records the texts handed to it, in order."""

    texts: list[str] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.texts.append(message.text)


@dataclass
class Served:
    webhook: Webhook
    channel: SocialInputChannel
    client: httpx.AsyncClient
    bot: Bot

    async def deliver(self, *keys: str, written_ms: int = WRITTEN_MS) -> httpx.Response:
        items = [self.webhook.message(key, written_ms) for key in keys]
        body = encode(self.webhook.batch(items))
        return await self.client.post(
            self.webhook.path, content=body, headers=self.webhook.signed(body)
        )

    async def processed(self, expected: int) -> list[str]:
        """The texts the bot got, once ``expected`` events are done (or after 10 s)."""
        for _ in range(1000):
            counts = await asyncio.to_thread(self.channel.inbox.counts)
            if counts[InboxStatus.DONE] >= expected and not counts[InboxStatus.PENDING]:
                break
            await asyncio.sleep(0.01)
        return self.bot.texts


@pytest.fixture(params=WEBHOOKS, ids=str)
async def served_webhook(
    request: pytest.FixtureRequest, store: SocialStore
) -> AsyncIterator[Served]:
    webhook: Webhook = request.param
    channel = webhook.build(store)
    bot = Bot()
    async with served(webhook_app(channel, bot)) as client:
        yield Served(webhook, channel, client, bot)


def stored(result: httpx.Response) -> int:
    assert result.status_code == 200, result.text
    count: int = result.json()["stored"]
    return count


@ON_SQLITE  # the same path as the concurrent deliveries below, which run on both databases
async def test_one_message_in_several_interleaved_batches_is_stored_and_answered_once(
    served_webhook: Served,
) -> None:
    batches = [["1", "2"], ["2", "3"], ["1", "3", "4"], ["4"], ["2", "1"]]

    results = [await served_webhook.deliver(*keys) for keys in batches]

    assert [stored(result) for result in results] == [2, 1, 1, 0, 0]
    assert [result.json()["duplicates"] for result in results] == [0, 1, 2, 1, 2]
    texts = await served_webhook.processed(4)
    assert texts == ["message 1", "message 2", "message 3", "message 4"]


async def test_a_delivery_posted_many_times_at_once_is_stored_and_answered_once(
    served_webhook: Served,
) -> None:
    results = await asyncio.gather(*(served_webhook.deliver("1", "2", "3") for _ in range(20)))

    assert sum(stored(result) for result in results) == 3
    assert all(result.json()["stored"] + result.json()["duplicates"] == 3 for result in results)
    texts = await served_webhook.processed(3)
    assert sorted(texts) == ["message 1", "message 2", "message 3"]
    assert texts == sorted(texts)  # one conversation: in the order the events were stored


async def test_overlapping_batches_posted_at_once_store_each_message_once(
    served_webhook: Served,
) -> None:
    batches = [[str(n), str(n + 1), str(n + 2)] for n in range(1, 9)]

    results = await asyncio.gather(*(served_webhook.deliver(*keys) for keys in batches * 2))

    assert sum(stored(result) for result in results) == 10
    texts = await served_webhook.processed(10)
    assert sorted(texts) == sorted(f"message {n}" for n in range(1, 11))
    assert len(texts) == 10


async def test_a_conversation_is_answered_in_arrival_order_whatever_the_platform_times(
    served_webhook: Served,
) -> None:
    written = {"1": 1_000, "2": 2_000, "3": 3_000}  # the platform's times: 1, 2, 3...
    for key in ("3", "1", "2"):  # ...but delivered 3, 1, 2
        assert stored(await served_webhook.deliver(key, written_ms=WRITTEN_MS + written[key])) == 1

    texts = await served_webhook.processed(3)

    assert texts == ["message 3", "message 1", "message 2"]
    inbox = served_webhook.channel.inbox
    for key, offset in written.items():
        record = inbox.get(served_webhook.webhook.dedupe_key(key))
        assert record is not None
        assert record.event.occurred_at == datetime.fromtimestamp(
            (WRITTEN_MS + offset) / 1000, timezone.utc
        )
