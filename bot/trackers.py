"""Rasa's tracker store for several replicas: reconnecting, and failing loudly.

``SharedSQLTrackerStore`` is Rasa's SQL tracker store whose pooled connections are checked before
use: after the database dropped them (a failover, a restarted pooler) the next read reconnects
instead of failing.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: when the database fails, a tracker is
read as missing (the turn then runs on a new, empty conversation) and saved in the process's
memory instead. The message is answered, the turn is lost from the shared tracker store, and
the other replicas (and this one after a restart) never see it. ``fail_loudly`` makes every
tracker store error raise ``TrackerStoreError`` instead: the inbox worker tries the event again,
and the replayed turn sends only what it had not sent.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, create_engine_kwargs
from sqlalchemy.orm import sessionmaker

from bot.errors import TrackerStoreError

__all__ = ["SharedSQLTrackerStore", "fail_loudly"]

logger = logging.getLogger(__name__)


class SharedSQLTrackerStore(SQLTrackerStore):
    """Rasa's ``SQL`` tracker store (the same options), with ``pool_pre_ping``.

    In ``endpoints.production.yml``: ``tracker_store: {type: bot.trackers.SharedSQLTrackerStore,
    dialect: postgresql, ...}``.
    """

    engine: Any  # SQLAlchemy's, set by SQLTrackerStore

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        url = self.engine.url  # the working database, once created through login_db
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)


def _raise(error: Exception) -> None:
    raise TrackerStoreError(f"the tracker store failed: {error}") from error


def fail_loudly(tracker_store: Any) -> None:
    """Makes Rasa's ``FailSafeTrackerStore`` raise ``TrackerStoreError`` on every error instead of
    falling back to a tracker in memory; any other tracker store raises already."""
    if isinstance(tracker_store, FailSafeTrackerStore):
        # Rasa's agent builds the wrapper without the callback its constructor accepts.
        tracker_store._on_tracker_store_error = _raise
        logger.debug("tracker store errors raise (no fallback to memory)")
