"""Prometheus metrics of the social-care path, served at ``/metrics`` on the Rasa server.

Counters and histograms are updated where things happen (webhook, inbox worker, platform clients,
guard); the inbox's depth and age are read from the shared social store at each scrape, so every
replica reports the same backlog. Label values come from small fixed sets (platforms, sources,
kinds, outcomes, skip reasons), never from ids or texts.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.errors import StoreError
from bot.inbox import Inbox, InboxStatus

__all__ = [
    "CALL_SECONDS",
    "CTA_SENT",
    "GUARD_REFUSALS",
    "INBOUND_EVENTS",
    "INBOX_PROCESSED",
    "OUTBOUND_CALLS",
    "PRIVATE_ARRIVALS",
    "REGISTRY",
    "SKIPPED_EVENTS",
    "WEBHOOK_SECONDS",
    "InboxCollector",
    "reason_label",
    "since",
    "watch_inbox",
]

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

INBOUND_EVENTS = Counter(
    "social_inbound_events",
    "Consumer messages stored in the inbox, by platform, visibility and source.",
    ["platform", "visibility", "source"],
    registry=REGISTRY,
)
DUPLICATE_EVENTS = Counter(
    "social_duplicate_events",
    "Delivery items already in the inbox (platforms deliver at least once).",
    ["platform"],
    registry=REGISTRY,
)
SKIPPED_EVENTS = Counter(
    "social_skipped_events",
    "Delivery items that are not messages for the bot, by reason.",
    ["platform", "reason"],
    registry=REGISTRY,
)
REFUSED_DELIVERIES = Counter(
    "social_refused_deliveries",
    "Webhook deliveries refused, by HTTP status (bad signature, too large, malformed).",
    ["platform", "status"],
    registry=REGISTRY,
)
WEBHOOK_SECONDS = Histogram(
    "social_webhook_seconds",
    "Time to answer one webhook delivery.",
    ["platform"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
INBOX_PROCESSED = Counter(
    "social_inbox_processed",
    "Inbox events handed to the bot, by outcome (done, retry, parked).",
    ["platform", "outcome"],
    registry=REGISTRY,
)
INBOX_PROCESSING_SECONDS = Histogram(
    "social_inbox_processing_seconds",
    "Time the bot took for one inbox event, sends included.",
    ["platform"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
OUTBOUND_CALLS = Counter(
    "social_outbound_calls",
    "Platform API calls, by kind and outcome (the HTTP status, timeout or unreachable).",
    ["platform", "kind", "outcome"],
    registry=REGISTRY,
)
CALL_SECONDS = Histogram(
    "social_outbound_call_seconds",
    "Time of one platform API call.",
    ["platform", "kind"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
GUARD_REFUSALS = Counter(
    "social_guard_refusals",
    "Messages the output guard refused: automated ones to public threads (origin bot), calls to "
    "action beyond their limits (origin cta).",
    ["platform", "origin"],
    registry=REGISTRY,
)
CTA_SENT = Counter(
    "social_cta_sent",
    "Public-to-private calls to action sent.",
    ["platform"],
    registry=REGISTRY,
)
PRIVATE_ARRIVALS = Counter(
    "social_cta_private_arrivals",
    "Consumers who came into private from a public thread (m.me ref, Private Reply, DM link).",
    ["platform"],
    registry=REGISTRY,
)


class InboxCollector(Collector):
    """Reports the inbox's events per state and the age of its oldest unfinished event."""

    def __init__(self, inbox: Callable[[], Inbox]) -> None:
        self._inbox = inbox

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Read at each scrape; a store failure yields nothing rather than a failed scrape."""
        depth = GaugeMetricFamily(
            "social_inbox_events", "Inbox events in each state.", labels=["status"]
        )
        age = GaugeMetricFamily(
            "social_inbox_oldest_age_seconds",
            "Seconds since the oldest pending or processing event was received (0: none).",
        )
        try:
            inbox = self._inbox()
            counts = inbox.counts()
            oldest = inbox.oldest_unfinished_at()
        except StoreError:
            logger.warning("metrics: the inbox could not be read", exc_info=True)
            return
        for status in InboxStatus:
            depth.add_metric([status.value], counts[status])
        now = datetime.now(timezone.utc)
        age.add_metric([], (now - oldest).total_seconds() if oldest else 0.0)
        yield depth
        yield age


_watched: list[InboxCollector] = []


def watch_inbox(inbox: Callable[[], Inbox]) -> None:
    """Reports ``inbox`` at every scrape, instead of any inbox watched before."""
    while _watched:
        REGISTRY.unregister(_watched.pop())
    collector = InboxCollector(inbox)
    REGISTRY.register(collector)
    _watched.append(collector)


def reason_label(reason: str) -> str:
    """A skip reason as a label value: ids (digit runs) folded to ``N``, at most 60 characters."""
    return re.sub(r"\d+", "N", reason)[:60]


def since(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` value)."""
    return time.perf_counter() - started
