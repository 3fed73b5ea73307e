"""The social store: every SQL statement of the project lives behind this class.

SQLAlchemy 1.4 in 2.0 style (``future=True``, ``select()``). A SQLite file under ``var/`` by
default, PostgreSQL in production; the schema is migrated in place with Alembic (``upgrade()``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlalchemy.future import create_engine

from bot.errors import ConfigurationError, StoreError
from bot.events import SocialEvent
from bot.migrations.env_config import MIGRATIONS_DIR, VERSION_TABLE
from bot.schema import inbox_events
from bot.yamlconfig import load_yaml

__all__ = ["DEFAULT_URL", "InboxRecord", "SocialStore", "store_url_from_endpoints"]

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///var/social.db"


@dataclass(frozen=True)
class InboxRecord:
    """One stored inbound event and its processing state."""

    id: int
    dedupe_key: str
    sender_id: str
    status: str
    attempts: int
    event: SocialEvent
    received_at: datetime


def store_url_from_endpoints(path: Path, env: Mapping[str, str]) -> str:
    """The ``social_store.url`` of ``endpoints.yml`` (``${ENV}`` expanded), else the default.

    Raises:
        ConfigurationError: the file or the key is wrong.
    """
    endpoints = load_yaml(path, env) or {}
    if not isinstance(endpoints, Mapping):
        raise ConfigurationError("expected a mapping at the top level", file=str(path))
    section = endpoints.get("social_store")
    if section is None:
        return DEFAULT_URL
    if not isinstance(section, Mapping) or not isinstance(section.get("url"), str):
        raise ConfigurationError(
            "expected `url: <SQLAlchemy URL>` under it", file=str(path), key="social_store"
        )
    return str(section["url"])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the webhook write while the inbox worker reads; busy_timeout waits out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
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
        try:
            engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
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

    def add_event(self, social_event: SocialEvent) -> bool:
        """Stores an inbound event as pending.

        Returns:
            True when stored; False when an event with its ``dedupe_key`` is already there.

        Raises:
            StoreError: the store failed for another reason.
        """
        now = datetime.now(timezone.utc)
        context = social_event.context
        row = {
            "dedupe_key": social_event.dedupe_key,
            "sender_id": social_event.sender_id,
            "platform": context.platform.value,
            "account_id": context.account_id,
            "visibility": context.visibility.value,
            "event": _event_json(social_event),
            "status": "pending",
            "attempts": 0,
            "received_at": now,
            "next_attempt_at": now,
            "updated_at": now,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(inbox_events).values(**row))
        except IntegrityError:
            logger.debug("duplicate delivery of %s ignored", social_event.dedupe_key)
            return False
        except SQLAlchemyError as exc:
            raise StoreError(f"storing event {social_event.dedupe_key} failed: {exc}") from exc
        return True

    def get_event(self, dedupe_key: str) -> InboxRecord | None:
        """The stored event with ``dedupe_key``, or None."""
        query = select(inbox_events).where(inbox_events.c.dedupe_key == dedupe_key)
        try:
            with self.engine.connect() as connection:
                row = connection.execute(query).mappings().first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading event {dedupe_key} failed: {exc}") from exc
        if row is None:
            return None
        return InboxRecord(
            id=row["id"],
            dedupe_key=row["dedupe_key"],
            sender_id=row["sender_id"],
            status=row["status"],
            attempts=row["attempts"],
            event=SocialEvent.parse_obj(row["event"]),
            received_at=row["received_at"],
        )

    def dispose(self) -> None:
        """Closes every pooled connection."""
        self.engine.dispose()


def _event_json(social_event: SocialEvent) -> dict[str, Any]:
    return {
        "context": social_event.context.to_dict(),
        "text": social_event.text,
        "dedupe_key": social_event.dedupe_key,
        "occurred_at": social_event.occurred_at.isoformat(),
        "extra": social_event.extra,
    }
