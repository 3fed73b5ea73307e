"""``InboxWorker``: claims stored events and hands each to a handler, once, in conversation order.

One worker runs in every ``rasa run`` process (per channel). It wakes when a webhook stored
something (``notify()``) and polls for the rest (other replicas' events, retries, expired leases).
While it processes an event it renews the event's lease every third of the lease: only a worker
that is gone (killed, cut off from the store) lets its leases expire, and then any replica takes
its events back, whichever host it runs on.
Events of different conversations run concurrently, up to ``concurrency``; events of one
conversation never do (the inbox hands out only the oldest unfinished one).

Under load, events are claimed in batches: while turns run, the worker claims again once
``batch_size`` slots are free (or ``batch_wait`` seconds after a slot freed), and hands each
claimed batch to ``prepare`` before the turns start (the Rasa channels understand the texts of a
batch in one pass: ``bot.nlu``). With nothing running, an event is claimed at once.

A handler failure is retried with exponential backoff (``RateLimited`` waits at least its
``retry_after``); a ``PermanentPlatformError`` or ``max_attempts`` failures park the event, where
``python -m bot inbox replay`` finds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.errors import PermanentPlatformError, RateLimited, StoreError
from bot.inbox import Inbox, InboxRecord
from bot.metrics import INBOX_PROCESSED, INBOX_PROCESSING_SECONDS

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "BatchPreparer",
    "InboxHandler",
    "InboxWorker",
    "RetryPolicy",
    "dead_local_claimants",
    "worker_identity",
]

logger = logging.getLogger(__name__)

InboxHandler = Callable[[InboxRecord], Awaitable[None]]
BatchPreparer = Callable[[list[InboxRecord]], Awaitable[None]]

# How long the events of a worker that died wait for another host's worker (on its own host, a
# restarted process takes them back at once). ``inbox_lease_seconds`` in credentials.yml.
DEFAULT_LEASE_SECONDS = 60.0


def worker_identity() -> str:
    """``host:pid:random``: unique per worker, readable in the inbox's ``claimed_by``."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _host() -> str:
    """The host name, and the PID namespace where there is one (``web-1~4026531836``).

    Containers that share a host name (``network_mode: host``, a fixed ``hostname:``) have PID
    namespaces of their own: a pid seen from one says nothing of the others, whose claims are
    then left to their leases rather than taken from a live replica.
    """
    host = socket.gethostname()[:32]
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return host
    return f"{host}~{namespace.strip('pid:[]')}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    return True


