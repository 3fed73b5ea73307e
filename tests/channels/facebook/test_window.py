from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from bot.errors import OutsideMessagingWindow
from bot.guard import Origin
from channels.facebook.window import check_private_reply_window, messaging_type

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
RESPONSE = {"messaging_type": "RESPONSE"}
HUMAN_AGENT = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}


@pytest.mark.parametrize(
    ("origin", "age", "expected"),
    [
        (Origin.BOT, timedelta(minutes=1), RESPONSE),
        (Origin.BOT, timedelta(hours=24), RESPONSE),
        (Origin.CTA, timedelta(hours=23), RESPONSE),
        (Origin.AGENT, timedelta(hours=2), RESPONSE),
        (Origin.AGENT, timedelta(hours=25), HUMAN_AGENT),
        (Origin.AGENT, timedelta(days=7), HUMAN_AGENT),
    ],
)
def test_the_window_decides_the_messaging_type(
    origin: Origin, age: timedelta, expected: dict[str, str]
) -> None:
    assert messaging_type(origin, NOW - age, NOW) == expected


@pytest.mark.parametrize(
    ("origin", "age", "message"),
    [
        (
            Origin.BOT,
            timedelta(hours=24, seconds=1),
            "an automated (bot) message may answer within 24 h",
        ),
        (Origin.CTA, timedelta(days=3), "last wrote 3.0 days ago"),
        (Origin.AGENT, timedelta(days=7, seconds=1), "a human agent may answer within 7 days"),
        (Origin.BOT, None, "has not written in Messenger yet"),
        (Origin.AGENT, None, "has not written in Messenger yet"),
    ],
)
def test_outside_every_window_the_send_is_refused_before_calling_meta(
    origin: Origin, age: timedelta | None, message: str
) -> None:
    with pytest.raises(OutsideMessagingWindow, match=re.escape(message)) as caught:
        messaging_type(origin, None if age is None else NOW - age, NOW)

    assert caught.value.platform == "facebook"


@pytest.mark.parametrize(
    ("age", "allowed"),
    [(timedelta(hours=1), True), (timedelta(days=7), True), (timedelta(days=7, seconds=1), False)],
)
def test_a_private_reply_follows_within_7_days_of_the_comment(
    age: timedelta, allowed: bool
) -> None:
    if allowed:
        check_private_reply_window(NOW - age, NOW)
    else:
        with pytest.raises(OutsideMessagingWindow, match="within 7 days"):
            check_private_reply_window(NOW - age, NOW)
