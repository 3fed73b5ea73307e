"""What one delivery attempt sends and records: a ``Deliverer`` in this process, POSTing through
its aiohttp session to real local servers (a receiver that answers, late or not, and a port where
nothing listens)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import pytest

from sandbox.clock import Clock
from sandbox.deliveries import Deliverer, webhook_session, x_schedule
from sandbox.records import Delivery
from sandbox.testing import free_port
from tests.sandbox.webhook_receiver import WebhookReceiver, running_receiver

SIGNED_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Twitter-Webhooks/1.0",
    "X-Twitter-Webhooks-Signature": "sha256=c2lnbmVk",
}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A receiver of this test's own (the session's one also gets the sandbox's deliveries)."""
    with running_receiver() as server:
        yield server


@contextlib.asynccontextmanager
async def delivering(timeout: float = 1.0, senders: int = 1) -> AsyncIterator[Deliverer]:
    """A started deliverer for X (no retry within a test: the first comes after 60 s)."""
    async with webhook_session() as session:
        deliverer = Deliverer(session, {"x": x_schedule(1.0, timeout)}, Clock(), senders=senders)
        deliverer.start()
        try:
            yield deliverer
        finally:
            await deliverer.stop()


async def _first_attempt(
    deliverer: Deliverer, url: str, body: bytes, headers: dict[str, str]
) -> Delivery:
    delivery = deliverer.submit("x", "dm", url, body, headers)
    await deliverer.wait_first_attempt(delivery, timeout=10)
    assert delivery.attempts, "no attempt within 10 s"
    return delivery


async def test_the_body_and_headers_go_out_exactly_as_given(receiver: WebhookReceiver) -> None:
    body = '{"text":"Grüße 👋","n":1}'.encode()
    async with delivering() as deliverer:
        delivery = await _first_attempt(deliverer, receiver.x_url, body, SIGNED_HEADERS)

    [received] = receiver.received("/x")
    assert received.body == body
    assert {name: received.headers[name.lower()] for name in SIGNED_HEADERS} == SIGNED_HEADERS
    assert received.headers["content-length"] == str(len(body))
    assert (delivery.outcome, delivery.attempts[0].status) == ("delivered", 200)


async def test_the_session_adds_its_user_agent_and_no_content_type_of_its_own(
    receiver: WebhookReceiver,
) -> None:
    async with delivering() as deliverer:
        await _first_attempt(deliverer, receiver.x_url, b"raw", {})

    [received] = receiver.received("/x")
    assert received.headers["user-agent"] == "sandbox"
    assert "content-type" not in received.headers


async def test_an_answer_later_than_the_timeout_is_recorded_as_no_answer(
    receiver: WebhookReceiver,
) -> None:
    receiver.fail_next("/x", 1, status=200, hang_s=1.0)
    async with delivering(timeout=0.25) as deliverer:
        delivery = await _first_attempt(deliverer, receiver.x_url, b"{}", SIGNED_HEADERS)

    [attempt] = delivery.attempts
    assert (attempt.status, attempt.error) == (None, "no answer within 0.25 s")
    assert 200 <= attempt.elapsed_ms < 900
    assert delivery.outcome == "retrying"


async def test_a_port_where_nothing_listens_is_recorded_as_the_clients_error() -> None:
    port = free_port()
    async with delivering() as deliverer:
        delivery = await _first_attempt(
            deliverer, f"http://127.0.0.1:{port}/x", b"{}", SIGNED_HEADERS
        )

    [attempt] = delivery.attempts
    assert attempt.status is None
    assert attempt.error is not None
    refused = f"ClientConnectorError: Cannot connect to host 127.0.0.1:{port} "
    assert attempt.error.startswith(refused)


async def test_an_error_status_is_recorded_with_the_time_the_answer_took(
    receiver: WebhookReceiver,
) -> None:
    receiver.fail_next("/x", 1, status=503, hang_s=0.2)
    async with delivering() as deliverer:
        delivery = await _first_attempt(deliverer, receiver.x_url, b"{}", SIGNED_HEADERS)

    [attempt] = delivery.attempts
    assert (attempt.status, attempt.error) == (503, None)
    assert attempt.elapsed_ms >= 190


async def test_n_senders_have_n_deliveries_in_flight_at_once(receiver: WebhookReceiver) -> None:
    receiver.fail_next("/x", 6, status=200, hang_s=0.5)
    async with delivering(senders=3) as deliverer:
        deliveries = [
            deliverer.submit("x", "dm", receiver.x_url, f'{{"n":{n}}}'.encode(), SIGNED_HEADERS)
            for n in range(6)
        ]
        for delivery in deliveries:
            await deliverer.wait_first_attempt(delivery, timeout=10)

    arrivals = sorted(item.at for item in receiver.received("/x"))
    assert len(arrivals) == 6
    assert arrivals[2] - arrivals[0] < 0.3  # the first three together
    assert arrivals[3] - arrivals[0] >= 0.45  # the fourth once a sender is free again
    assert [delivery.outcome for delivery in deliveries] == ["delivered"] * 6
