"""What one ``rasa run`` process shares between its channels: the social store and its tables.

The Facebook, X and workspace channels of a process use one engine (one connection pool) for the
social store named by ``social_store.url`` in the endpoints file, and one output guard. The call
to action's cooldown is the process's too: ``PublicThreadPolicy`` sets it from ``config.yml`` when
the model loads, and the guard's limiter (``bot.cta_limits``) enforces the same window.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from bot.consumers import ConsumerFlags
from bot.guard import OutboundGuard
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.origins import PublicOrigins
from bot.outbound import OutboundLog
from bot.settings import process_environment
from bot.store import SocialStore, store_url_from_endpoints

__all__ = [
    "DEFAULT_CTA_COOLDOWN",
    "consumer_flags",
    "cta_cooldown",
    "identity_links",
    "outbound_log",
    "public_origins",
    "set_cta_cooldown",
    "shared_guard",
    "shared_inbox",
    "shared_store",
]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[str, SocialStore] = {}
_guard = OutboundGuard()
DEFAULT_CTA_COOLDOWN = timedelta(hours=24)
_cta_cooldown = DEFAULT_CTA_COOLDOWN


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


def shared_guard() -> OutboundGuard:
    """The process's output guard (its counters are the process's refusals)."""
    return _guard


def shared_inbox(endpoints: Path) -> Inbox:
    """The inbox of the process's social store."""
    return Inbox(shared_store(endpoints))


def outbound_log(endpoints: Path) -> OutboundLog:
    """The outbound log of the process's social store."""
    return OutboundLog(shared_store(endpoints))


def identity_links(endpoints: Path) -> IdentityLinks:
    """The identity links of the process's social store."""
    return IdentityLinks(shared_store(endpoints))


def consumer_flags(endpoints: Path) -> ConsumerFlags:
    """The conversation flags of the process's social store."""
    return ConsumerFlags(shared_store(endpoints))


def public_origins(endpoints: Path) -> PublicOrigins:
    """The public origins of calls to action, in the process's social store."""
    return PublicOrigins(shared_store(endpoints))


def set_cta_cooldown(cooldown: timedelta) -> None:
    """Sets the process's call-to-action cooldown (``PublicThreadPolicy`` does, from config.yml)."""
    global _cta_cooldown
    _cta_cooldown = cooldown


def cta_cooldown() -> timedelta:
    """The process's call-to-action cooldown: one per author and thread within it."""
    return _cta_cooldown
