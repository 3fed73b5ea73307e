"""Bodies over a channel's limit are refused with 413 while they stream in, never parsed.

Through each webhook's real Sanic app: the size a request declares, the size its bytes reach
(chunked, or under a ``Content-Length`` that lies), a body at and just under the limit; and on a
real HTTP server, that an oversized ``Content-Length`` is answered before the body is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.store import SocialStore
from channels.social import SocialInputChannel
from tests.abuse.strategies import ON_SQLITE, encode
from tests.abuse.webhooks import LIMIT, WEBHOOKS, Webhook
from tests.factories import served, webhook_app

pytestmark = ON_SQLITE


@pytest.fixture(params=WEBHOOKS, ids=str)
def webhook(request: pytest.FixtureRequest) -> Webhook:
    webhook: Webhook = request.param
    return webhook


@pytest.fixture
def channel(webhook: Webhook, store: SocialStore) -> SocialInputChannel:
    return webhook.build(store)


def padded(webhook: Webhook, size: int) -> bytes:
    """A valid delivery of one event, padded with JSON whitespace to ``size`` bytes."""
    body = encode(webhook.seeds[0])
    return body + b" " * (size - len(body))


class Pulled:
    """A streamed body that counts how much of it the server asked for."""

    def __init__(self, body: bytes, chunk: int = 8192) -> None:
        self.chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.pulled += 1
            yield chunk


def stored(channel: SocialInputChannel) -> int:
    return sum(channel.inbox.counts().values())


@pytest.mark.parametrize(
    ("size", "status"),
    [(LIMIT - 1, 200), (LIMIT, 200), (LIMIT + 1, 413), (4 * LIMIT, 413)],
    ids=["just under", "at the limit", "one byte over", "four times"],
)
async def test_a_body_is_accepted_up_to_the_limit_and_refused_with_413_past_it(
    webhook: Webhook, channel: SocialInputChannel, size: int, status: int
) -> None:
    body = padded(webhook, size)

    async with served(webhook_app(channel)) as client:
        result = await client.post(webhook.path, content=body, headers=webhook.signed(body))

    assert (len(body), result.status_code) == (size, status)
    if status == 200:
        assert result.json()["stored"] == stored(channel) == 1
    else:
        assert result.json() == {
            "error": f"the body has {size} bytes; at most {LIMIT} are accepted"
        }
        assert stored(channel) == 0


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    webhook: Webhook, channel: SocialInputChannel
) -> None:
    body = Pulled(padded(webhook, 2 * LIMIT))

    async with served(webhook_app(channel)) as client:
        result = await client.post(
            webhook.path, content=body, headers={"content-length": str(2 * LIMIT)}
        )

    assert result.status_code == 413
    assert body.pulled == 0


@pytest.mark.parametrize(
    "headers", [{}, {"content-length": "100"}], ids=["chunked", "content-length that lies"]
)
async def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit(
    webhook: Webhook, channel: SocialInputChannel, headers: dict[str, str]
) -> None:
    body = Pulled(padded(webhook, 4 * LIMIT))

    async with served(webhook_app(channel)) as client:
        result = await client.post(
            webhook.path, content=body, headers={**headers, **webhook.signed(b"")}
        )

    assert result.status_code == 413
    assert result.json() == {
        "error": f"the body has more than {LIMIT} bytes; at most {LIMIT} are accepted"
    }
    assert body.pulled < len(body.chunks) / 2  # stopped just past the limit
    assert stored(channel) == 0


@asynccontextmanager
async def http_server(channel: SocialInputChannel) -> AsyncIterator[tuple[str, int]]:
    """The channel's app on a real HTTP/1.1 server on a free local port."""
    app = webhook_app(channel)
    server = await app.create_server(
        host="127.0.0.1", port=0, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    host, port = server.server.sockets[0].getsockname()[:2]
    try:
        yield host, port
    finally:
        await server.before_stop()
        await server.close()
        await server.after_stop()


def _request_head(webhook: Webhook, length: int) -> bytes:
    lines = [
        f"POST {webhook.path} HTTP/1.1",
        "Host: localhost",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in webhook.signed(b"").items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_the_http_server_answers_413_to_a_huge_length_without_waiting_for_the_body(
    webhook: Webhook, channel: SocialInputChannel
) -> None:
    async with http_server(channel) as (host, port):
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(_request_head(webhook, 50 * 1024 * 1024))  # and not one byte of body
        await writer.drain()

        answer = await asyncio.wait_for(reader.read(), 5)  # read() ends: the server closed
        writer.close()

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert b"at most 256000 are accepted" in body
    assert stored(channel) == 0