def dead_local_claimants(claimants: list[str], host: str | None = None) -> list[str]:
    """The claimants of this host whose process is gone (a crashed ``rasa run``).

    Claims of other hosts are left to their leases: their processes cannot be seen from here.
    """
    host = host or _host()
    dead = []
    for claimant in claimants:
        parts = claimant.rsplit(":", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid != os.getpid() and not _process_alive(pid):
            dead.append(claimant)
    return dead


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed event is tried again, and when it is parked instead.

    Attributes:
        max_attempts: tries in all; then the event is parked.
        first_delay: seconds before the second try, doubled for each further one.
        max_delay: the longest backoff.
        max_rate_limit_wait: the longest a rate limit is waited out; a platform asking for more
            (or for an infinite wait) is tried again after this long.
    """

    max_attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 300.0
    max_rate_limit_wait: float = 24 * 3600.0

    def delay(self, attempts: int, error: BaseException) -> float | None:
        """Seconds until the next try after ``attempts`` tries, or None to park the event."""
        if isinstance(error, PermanentPlatformError) or attempts >= self.max_attempts:
            return None
        backoff: float = min(self.max_delay, self.first_delay * 2.0 ** (attempts - 1))
        if isinstance(error, RateLimited):
            asked = 0.0 if math.isnan(error.retry_after) else error.retry_after
            return max(backoff, min(asked, self.max_rate_limit_wait))
        return backoff


class InboxWorker:
    """Processes the inbox's events of one platform with ``handler``.

    Args:
        inbox: the inbox of the social store.
        handler: feeds one event to the bot; raising means "try again later".
        platform: only events of this platform (``None``: all).
        concurrency: how many conversations are processed at once.
        lease: how long a claim holds without renewal; a worker that dies releases its events
            after it (renewed every third of it while an event is processed).
        poll_interval: seconds between looks at the inbox when nobody calls ``notify()``.
        prepare: called with each batch of claimed events before their turns start; a failure
            is logged and the turns start unprepared.
        batch_size: while turns run, how many slots must be free before the worker claims again.
        batch_wait: seconds after which it claims for fewer free slots.
    """

    def __init__(
        self,
        inbox: Inbox,
        handler: InboxHandler,
        *,
        platform: str | None = None,
        concurrency: int = 8,
        lease: timedelta = timedelta(seconds=DEFAULT_LEASE_SECONDS),
        poll_interval: float = 0.5,
        retry: RetryPolicy | None = None,
        worker_id: str | None = None,
        prepare: BatchPreparer | None = None,
        batch_size: int = 1,
        batch_wait: float = 0.05,
    ) -> None:
        self._inbox = inbox
        self._handler = handler
        self._platform = platform
        self._concurrency = concurrency
        self._lease = lease
        self._poll_interval = poll_interval
        self._retry = retry or RetryPolicy()
        self.worker_id = worker_id or worker_identity()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        self._held: set[int] = set()  # ids of the events being processed: their leases renewed
        self._loop_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._renew_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._prepare = prepare
        self._batch_size = max(1, min(batch_size, concurrency))
        self._batch_wait = batch_wait
        self._short_since: float | None = None  # when a slot freed that is not claimed yet

    def notify(self) -> None:
        """Something was stored: look at the inbox now rather than at the next poll.

        Safe from any thread (the webhooks run on the server's loop, the worker may not).
        """
        loop = self._loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is None or running is loop:
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        """Starts the worker on the running event loop.

        First it takes back the events of a crashed process of this host, so a restart answers
        them at once instead of after their leases.
        """
        if self._loop_task is None:
            self._stopping = False
            self._loop = asyncio.get_running_loop()
            self._loop_task = self._loop.create_task(self._run())
            self._renew_task = self._loop.create_task(self._renew_leases())

    async def recover(self) -> int:
        """Releases the claims of dead workers of this host; returns how many events."""
        try:
            claimants = await asyncio.to_thread(self._inbox.claimants)
            dead = dead_local_claimants(claimants)
            released = await asyncio.to_thread(self._inbox.release_claims, dead)
        except StoreError:
            logger.exception("recovering the claims of crashed workers failed")
            return 0
        if released:
            logger.warning(
                "took back %d inbox event(s) of crashed worker(s) %s", released, ", ".join(dead)
            )
        return released

    async def stop(self, timeout: float = 10.0) -> None:
        """Stops claiming and waits up to ``timeout`` s for the events in flight.

        Events already claimed are processed, not dropped; what is still running after the
        timeout is released when its lease expires.
        """
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._loop_task), timeout)
            except asyncio.TimeoutError:
                self._loop_task.cancel()
            self._loop_task = None
        if self._running:
            await asyncio.wait(self._running, timeout=timeout)
        if self._renew_task is not None:
            self._renew_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renew_task
            self._renew_task = None

    async def run_once(self) -> int:
        """Claims and processes one batch; returns how many events it took (for tests, tools)."""
        records = await self._claim(self._concurrency)
        await self._prepared(records)
        await asyncio.gather(*(self._process(record) for record in records))
        return len(records)

    async def _run(self) -> None:
        await self.recover()
        while not self._stopping:
            try:
                more_waiting = await self._start_some()
            except Exception:  # the loop is the worker's outermost layer: log, go on
                logger.exception("the inbox worker failed to take events; it goes on")
                more_waiting = False
            if self._stopping:
                break
            if more_waiting:
                continue
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._next_look())

    def _next_look(self) -> float:
        """Seconds until the worker looks at the inbox again unless woken."""
        if self._short_since is None:
            return self._poll_interval
        waited = asyncio.get_running_loop().time() - self._short_since
        return max(0.0, min(self._poll_interval, self._batch_wait - waited))

    def _claims_now(self, free: int) -> bool:
        """Whether ``free`` slots are worth a claim now, or worth waiting for more."""
        if free <= 0:
            return False
        if not self._running or free >= self._batch_size:
            self._short_since = None
            return True
        now = asyncio.get_running_loop().time()
        if self._short_since is None:
            self._short_since = now
        if now - self._short_since >= self._batch_wait:
            self._short_since = None
            return True
        return False

    async def _start_some(self) -> bool:
        """Claims what the free slots can take and starts it; True when more may be waiting."""
        free = self._concurrency - len(self._running)
        claimed = await self._claim(free) if self._claims_now(free) else []
        records = [record for record in claimed if not self._held_already(record)]
        self._held.update(record.id for record in records)  # renewed while being prepared
        await self._prepared(records)
        for record in records:
            task = asyncio.get_running_loop().create_task(self._process(record))
            self._running.add(task)
            task.add_done_callback(self._finished)
        return bool(claimed) and len(claimed) == free

    async def _prepared(self, records: list[InboxRecord]) -> None:
        if self._prepare is None or not records:
            return
        try:
            await self._prepare(records)
        except Exception:  # preparing is an optimisation: the turns go on without it
            logger.exception("preparing %d inbox event(s) failed", len(records))

    def _held_already(self, record: InboxRecord) -> bool:
        if record.id not in self._held:
            return False
        # Its lease ran out before this worker renewed it (a loop held up for longer than the
        # lease) and this worker claimed it again: the claim is a renewal, the turn already
        # runs here and is not started twice.
        logger.warning("inbox event %s: lease renewed late; the turn goes on", record.id)
        return True

    async def _renew_leases(self) -> None:
        interval = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            held = list(self._held)
            if not held:
                continue
            try:
                renewed = await asyncio.to_thread(
                    self._inbox.renew, self.worker_id, held, lease=self._lease
                )
            except StoreError:
                logger.exception("renewing the leases of %d inbox event(s) failed", len(held))
                continue
            if renewed < len(held):
                # Finished meanwhile, or taken over after this process could not renew in time.
                logger.debug("renewed %d of %d inbox leases", renewed, len(held))

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a conversation's next event may now be claimable

    async def _claim(self, limit: int) -> list[InboxRecord]:
        try:
            return await asyncio.to_thread(
                self._inbox.claim,
                self.worker_id,
                lease=self._lease,
                limit=limit,
                platform=self._platform,
            )
        except StoreError:
            logger.exception("claiming inbox events failed; trying again shortly")
            return []

    async def _process(self, record: InboxRecord) -> None:
        started = time.perf_counter()
        self._held.add(record.id)
        try:
            await self._handler(record)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - the worker must survive any handler failure
            try:
                await self._failed(record, error)
            except Exception:  # the outermost layer of the event's task
                # The claim stays until its lease expires; then the event is tried again.
                logger.exception("inbox event %s: its failure could not be recorded", record.id)
            return
        finally:
            self._held.discard(record.id)
        elapsed = (time.perf_counter() - started) * 1000
        platform = record.event.context.platform.value
        INBOX_PROCESSED.labels(platform, "done").inc()
        INBOX_PROCESSING_SECONDS.labels(platform).observe(elapsed / 1000)
        logger.info(
            "inbox event %s processed: sender=%s attempt=%d elapsed_ms=%.0f",
            record.id,
            record.sender_id,
            record.attempts + 1,
            elapsed,
        )
        await self._store_call(self._inbox.complete, record, self.worker_id)

    async def _failed(self, record: InboxRecord, error: Exception) -> None:
        attempts = record.attempts + 1
        delay = self._retry.delay(attempts, error)
        description = f"{type(error).__name__}: {error}"
        outcome = "parked" if delay is None else "retry"
        INBOX_PROCESSED.labels(record.event.context.platform.value, outcome).inc()
        if delay is None:
            logger.error(
                "inbox event %s parked after %d attempt(s): %s",
                record.id,
                attempts,
                description,
                exc_info=error,
            )
            await self._store_call(
                self._inbox.fail, record, self.worker_id, description, retry_at=None
            )
            return
        logger.warning(
            "inbox event %s failed (attempt %d), retrying in %.1f s: %s",
            record.id,
            attempts,
            delay,
            description,
        )
        retry_at = datetime.now(timezone.utc) + timedelta(seconds=delay)
        await self._store_call(
            self._inbox.fail, record, self.worker_id, description, retry_at=retry_at
        )

    @staticmethod
    async def _store_call(function: Callable[..., bool], *args: object, **kwargs: object) -> None:
        try:
            await asyncio.to_thread(function, *args, **kwargs)
        except StoreError:
            # The claim stays until its lease expires, then the event is claimed again: a lost
            # outcome means processed twice at worst, never lost.
            logger.exception("recording the outcome of an inbox event failed")
