"""``SocialOutputChannel``: origin, guard, delivery and the outbound log, with a fake platform."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot import runtime
from bot.cta_limits import CtaLimiter
from bot.errors import MessageTooLong, OutsideMessagingWindow
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target
from bot.outbound import OutboundLog, OutboundStatus
from bot.store import SocialStore
from channels.social_output import SentMessage, SocialOutputChannel, outbound_message, send_key_of
from tests.factories import PAGE_ID, make_context

CTA = {"text": "Hi Jane, please message us", "utter_action": "utter_public_to_private"}


class RecordingOutput(SocialOutputChannel):
    """Delivers into a list; can be told to fail like the platform would."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delivered: list[tuple[Origin, OutboundMessage]] = []
        self.failure: Exception | None = None

    async def deliver(
        self, target: Target, origin: Origin, message: OutboundMessage
    ) -> Sequence[SentMessage]:
        if self.failure is not None:
            raise self.failure
        self.delivered.append((origin, message))
        return [SentMessage("message", target.user_id, "mid-1", message.text)]


@pytest.fixture
def log(store: SocialStore) -> OutboundLog:
    return OutboundLog(store)


def output_for(source: str, log: OutboundLog | None = None) -> RecordingOutput:
    return RecordingOutput(
        target=Target.from_context(make_context(source)), guard=OutboundGuard(), outbound=log
    )


async def test_a_private_bot_message_is_delivered_and_logged_as_sent(log: OutboundLog) -> None:
    output = output_for("messenger", log)

    await output.send_response(
        "facebook:p:u",
        {"text": "Hello", "buttons": [{"title": "A"}], "utter_action": "utter_greet"},
    )

    [(origin, message)] = output.delivered
    assert origin is Origin.BOT
    assert (message.text, message.buttons, message.response_name) == (
        "Hello",
        ({"title": "A"},),
        "utter_greet",
    )
    [record] = log.for_conversation(output.target.conversation_id)  # type: ignore[union-attr]
    assert (record.status, record.origin, record.platform_message_id) == (
        OutboundStatus.SENT,
        "bot",
        "mid-1",
    )


async def test_a_bot_message_to_a_public_thread_is_refused_logged_and_not_delivered(
    log: OutboundLog,
) -> None:
    output = output_for("facebook_comment", log)

    await output.send_response("x", {"text": "Your order shipped", "utter_action": "utter_x"})

    assert output.delivered == []
    assert output.guard.refusals[("facebook", "bot")] == 1
    [record] = log.failures(output.target.conversation_id)  # type: ignore[union-attr]
    assert (record.status, record.error_type) == (OutboundStatus.REFUSED, "OutboundRefused")


async def test_the_call_to_action_reaches_a_public_thread_as_text_only() -> None:
    output = output_for("tweet")

    await output.send_response(
        "x",
        {
            "text": "Please DM us",
            "quick_replies": [{"title": "Yes"}],
            "utter_action": "utter_public_to_private",
        },
    )

    [(origin, message)] = output.delivered
    assert origin is Origin.CTA
    assert (message.text, message.quick_replies) == ("Please DM us", ())


async def test_a_platform_failure_is_logged_as_failed_not_raised(log: OutboundLog) -> None:
    output = output_for("messenger", log)
    output.failure = OutsideMessagingWindow(
        "window closed", platform="facebook", code=10, subcode=2018278
    )

    await output.send_response("x", {"text": "Late answer"})

    [record] = log.failures(output.target.conversation_id)  # type: ignore[union-attr]
    assert (record.status, record.error_type, record.text) == (
        OutboundStatus.FAILED,
        "OutsideMessagingWindow",
        "Late answer",
    )


async def test_a_message_the_platform_rules_refuse_is_logged_as_refused_not_raised(
    log: OutboundLog,
) -> None:
    output = output_for("tweet", log)
    output.failure = MessageTooLong(
        "281 characters; at most 280", length=281, limit=280, origin="cta", target="public"
    )

    await output.send_response("x", {"text": "x" * 281, "utter_action": "utter_public_to_private"})

    [record] = log.failures(output.target.conversation_id)  # type: ignore[union-attr]
    assert (record.status, record.error_type, record.error_message) == (
        OutboundStatus.REFUSED,
        "MessageTooLong",
        "281 characters; at most 280",
    )


async def test_an_unbound_channel_without_a_known_target_sends_nothing() -> None:
    output = RecordingOutput(target=None, guard=OutboundGuard())

    await output.send_response("facebook:p:u", {"text": "Hello"})

    assert output.delivered == []


async def test_empty_responses_are_not_sent() -> None:
    output = output_for("messenger")

    await output.send_response("x", {"utter_action": "utter_nothing"})

    assert output.delivered == []


def test_unknown_response_keys_are_kept_as_extras() -> None:
    message = outbound_message({"text": "Hi", "utter_action": "utter_hi", "template_name": "x"})

    assert message.extras == {"template_name": "x"}
    assert message.response_name == "utter_hi"


