"""SQLite writers of one process take turns on a lock instead of SQLite's busy handler.

SQLite lets one connection write at a time. A second writer waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10, 15, 20, 25... ms between its tries: a webhook delivery whose insert
met the bot's write (a millisecond's work) slept up to tens of milliseconds, and every
delivery queued behind it waited too (the webhook's p99 in ``benchmarks/channels.py``). Within
this process, writers now take turns on a lock kept per database file: a writer goes on the
moment the previous one commits. Writers in other processes on the same file (another replica,
the ``bot`` commands) still meet the busy handler, as before.

A connection takes its turn at its first write statement and gives it back when its transaction
ends (commit, rollback, close, or a write that ran outside a transaction). Reads never wait:
in WAL mode they do not block writers, nor writers them.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["BUSY_TIMEOUT", "TurnTakingConnection", "writers_lock"]

BUSY_TIMEOUT = 5.0  # seconds a writer waits for SQLite's write lock (its busy_timeout)

# Statements that take SQLite's write lock (DML and DDL); anything else reads.
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def writers_lock(database: str) -> threading.Lock:
    """The lock the writers of ``database`` (a file path) take turns on in this process."""
    key = os.path.realpath(database)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class _TurnTakingCursor(sqlite3.Cursor):
    connection: TurnTakingConnection

    def execute(self, sql: str, parameters: Any = (), /) -> _TurnTakingCursor:
        with self.connection.statement(sql):
            super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> _TurnTakingCursor:
        with self.connection.statement(sql):
            super().executemany(sql, seq_of_parameters)
        return self


class TurnTakingConnection(sqlite3.Connection):
    """``sqlite3.connect(..., factory=TurnTakingConnection)``: a file database's connection whose
    writes take turns with the other connections of this process (see the module)."""

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._turn = writers_lock(os.fsdecode(database))
        self._holding = False

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _TurnTakingCursor)

    @contextlib.contextmanager
    def statement(self, sql: str) -> Iterator[None]:
        """Around a statement: a write waits for this connection's turn to write; a write that
        ran outside a transaction gives the turn back at once."""
        if not self._holding and _WRITES.match(sql):
            # Not longer than SQLite would have waited: after BUSY_TIMEOUT the statement goes on
            # without its turn, and SQLite answers it (usually "database is locked").
            self._holding = self._turn.acquire(timeout=BUSY_TIMEOUT)
        try:
            yield
        finally:
            if self._holding and not self.in_transaction:
                self._give_back()

    def _give_back(self) -> None:
        if self._holding:
            self._holding = False
            self._turn.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._give_back()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._give_back()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._give_back()
