"""One running stack (real ``rasa run`` and action server processes) per test session."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from bot.settings import Settings
from launcher import environment
from launcher.cli import child_environment
from launcher.model import ensure_model
from launcher.stack import Stack, service_specs
from sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parents[2]


def stack_environment(var: Path, **overrides: str) -> dict[str, str]:
    """The committed development settings, on free ports, with stores under ``var``."""
    return environment.stack_environment(ROOT, var, **overrides)


def always_open_routing(var: Path) -> Path:
    """The project's routing file with every skill open around the clock, so tests about
    queues do not depend on the hour they run at."""
    yaml = YAML()
    document = yaml.load((ROOT / "routing.yml").read_text(encoding="utf-8"))
    for skill in document["skills"]:
        skill["hours"] = {"mon-sun": "00:00-24:00"}
    path = var / "routing.yml"
    with path.open("w", encoding="utf-8") as file:
        yaml.dump(document, file)
    return path


def fetch_tracker(rasa_url: str, token: str, sender: str) -> dict[str, Any]:
    """The conversation's tracker, through the token-protected HTTP API of ``rasa_url``."""
    response = httpx.get(
        f"{rasa_url}/conversations/{sender}/tracker", params={"token": token}, timeout=30
    )
    response.raise_for_status()
    tracker: dict[str, Any] = response.json()
    return tracker


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
    env: dict[str, str]

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

    def workspace(self, path: str) -> str:
        """The URL of a workspace route."""
        return f"{self.rasa_url}/webhooks/workspace{path}"

    def bot_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m bot ...`` against this stack's social store and routing file."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def age(self, sender: str, hours: float) -> None:
        """Moves the conversation's events ``hours`` into the past in the tracker store, as if
        the consumer had not written since: the next message starts a new session."""
        seconds = hours * 3600
        with sqlite3.connect(self.settings.tracker_store_db) as connection:
            rows = connection.execute(
                "SELECT id, timestamp, data FROM events WHERE sender_id = ?", (sender,)
            ).fetchall()
            for row_id, timestamp, data in rows:
                event = json.loads(data)
                event["timestamp"] = event["timestamp"] - seconds
                connection.execute(
                    "UPDATE events SET timestamp = ?, data = ? WHERE id = ?",
                    (timestamp - seconds, json.dumps(event), row_id),
                )

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker, through the token-protected HTTP API."""
        return fetch_tracker(self.rasa_url, self.settings.rasa_token, sender)


@pytest.fixture(scope="session")
def stack(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The action server and the Rasa server as real processes on free ports."""
    var = tmp_path_factory.mktemp("stack")
    env = stack_environment(var, ROUTING_FILE=str(always_open_routing(var)))
    settings = Settings.from_env(env)
    running = Stack(
        ROOT,
        service_specs(settings, model),
        child_environment(ROOT, env, settings),
        log_dir=var / "log",
    )
    running.start()
    try:
        yield RunningStack(
            settings=settings,
            log_dir=var / "log",
            env=child_environment(ROOT, env, settings),
        )
    finally:
        running.stop()


@pytest.fixture(scope="session")
def sandbox(stack: RunningStack) -> Iterator[SandboxClient]:
    """A client of the stack's sandbox (the local Facebook and X)."""
    url = f"http://{stack.settings.bind_host}:{stack.settings.sandbox_port}"
    with SandboxClient(url) as client:
        client.wait_ready()
        yield client
