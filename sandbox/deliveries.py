"""Webhook deliveries: POST the signed bytes, retry as the platform does, record every attempt.

First attempts go out in the order the events happened, one at a time per platform by default (so
a healthy webhook sees them in order) or ``senders`` at a time, as a platform does under load;
retries run on their own schedule. Facebook keeps retrying with exponential backoff (Meta: "with
decreasing frequency over the next 36 hours"); X's Account Activity API tries three times in all
over about five minutes, then the event is gone.

The POSTs go through aiohttp, not httpx: with its C parser a delivery costs the sandbox 0.2-0.4 ms
of CPU instead of 1.1-1.5 ms through httpx's pure-Python h11, and during a burst the sandbox shares
the machine with the webhook it measures. Bodies and headers go out exactly as given (the
signature covers the bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.clock import Clock
from sandbox.records import Attempt, Delivery

__all__ = ["Deliverer", "RetrySchedule", "facebook_schedule", "webhook_session", "x_schedule"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrySchedule:
    """When to try again after a failed attempt, and how long to wait for an answer.

    Args:
        delays: seconds before each retry; past the list, the last delay doubles each time
            until ``cap`` when ``keep_trying``, else the delivery is gone.
        keep_trying: retry until ``max_age`` (Facebook) or stop after the list (X).
        timeout: seconds the platform waits for the webhook's answer.
    """

    delays: tuple[float, ...]
    keep_trying: bool
    timeout: float
    cap: float = 900.0
    max_age: float = 36 * 3600.0

    def delay_before(self, retry: int) -> float | None:
        """Seconds before retry number ``retry`` (1-based), or None when the platform gives up."""
        if retry <= len(self.delays):
            return self.delays[retry - 1]
        if not self.keep_trying:
            return None
        return min(self.cap, self.delays[-1] * 2.0 ** (retry - len(self.delays)))


def facebook_schedule(scale: float, timeout: float) -> RetrySchedule:
    """Meta: retry at once, then back off exponentially (5 s, 10 s, 20 s ... 15 min) for 36 h."""
    return RetrySchedule(
        delays=(0.0, 5 * scale),
        keep_trying=True,
        timeout=timeout,
        cap=900 * scale,
        max_age=36 * 3600 * max(scale, 1e-3),
    )


def x_schedule(scale: float, timeout: float) -> RetrySchedule:
    """X Account Activity API: three attempts in all, about 5 minutes apart in total."""
    return RetrySchedule(delays=(60 * scale, 240 * scale), keep_trying=False, timeout=timeout)


def webhook_session() -> aiohttp.ClientSession:
    """The session deliveries are POSTed through; create it in the loop that will use it."""
    return aiohttp.ClientSession(
        # Sanic, under Rasa, closes a connection idle for 5 s: dropping ours first means no POST
        # goes out on a connection the webhook is closing (aiohttp's default keeps them 15 s).
        connector=aiohttp.TCPConnector(keepalive_timeout=4.0),
        headers={"User-Agent": "sandbox"},
        # Each delivery names its Content-Type; without one, aiohttp would add its own.
        skip_auto_headers=("Content-Type",),
    )


class Deliverer:
    """Sends deliveries and keeps their records.

    Args:
        session: the aiohttp session that POSTs to the webhooks (``webhook_session()``); its
            owner closes it.
        schedules: the retry schedule of each platform (``facebook``, ``x``).
        clock: the sandbox clock (attempt times).
        targets: each platform's webhook URLs; with several, attempts take turns among them (a
            load balancer in front of replicas), retries included.
        senders: deliveries in flight at once per platform (1: strictly one after the other).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        schedules: dict[str, RetrySchedule],
        clock: Clock,
        *,
        targets: dict[str, tuple[str, ...]] | None = None,
        senders: int = 1,
    ) -> None:
        self.session = session
        self.schedules = schedules
        self._timeouts = {
            platform: aiohttp.ClientTimeout(total=schedule.timeout)
            for platform, schedule in schedules.items()
        }
        self.clock = clock
        self._targets = {
            platform: itertools.cycle(urls) for platform, urls in (targets or {}).items() if urls
        }
        self._sender_count = senders
        self.deliveries: dict[str, Delivery] = {}
        self._seq = 0
        self._queues: dict[str, asyncio.Queue[Delivery]] = {}
        self._senders: list[asyncio.Task[None]] = []
        self._retries: set[asyncio.Task[None]] = set()
        self._first_attempt: dict[str, asyncio.Event] = {}

    def start(self) -> None:
        """Starts one sender per platform (inside the running event loop)."""
        for platform in self.schedules:
            queue: asyncio.Queue[Delivery] = asyncio.Queue()
            self._queues[platform] = queue
            for _ in range(self._sender_count):
                self._senders.append(asyncio.create_task(self._send_in_order(queue)))

    def _spawn_retry(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def stop(self) -> None:
        """Cancels every sender and pending retry."""
        tasks = [*self._senders, *self._retries]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._senders.clear()

    def submit(
        self, platform: str, kind: str, url: str, body: bytes, headers: dict[str, str]
    ) -> Delivery:
        """Queues one delivery; returns its record at once."""
        self._seq += 1
        delivery = Delivery(
            id=f"dlv_{self._seq:06d}_{time.time_ns() % 10**6:06d}",
            seq=self._seq,
            platform=platform,
            kind=kind,
            url=url,
            body=body,
            headers=headers,
        )
        self.deliveries[delivery.id] = delivery
        self._first_attempt[delivery.id] = asyncio.Event()
        self._queues[platform].put_nowait(delivery)
        return delivery

    async def wait_first_attempt(self, delivery: Delivery, timeout: float) -> None:
        """Returns once the delivery's first attempt has an outcome (or after ``timeout``)."""
        event = self._first_attempt.get(delivery.id)
        if event is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)

    def clear(self) -> None:
        """Forgets every delivery and cancels the pending retries (sandbox reset)."""
        for task in list(self._retries):
            task.cancel()
        self.deliveries.clear()
        self._first_attempt.clear()
        for queue in self._queues.values():
            while not queue.empty():
                queue.get_nowait()

    async def _send_in_order(self, queue: asyncio.Queue[Delivery]) -> None:
        while True:
            delivery = await queue.get()
            if delivery.id not in self.deliveries:
                continue  # cleared by a reset while queued
            delivered = await self._attempt(delivery)
            event = self._first_attempt.pop(delivery.id, None)
            if event is not None:
                event.set()
            if not delivered:
                self._spawn_retry(self._retry(delivery, started=time.monotonic()))

    async def _retry(self, delivery: Delivery, started: float) -> None:
        schedule = self.schedules[delivery.platform]
        retry = 1
        while delivery.id in self.deliveries:
            delay = schedule.delay_before(retry)
            if delay is None or time.monotonic() - started + delay > schedule.max_age:
                delivery.outcome = "gone"
                logger.info("delivery %s gone after %d attempts", delivery.id, retry)
                return
            delivery.outcome = "retrying"
            await asyncio.sleep(delay)
            if delivery.id not in self.deliveries:
                return  # cleared by a reset
            if await self._attempt(delivery):
                return
            retry += 1

    async def _attempt(self, delivery: Delivery) -> bool:
        schedule = self.schedules[delivery.platform]
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        targets = self._targets.get(delivery.platform)
        if targets is not None:
            delivery.url = next(targets)
        try:
            async with self.session.post(
                delivery.url,
                data=delivery.body,
                headers=delivery.headers,
                allow_redirects=False,  # a 3xx is the webhook's answer (recorded, retried)
                timeout=self._timeouts[delivery.platform],
            ) as response:
                await response.read()
                status = response.status
        except asyncio.TimeoutError:
            error = f"no answer within {schedule.timeout:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed_ms = (time.monotonic() - started) * 1000
        attempt = Attempt(len(delivery.attempts) + 1, self.clock.now(), status, elapsed_ms, error)
        delivery.attempts.append(attempt)
        delivered = status == 200
        if delivered:
            delivery.outcome = "delivered"
        logger.info(
            "delivery %s %s %s attempt %d: %s in %.0f ms",
            delivery.id,
            delivery.platform,
            delivery.kind,
            attempt.number,
            status if status is not None else error,
            elapsed_ms,
        )
        return delivered
