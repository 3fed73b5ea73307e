"""The call to action's limits at the guard: the pure rule, then the limiter over the log."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot import runtime
from bot.context import Visibility
from bot.cta_limits import CtaLimiter, cta_refusal
from bot.errors import CtaLimitReached, StoreError
from bot.guard import Target
from bot.outbound import OutboundLog, OutboundStatus
from bot.store import SocialStore
from tests.factories import PAGE_ID, X_ACCOUNT_ID, make_context

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
COMMENT = Target.from_context(make_context("facebook_comment"))
TWEET = Target.from_context(make_context("tweet"))
DM = Target.from_context(make_context("twitter_dm"))
BRAND_COMMENT = replace(COMMENT, user_id=PAGE_ID)
BRAND_TWEET = replace(TWEET, user_id=X_ACCOUNT_ID)


@pytest.mark.parametrize(
    ("target", "last_sent", "refused"),
    [
        (COMMENT, None, None),
        (COMMENT, NOW - timedelta(hours=23, minutes=59), "one per author and thread in 24 h"),
        (COMMENT, NOW - DAY, None),
        (TWEET, NOW - timedelta(minutes=1), "one per author and thread in 24 h"),
        (BRAND_COMMENT, None, "never sent to the brand's own account"),
        (BRAND_TWEET, None, "never sent to the brand's own account"),
        (DM, NOW, None),  # a private conversation is not a public thread
    ],
)
def test_cta_refusal(target: Target, last_sent: datetime | None, refused: str | None) -> None:
    reason = cta_refusal(target, last_sent, NOW, DAY)

    if refused is None:
        assert reason is None
    else:
        assert reason is not None
        assert refused in reason


def _sent_cta(log: OutboundLog, target: Target, **overrides: object) -> None:
    values: dict[str, object] = {
        "sender_id": target.conversation_id,
        "platform": target.platform.value,
        "account_id": target.account_id,
        "origin": "cta",
        "visibility": target.visibility.value,
        "kind": "comment",
        "target_id": target.event_id,
        "text": "Hi Jane, please message us",
        "status": OutboundStatus.SENT,
        "thread_id": target.thread_id,
        **overrides,
    }
    log.record(**values)  # type: ignore[arg-type]


class Clock:
    """A settable UTC clock shared by the log and the limiter."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def log(store: SocialStore, clock: Clock) -> OutboundLog:
    return OutboundLog(store, clock=clock)


def test_a_second_call_to_action_in_the_thread_is_refused_until_the_cooldown_ends(
    log: OutboundLog, clock: Clock
) -> None:
    limiter = CtaLimiter(log, cooldown=timedelta(hours=2))
    assert limiter.refusal(COMMENT) is None
    _sent_cta(log, COMMENT)

    clock.now += timedelta(hours=1)
    refused = limiter.refusal(COMMENT)
    clock.now += timedelta(hours=1)

    assert isinstance(refused, CtaLimitReached)
    assert (refused.origin, refused.target) == ("cta", "public")
    assert limiter.refusal(COMMENT) is None


@pytest.mark.parametrize(
    ("earlier", "why"),
    [
        ({"thread_id": "another_thread"}, "another thread"),
        ({"sender_id": f"facebook:{PAGE_ID}:someone_else"}, "another author"),
        ({"status": OutboundStatus.FAILED}, "not sent"),
        ({"status": OutboundStatus.REFUSED}, "refused"),
        ({"origin": "agent"}, "an agent's reply"),
        ({"origin": "bot", "visibility": "private"}, "a private bot message"),
    ],
)
def test_only_a_call_to_action_sent_to_the_author_in_the_thread_counts(
    log: OutboundLog, earlier: dict[str, object], why: str
) -> None:
    _sent_cta(log, COMMENT, **earlier)

    assert CtaLimiter(log, cooldown=DAY).refusal(COMMENT) is None, why


def test_the_brand_is_never_invited(log: OutboundLog) -> None:
    refused = CtaLimiter(log, cooldown=DAY).refusal(BRAND_TWEET)

    assert isinstance(refused, CtaLimitReached)


def test_private_targets_are_not_limited(log: OutboundLog) -> None:
    _sent_cta(log, DM)

    assert CtaLimiter(log, cooldown=DAY).refusal(DM) is None


def test_by_default_the_cooldown_is_the_process_s(
    log: OutboundLog, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    half_hour = runtime.CallToAction(cooldown=timedelta(minutes=30))
    monkeypatch.setattr(runtime, "_call_to_action", half_hour)
    _sent_cta(log, TWEET)
    clock.now += timedelta(minutes=31)

    assert CtaLimiter(log).cooldown == timedelta(minutes=30)
    assert CtaLimiter(log).refusal(TWEET) is None


class BrokenLog(OutboundLog):
    def last_cta(self, sender_id: str, thread_id: str | None) -> datetime | None:
        raise StoreError("the database is gone")


def test_when_the_log_cannot_be_read_the_call_to_action_is_refused(store: SocialStore) -> None:
    refused = CtaLimiter(BrokenLog(store), cooldown=DAY).refusal(COMMENT)

    assert refused is not None
    assert "could not be checked" in str(refused)
    assert refused.target == Visibility.PUBLIC.value
