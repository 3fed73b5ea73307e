"""Both webhooks fuzzed through their real Sanic apps, a real store and a real inbox worker.

Whatever arrives, correctly signed: never a 500, never an unhandled exception; the answer is 200
with counts, 400 with a message saying what is wrong (no trace, no repr of our internals), or
413 above the limit; and every event stored reaches Rasa as a ``UserMessage`` without a crash.
Whatever arrives unsigned or wrongly signed: 403, nothing stored.

The app is started once per test (``served``), as ``rasa run`` runs it, so hundreds of
deliveries fit in seconds and the channel's own inbox worker hands each stored event to a
handler that builds and checks what Rasa would get. The mutation test runs on both databases
(PostgreSQL refuses what SQLite takes: NUL characters, ids over 255 characters); the others
are refused before the store and run on SQLite. Examples are derandomised: CI sees the same
ones on every run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage

from bot.context import SocialContext
from bot.events import conversation_id
from bot.inbox import InboxStatus
from bot.store import SocialStore
from channels.social import SocialInputChannel
from tests.abuse.strategies import FUZZ, ON_SQLITE, Deep, arbitrary_json, encode, mutated
from tests.abuse.webhooks import LIMIT, WEBHOOKS, Webhook
from tests.channels.facebook import factories as facebook
from tests.channels.twitter import builders as x
from tests.factories import served, webhook_app

# What a refusal must never show: a traceback, a Python repr of an object or class.
_INTERNALS = ("Traceback", 'File "', " object at 0x", "<class ", "<bound ", "Error(")


async def to_rasa(message: UserMessage) -> None:
    """What Rasa needs of a message: a text, and a social context that reads back whole."""
    context = SocialContext.from_metadata(message.metadata)
    assert context is not None
    assert message.sender_id == conversation_id(
        context.platform.value, context.account_id, context.author.id
    )
    assert isinstance(message.text, str)
    json.dumps(message.metadata)  # the tracker store keeps it as JSON


class Harness:
    """One webhook's channel, served by its real Sanic app with its inbox worker running."""

    def __init__(self, webhook: Webhook, channel: SocialInputChannel, client: httpx.AsyncClient):
        self.webhook = webhook
        self.channel = channel
        self.client = client

    def stored(self) -> int:
        return sum(self.channel.inbox.counts().values())

    async def post(self, body: bytes, headers: dict[str, Any]) -> httpx.Response:
        return await self.client.post(self.webhook.path, content=body, headers=headers)

    async def deliver_signed(self, body: bytes) -> None:
        before = self.stored()

        result = await self.post(body, self.webhook.signed(body))

        assert result.status_code in (200, 400, 413), (result.status_code, result.text[:500])
        assert (result.status_code == 413) is (len(body) > LIMIT)
        if result.status_code == 200:
            counts = result.json()
            assert set(counts) == {"stored", "duplicates", "skipped"}
            assert all(isinstance(count, int) and count >= 0 for count in counts.values())
            assert self.stored() - before == counts["stored"]
        else:
            assert_explains(result.json())
            assert self.stored() == before
        await self.assert_every_event_reached_rasa()

    async def assert_every_event_reached_rasa(self) -> None:
        """Waits for the running worker to finish what is stored: done, none parked."""
        inbox = self.channel.inbox
        for _ in range(500):
            counts = await asyncio.to_thread(inbox.counts)
            if counts[InboxStatus.PENDING] == counts[InboxStatus.PROCESSING] == 0:
                break
            await asyncio.sleep(0.01)
        parked = [(record.dedupe_key, record.last_error) for record in inbox.parked()]
        assert parked == []
        assert counts[InboxStatus.PENDING] == counts[InboxStatus.PROCESSING] == 0, counts


def assert_explains(answer: Any) -> None:
    """A refusal's body: ``{"error": <a short message in words>}``."""
    assert isinstance(answer, dict)
    assert set(answer) == {"error"}
    message = answer["error"]
    assert isinstance(message, str)
    assert 0 < len(message) <= 1000, len(message)
    assert not any(internal in message for internal in _INTERNALS), message


@pytest.fixture(params=WEBHOOKS, ids=str)
def webhook(request: pytest.FixtureRequest) -> Webhook:
    webhook: Webhook = request.param
    return webhook


@pytest.fixture
async def harness(webhook: Webhook, store: SocialStore) -> AsyncIterator[Harness]:
    channel = webhook.build(store)
    async with served(webhook_app(channel, to_rasa)) as client:
        yield Harness(webhook, channel, client)


