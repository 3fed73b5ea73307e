"""Failed sign-ins limited per agent name and client address, in the store (SQLite and
PostgreSQL): the limit holds across replicas sharing the store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import SignInThrottled
from bot.handoff.sign_in_limit import SignInLimit, SignInLimiter
from bot.store import SocialStore
from tests.factories import SteppedClock

LIMIT = SignInLimit(per_agent=3, per_address=5, window=timedelta(minutes=5))


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def limiter(store: SocialStore, clock: SteppedClock) -> SignInLimiter:
    return SignInLimiter(store, LIMIT, clock)


def fail(
    limiter: SignInLimiter, times: int, name: str, address: str | None, clock: SteppedClock
) -> None:
    for _ in range(times):
        limiter.check(name, address)
        limiter.failed(name, address)
        clock.wait(10)


def test_a_name_is_refused_after_its_failures_until_the_oldest_ages_out(
    limiter: SignInLimiter, clock: SteppedClock
) -> None:
    fail(limiter, 3, "sam", "10.0.0.1", clock)  # at 0 s, 10 s, 20 s; now 30 s

    with pytest.raises(SignInThrottled) as refused:
        limiter.check("sam", "10.0.0.2")  # another address does not help
    assert refused.value.retry_after == 270  # the first failure ages out at 300 s
    assert "agent name" in str(refused.value)
    limiter.check("ann", "10.0.0.2")  # other names are not affected

    clock.wait(270)
    limiter.check("Sam ", "10.0.0.2")  # names are compared trimmed, in lower case


def test_an_address_is_refused_after_its_failures_whatever_the_names(
    limiter: SignInLimiter, clock: SteppedClock
) -> None:
    for name in ("a", "b", "c", "d", "e"):
        fail(limiter, 1, name, "10.0.0.9", clock)

    with pytest.raises(SignInThrottled, match="address") as refused:
        limiter.check("f", "10.0.0.9")
    assert refused.value.retry_after == 250
    limiter.check("f", "10.0.0.10")


def test_a_success_clears_the_names_failures_but_not_the_addresss(
    limiter: SignInLimiter, clock: SteppedClock
) -> None:
    fail(limiter, 2, "sam", "10.0.0.1", clock)
    limiter.succeeded("sam")
    fail(limiter, 2, "sam", "10.0.0.1", clock)  # would be 4 > 3 without the reset
    fail(limiter, 1, "ann", "10.0.0.1", clock)

    with pytest.raises(SignInThrottled, match="address"):
        limiter.check("kim", "10.0.0.1")


def test_replicas_sharing_the_store_share_the_limit(
    store: SocialStore, clock: SteppedClock
) -> None:
    replicas = [SignInLimiter(store, LIMIT, clock) for _ in range(3)]
    for replica in replicas:
        fail(replica, 1, "sam", None, clock)

    for replica in replicas:
        with pytest.raises(SignInThrottled):
            replica.check("sam", None)
