"""SQLite writers of one process take turns (bot/sqlite_writers.py), on real database files."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.sqlite_writers import TurnTakingConnection, writers_lock
from bot.store import SocialStore


def _connect(path: Path, **options: object) -> TurnTakingConnection:
    connection = sqlite3.connect(
        str(path), factory=TurnTakingConnection, check_same_thread=False, **options
    )
    assert isinstance(connection, TurnTakingConnection)
    return connection


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "social.db"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    return path


def _in_another_thread(work: object) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()  # type: ignore[operator]
        except BaseException as error:  # handed to the test
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_a_second_writer_waits_for_the_first_to_commit_not_for_sqlite(database: Path) -> None:
    # timeout=0: SQLite's busy handler gives up at once ("database is locked"); the second
    # writer succeeds only by waiting for its turn.
    first, second = _connect(database, timeout=0), _connect(database, timeout=0)
    first.execute("INSERT INTO t VALUES (1)")  # a write transaction left open

    thread, errors = _in_another_thread(
        lambda: (second.execute("INSERT INTO t VALUES (2)"), second.commit())
    )
    thread.join(0.2)
    assert thread.is_alive()  # waiting for its turn
    first.commit()
    thread.join(5)

    assert not thread.is_alive()
    assert errors == []
    assert sorted(row[0] for row in first.execute("SELECT x FROM t")) == [1, 2]


def test_without_turns_the_second_writer_meets_sqlite_s_lock(database: Path) -> None:
    # What the turns replace: the same two writers on plain connections.
    first, second = sqlite3.connect(database, timeout=0), sqlite3.connect(database, timeout=0)
    first.execute("INSERT INTO t VALUES (1)")

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.rollback()


def test_readers_never_wait_for_a_writer(database: Path) -> None:
    writer, reader = _connect(database), _connect(database)
    writer.execute("INSERT INTO t VALUES (1)")

    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # at once, in WAL
    writer.commit()
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_the_end_of_a_transaction_gives_the_turn_back(database: Path, end: str) -> None:
    connection = _connect(database)
    turn = writers_lock(str(database))
    connection.execute("UPDATE t SET x = 1")
    assert turn.locked()

    getattr(connection, end)()

    assert not turn.locked()


def test_a_write_outside_a_transaction_gives_the_turn_back_at_once(database: Path) -> None:
    connection = _connect(database, isolation_level=None)  # autocommit

    connection.execute("INSERT INTO t VALUES (1)")

    assert not writers_lock(str(database)).locked()


def test_a_failed_write_still_ends_with_the_turn_given_back(database: Path) -> None:
    connection = _connect(database)
    with pytest.raises(sqlite3.OperationalError):
        connection.execute("INSERT INTO missing VALUES (1)")
    connection.rollback()

    assert not writers_lock(str(database)).locked()


def test_one_turn_per_file_whatever_the_path_says(database: Path) -> None:
    same = database.parent / "." / database.name
    assert writers_lock(str(same)) is writers_lock(str(database))
    assert writers_lock(str(database.parent / "other.db")) is not writers_lock(str(database))


def test_the_social_store_s_sqlite_connections_take_turns(tmp_path: Path) -> None:
    store = SocialStore.from_url(f"sqlite:///{tmp_path / 'social.db'}")
    store.upgrade()
    turn = writers_lock(str(tmp_path / "social.db"))
    try:
        with store.engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with store.engine.begin() as connection:
            assert isinstance(connection.connection.dbapi_connection, TurnTakingConnection)
            connection.execute(text("INSERT INTO t VALUES (1)"))
            assert turn.locked()
        assert not turn.locked()
    finally:
        store.dispose()
