"""The inbox worker survives whatever the bot raises, and loses no event.

A hypothesis-chosen script of failures per event (rate limits, transient and permanent platform
errors, bugs, timeouts, a store that fails): each event ends done or parked, never lost;
permanent errors park at once; the rest are retried with backoff, a rate limit no sooner than
it asked; and the worker still takes new events afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from bot.errors import (
    AuthenticationFailed,
    DuplicateContent,
    InvalidRequest,
    OutsideMessagingWindow,
    PermanentPlatformError,
    RateLimited,
    RecipientUnavailable,
    StoreError,
    ThreadOwnedElsewhere,
    TransientPlatformError,
)
from bot.inbox import Inbox, InboxRecord, InboxStatus
from bot.inbox_worker import InboxWorker, RetryPolicy
from bot.schema import inbox_events
from bot.store import SocialStore
from tests.abuse.strategies import FUZZ, ON_SQLITE
from tests.factories import make_event

RETRY = RetryPolicy(max_attempts=4, first_delay=0.01, max_delay=0.04)
_ids = itertools.count()


def _platform(kind: type[PermanentPlatformError]) -> Callable[[], Exception]:
    return lambda: kind("refused", platform="facebook", status=400, code=100)


# (name, makes the exception, retried?)
FAILURES: list[tuple[str, Callable[[], Exception], bool]] = [
    ("5xx", lambda: TransientPlatformError("HTTP 503", platform="twitter", status=503), True),
    ("timeout", lambda: asyncio.TimeoutError(), True),
    ("bug", lambda: RuntimeError("the action server answered 500"), True),
    ("key error", lambda: KeyError("slot"), True),
    ("store down", lambda: StoreError("could not connect to server"), True),
    ("huge message", lambda: RuntimeError("x" * 100_000), True),
    *(
        (kind.__name__, _platform(kind), False)
        for kind in (
            OutsideMessagingWindow,
            ThreadOwnedElsewhere,
            RecipientUnavailable,
            AuthenticationFailed,
            DuplicateContent,
            InvalidRequest,
            PermanentPlatformError,
        )
    ),
]


@dataclass(frozen=True)
class Failure:
    name: str
    make: Callable[[], Exception]
    retried: bool
    retry_after: float | None = None  # a rate limit's wait

    def __call__(self) -> Exception:
        if self.retry_after is not None:
            return RateLimited("slow down", retry_after=self.retry_after, platform="facebook")
        return self.make()


failures = st.one_of(
    st.sampled_from(FAILURES).map(lambda row: Failure(*row)),
    st.floats(min_value=0, max_value=0.05).map(
        lambda wait: Failure("rate limited", RuntimeError, True, retry_after=wait)
    ),
)


@dataclass
class ScriptedBot:
    """Fails each event as its script says, then succeeds; records every call's time."""

    scripts: dict[str, list[Failure]]
    calls: dict[str, list[float]] = field(default_factory=dict)

    async def __call__(self, record: InboxRecord) -> None:
        calls = self.calls.setdefault(record.dedupe_key, [])
        calls.append(time.monotonic())
        script = self.scripts.get(record.dedupe_key, [])
        if len(calls) <= len(script):
            raise script[len(calls) - 1]()


def expected_outcome(script: list[Failure]) -> tuple[InboxStatus, int]:
    """The event's end state and its number of attempts."""
    for attempt, failure in enumerate(script, start=1):
        if not failure.retried or attempt == RETRY.max_attempts:
            return InboxStatus.PARKED, attempt
    return InboxStatus.DONE, len(script) + 1


