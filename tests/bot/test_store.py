from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.errors import ConfigurationError, StoreError
from bot.inbox import Inbox, event_document
from bot.migrations.env_config import VERSION_TABLE
from bot.schema import metadata
from bot.store import DEFAULT_URL, SocialStore, store_url_from_endpoints
from tests.factories import make_event

HEAD = "0010"


def test_upgrade_creates_the_schema_at_the_latest_revision(store_url: str) -> None:
    store = SocialStore.from_url(store_url)
    assert store.current_revision() is None

    store.upgrade()

    assert store.current_revision() == HEAD
    assert "inbox_events" in inspect(store.engine).get_table_names()
    store.dispose()


# Replicas share a PostgreSQL database; several processes on one SQLite file are not supported.
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_replicas_starting_together_migrate_one_after_the_other(store_url: str) -> None:
    replicas = [SocialStore.from_url(store_url) for _ in range(3)]

    with ThreadPoolExecutor(len(replicas)) as pool:
        list(pool.map(lambda replica: replica.upgrade(), replicas))  # none raises

    assert {replica.current_revision() for replica in replicas} == {HEAD}
    for replica in replicas:
        replica.dispose()


def test_upgrade_keeps_existing_data_and_is_idempotent(store: SocialStore) -> None:
    Inbox(store).add(make_event())

    store.upgrade()
    store.upgrade()

    assert Inbox(store).get(make_event().dedupe_key) is not None


def test_a_database_of_the_first_revision_upgrades_in_place(store_url: str) -> None:
    store = SocialStore.from_url(store_url)
    store.upgrade("0001")
    event = make_event("messenger")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbox_events (dedupe_key, sender_id, platform, account_id, "
                "visibility, event, status, attempts, received_at, next_attempt_at, updated_at) "
                "VALUES (:key, :sender, 'facebook', 'p', 'private', :event, 'pending', 0, "
                ":now, :now, :now)"
            ),
            {
                "key": event.dedupe_key,
                "sender": event.sender_id,
                "event": json.dumps(event_document(event)),
                "now": datetime.now(timezone.utc),
            },
        )

    store.upgrade()

    assert store.current_revision() == HEAD
    record = Inbox(store).get(event.dedupe_key)
    assert record is not None
    assert record.event == event
    store.dispose()


def test_relative_sqlite_paths_are_created_under_the_root(tmp_path: Path) -> None:
    store = SocialStore.from_url("sqlite:///var/nested/social.db", root=tmp_path)
    store.upgrade()
    store.dispose()

    assert (tmp_path / "var" / "nested" / "social.db").is_file()


def test_only_connections_to_a_server_are_checked_before_use(tmp_path: Path) -> None:
    # A server's connection can go stale (a restart, a failover); a SQLite file's cannot.
    server = SocialStore.from_url("postgresql://bot@127.0.0.1:5432/test")
    local = SocialStore.from_url(f"sqlite:///{tmp_path / 'social.db'}")

    assert server.engine.pool._pre_ping is True
    assert local.engine.pool._pre_ping is False


def test_an_unusable_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="social_store.url"):
        SocialStore.from_url("nosuchdialect://x/y")


def test_an_unreachable_database_is_a_store_error() -> None:
    store = SocialStore.from_url("postgresql+psycopg2://nobody@127.0.0.1:1/none")

    with pytest.raises(StoreError, match="migrating the social store failed"):
        store.upgrade()


@pytest.mark.parametrize(
    ("endpoints", "env", "url"),
    [
        (
            "social_store:\n  url: ${SOCIAL_STORE_URL}\n",
            {"SOCIAL_STORE_URL": "sqlite:///a.db"},
            "sqlite:///a.db",
        ),
        ("action_endpoint:\n  url: http://x\n", {}, DEFAULT_URL),
        ("", {}, DEFAULT_URL),
    ],
)
def test_store_url_comes_from_endpoints(
    tmp_path: Path, endpoints: str, env: dict[str, str], url: str
) -> None:
    path = tmp_path / "endpoints.yml"
    path.write_text(endpoints)

    assert store_url_from_endpoints(path, env) == url


@pytest.mark.parametrize("name", ["endpoints.yml", "endpoints.production.yml"])
def test_the_social_store_needs_only_its_own_variable(name: str) -> None:
    # Rasa's sections reference BIND_HOST, POSTGRES_HOST...: a replica or the action server in
    # production sets only what its own processes read.
    url = "postgresql+psycopg2://rasa@db.internal:5432/social"
    root = Path(__file__).resolve().parents[2]

    assert store_url_from_endpoints(root / name, {"SOCIAL_STORE_URL": url}) == url


def test_an_unset_store_variable_is_named(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.yml"
    path.write_text("social_store:\n  url: ${SOCIAL_STORE_URL}\n")

    with pytest.raises(ConfigurationError, match="SOCIAL_STORE_URL is referenced but not set"):
        store_url_from_endpoints(path, {})


def test_a_social_store_section_without_url_is_named(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.yml"
    path.write_text("social_store:\n  uri: sqlite:///a.db\n")

    with pytest.raises(ConfigurationError, match="endpoints.yml social_store: expected `url"):
        store_url_from_endpoints(path, {})


def test_the_migrations_build_exactly_the_schema_the_code_declares(store: SocialStore) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, metadata) == []