@ON_SQLITE
@settings(FUZZ, max_examples=30)
@given(body=st.binary(max_size=3000))
async def test_signed_arbitrary_bytes_are_refused_or_accepted_never_a_500(
    harness: Harness, body: bytes
) -> None:
    await harness.deliver_signed(body)


@ON_SQLITE
@settings(FUZZ, max_examples=50)
@given(document=arbitrary_json)
async def test_signed_arbitrary_json_is_refused_or_accepted_never_a_500(
    harness: Harness, document: Any
) -> None:
    await harness.deliver_signed(encode(document))


@settings(FUZZ, max_examples=100)
@given(data=st.data())
async def test_a_signed_delivery_broken_anywhere_is_refused_or_accepted_never_a_500(
    harness: Harness, data: st.DataObject
) -> None:
    document = data.draw(mutated(harness.webhook.seeds), label="delivery")

    await harness.deliver_signed(encode(document))


@ON_SQLITE
@settings(FUZZ, max_examples=30)
@given(
    data=st.data(),
    signature=st.one_of(
        st.none(),
        st.binary(max_size=120),
        st.sampled_from(["", "sha256=", "sha256=" + "0" * 64, "sha1=" + "0" * 40, "sha256"]),
    ),
)
async def test_a_delivery_not_signed_with_our_secret_is_refused_with_403_and_nothing_stored(
    harness: Harness, data: st.DataObject, signature: bytes | str | None
) -> None:
    webhook = harness.webhook
    body = encode(data.draw(mutated(webhook.seeds) | st.sampled_from(webhook.seeds)))
    if signature is None:
        headers: dict[str, Any] = data.draw(
            st.sampled_from([{}, webhook.wrong_secret_headers(body), webhook.signed(body + b" ")])
        )
    else:
        headers = {webhook.signature_header: signature}

    result = await harness.post(body, headers)

    assert result.status_code == 403, (result.status_code, result.text[:300])
    assert_explains(result.json())
    assert harness.stored() == 0


def _hostile_cases() -> list[Any]:
    """Deliveries that each broke a webhook once (a 500 or 503), kept as named regressions."""
    fb_text = facebook.text_message
    item = facebook.messaging_item
    return [
        pytest.param(
            "facebook", {"object": "page", "entry": [{"id": "1", "x": Deep(3000)}]}, id="deep"
        ),
        pytest.param(
            "facebook",
            facebook.delivery(facebook.entry(messaging=(item(sender="a:b", message=HI),))),
            id="colon in a psid",
        ),
        pytest.param(
            "facebook",
            facebook.delivery(facebook.entry(messaging=(fb_text(mid="m_\x00"),))),
            id="nul",
        ),
        pytest.param(
            "facebook",
            facebook.delivery(facebook.entry(messaging=(fb_text(mid="m" * 300),))),
            id="long mid",
        ),
        pytest.param(
            "facebook",
            facebook.delivery(facebook.entry(messaging=(item(sender="9" * 300, message=HI),))),
            id="long psid",
        ),
        pytest.param(
            "facebook",
            facebook.delivery(facebook.entry(messaging=(fb_text(mid="m_\ud800"),))),
            id="lone surrogate",
        ),
        pytest.param("facebook", {"object": "z" * 50_000, "entry": []}, id="huge object value"),
        pytest.param(
            "twitter",
            x.aaa(dms=({**x.aaa_dm(dm_id="77"), "created_timestamp": "9" * 30},)),
            id="x time",
        ),
        pytest.param(
            "twitter",
            x.aaa(dms=(x.aaa_dm(dm_id="78", sender={**x.SAM, "id": "a:b"}),)),
            id="x colon in a sender id",
        ),
        pytest.param(
            "twitter", x.aaa(tweets=(x.aaa_tweet(tweet_id="1", in_reply_to="12\x00"),)), id="x nul"
        ),
        pytest.param("twitter", x.aaa(tweets=(x.aaa_tweet(tweet_id="1" * 300),)), id="x long id"),
        pytest.param(
            "twitter",
            {"for_user_id": "1", "tweet_create_events": [{"x": "y" * 5000}] * 50},
            id="x an error per item",
        ),
    ]


HI = {"mid": "m_hi", "text": "hi"}


@pytest.mark.parametrize(("platform", "document"), _hostile_cases())
async def test_a_delivery_that_once_broke_a_webhook_is_answered_and_reaches_rasa(
    store: SocialStore, platform: str, document: Any
) -> None:
    [webhook] = [webhook for webhook in WEBHOOKS if webhook.name == platform]
    channel = webhook.build(store)
    async with served(webhook_app(channel, to_rasa)) as client:
        await Harness(webhook, channel, client).deliver_signed(encode(document))
