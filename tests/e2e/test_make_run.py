"""`make run` as a user runs it: it starts, prints its URLs, answers, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from launcher.environment import free_ports
from tests.e2e.conftest import ROOT, stack_environment


def _port_is_free(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.TransportError:
        return True
    return False


def test_run_starts_the_stack_prints_urls_and_stops_everything_on_ctrl_c(
    model: Path, tmp_path: Path
) -> None:
    env = stack_environment(tmp_path)
    rasa_port, actions_port = env["RASA_PORT"], env["ACTIONS_PORT"]
    sandbox_port = env["SANDBOX_PORT"]
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher", "run"],
        cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 240
        for line in process.stdout:
            output.append(line)
            if line.startswith("Press Ctrl-C to stop.") or time.monotonic() > deadline:
                break
        printed = "".join(output)
        assert "Using the cached model" in printed, printed
        assert f"Rasa server    http://127.0.0.1:{rasa_port}" in printed, printed
        assert f"Action server  http://127.0.0.1:{actions_port}/webhook" in printed, printed
        assert f"Sandbox        http://127.0.0.1:{sandbox_port}/" in printed, printed
        sandbox_page = httpx.get(f"http://127.0.0.1:{sandbox_port}/", timeout=10)
        assert sandbox_page.status_code == 200
        assert "Brightcart sandbox" in sandbox_page.text

        reply = httpx.post(
            f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            json={"sender": "make-run", "message": "hello"},
            timeout=60,
        )
        assert reply.status_code == 200
        assert reply.json(), "the bot did not answer a greeting"

        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, "".join(output)
    assert "Stopped." in "".join(output)
    assert _port_is_free(int(rasa_port))
    assert _port_is_free(int(actions_port))
    assert _port_is_free(int(sandbox_port))


def test_run_refuses_a_port_in_use_with_a_one_line_explanation(tmp_path: Path) -> None:
    env = stack_environment(tmp_path)
    [busy] = free_ports(1)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", busy))
        holder.listen()
        result = subprocess.run(
            [sys.executable, "-m", "launcher", "run"],
            cwd=ROOT,
            env={**env, "RASA_PORT": str(busy)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {busy} is already in use: stop what uses it, "
        f"or choose another port with RASA_PORT=<port> make run"
    )
