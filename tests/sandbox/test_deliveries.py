"""Deliveries retry as the platforms do: Meta until our webhook answers 200, X 3 tries in all."""

from __future__ import annotations

import time

from sandbox.client import SandboxClient
from sandbox.deliveries import facebook_schedule, x_schedule
from tests.sandbox.webhook_receiver import WebhookReceiver


def test_facebook_keeps_retrying_until_the_webhook_answers_200(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    receiver.fail_next("/facebook", 5, status=500)
    sent = client.messenger("jane", "Where is my order?")

    delivery = client.wait_for_delivery(sent.delivery_id or "", timeout=20)

    assert [attempt.status for attempt in delivery.attempts] == [500] * 5 + [200]
    assert all(attempt.elapsed_ms >= 0 for attempt in delivery.attempts)
    assert len(receiver.wait_for_body(delivery.body, count=6)) == 6


def test_facebook_retries_a_delivery_that_got_no_answer_in_time(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    receiver.fail_next("/facebook", 1, status=200, hang_s=1.5)  # past the 1 s timeout
    sent = client.messenger("jane", "Hello?")

    delivery = client.wait_for_delivery(sent.delivery_id or "", timeout=20)

    first, second = delivery.attempts
    assert (first.status, second.status) == (None, 200)
    assert first.error is not None
    assert "no answer" in first.error
    assert first.elapsed_ms >= 900


def test_x_delivers_on_the_third_try(client: SandboxClient, receiver: WebhookReceiver) -> None:
    receiver.fail_next("/x", 2, status=503)
    sent = client.mention("pat", "is anyone there?")

    delivery = client.wait_for_delivery(sent.delivery_id or "", timeout=20)

    assert [attempt.status for attempt in delivery.attempts] == [503, 503, 200]


def test_x_gives_up_after_three_tries_and_the_event_is_gone(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    receiver.fail_next("/x", 10, status=500)
    sent = client.dm("pat", "hello?")

    delivery = client.wait_for_delivery(sent.delivery_id or "", outcomes=("gone",), timeout=20)
    time.sleep(0.5)

    assert [attempt.status for attempt in delivery.attempts] == [500, 500, 500]
    assert len([item for item in receiver.received("/x") if item.body == delivery.body]) == 3


def test_healthy_deliveries_arrive_in_the_order_the_consumer_wrote(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    mids = [client.messenger("jane", f"message {n}").mid for n in range(8)]
    last = client.deliveries()[-1]
    client.wait_for_delivery(last.id)

    arrived = [
        item.json()["entry"][0]["messaging"][0]["message"]["mid"]
        for item in receiver.received("/facebook")
    ]
    assert arrived == mids


def test_wait_answers_after_the_first_attempt(client: SandboxClient) -> None:
    sent = client.messenger("jane", "hi", wait=True)

    assert sent.outcome == "delivered"


def test_the_schedules_match_the_platforms_at_full_scale() -> None:
    meta, x = facebook_schedule(1.0, 20), x_schedule(1.0, 10)

    assert [meta.delay_before(n) for n in range(1, 6)] == [0.0, 5.0, 10.0, 20.0, 40.0]
    assert meta.delay_before(100) == 900.0
    assert [x.delay_before(n) for n in (1, 2, 3)] == [60.0, 240.0, None]
    assert (meta.timeout, x.timeout) == (20, 10)
