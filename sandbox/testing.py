"""Run a real sandbox for a test: ``python -m sandbox`` as a subprocess on a free port.

    with running_sandbox(facebook_webhook=url_a, x_webhook=url_b) as sandbox:
        sandbox.client.messenger("jane", "hi")

The platform secrets default to ``TEST_SECRETS``; pass the same ones to the code under test.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sandbox.client import SandboxClient

__all__ = ["TEST_SECRETS", "RunningSandbox", "free_port", "running_sandbox"]

TEST_SECRETS = {
    "FACEBOOK_APP_SECRET": "test-facebook-app-secret",
    "FACEBOOK_VERIFY_TOKEN": "test-verify-token",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "test-page-access-token",
    "X_CONSUMER_SECRET": "test-x-consumer-secret",
    "X_ACCESS_TOKEN": "test-x-access-token",
}
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class RunningSandbox:
    """A sandbox process and a client bound to it."""

    base_url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    client: SandboxClient

    def graph_url(self, version: str = "v19.0") -> str:
        """The Graph API base URL our Facebook channel should use."""
        return f"{self.base_url}/graph/{version}"

    @property
    def x_api_url(self) -> str:
        """The X API base URL (``.../x/2/tweets`` etc.) our X channel should use."""
        return f"{self.base_url}/x"

    def log(self) -> str:
        """What the sandbox printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def running_sandbox(
    *,
    facebook_webhook: str,
    x_webhook: str,
    secrets: Mapping[str, str] | None = None,
    retry_scale: float = 0.01,
    facebook_timeout: float = 5.0,
    x_timeout: float = 5.0,
    handshake_interval: float = 0.2,
    port: int | None = None,
    log_path: Path | None = None,
    startup_timeout: float = 30.0,
    extra_args: Sequence[str] = (),
) -> Iterator[RunningSandbox]:
    """Starts ``python -m sandbox``, waits for its health check, and stops it afterwards.

    Raises:
        RuntimeError: it exited or was not healthy within ``startup_timeout`` (with its log).
    """
    port = port or free_port()
    if log_path is None:
        log_path = Path(tempfile.mkdtemp(prefix="sandbox-")) / "sandbox.log"
    env = {**os.environ, **(secrets or TEST_SECRETS), "PYTHONUNBUFFERED": "1"}
    argv = [
        *(sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port)),
        *("--facebook-webhook", facebook_webhook, "--x-webhook", x_webhook),
        *("--retry-scale", str(retry_scale), "--handshake-interval", str(handshake_interval)),
        *("--facebook-timeout", str(facebook_timeout), "--x-timeout", str(x_timeout)),
        *extra_args,
    ]
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our interpreter, fixed arguments
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    client = SandboxClient(base_url)
    running = RunningSandbox(base_url, port, process, log_path, client)
    try:
        _wait_healthy(running, startup_timeout)
        yield running
    finally:
        client.close()
        _stop(process)


def _wait_healthy(running: RunningSandbox, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if running.process.poll() is not None:
            raise RuntimeError(f"the sandbox exited; its log:\n{running.log()}")
        try:
            running.client.wait_ready(timeout=0.5)
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the sandbox did not start; its log:\n{running.log()}"
                ) from None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
