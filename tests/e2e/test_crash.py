"""A crash mid-burst: ``kill -9`` of the Rasa server while it answers a burst of Messenger
messages, then a restart. Every event is answered, once."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.settings import Settings
from launcher.cli import child_environment
from launcher.stack import Stack, actions_spec, rasa_spec, sandbox_spec
from sandbox.client import SandboxClient
from tests.e2e.conftest import ROOT, stack_environment

# Twice the conversations a process runs at once (64): the turns of a batch answer together, so
# a smaller burst can be answered whole between the third answer and the kill.
BURST = 128


@pytest.fixture
def crashable(
    model: Path, tmp_path: Path
) -> Iterator[tuple[Settings, Stack, Stack, dict[str, str]]]:
    """The sandbox and the action server, and, apart, the Rasa server (to kill and restart)."""
    env = stack_environment(tmp_path)
    settings = Settings.from_env(env)
    child_env = child_environment(ROOT, env, settings)
    # Meta retries failed deliveries for hours; scaled down so the test does not wait minutes.
    infra = Stack(
        ROOT,
        [sandbox_spec(settings, extra=("--retry-scale", "0.01")), actions_spec(settings)],
        child_env,
        tmp_path / "log",
    )
    infra.start()
    rasa = Stack(ROOT, [rasa_spec(settings, model)], child_env, tmp_path / "log-1")
    try:
        rasa.start()
        yield settings, infra, rasa, child_env
    finally:
        rasa.stop()
        infra.stop()


def test_a_killed_server_answers_every_pending_event_once_after_a_restart(
    crashable: tuple[Settings, Stack, Stack, dict[str, str]], model: Path, tmp_path: Path
) -> None:
    settings, _infra, rasa, child_env = crashable
    sandbox = SandboxClient(f"http://{settings.bind_host}:{settings.sandbox_port}")
    consumers = [
        sandbox.add_persona("facebook", f"Crash {key}", key=key)["psid"]
        for key in (uuid.uuid4().hex[:8] for _ in range(BURST))
    ]

    def answers() -> Counter[str]:
        return Counter(
            call.body["recipient"]["id"]
            for call in sandbox.calls(endpoint="facebook.messages")
            if "message" in call.body and call.body["recipient"].get("id") in consumers
        )

    with ThreadPoolExecutor(10) as pool:
        list(
            pool.map(
                lambda psid: sandbox.messenger(psid, "what are your opening hours?"), consumers
            )
        )
    deadline = time.monotonic() + 60
    while sum(answers().values()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    [server] = rasa.services
    os.killpg(server.process.pid, signal.SIGKILL)  # no goodbye: mid-burst, events in flight
    server.process.wait()
    answered_before = sum(answers().values())

    restarted = Stack(ROOT, [rasa_spec(settings, model)], child_env, tmp_path / "log-2")
    restarted.start()
    try:
        deadline = time.monotonic() + 120
        while len(answers()) < BURST and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # time enough for a second answer, were one coming
        final = answers()
    finally:
        restarted.stop()

    assert 0 < answered_before < BURST  # the kill really came mid-burst
    assert sorted(final) == sorted(consumers)  # every event answered...
    assert set(final.values()) == {1}  # ...once
