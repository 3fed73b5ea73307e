from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from bot.errors import InvalidRequest, RateLimited, StoreError, TransientPlatformError
from bot.inbox import Inbox, InboxRecord, InboxStatus
from bot.inbox_worker import InboxWorker, RetryPolicy, dead_local_claimants, worker_identity
from bot.store import SocialStore
from tests.factories import make_event

FAST_RETRY = RetryPolicy(max_attempts=3, first_delay=0.01, max_delay=0.05)


class RecordingHandler:
    """A fake bot: records what it was given, fails as told, optionally slowly."""

    def __init__(self, *, fail: dict[str, list[Exception]] | None = None, delay: float = 0.0):
        self.seen: list[str] = []
        self.fail = fail or {}
        self.delay = delay
        self.concurrent = 0
        self.max_concurrent = 0
        self.concurrent_senders: set[str] = set()
        self.started = asyncio.Event()

    async def __call__(self, record: InboxRecord) -> None:
        assert record.sender_id not in self.concurrent_senders, "a conversation ran twice at once"
        self.concurrent_senders.add(record.sender_id)
        self.started.set()
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        try:
            await asyncio.sleep(self.delay)
            self.seen.append(record.dedupe_key)
            errors = self.fail.get(record.dedupe_key)
            if errors:
                raise errors.pop(0)
        finally:
            self.concurrent -= 1
            self.concurrent_senders.discard(record.sender_id)


async def _drain(worker: InboxWorker, inbox: Inbox, timeout: float = 10.0) -> None:
    worker.start()
    worker.notify()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        counts = await asyncio.to_thread(inbox.counts)
        if counts[InboxStatus.PENDING] == 0 and counts[InboxStatus.PROCESSING] == 0:
            break
        await asyncio.sleep(0.02)
    await worker.stop()


async def test_every_event_is_processed_once_in_order_per_conversation(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    for n in range(30):
        inbox.add(make_event("messenger", dedupe_key=f"k{n:02d}", author_id=f"user{n % 4}"))
    handler = RecordingHandler(delay=0.005)
    worker = InboxWorker(inbox, handler, concurrency=4, poll_interval=0.05, retry=FAST_RETRY)

    await _drain(worker, inbox)

    assert sorted(handler.seen) == [f"k{n:02d}" for n in range(30)]
    for user in range(4):
        of_user = [key for key in handler.seen if int(key[1:]) % 4 == user]
        assert of_user == sorted(of_user)
    assert handler.max_concurrent > 1  # conversations do run side by side
    assert inbox.counts()[InboxStatus.DONE] == 30


async def test_a_transient_failure_is_retried_and_then_succeeds(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="flaky"))
    handler = RecordingHandler(
        fail={"flaky": [TransientPlatformError("5xx", platform="facebook", status=503)]}
    )
    worker = InboxWorker(inbox, handler, poll_interval=0.02, retry=FAST_RETRY)

    await _drain(worker, inbox)

    assert handler.seen == ["flaky", "flaky"]
    record = inbox.get("flaky")
    assert record is not None
    assert (record.status, record.attempts) == (InboxStatus.DONE, 2)


async def test_an_event_that_keeps_failing_is_parked_after_max_attempts(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="doomed"))
    failures: list[Exception] = [RuntimeError(f"boom {n}") for n in range(5)]
    handler = RecordingHandler(fail={"doomed": failures})
    worker = InboxWorker(inbox, handler, poll_interval=0.02, retry=FAST_RETRY)

    await _drain(worker, inbox)

    record = inbox.get("doomed")
    assert record is not None
    assert record.status is InboxStatus.PARKED
    assert record.attempts == 3
    assert record.last_error == "RuntimeError: boom 2"


async def test_a_permanent_platform_error_parks_at_once(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="refused"))
    handler = RecordingHandler(
        fail={"refused": [InvalidRequest("(#100) bad", platform="facebook", status=400)]}
    )
    worker = InboxWorker(inbox, handler, poll_interval=0.02, retry=FAST_RETRY)

    await _drain(worker, inbox)

    assert handler.seen == ["refused"]
    assert inbox.get("refused").status is InboxStatus.PARKED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("attempts", "error", "expected"),
    [
        (1, RuntimeError(), 1.0),
        (2, RuntimeError(), 2.0),
        (3, RuntimeError(), 4.0),
        (4, RuntimeError(), 8.0),
        (5, RuntimeError(), None),
        (1, RateLimited("slow down", platform="twitter", status=429, retry_after=30), 30.0),
        (1, RateLimited("", platform="facebook", retry_after=float("inf")), 86400.0),
        (1, RateLimited("", platform="facebook", retry_after=1e12), 86400.0),
        (2, RateLimited("", platform="facebook", retry_after=float("nan")), 2.0),
        (2, RateLimited("", platform="facebook", retry_after=-5), 2.0),
        (1, InvalidRequest("no", platform="facebook", status=400), None),
    ],
)
def test_retry_policy(attempts: int, error: Exception, expected: float | None) -> None:
    assert RetryPolicy(max_attempts=5, first_delay=1.0).delay(attempts, error) == expected


