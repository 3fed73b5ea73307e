"""A real sandbox process for the session, delivering to a real receiver; reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.client import SandboxClient
from sandbox.testing import RunningSandbox, running_sandbox
from tests.sandbox.webhook_receiver import WebhookReceiver, running_receiver


@pytest.fixture(scope="session")
def receiver() -> Iterator[WebhookReceiver]:
    """Our webhooks' stand-in: records every delivery, answers the handshakes."""
    with running_receiver() as server:
        yield server


@pytest.fixture(scope="session")
def sandbox_process(
    receiver: WebhookReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSandbox]:
    """``python -m sandbox`` on a free port, retries scaled down (X: 3 tries in 1.5 s)."""
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with running_sandbox(
        facebook_webhook=receiver.facebook_url,
        x_webhook=receiver.x_url,
        retry_scale=0.005,
        facebook_timeout=1.0,
        x_timeout=1.0,
        handshake_interval=0.1,
        log_path=log,
    ) as running:
        yield running


@pytest.fixture
def sandbox(sandbox_process: RunningSandbox, receiver: WebhookReceiver) -> RunningSandbox:
    """The running sandbox, back to its seeded world, with an empty receiver."""
    sandbox_process.client.reset()
    receiver.reset()
    return sandbox_process


@pytest.fixture
def client(sandbox: RunningSandbox) -> SandboxClient:
    """A client of the freshly reset sandbox."""
    return sandbox.client
