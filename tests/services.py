"""The local servers some tests need (PostgreSQL, Redis, a browser): one rule when one is missing.

Under ``CI=true`` a missing service fails the run (the production path must be tested there);
elsewhere the tests that need it skip, with a message that names the service and how to start it.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.future import create_engine

__all__ = [
    "POSTGRES_ADMIN_URL",
    "REDIS_URL",
    "fresh_postgres_database",
    "missing_service",
    "redis_url_if_up",
]

# The local servers every machine of this project runs (PostgreSQL with trust auth);
# TEST_POSTGRES_URL and TEST_REDIS_URL name others.
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def missing_service(service: str, why: str, how: str) -> NoReturn:
    """Fails the test under ``CI=true``, skips it elsewhere; the message names ``service``."""
    message = f"{service} is not available: {why}; {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def redis_url_if_up(url: str = REDIS_URL) -> str:
    """``url`` once Redis answers a PING there; otherwise ``missing_service``."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        missing_service(
            f"Redis at {url}",
            str(exc),
            "start it with 'redis-server --daemonize yes' or set TEST_REDIS_URL",
        )
    finally:
        client.close()
    return url


@contextlib.contextmanager
def fresh_postgres_database(prefix: str, admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str]:
    """A new database named ``<prefix>_<random>``, dropped afterwards; yields its URL.

    PostgreSQL down: ``missing_service`` (fails under CI, skips elsewhere).
    """
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        missing_service(
            f"PostgreSQL at {admin_url}",
            str(exc.orig).strip(),
            "start it with 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main "
            "start' or set TEST_POSTGRES_URL",
        )
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