async def test_events_left_by_a_crashed_worker_are_processed_after_the_lease(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="orphan"))
    inbox.claim("dead-worker", lease=timedelta(milliseconds=200))
    handler = RecordingHandler()
    worker = InboxWorker(inbox, handler, poll_interval=0.05, retry=FAST_RETRY)

    await _drain(worker, inbox)

    assert handler.seen == ["orphan"]
    assert inbox.get("orphan").status is InboxStatus.DONE  # type: ignore[union-attr]


async def test_a_turn_longer_than_the_lease_keeps_its_claim(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="long-turn"))
    handler = RecordingHandler(delay=1.6)  # more than three leases
    # Long enough that a renewal (every third of it) is not late on a loaded machine.
    lease = timedelta(milliseconds=500)
    worker = InboxWorker(inbox, handler, lease=lease, poll_interval=0.02, retry=FAST_RETRY)
    worker.start()
    worker.notify()
    await asyncio.wait_for(handler.started.wait(), 5)

    taken_over = []
    for _ in range(13):  # another replica keeps trying while the turn runs
        await asyncio.sleep(0.1)
        taken_over += await asyncio.to_thread(inbox.claim, "other-replica", lease=lease)
    await worker.stop()

    assert taken_over == []
    assert handler.seen == ["long-turn"]
    assert inbox.get("long-turn").status is InboxStatus.DONE  # type: ignore[union-attr]


class UnrenewableInbox(Inbox):
    """An inbox whose lease renewals fail (the store or the loop held up for too long)."""

    def renew(self, *args: Any, **kwargs: Any) -> int:
        raise StoreError("the store is not answering")


async def test_a_worker_never_runs_a_turn_twice_when_its_own_lease_ran_out(
    store: SocialStore,
) -> None:
    inbox = UnrenewableInbox(store)
    inbox.add(make_event("messenger", dedupe_key="late-renewal"))
    handler = RecordingHandler(delay=0.8)
    lease = timedelta(milliseconds=200)
    worker = InboxWorker(inbox, handler, lease=lease, poll_interval=0.02, retry=FAST_RETRY)
    worker.start()
    worker.notify()
    await asyncio.wait_for(handler.started.wait(), 5)
    await asyncio.sleep(1.2)  # the lease ran out several times while the turn ran
    await worker.stop()

    assert handler.seen == ["late-renewal"]
    assert handler.max_concurrent == 1
    assert inbox.get("late-renewal").status is InboxStatus.DONE  # type: ignore[union-attr]


def test_only_the_holder_renews_a_claim(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="held"))
    [record] = inbox.claim("holder", lease=timedelta(seconds=1))

    assert inbox.renew("stranger", [record.id], lease=timedelta(minutes=5)) == 0
    assert inbox.renew("holder", [record.id], lease=timedelta(minutes=5)) == 1
    assert inbox.renew("holder", [], lease=timedelta(minutes=5)) == 0


async def test_stopping_finishes_the_events_in_flight(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="slow"))
    handler = RecordingHandler(delay=0.3)
    worker = InboxWorker(inbox, handler, poll_interval=0.02, retry=FAST_RETRY)
    worker.start()
    worker.notify()
    await asyncio.wait_for(handler.started.wait(), 5)

    await worker.stop()

    assert handler.seen == ["slow"]
    assert inbox.get("slow").status is InboxStatus.DONE  # type: ignore[union-attr]


