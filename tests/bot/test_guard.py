from __future__ import annotations

import logging

import pytest

from bot.context import Platform, Visibility
from bot.errors import OutboundRefused
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target

PUBLIC = Target(Platform.FACEBOOK, Visibility.PUBLIC, "facebook:1:2", thread_id="1_99")
PRIVATE = Target(Platform.TWITTER, Visibility.PRIVATE, "twitter:1:2", thread_id="2")
RICH = OutboundMessage(
    text="Track it here",
    buttons=({"title": "Track", "payload": "/order_status"},),
    quick_replies=({"title": "Yes", "payload": "/affirm"},),
    attachment="https://example.com/label.pdf",
    image="https://example.com/parcel.png",
    elements=({"title": "Parcel"},),
    custom={"x": 1},
    response_name="utter_order_shipped",
)


@pytest.mark.parametrize("origin", list(Origin))
def test_anything_goes_to_a_private_conversation_unchanged(origin: Origin) -> None:
    assert OutboundGuard().check(origin, PRIVATE, RICH) is RICH


@pytest.mark.parametrize("platform", list(Platform))
def test_an_automated_message_to_a_public_thread_is_refused_logged_and_counted(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    guard = OutboundGuard()
    target = Target(platform, Visibility.PUBLIC, f"{platform.value}:1:2", thread_id="t1")

    with pytest.raises(OutboundRefused) as refused, caplog.at_level(logging.WARNING):
        guard.check(Origin.BOT, target, RICH)

    assert (refused.value.origin, refused.value.target) == ("bot", "public")
    assert guard.refusals[(platform.value, "bot")] == 1
    assert "conversation=" + f"{platform.value}:1:2" in caplog.text
    assert "response=utter_order_shipped" in caplog.text


@pytest.mark.parametrize("origin", [Origin.CTA, Origin.AGENT])
def test_a_public_message_keeps_only_its_text(origin: Origin) -> None:
    guard = OutboundGuard()

    sent = guard.check(origin, PUBLIC, RICH)

    assert sent == OutboundMessage(text="Track it here", response_name="utter_order_shipped")
    assert guard.trimmed[("facebook", "buttons")] == 1
    assert guard.trimmed[("facebook", "custom")] == 1


def test_a_plain_public_text_passes_untouched() -> None:
    plain = OutboundMessage(text="Hi Jane, we've sent you a private message.")

    assert OutboundGuard().check(Origin.CTA, PUBLIC, plain) is plain


def test_a_refusal_decided_next_to_the_guard_is_counted_and_logged_by_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = OutboundGuard()
    limit = OutboundRefused("one per author and thread in 24 h", origin="cta", target="public")

    with caplog.at_level(logging.WARNING):
        returned = guard.refuse(Origin.CTA, PUBLIC, RICH, limit)

    assert returned is limit
    assert guard.refusals[("facebook", "cta")] == 1
    assert "one per author and thread in 24 h" in caplog.text