async def test_a_replayed_turn_does_not_send_again_what_it_sent_before(log: OutboundLog) -> None:
    first = output_for("messenger", log)
    first.bind_turn("facebook:mid:m_1", replay=False)
    await first.send_response("x", {"text": "One"})
    await first.send_response("x", {"text": "Two"})
    # The process died here, before the third message and before the inbox heard.

    again = output_for("messenger", log)
    again.bind_turn("facebook:mid:m_1", replay=True)
    for text in ("One", "Two", "Three"):
        await again.send_response("x", {"text": text})

    assert [message.text for _, message in first.delivered] == ["One", "Two"]
    assert [message.text for _, message in again.delivered] == ["Three"]
    assert log.turn_progress("facebook:mid:m_1") == 3


async def test_a_first_try_sends_everything_even_if_another_turn_was_logged(
    log: OutboundLog,
) -> None:
    earlier = output_for("messenger", log)
    earlier.bind_turn("facebook:mid:m_1", replay=False)
    await earlier.send_response("x", {"text": "One"})

    other = output_for("messenger", log)
    other.bind_turn("facebook:mid:m_2", replay=True)
    await other.send_response("x", {"text": "Hello"})

    assert [message.text for _, message in other.delivered] == ["Hello"]


async def test_a_message_left_on_its_way_by_a_crash_is_sent_again_unless_known_to_have_arrived(
    log: OutboundLog,
) -> None:
    crashed = output_for("messenger", log)
    crashed.bind_turn("facebook:mid:m_9", replay=False)
    target = crashed.target
    assert target is not None
    for place in (1, 2):  # both were on their way when the process died
        log.record(
            sender_id=target.conversation_id,
            platform="facebook",
            account_id=target.account_id,
            origin="bot",
            visibility="private",
            kind="message",
            target_id=target.user_id,
            text=f"in doubt {place}",
            status=OutboundStatus.SENDING,
            inbox_event="facebook:mid:m_9",
            turn_seq=place,
        )
    assert log.confirm("facebook:mid:m_9", 1)  # the platform's echo of the first came

    again = output_for("messenger", log)
    again.bind_turn("facebook:mid:m_9", replay=True)
    for text in ("in doubt 1", "in doubt 2"):
        await again.send_response("x", {"text": text})

    assert [message.text for _, message in again.delivered] == ["in doubt 2"]
    assert log.turn_progress("facebook:mid:m_9") == 2


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        ("turn:facebook:mid:m_1#3", ("facebook:mid:m_1", 3)),
        ("turn:a#b#2", ("a#b", 2)),
        ("turn:x#", None),
        ("something else", None),
    ],
)
def test_send_keys_name_the_turn_and_the_place(key: str, parsed: tuple[str, int] | None) -> None:
    assert send_key_of(key) == parsed


async def test_a_second_call_to_action_to_the_author_in_the_thread_is_refused_logged_and_counted(
    log: OutboundLog,
) -> None:
    guard, limiter = OutboundGuard(), CtaLimiter(log, cooldown=timedelta(hours=24))
    target = Target.from_context(make_context("facebook_comment"))
    first, second = (
        RecordingOutput(target=target, guard=guard, outbound=log, cta_limiter=limiter)
        for _ in range(2)
    )

    await first.send_response("x", CTA)
    await second.send_response("x", CTA)

    assert [origin for origin, _ in first.delivered] == [Origin.CTA]
    assert second.delivered == []
    assert guard.refusals[("facebook", "cta")] == 1
    records = log.for_conversation(target.conversation_id)
    assert [(r.status, r.origin, r.thread_id, r.error_type) for r in records] == [
        (OutboundStatus.SENT, "cta", target.thread_id, None),
        (OutboundStatus.REFUSED, "cta", target.thread_id, "CtaLimitReached"),
    ]


async def test_a_call_to_action_in_another_thread_of_the_same_author_goes(
    log: OutboundLog,
) -> None:
    limiter = CtaLimiter(log, cooldown=timedelta(hours=24))
    post = Target.from_context(make_context("facebook_comment"))
    other_post = replace(post, thread_id=f"{PAGE_ID}_122100000000000002")

    for target in (post, other_post):
        output = RecordingOutput(
            target=target, guard=OutboundGuard(), outbound=log, cta_limiter=limiter
        )
        await output.send_response("x", CTA)
        assert len(output.delivered) == 1


async def test_a_call_to_action_to_the_brand_s_own_comment_is_refused(log: OutboundLog) -> None:
    target = replace(Target.from_context(make_context("facebook_comment")), user_id=PAGE_ID)
    output = RecordingOutput(
        target=target,
        guard=OutboundGuard(),
        outbound=log,
        cta_limiter=CtaLimiter(log, cooldown=timedelta(hours=24)),
    )

    await output.send_response("x", CTA)

    assert output.delivered == []
    [record] = log.failures(target.conversation_id)
    assert (record.status, record.error_type) == (OutboundStatus.REFUSED, "CtaLimitReached")


async def test_the_call_to_action_is_known_by_the_response_the_policy_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "_call_to_action", runtime.CallToAction("utter_invite"))
    output = output_for("tweet")

    await output.send_response("x", {"text": "Please DM us", "utter_action": "utter_invite"})
    await output.send_response("x", {**CTA})

    assert [origin for origin, _ in output.delivered] == [Origin.CTA]
    assert output.guard.refusals[("twitter", "bot")] == 1
