from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot.errors import ConfigurationError, StoreError
from bot.store import DEFAULT_URL, SocialStore, store_url_from_endpoints
from tests.factories import make_event


def test_upgrade_creates_the_schema_at_the_latest_revision(store_url: str) -> None:
    store = SocialStore.from_url(store_url)
    assert store.current_revision() is None

    store.upgrade()

    assert store.current_revision() == "0001"
    assert "inbox_events" in inspect(store.engine).get_table_names()
    store.dispose()


def test_upgrade_keeps_existing_data_and_is_idempotent(store: SocialStore) -> None:
    store.add_event(make_event())

    store.upgrade()
    store.upgrade()

    assert store.get_event(make_event().dedupe_key) is not None


def test_an_event_is_stored_pending_and_read_back_whole(store: SocialStore) -> None:
    event = make_event("facebook_comment", text="Is this available in blue?", extra={"k": [1]})

    assert store.add_event(event) is True
    record = store.get_event(event.dedupe_key)

    assert record is not None
    assert (record.status, record.attempts, record.sender_id) == ("pending", 0, event.sender_id)
    assert record.event == event


def test_a_second_delivery_of_one_event_is_recognised_as_duplicate(store: SocialStore) -> None:
    event = make_event("tweet")

    assert store.add_event(event) is True
    assert store.add_event(event) is False
    with store.engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM inbox_events")).scalar_one()
    assert count == 1


def test_an_unknown_event_reads_as_none(store: SocialStore) -> None:
    assert store.get_event("facebook:messenger:nope") is None


def test_relative_sqlite_paths_are_created_under_the_root(tmp_path: Path) -> None:
    store = SocialStore.from_url("sqlite:///var/nested/social.db", root=tmp_path)
    store.upgrade()
    store.dispose()

    assert (tmp_path / "var" / "nested" / "social.db").is_file()


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


def test_a_social_store_section_without_url_is_named(tmp_path: Path) -> None:
    path = tmp_path / "endpoints.yml"
    path.write_text("social_store:\n  uri: sqlite:///a.db\n")

    with pytest.raises(ConfigurationError, match="endpoints.yml social_store: expected `url"):
        store_url_from_endpoints(path, {})
