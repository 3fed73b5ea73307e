"""Several webhook URLs take turns (a load balancer in front of replicas); deliveries can be in
flight concurrently."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sandbox.testing import running_sandbox
from tests.sandbox.webhook_receiver import WebhookReceiver, running_receiver


@pytest.fixture
def receivers() -> Iterator[tuple[WebhookReceiver, WebhookReceiver]]:
    with running_receiver() as first, running_receiver() as second:
        yield first, second


def test_deliveries_take_turns_among_the_webhooks_and_retries_move_on(
    receivers: tuple[WebhookReceiver, WebhookReceiver],
) -> None:
    first, second = receivers
    urls = f"{first.facebook_url},{second.facebook_url}"
    first.fail_next("/facebook", 1)  # a replica that is down: the retry goes to the other one
    with running_sandbox(
        facebook_webhook=urls,
        x_webhook=first.x_url,
        extra_args=("--delivery-concurrency", "4"),
    ) as sandbox:
        for index in range(4):
            sandbox.client.messenger("jane", f"message {index}", wait=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            delivered = [d for d in sandbox.client.deliveries() if d.outcome == "delivered"]
            if len(delivered) == 4:
                break
            time.sleep(0.1)

    assert len(delivered) == 4
    assert {d.url for d in delivered} == {first.facebook_url, second.facebook_url}
    bodies = [r.body for r in first.received("/facebook") + second.received("/facebook")]
    assert sum(1 for body in bodies if b"message 0" in body) == 2  # failed once, then delivered
    assert len(second.received("/facebook")) >= 2
