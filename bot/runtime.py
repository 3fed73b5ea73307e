"""What one ``rasa run`` process shares between its channels: the social store and its inbox.

The Facebook, X and workspace channels of a process use one engine (one connection pool) for the
social store named by ``social_store.url`` in the endpoints file.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bot.settings import process_environment
from bot.store import SocialStore, store_url_from_endpoints

__all__ = ["shared_store"]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[str, SocialStore] = {}


def shared_store(endpoints: Path) -> SocialStore:
    """The process's social store of ``endpoints`` (``social_store.url``), migrated to the head.

    Raises:
        ConfigurationError: the endpoints file or the URL is wrong.
        StoreError: the database cannot be reached or migrated.
    """
    url = store_url_from_endpoints(endpoints, process_environment())
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = SocialStore.from_url(url, root=endpoints.resolve().parent)
            store.upgrade()
            logger.info("social store ready (%s)", store.engine.dialect.name)
            _stores[url] = store
        return store
