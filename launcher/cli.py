"""``python -m launcher run | train``: the body of ``make run`` and ``make train``."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

from bot.errors import SocialCareError
from bot.settings import Settings, environment
from bot.store import SocialStore, store_url_from_endpoints
from launcher.model import cached_model, ensure_model
from launcher.stack import Stack, service_specs

__all__ = ["child_environment", "main"]

ROOT = Path(__file__).resolve().parent.parent
_NOTEWORTHY = re.compile(r"\b(ERROR|CRITICAL|Traceback|Exception)\b")


def child_environment(root: Path, env: dict[str, str], settings: Settings) -> dict[str, str]:
    """The environment of the stack's processes."""
    return {
        **env,
        **settings.as_env(),
        "PYTHONPATH": str(root),
        "RASA_TELEMETRY_ENABLED": "false",  # no internet here, and none of its business
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
    }


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _check_ports(settings: Settings) -> None:
    ports = (
        ("RASA_PORT", settings.rasa_port),
        ("ACTIONS_PORT", settings.actions_port),
        ("SANDBOX_PORT", settings.sandbox_port),
    )
    for variable, port in ports:
        if _port_in_use(settings.bind_host, port):
            raise SocialCareError(
                f"port {port} is already in use: stop what uses it, or choose another port "
                f"with {variable}=<port> make run"
            )


def _show(service: str, line: str) -> None:
    if _NOTEWORTHY.search(line):
        print(f"[{service}] {line}", flush=True)


def _train(root: Path, env: dict[str, str]) -> Path:
    if cached_model(root) is None:
        print("Training the model (config, domain or data changed; about 1-2 minutes here)...")
        started = time.monotonic()
        model = ensure_model(root, env)
        print(f"Trained {model.relative_to(root)} in {time.monotonic() - started:.0f} s.")
        return model
    model = ensure_model(root, env)
    print(f"Using the cached model {model.relative_to(root)} (inputs unchanged).")
    return model


def run(root: Path) -> int:
    """Starts the stack, prints where each service listens, and stops it all on Ctrl-C."""
    env = environment(root)
    settings = Settings.from_env(env)
    child_env = child_environment(root, env, settings)
    _check_ports(settings)
    store_url = store_url_from_endpoints(root / "endpoints.yml", child_env)
    store = SocialStore.from_url(store_url, root=root)
    store.upgrade()
    store.dispose()
    model = _train(root, child_env)

    print("Starting the sandbox, the action server and the Rasa server (about 30 s)...", flush=True)
    stack = Stack(root, service_specs(settings, model), child_env, root / "var" / "log", echo=_show)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started in the background (SIGINT ignored)
    started = time.monotonic()
    try:
        stack.start()
        urls = {spec.name: spec.url for spec in stack.specs}
        rasa = urls["rasa"]
        print(
            f"\nReady in {time.monotonic() - started:.0f} s. Social care is running:\n"
            f"  Rasa server    {rasa}  (HTTP API token: RASA_TOKEN in .env)\n"
            f"  REST channel   {rasa}/webhooks/rest/webhook\n"
            f"  Workspace      {rasa}/webhooks/workspace/  (agents: python -m bot agents add)\n"
            f"  Action server  {urls['actions']}\n"
            f"  Sandbox        {urls['sandbox']}  (a local Facebook and X: open it in a browser)\n"
            f"  Logs           {root / 'var' / 'log'}/\n\n"
            f"Talk to the bot:\n"
            f"  curl -s {rasa}/webhooks/rest/webhook \\\n"
            f'       -d \'{{"sender": "me", "message": "hi"}}\'\n\n'
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while not (exited := stack.exited()):
            time.sleep(1)
        for name, code in exited:
            print(
                f"{name} stopped by itself (exit {code}): see var/log/{name}.log", file=sys.stderr
            )
        return 1
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    finally:
        stack.stop()
        print("Stopped.", flush=True)


def train(root: Path) -> int:
    """Trains the model unless the cached one is up to date."""
    env = environment(root)
    settings = Settings.from_env(env)
    _train(root, child_environment(root, env, settings))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m launcher``."""
    parser = argparse.ArgumentParser(prog="python -m launcher", description=__doc__)
    parser.add_argument("command", choices=["run", "train"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(ROOT) if args.command == "run" else train(ROOT)
    except SocialCareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
