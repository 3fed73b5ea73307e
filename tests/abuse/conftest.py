"""Fixtures of the abuse tests."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from bot.store import SocialStore


def _no_fsync(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


@pytest.fixture
def unsynced_store(store: SocialStore) -> SocialStore:
    """The ``store``, where SQLite does not wait for the disk at each commit.

    For tests that store hundreds of events first: durability after a power cut is not what
    they test, and an fsync per insert costs seconds on a busy machine. PostgreSQL is as is.
    """
    if store.engine.dialect.name == "sqlite":
        event.listen(store.engine, "connect", _no_fsync)
        store.engine.dispose()
    return store
