"""``PlatformClient``: retries, rate limits, timeouts and the mapping hook, over MockTransport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bot.errors import (
    InvalidRequest,
    PlatformError,
    RateLimited,
    TransientPlatformError,
)
from channels.platform_client import CallRetry, PlatformClient


class ExampleClient(PlatformClient):
    """Maps 429 to RateLimited (``retry-after``), 5xx to transient, other 4xx to invalid."""

    platform = "facebook"

    def error_for(self, response: httpx.Response) -> PlatformError | None:
        if response.status_code < 400:
            return None
        if response.status_code == 429:
            return RateLimited(
                "slow down",
                retry_after=float(response.headers["retry-after"]),
                platform=self.platform,
                status=429,
            )
        if response.status_code >= 500:
            return TransientPlatformError("down", platform=self.platform, status=500)
        return InvalidRequest("bad", platform=self.platform, status=response.status_code)


def scripted(*answers: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[str]]:
    """A transport answering the given responses (or raising the given errors) in order."""
    seen: list[str] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handler), seen


def client_with(
    transport: httpx.MockTransport, retry: CallRetry | None = None
) -> tuple[ExampleClient, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    client = ExampleClient("https://api.example", transport=transport, retry=retry, sleep=sleep)
    return client, waits


async def test_a_success_is_returned_after_one_call() -> None:
    transport, seen = scripted(httpx.Response(200, json={"ok": True}))
    client, waits = client_with(transport)

    response = await client.call("send", "POST", "/v1/messages", json={"a": 1})

    assert response.json() == {"ok": True}
    assert seen == ["POST /v1/messages"]
    assert waits == []


async def test_transient_failures_are_retried_with_doubling_backoff() -> None:
    transport, seen = scripted(
        httpx.Response(500),
        httpx.Response(503),
        httpx.Response(200, json={}),
    )
    client, waits = client_with(transport, CallRetry(attempts=4, first_delay=0.5))

    await client.call("send", "POST", "/x")

    assert len(seen) == 3
    assert waits == [0.5, 1.0]


async def test_a_rate_limit_waits_at_least_its_retry_after() -> None:
    transport, _seen = scripted(
        httpx.Response(429, headers={"retry-after": "7"}), httpx.Response(200, json={})
    )
    client, waits = client_with(transport)

    await client.call("send", "POST", "/x")

    assert waits == [7.0]


async def test_a_rate_limit_longer_than_max_wait_is_raised_not_waited() -> None:
    transport, seen = scripted(httpx.Response(429, headers={"retry-after": "900"}))
    client, waits = client_with(transport, CallRetry(max_wait=60))

    with pytest.raises(RateLimited) as raised:
        await client.call("send", "POST", "/x")

    assert raised.value.retry_after == 900
    assert (len(seen), waits) == (1, [])


async def test_permanent_errors_are_raised_at_once() -> None:
    transport, seen = scripted(httpx.Response(400))
    client, waits = client_with(transport)

    with pytest.raises(InvalidRequest):
        await client.call("send", "POST", "/x")

    assert (len(seen), waits) == (1, [])


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadTimeout("slow"), "no answer within the timeout"),
        (httpx.ConnectError("refused"), r"cannot reach https://api\.example \(ConnectError\)"),
    ],
)
async def test_network_failures_become_transient_errors_after_every_try(
    failure: Exception, expected: str
) -> None:
    transport, seen = scripted(failure, failure, failure)
    client, waits = client_with(transport, CallRetry(attempts=3, first_delay=1))

    with pytest.raises(TransientPlatformError, match=expected) as raised:
        await client.call("send", "POST", "/x")

    assert raised.value.platform == "facebook"
    assert (len(seen), waits) == (3, [1.0, 2.0])


async def test_the_client_is_recreated_after_close() -> None:
    answers: Callable[[httpx.Request], httpx.Response] = lambda _r: httpx.Response(200)  # noqa: E731
    client = ExampleClient("https://api.example", transport=httpx.MockTransport(answers))
    await client.call("send", "GET", "/x")
    await client.aclose()

    response = await client.call("send", "GET", "/x")

    assert response.status_code == 200
    await client.aclose()
