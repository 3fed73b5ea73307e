"""Rasa's tracker store fails loudly: a database error is raised, never a conversation forked
into memory."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.future import create_engine

from bot.errors import TrackerStoreError
from bot.trackers import SharedSQLTrackerStore, fail_loudly
from tests.services import POSTGRES_ADMIN_URL


def broken_store(tmp_path: Path) -> FailSafeTrackerStore:
    """Rasa's wrapper over a real SQL tracker store whose table is gone (a broken database)."""
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE events"))
    return FailSafeTrackerStore(store)


def a_tracker() -> DialogueStateTracker:
    return DialogueStateTracker.from_events("jane", [UserUttered("hi", message_id="m1")])


async def test_rasa_alone_reads_a_broken_store_as_an_empty_conversation(tmp_path: Path) -> None:
    store = broken_store(tmp_path)

    assert await store.retrieve("jane") is None  # the turn would run on a new conversation
    await store.save(a_tracker())  # ...and be kept in memory only


async def test_a_failed_read_raises(tmp_path: Path) -> None:
    store = broken_store(tmp_path)
    fail_loudly(store)

    with pytest.raises(TrackerStoreError, match="the tracker store failed"):
        await store.retrieve("jane")


async def test_a_failed_save_raises(tmp_path: Path) -> None:
    store = broken_store(tmp_path)
    fail_loudly(store)

    with pytest.raises(TrackerStoreError):
        await store.save(a_tracker())


@pytest.mark.postgres
async def test_the_shared_sql_store_reconnects_after_the_database_dropped_it(
    postgres_database: str,
) -> None:
    store = SharedSQLTrackerStore(Domain.empty(), host=postgres_database)
    await store.save(a_tracker())
    with store.engine.connect() as connection:  # back to the pool afterwards
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(POSTGRES_ADMIN_URL)
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()

    tracker = await store.retrieve("jane")

    assert tracker is not None
    assert [event.message_id for event in tracker.events if isinstance(event, UserUttered)] == [
        "m1"
    ]
    store.engine.dispose()
