"""What one ``rasa run`` process shares between its channels: the social store and its tables.

The Facebook, X and workspace channels of a process use one engine (one connection pool) for the
social store named by ``social_store.url`` in the endpoints file, and one output guard. The call
to action is the process's too: ``PublicThreadPolicy`` sets its response and cooldown from
``config.yml`` when the model loads; the output channels know the call to action by that response,
and the guard's limiter (``bot.cta_limits``) enforces the same cooldown.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.consumers import ConsumerFlags
from bot.guard import OutboundGuard
from bot.handoff.agents import AgentDirectory
from bot.handoff.handoffs import HandoffStore
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.origins import PublicOrigins
from bot.outbound import OutboundLog
from bot.public_thread import CTA_RESPONSE
from bot.routing import RoutingFile, load_routing
from bot.routing.loader import domain_names
from bot.settings import process_environment
from bot.store import SocialStore, store_url_from_endpoints

__all__ = [
    "CallToAction",
    "agent_directory",
    "call_to_action",
    "consumer_flags",
    "handoff_store",
    "identity_links",
    "outbound_log",
    "public_origins",
    "set_call_to_action",
    "shared_guard",
    "shared_inbox",
    "shared_routing",
    "shared_store",
]

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_stores: dict[str, SocialStore] = {}
_routing: dict[tuple[Path, Path | None, float], RoutingFile] = {}
_guard = OutboundGuard()


@dataclass(frozen=True)
class CallToAction:
    """The call to action as the policy knows it: its response, and one per author and thread
    within ``cooldown``."""

    response: str = CTA_RESPONSE
    cooldown: timedelta = timedelta(hours=24)


_call_to_action = CallToAction()


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


def handoff_store(endpoints: Path) -> HandoffStore:
    """The handoffs of the process's social store."""
    return HandoffStore(shared_store(endpoints))


def agent_directory(endpoints: Path) -> AgentDirectory:
    """The agents of the process's social store."""
    return AgentDirectory(shared_store(endpoints))


def shared_routing(path: Path, domain: Path | None = None) -> RoutingFile:
    """The routing file, validated (against ``domain`` when given); read again once changed.

    Raises:
        ConfigurationError: the file is wrong; the message names the line.
    """
    try:
        changed = path.stat().st_mtime
    except OSError:
        changed = 0.0
    key = (path.resolve(), domain.resolve() if domain else None, changed)
    with _lock:
        routing = _routing.get(key)
        if routing is None:
            routing = load_routing(path, domain_names(domain) if domain else None)
            _routing.clear()
            _routing[key] = routing
        return routing


def set_call_to_action(cta: CallToAction) -> None:
    """Sets the process's call to action (``PublicThreadPolicy`` does, from config.yml)."""
    global _call_to_action
    _call_to_action = cta


def call_to_action() -> CallToAction:
    """The process's call to action: the defaults until the policy is loaded."""
    return _call_to_action