def exited_pid() -> int:
    """The pid of a process that has exited (and was reaped)."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(gone.stdout)


def test_only_this_hosts_claimants_whose_process_is_gone_are_dead() -> None:
    gone = exited_pid()
    claimants = [
        f"here:{gone}:abc123",  # exited
        f"here:{os.getpid()}:def456",  # this very process
        "elsewhere:1:aaaaaa",  # another host: left to its lease
        f"here~4026532000:{gone}:bbb789",  # another PID namespace (container) of this host
        "not-a-worker-id",
    ]

    assert dead_local_claimants(claimants, host="here") == [f"here:{gone}:abc123"]


def test_a_worker_is_known_by_its_host_and_pid_namespace() -> None:
    namespace = os.readlink("/proc/self/ns/pid").strip("pid:[]")

    host, pid, _ = worker_identity().rsplit(":", 2)

    assert host == f"{socket.gethostname()[:32]}~{namespace}"
    assert pid == str(os.getpid())


async def test_a_restarted_worker_takes_back_the_events_of_its_crashed_predecessor(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    gone = await asyncio.to_thread(exited_pid)
    inbox.add(make_event("messenger", dedupe_key="k1"))
    this_host = worker_identity().rsplit(":", 2)[0]
    dead_worker = f"{this_host}:{gone}:abc123"
    [claimed] = inbox.claim(dead_worker, lease=timedelta(hours=1))
    handled: list[str] = []

    async def handler(record: InboxRecord) -> None:
        handled.append(record.dedupe_key)

    worker = InboxWorker(inbox, handler)
    assert await worker.recover() == 1
    await worker.run_once()

    assert claimed.dedupe_key == "k1"
    assert handled == ["k1"]
    assert inbox.get("k1").status is InboxStatus.DONE  # type: ignore[union-attr]


class FailingClaims(Inbox):
    """An inbox whose next claims fail with the given errors, as a driver bug would."""

    def __init__(self, store: SocialStore, failures: list[Exception]) -> None:
        super().__init__(store)
        self.failures = failures

    def claim(self, *args: Any, **kwargs: Any) -> list[InboxRecord]:
        if self.failures:
            raise self.failures.pop(0)
        return super().claim(*args, **kwargs)


async def test_the_worker_outlives_a_claim_that_fails_unexpectedly(store: SocialStore) -> None:
    inbox = FailingClaims(store, [RuntimeError("driver bug"), ValueError("bad row")])
    inbox.add(make_event("messenger", dedupe_key="k"))
    handler = RecordingHandler()
    worker = InboxWorker(inbox, handler, poll_interval=0.02, retry=FAST_RETRY)

    await _drain(worker, inbox)

    assert handler.seen == ["k"]
    assert inbox.failures == []


class RecordingPreparer:
    """Records the batches the worker prepares; fails as told."""

    def __init__(self, *, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def __call__(self, records: list[InboxRecord]) -> None:
        self.batches.append([record.dedupe_key for record in records])
        if self.fail:
            raise RuntimeError("the NLU is broken")


async def test_a_backlog_is_claimed_and_prepared_in_batches(sqlite_store: SocialStore) -> None:
    inbox = Inbox(sqlite_store)
    for n in range(24):
        inbox.add(make_event("messenger", dedupe_key=f"k{n:02d}", author_id=f"user{n}"))
    handler = RecordingHandler(delay=0.02)
    preparer = RecordingPreparer()
    worker = InboxWorker(
        inbox,
        handler,
        concurrency=8,
        batch_size=4,
        batch_wait=5.0,
        prepare=preparer,
        poll_interval=0.05,
    )

    await _drain(worker, inbox)

    prepared = [key for batch in preparer.batches for key in batch]
    assert sorted(prepared) == sorted(handler.seen) == [f"k{n:02d}" for n in range(24)]
    assert preparer.batches[0] == [f"k{n:02d}" for n in range(8)]  # all slots free at first
    # Then, while turns run, claims wait for 4 free slots: only the backlog's end is smaller.
    assert all(len(batch) >= 4 for batch in preparer.batches[:-1]), preparer.batches


async def test_an_event_alone_is_claimed_at_once(sqlite_store: SocialStore) -> None:
    inbox = Inbox(sqlite_store)
    handler = RecordingHandler()
    preparer = RecordingPreparer()
    worker = InboxWorker(inbox, handler, batch_size=4, prepare=preparer, poll_interval=5.0)
    worker.start()
    try:
        inbox.add(make_event("messenger", dedupe_key="alone"))
        worker.notify()
        await asyncio.wait_for(handler.started.wait(), timeout=2)
    finally:
        await worker.stop()

    assert preparer.batches == [["alone"]]
    assert handler.seen == ["alone"]


async def test_a_claim_waits_at_most_batch_wait_for_more_free_slots(
    sqlite_store: SocialStore,
) -> None:
    inbox = Inbox(sqlite_store)
    inbox.add(make_event("messenger", dedupe_key="long", author_id="a"))
    handler = RecordingHandler(delay=1.0)
    second_started = asyncio.Event()

    async def prepare(records: list[InboxRecord]) -> None:
        if any(record.dedupe_key == "second" for record in records):
            second_started.set()

    worker = InboxWorker(
        inbox,
        handler,
        concurrency=4,
        batch_size=4,
        batch_wait=0.1,
        poll_interval=5.0,
        prepare=prepare,
    )
    worker.start()
    try:
        worker.notify()
        await asyncio.wait_for(handler.started.wait(), timeout=2)  # "long" runs: 3 slots free
        inbox.add(make_event("messenger", dedupe_key="second", author_id="b"))
        started = asyncio.get_running_loop().time()
        worker.notify()
        await asyncio.wait_for(second_started.wait(), timeout=2)
        waited = asyncio.get_running_loop().time() - started
    finally:
        await worker.stop()

    assert 0.05 <= waited < 0.8  # not at once (3 < 4 free slots), not after the long turn


async def test_a_failed_preparation_leaves_the_turns_to_run(sqlite_store: SocialStore) -> None:
    inbox = Inbox(sqlite_store)
    for n in range(3):
        inbox.add(make_event("messenger", dedupe_key=f"k{n}", author_id=f"user{n}"))
    handler = RecordingHandler()
    worker = InboxWorker(inbox, handler, prepare=RecordingPreparer(fail=True), poll_interval=0.05)

    await _drain(worker, inbox)

    assert sorted(handler.seen) == ["k0", "k1", "k2"]