async def settle(inbox: Inbox, keys: list[str], timeout: float = 15.0) -> None:
    """Waits until none of ``keys`` is pending or processing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = [await asyncio.to_thread(inbox.get, key) for key in keys]
        if all(
            r is not None and r.status in (InboxStatus.DONE, InboxStatus.PARKED) for r in records
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not settled: {[(r.dedupe_key, r.status) for r in records if r]}")


@settings(FUZZ, max_examples=10)
@given(scripts=st.lists(st.lists(failures, max_size=4), min_size=1, max_size=6))
async def test_whatever_the_bot_raises_every_event_ends_done_or_parked_and_the_worker_lives_on(
    unsynced_store: SocialStore, scripts: list[list[Failure]]
) -> None:
    inbox = Inbox(unsynced_store)
    run = next(_ids)
    keys = [f"run{run}-event{n}" for n in range(len(scripts))]
    for n, key in enumerate(keys):  # three consumers, so conversations also wait on each other
        inbox.add(make_event("messenger", dedupe_key=key, author_id=f"{run}0{n % 3}"))
    bot = ScriptedBot(dict(zip(keys, scripts, strict=True)))
    worker = InboxWorker(inbox, bot, concurrency=3, poll_interval=0.01, retry=RETRY)
    worker.start()
    try:
        await settle(inbox, keys)
        # Still alive: a new event after all that is processed too.
        inbox.add(make_event("messenger", dedupe_key=f"run{run}-after", author_id=f"{run}99"))
        worker.notify()
        await settle(inbox, [f"run{run}-after"])
    finally:
        await worker.stop()

    for key, script in zip(keys, scripts, strict=True):
        record = inbox.get(key)
        assert record is not None
        status, attempts = expected_outcome(script)
        assert (key, record.status, record.attempts) == (key, status, attempts)
        assert len(bot.calls[key]) == attempts
        if status is InboxStatus.PARKED:
            assert record.last_error is not None
            assert len(record.last_error) <= 2000
        for attempt, (before, after) in enumerate(itertools.pairwise(bot.calls[key]), 1):
            failure = script[attempt - 1]
            waited = RETRY.delay(attempt, failure())
            assert waited is not None
            assert after - before >= waited - 0.002, (failure.name, attempt, after - before)


async def rate_limited_once(store: SocialStore, retry_after: float, policy: RetryPolicy) -> Inbox:
    """An event whose first try was rate limited for ``retry_after`` s: pending, tried once."""
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="limited"))
    bot = ScriptedBot({"limited": [Failure("rate limited", RuntimeError, True, retry_after)]})

    await InboxWorker(inbox, bot, retry=policy).run_once()

    record = inbox.get("limited")
    assert record is not None
    assert (record.status, record.attempts) == (InboxStatus.PENDING, 1)
    assert (record.last_error or "").startswith("RateLimited: ")
    return inbox


@ON_SQLITE
@pytest.mark.parametrize("retry_after", [30.0, 3600.0], ids=["30 s", "an hour"])
async def test_a_rate_limit_is_retried_no_sooner_than_it_asked(
    store: SocialStore, retry_after: float
) -> None:
    failed_at = datetime.now(timezone.utc)

    inbox = await rate_limited_once(store, retry_after, RetryPolicy(first_delay=0.01))

    early = failed_at + timedelta(seconds=retry_after - 1)
    assert inbox.claim("w", lease=timedelta(seconds=5), now=early) == []
    [again] = inbox.claim("w", lease=timedelta(seconds=5), now=early + timedelta(seconds=3))
    assert again.dedupe_key == "limited"


@ON_SQLITE
@pytest.mark.parametrize(
    "retry_after", [1e12, math.inf, math.nan, -5.0], ids=["1e12 s", "infinite", "nan", "negative"]
)
async def test_an_absurd_rate_limit_wait_neither_crashes_the_worker_nor_loses_the_event(
    store: SocialStore, retry_after: float
) -> None:
    policy = RetryPolicy(first_delay=0.01)

    inbox = await rate_limited_once(store, retry_after, policy)

    latest = datetime.now(timezone.utc) + timedelta(seconds=policy.max_rate_limit_wait + 1)
    assert [r.dedupe_key for r in inbox.claim("w", lease=timedelta(seconds=5), now=latest)] == [
        "limited"
    ]


async def test_a_stored_event_that_no_longer_reads_is_parked_and_the_worker_goes_on(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    now = datetime.now(timezone.utc)
    with store.engine.begin() as connection:  # written by an older or broken version
        connection.execute(
            insert(inbox_events).values(
                dedupe_key="unreadable",
                sender_id="facebook:1:2",
                platform="facebook",
                account_id="1",
                visibility="private",
                event={"context": {"platform": "facebook"}, "text": 42},
                status="pending",
                attempts=0,
                received_at=now,
                next_attempt_at=now,
                updated_at=now,
            )
        )
    inbox.add(make_event("messenger", dedupe_key="fine", author_id="5"))
    bot = ScriptedBot({})
    worker = InboxWorker(inbox, bot, poll_interval=0.01, retry=RETRY)
    worker.start()
    try:
        await settle(inbox, ["fine"])
    finally:
        await worker.stop()

    assert list(bot.calls) == ["fine"]
    assert inbox.counts()[InboxStatus.PARKED] == 1
    assert inbox.parked() == []  # listed only where it reads; logged with its id
    with store.engine.connect() as connection:
        [(status, error)] = connection.execute(
            select(inbox_events.c.status, inbox_events.c.last_error).where(
                inbox_events.c.dedupe_key == "unreadable"
            )
        ).all()
    assert status == "parked"
    assert error.startswith("the stored event cannot be read: context.visibility: field required")
