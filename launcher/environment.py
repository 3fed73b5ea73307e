"""The environment of a stack that a test or a benchmark starts beside others on one machine.

``stack_environment``: the committed development settings (``.env.example``) on ports the OS
says are free, with Rasa's trackers and the social store in SQLite files under one folder.
``production_environment``: over those, the variables ``endpoints.production.yml`` reads, for a
PostgreSQL database and a Redis server.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from bot.settings import read_env_file

__all__ = ["free_ports", "production_environment", "stack_environment"]


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now, all different (held open until all are chosen)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def stack_environment(root: Path, var: Path, **overrides: str) -> dict[str, str]:
    """The process's environment, then ``root``'s ``.env.example`` on free ports with the stores
    under ``var``, then ``overrides``."""
    rasa_port, actions_port, sandbox_port = free_ports(3)
    return {
        **os.environ,
        **read_env_file(root / ".env.example"),
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(actions_port),
        "SANDBOX_PORT": str(sandbox_port),
        "TRACKER_STORE_DB": str(var / "rasa.db"),
        "SOCIAL_STORE_URL": f"sqlite:///{var / 'social.db'}",
        **overrides,
    }


def production_environment(
    env: Mapping[str, str], database_url: str, redis_url: str, login_url: str
) -> dict[str, str]:
    """``env`` with what ``endpoints.production.yml`` reads: Rasa's trackers and the social store
    on ``database_url`` (Rasa first logs in to ``login_url``'s database to create it), its lock
    store on ``redis_url``, the action server where ``env`` puts it."""
    database = make_url(database_url)
    redis = urlsplit(redis_url)
    return {
        **env,
        "ACTION_ENDPOINT_URL": f"http://{env['BIND_HOST']}:{env['ACTIONS_PORT']}/webhook",
        "POSTGRES_HOST": database.host or "127.0.0.1",
        "POSTGRES_PORT": str(database.port or 5432),
        "POSTGRES_USER": database.username or "postgres",
        "POSTGRES_PASSWORD": database.password or "",
        "TRACKER_STORE_DB": database.database or "",
        "POSTGRES_LOGIN_DB": make_url(login_url).database or "postgres",
        "REDIS_HOST": redis.hostname or "127.0.0.1",
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_DB": redis.path.lstrip("/") or "0",
        "REDIS_PASSWORD": redis.password or "",
        "SOCIAL_STORE_URL": database_url,
    }
