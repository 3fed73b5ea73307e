"""One running stack (real ``rasa run`` and action server processes) per test session."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.settings import Settings, read_env_file
from launcher.cli import child_environment
from launcher.model import ensure_model
from launcher.stack import Stack, service_specs
from sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now (the OS picks them)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def stack_environment(var: Path, **overrides: str) -> dict[str, str]:
    """The committed development settings, on free ports, with stores under ``var``."""
    rasa_port, actions_port, sandbox_port = free_ports(3)
    env = {
        **read_env_file(ROOT / ".env.example"),
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(actions_port),
        "SANDBOX_PORT": str(sandbox_port),
        "TRACKER_STORE_DB": str(var / "rasa.db"),
        "SOCIAL_STORE_URL": f"sqlite:///{var / 'social.db'}",
        **overrides,
    }
    return {**os.environ, **env}


@pytest.fixture(scope="session")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained model of the current files (trained once, then cached by content hash)."""
    env = stack_environment(tmp_path_factory.mktemp("train"))
    settings = Settings.from_env(env)
    return ensure_model(ROOT, child_environment(ROOT, env, settings))


@dataclass
class RunningStack:
    """What the tests need to talk to a running stack."""

    settings: Settings
    log_dir: Path

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.bind_host}:{self.settings.rasa_port}"

    def say(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Sends ``text`` as ``sender`` through the REST channel; returns the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = httpx.post(f"{self.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()
        return messages

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker, through the token-protected HTTP API."""
        response = httpx.get(
            f"{self.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.settings.rasa_token},
            timeout=30,
        )
        response.raise_for_status()
        tracker: dict[str, Any] = response.json()
        return tracker


@pytest.fixture(scope="session")
def stack(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The action server and the Rasa server as real processes on free ports."""
    var = tmp_path_factory.mktemp("stack")
    env = stack_environment(var)
    settings = Settings.from_env(env)
    running = Stack(
        ROOT,
        service_specs(settings, model),
        child_environment(ROOT, env, settings),
        log_dir=var / "log",
    )
    running.start()
    try:
        yield RunningStack(settings=settings, log_dir=var / "log")
    finally:
        running.stop()


@pytest.fixture(scope="module")
def sandbox(stack: RunningStack) -> Iterator[SandboxClient]:
    """A client of the stack's sandbox (a local Facebook and X), once it answers."""
    with SandboxClient(
        f"http://{stack.settings.bind_host}:{stack.settings.sandbox_port}"
    ) as client:
        client.wait_ready()
        yield client
