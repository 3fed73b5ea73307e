"""Prometheus metrics of the social-care path, served at ``/metrics`` on the Rasa server.

Counters and histograms are updated where things happen (webhook, inbox worker, platform clients,
guard); the inbox's depth and age, and the handoffs' outcomes per skill and queue waits, are read
from the shared social store at each scrape, so every replica reports the same store-wide values
(aggregate them with ``max``, not ``sum``). Handoffs are counted in the store because they change
state in two processes: the action server queues them, the workspace of any replica accepts and
closes them (``bot.handoff.tallies``). Label values come from small fixed sets (platforms, sources,
kinds, outcomes, skip reasons), never from ids or texts.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from bot.errors import StoreError
from bot.handoff.handoffs import HandoffStore
from bot.inbox import Inbox, InboxStatus

__all__ = [
    "CALL_SECONDS",
    "CTA_SENT",
    "GUARD_REFUSALS",
    "INBOUND_EVENTS",
    "INBOX_PROCESSED",
    "MALFORMED_REASON",
    "OUTBOUND_CALLS",
    "PRIVATE_ARRIVALS",
    "REGISTRY",
    "SKIPPED_EVENTS",
    "WEBHOOK_SECONDS",
    "HandoffCollector",
    "InboxCollector",
    "reason_label",
    "since",
    "watch_handoffs",
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
# The skip reason of every malformed item: the detail (which field, why) goes to the log only.
MALFORMED_REASON = "malformed item"
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


class HandoffCollector(Collector):
    """Reports the handoffs per skill: outcomes, queue waits, and the queues now."""

    def __init__(self, handoffs: Callable[[], HandoffStore]) -> None:
        self._handoffs = handoffs

    def collect(self) -> Iterator[Metric]:
        """Read at each scrape; a store failure yields nothing rather than a failed scrape."""
        outcomes = CounterMetricFamily(
            "social_handoffs",
            "Handoffs by skill and outcome: queued (created in the skill or transferred to it), "
            "accepted, transferred (given back to a queue), closed, cancelled (by the consumer).",
            labels=["skill", "outcome"],
        )
        waits = HistogramMetricFamily(
            "social_handoff_queue_wait_seconds",
            "Time from entering the skill's queue (creation, or a transfer) to an agent accepting.",
            labels=["skill"],
        )
        waiting = GaugeMetricFamily(
            "social_handoffs_waiting", "Handoffs in the skill's queue now.", labels=["skill"]
        )
        oldest = GaugeMetricFamily(
            "social_handoff_oldest_wait_seconds",
            "How long the skill's longest-waiting handoff has waited (its place in line).",
            labels=["skill"],
        )
        try:
            tallies = self._handoffs().tallies()
        except StoreError:
            logger.warning("metrics: the handoffs could not be read", exc_info=True)
            return
        for (skill, outcome), total in sorted(tallies.counts.items()):
            outcomes.add_metric([skill, outcome], total)
        for skill, histogram in sorted(tallies.waits.items()):
            waits.add_metric([skill], histogram.buckets, histogram.total_seconds)
        now = datetime.now(timezone.utc)
        for skill, (size, since_when) in sorted(tallies.waiting.items()):
            waiting.add_metric([skill], size)
            oldest.add_metric([skill], max(0.0, (now - since_when).total_seconds()))
        yield from (outcomes, waits, waiting, oldest)


_watched: dict[str, Collector] = {}


def _watch(what: str, collector: Collector) -> None:
    """Reports ``collector`` at every scrape, instead of the one watched before for ``what``."""
    previous = _watched.pop(what, None)
    if previous is not None:
        REGISTRY.unregister(previous)
    REGISTRY.register(collector)
    _watched[what] = collector


def watch_inbox(inbox: Callable[[], Inbox]) -> None:
    """Reports ``inbox`` at every scrape, instead of any inbox watched before."""
    _watch("inbox", InboxCollector(inbox))


def watch_handoffs(handoffs: Callable[[], HandoffStore]) -> None:
    """Reports ``handoffs`` at every scrape, instead of any handoffs watched before."""
    _watch("handoffs", HandoffCollector(handoffs))


def reason_label(reason: str) -> str:
    """A skip reason as a label value: ids (digit runs) folded to ``N``, at most 60 characters."""
    return re.sub(r"\d+", "N", reason)[:60]


def since(started: float) -> float:
    """Seconds since ``started`` (a ``time.perf_counter()`` value)."""
    return time.perf_counter() - started
