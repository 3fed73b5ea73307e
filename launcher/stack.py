"""The development stack as child processes: the sandbox, the action server, the Rasa server.

Used by ``make run`` and by the end-to-end tests, so both run exactly the same processes.
Each child runs in its own process group; ``stop()`` ends the whole group.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bot.errors import SocialCareError
from bot.settings import Settings

__all__ = [
    "ServiceSpec",
    "Stack",
    "StackFailed",
    "actions_spec",
    "rasa_spec",
    "sandbox_spec",
    "service_specs",
]

logger = logging.getLogger(__name__)


class StackFailed(SocialCareError):
    """A service of the stack did not start or stopped by itself."""


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one service and how to tell it is ready."""

    name: str
    argv: list[str]
    url: str
    health_url: str
    is_ready: Callable[[httpx.Response], bool] = field(
        default=lambda response: response.status_code == 200
    )


def sandbox_spec(
    settings: Settings,
    *,
    port: int | None = None,
    webhooks_of: str | Sequence[str] | None = None,
    extra: Sequence[str] = (),
) -> ServiceSpec:
    """The sandbox on ``port`` (default ``SANDBOX_PORT``), delivering to the Rasa server at
    ``webhooks_of`` (default the one of ``settings``); several servers (replicas) take turns,
    as behind a load balancer."""
    host = settings.bind_host
    port = port or settings.sandbox_port
    if webhooks_of is None:
        webhooks_of = f"http://{host}:{settings.rasa_port}"
    servers = [webhooks_of] if isinstance(webhooks_of, str) else list(webhooks_of)
    sandbox = f"http://{host}:{port}"

    def webhooks(path: str) -> str:
        return ",".join(f"{server}{path}" for server in servers)

    return ServiceSpec(
        name="sandbox" if port == settings.sandbox_port else f"sandbox-{port}",
        argv=[
            *(sys.executable, "-m", "sandbox", "--host", host, "--port", str(port)),
            *("--facebook-webhook", webhooks("/webhooks/facebook/webhook")),
            *("--x-webhook", webhooks("/webhooks/twitter/webhook")),
            *extra,
        ],
        url=f"{sandbox}/",
        health_url=f"{sandbox}/sandbox/api/health",
    )


def actions_spec(settings: Settings) -> ServiceSpec:
    """The action server."""
    actions = f"http://{settings.bind_host}:{settings.actions_port}"
    return ServiceSpec(
        name="actions",
        argv=[
            *(sys.executable, "-m", "rasa_sdk", "--actions", "actions"),
            *("--port", str(settings.actions_port)),
        ],
        url=f"{actions}/webhook",
        health_url=f"{actions}/health",
    )


def rasa_spec(
    settings: Settings,
    model: Path,
    *,
    port: int | None = None,
    credentials: str = "credentials.yml",
    endpoints: str = "endpoints.yml",
    name: str = "rasa",
) -> ServiceSpec:
    """One ``rasa run`` (one replica) on ``port`` (default ``RASA_PORT``)."""
    host = settings.bind_host
    port = port or settings.rasa_port
    rasa = f"http://{host}:{port}"
    return ServiceSpec(
        name=name,
        argv=[
            *(sys.executable, "-m", "rasa", "run", "--enable-api"),
            *("--auth-token", settings.rasa_token),
            *("--interface", host, "--port", str(port)),
            *("--model", str(model)),
            *("--credentials", credentials, "--endpoints", endpoints),
        ],
        url=rasa,
        health_url=f"{rasa}/status?token={settings.rasa_token}",
    )


def service_specs(settings: Settings, model: Path) -> list[ServiceSpec]:
    """The stack's services, in start order.

    The sandbox first: Rasa's channels call its APIs; it verifies their webhooks once Rasa is up.
    """
    return [sandbox_spec(settings), actions_spec(settings), rasa_spec(settings, model)]


class _Service:
    def __init__(
        self,
        spec: ServiceSpec,
        process: subprocess.Popen[str],
        log: IO[str],
        echo: Callable[[str, str], None] | None,
    ) -> None:
        self.spec = spec
        self.process = process
        self.log = log
        self.echo = echo
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, name=f"{spec.name}-output", daemon=True)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.write(line)
            self.log.flush()
            self.lines.append(line)
            del self.lines[:-200]
            if self.echo is not None:
                self.echo(self.spec.name, line.rstrip("\n"))

    def tail(self, count: int = 30) -> str:
        return "".join(self.lines[-count:])


class Stack:
    """Starts the services, waits until each is ready, and stops them all.

    Args:
        root: the project root (the services' working directory).
        specs: the services, in start order.
        env: their environment.
        log_dir: one ``<name>.log`` per service is written here.
        echo: called with (service, line) for every line a service prints, e.g. to show it.
    """

    def __init__(
        self,
        root: Path,
        specs: list[ServiceSpec],
        env: Mapping[str, str],
        log_dir: Path,
        echo: Callable[[str, str], None] | None = None,
    ) -> None:
        self.root = root
        self.specs = specs
        self.env = dict(env)
        self.log_dir = log_dir
        self.echo = echo
        self.services: list[_Service] = []

    def start(self, timeout: float = 240.0) -> None:
        """Starts every service and waits until all are ready.

        Raises:
            StackFailed: a service exited or was not ready within ``timeout`` seconds.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for spec in self.specs:
                log = open(self.log_dir / f"{spec.name}.log", "w", encoding="utf-8")  # noqa: SIM115
                process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
                    spec.argv,
                    cwd=self.root,
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
                service = _Service(spec, process, log, self.echo)
                service.reader.start()
                self.services.append(service)
            deadline = time.monotonic() + timeout
            for service in self.services:
                self._wait_ready(service, deadline)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, service: _Service, deadline: float) -> None:
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = service.process.poll()
                if code is not None:
                    raise StackFailed(
                        f"{service.spec.name} exited with {code} while starting; "
                        f"last lines of {self.log_dir / service.spec.name}.log:\n{service.tail()}"
                    )
                try:
                    if service.spec.is_ready(client.get(service.spec.health_url)):
                        logger.info("%s is ready at %s", service.spec.name, service.spec.url)
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                if time.monotonic() > deadline:
                    raise StackFailed(
                        f"{service.spec.name} was not ready at {service.spec.health_url} in time; "
                        f"last lines:\n{service.tail()}"
                    )
                time.sleep(0.5)

    def exited(self) -> list[tuple[str, int]]:
        """The services that stopped by themselves, with their exit codes."""
        return [
            (service.spec.name, code)
            for service in self.services
            if (code := service.process.poll()) is not None
        ]

    def stop(self, grace: float = 10.0) -> None:
        """Ends every service's process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
        for service in reversed(self.services):
            if service.process.poll() is None:
                _signal_group(service.process, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in reversed(self.services):
            try:
                service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(service.process, signal.SIGKILL)
                service.process.wait()
            service.reader.join(timeout=2)
            service.log.close()
        self.services.clear()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen[str], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signum)
