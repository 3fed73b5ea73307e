"""The social store: the engine and the schema; its tables' SQL lives in ``bot/inbox.py`` & co.

SQLAlchemy 1.4 in 2.0 style (``future=True``, ``select()``). A SQLite file under ``var/`` by
default, PostgreSQL in production; the schema is migrated in place with Alembic (``upgrade()``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.future import create_engine
from sqlalchemy.pool import QueuePool

from bot.errors import ConfigurationError, StoreError
from bot.migrations.env_config import MIGRATIONS_DIR, VERSION_TABLE
from bot.sqlite_writers import BUSY_TIMEOUT, TurnTakingConnection
from bot.yamlconfig import expand_env, parse_yaml

__all__ = ["DEFAULT_URL", "SocialStore", "store_url_from_endpoints"]

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///var/social.db"

# Replicas started together all migrate at start: on PostgreSQL they take turns on this
# transaction-level advisory lock (an arbitrary constant of this project), and the later ones
# find the schema at the head already.
_MIGRATION_LOCK = 0x50C1A1


def store_url_from_endpoints(path: Path, env: Mapping[str, str]) -> str:
    """The ``social_store.url`` of ``endpoints.yml`` (``${ENV}`` expanded), else the default.

    Only that key is expanded: the variables of Rasa's sections (the action server's host, the
    tracker database...) need not be set where only the social store is wanted (a replica on
    another endpoints file, the action server).

    Raises:
        ConfigurationError: the file or the key is wrong.
    """
    endpoints, text = parse_yaml(path)
    endpoints = endpoints or {}
    if not isinstance(endpoints, Mapping):
        raise ConfigurationError("expected a mapping at the top level", file=str(path))
    section = endpoints.get("social_store")
    if section is None:
        return DEFAULT_URL
    if not isinstance(section, Mapping) or not isinstance(section.get("url"), str):
        raise ConfigurationError(
            "expected `url: <SQLAlchemy URL>` under it", file=str(path), key="social_store"
        )
    return str(expand_env(section["url"], env, file=str(path), text=text))


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the webhook write while the inbox worker reads; busy_timeout waits out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL still survives a crash of the process (a lost power supply may lose the
    # last commits): the development default; production runs on PostgreSQL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class SocialStore:
    """The social store over one SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, root: Path | None = None) -> SocialStore:
        """Opens the store at ``url``; a relative SQLite path is taken from ``root`` (or the cwd).

        Raises:
            ConfigurationError: the URL is not a usable SQLAlchemy URL.
        """
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ConfigurationError(
                f"not an SQLAlchemy URL: {url!r}", key="social_store.url"
            ) from exc
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            connect_args["check_same_thread"] = False
            database = parsed.database
            if database and database != ":memory:":
                path = Path(database)
                if not path.is_absolute() and root is not None:
                    path = root / path
                path.parent.mkdir(parents=True, exist_ok=True)
                parsed = parsed.set(database=str(path))
                # This process's writers take turns instead of sleeping in SQLite's busy handler.
                connect_args["factory"] = TurnTakingConnection
        # A server's connections can go stale (a restart, a failover): each is checked before use.
        # A SQLite file's cannot, and the check would cost a statement per use.
        sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"connect_args": connect_args, "pool_pre_ping": not sqlite}
        if sqlite and parsed.database not in (None, "", ":memory:"):
            # SQLAlchemy 1.4 opens a new SQLite connection for every use of a file database (and
            # our pragmas with it); a pool of open connections is several times cheaper.
            options.update(poolclass=QueuePool, pool_size=8, max_overflow=16)
        try:
            engine = create_engine(parsed, **options)
        except (ArgumentError, ImportError) as exc:
            raise ConfigurationError(
                f"cannot open {parsed.get_backend_name()!r}: {exc}", key="social_store.url"
            ) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    def _alembic_config(self) -> AlembicConfig:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Migrates the schema in place to ``revision``.

        Raises:
            StoreError: the database cannot be reached or the migration failed.
        """
        config = self._alembic_config()
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except SQLAlchemyError as exc:
            raise StoreError(f"migrating the social store failed: {exc}") from exc

    def current_revision(self) -> str | None:
        """The schema revision of the database, or None when it was never migrated."""
        try:
            with self.engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"version_table": VERSION_TABLE}
                )
                revision: str | None = context.get_current_revision()
                return revision
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the social store version failed: {exc}") from exc

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()
