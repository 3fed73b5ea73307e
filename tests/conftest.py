"""Fixtures shared by every test package."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.future import create_engine

from bot.store import SocialStore
from tests.services import fresh_postgres_database


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end; yields its URL.

    PostgreSQL down: the tests that need it fail under ``CI=true`` and skip elsewhere.
    """
    with fresh_postgres_database("social_test") as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty social store database on SQLite (a file) and on PostgreSQL (a fresh schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'social.db'}"
        return
    base = request.getfixturevalue("postgres_database")
    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[SocialStore]:
    """A migrated, empty social store on each supported database."""
    social_store = SocialStore.from_url(store_url)
    social_store.upgrade()
    yield social_store
    social_store.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SocialStore]:
    """A migrated, empty social store in a SQLite file, for tests that need one database only."""
    social_store = SocialStore.from_url(f"sqlite:///{tmp_path / 'social.db'}")
    social_store.upgrade()
    yield social_store
    social_store.dispose()
