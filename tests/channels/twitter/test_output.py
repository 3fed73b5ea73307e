"""``TwitterOutput`` and ``XSender`` against a fake X API and a real social store."""

from __future__ import annotations

from typing import Any

import pytest

from bot.consumers import DMS_CLOSED, ConsumerFlags
from bot.errors import MessageTooLong, OutboundRefused
from bot.events import SocialEvent
from bot.guard import Origin
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundStatus
from channels.twitter import TwitterInput, TwitterOutput
from channels.twitter.links import dm_link
from channels.twitter.options import OFFERED_OPTIONS
from tests.channels.twitter.builders import (
    BRAND,
    CLOSED_DMS_TEXT,
    DISABLED_ACCOUNT,
    HELP_ACCOUNT,
    PAT,
    PRIVATE_ONLY_ACCOUNT,
    TWEET_ID,
    aaa,
    aaa_tweet,
    encode,
    signed,
    xaa,
    xaa_dm,
)
from tests.channels.twitter.fake_x import FakeX
from tests.factories import make_context, make_event

CTA = "utter_public_to_private"
BUTTONS = [
    {"title": "Track my order", "payload": "/order_status"},
    {"title": "Talk to a person", "payload": "/request_human"},
]


def sender_of(account: dict[str, str] = BRAND) -> str:
    return f"twitter:{account['id']}:{PAT['id']}"


def invitation(account: dict[str, str] = BRAND) -> dict[str, Any]:
    link = dm_link(account["id"], "Hi! About my tweet: ")
    return {"text": f"Hi @pat_example, please DM us: {link}", "utter_action": CTA}


def event(source: str, account: dict[str, str] = BRAND, text: str = "hi") -> SocialEvent:
    context = make_context(source, account_id=account["id"])
    return make_event(
        source, text, context=context, dedupe_key=f"twitter:{account['id']}:{context.event_id}"
    )


def output(channel: TwitterInput, source: str, account: dict[str, str] = BRAND) -> TwitterOutput:
    return channel.output_channel_for(event(source, account))


async def test_the_guard_refuses_a_bot_tweet_while_the_call_to_action_passes(
    channel: TwitterInput, fake: FakeX, log: OutboundLog
) -> None:
    public = output(channel, "tweet")

    await public.send_response(sender_of(), {"text": "It shipped!", "utter_action": "utter_x"})
    await public.send_response(sender_of(), invitation())

    [call] = fake.calls
    assert call.path == "/2/tweets"
    assert call.authorization == "Bearer test-access-token"
    assert call.body["reply"] == {"in_reply_to_tweet_id": TWEET_ID}
    assert call.body["text"].startswith(
        "@pat_example Hi @pat_example, please DM us: https://x.com/"
    )
    assert [(r.origin, r.status, r.kind) for r in log.for_conversation(sender_of())] == [
        ("bot", OutboundStatus.REFUSED, "message"),
        ("cta", OutboundStatus.SENT, "tweet"),
    ]
    assert channel.guard.refusals[("twitter", "bot")] == 1


async def test_the_channel_sends_one_call_to_action_per_author_and_thread(
    channel: TwitterInput, fake: FakeX, log: OutboundLog
) -> None:
    await output(channel, "tweet").send_response(sender_of(), invitation())
    await output(channel, "tweet").send_response(sender_of(), invitation())

    assert [call.path for call in fake.calls] == ["/2/tweets"]
    assert [(r.status, r.error_type) for r in log.for_conversation(sender_of())] == [
        (OutboundStatus.SENT, None),
        (OutboundStatus.REFUSED, "CtaLimitReached"),
    ]
    assert channel.guard.refusals[("twitter", "cta")] == 1


async def test_a_public_call_to_action_left_empty_by_the_guard_sends_nothing(
    channel: TwitterInput, fake: FakeX
) -> None:
    await output(channel, "tweet").send_response(
        sender_of(), {"text": " ", "image": "https://cdn.test/cta.png", "utter_action": CTA}
    )

    assert fake.calls == []


async def test_a_public_reply_already_starting_with_the_handle_is_not_addressed_twice(
    channel: TwitterInput, fake: FakeX
) -> None:
    await output(channel, "tweet").send_response(
        sender_of(), {"text": "@Pat_Example sorry! DM us", "utter_action": CTA}
    )

    assert fake.texts() == ["@Pat_Example sorry! DM us"]


async def test_a_private_answer_is_a_dm_and_its_numbered_options_are_understood_in_the_reply(
    channel: TwitterInput, fake: FakeX, inbox: Inbox
) -> None:
    await output(channel, "twitter_dm").send_response(
        sender_of(), {"text": "What can I do?", "buttons": BUTTONS, "utter_action": "utter_menu"}
    )
    answer = encode(xaa("dm.received", xaa_dm("2", dm_id="1874000000000000099")))
    await channel.accept(answer, signed(answer))

    [call] = fake.calls
    assert call.path == f"/2/dm_conversations/with/{PAT['id']}/messages"
    assert call.body == {"text": "What can I do?\n\n1. Track my order\n2. Talk to a person"}
    record = inbox.get(f"twitter:{BRAND['id']}:dm:1874000000000000099")
    assert record is not None
    assert record.event.text == "/request_human"
    assert record.event.extra["option"] == {"number": 2, "title": "Talk to a person"}


async def test_options_last_through_the_turn_and_go_with_a_later_turn_without_any(
    channel: TwitterInput, flags: ConsumerFlags
) -> None:
    first_turn = output(channel, "twitter_dm")
    await first_turn.send_response(sender_of(), {"text": "Pick one", "buttons": BUTTONS})
    await first_turn.send_response(sender_of(), {"text": "or type your question"})
    kept = flags.get(sender_of()).get(OFFERED_OPTIONS)

    await output(channel, "twitter_dm").send_response(sender_of(), {"text": "Thanks!"})

    assert kept is not None
    assert "Talk to a person" in kept
    assert OFFERED_OPTIONS not in flags.get(sender_of())


async def test_images_and_files_go_as_links_in_the_dm(channel: TwitterInput, fake: FakeX) -> None:
    dm = output(channel, "twitter_dm")

    await dm.send_response(
        sender_of(), {"text": "Your label", "image": "https://cdn.example/l.png"}
    )
    await dm.send_response(sender_of(), {"custom": {"card": 1}})

    assert fake.texts() == ["Your label\nhttps://cdn.example/l.png"]


@pytest.mark.parametrize(
    ("source", "text", "reason"),
    [
        (
            "tweet",
            "x" * 268,
            "the reply counts 281 characters (a URL counts 23); X accepts at most 280",
        ),
        ("twitter_dm", "x" * 10_001, "the DM has 10001 characters; X accepts at most 10000"),
    ],
)
async def test_a_text_over_the_limit_is_refused_with_the_reason_and_nothing_is_cut(
    channel: TwitterInput, fake: FakeX, log: OutboundLog, source: str, text: str, reason: str
) -> None:
    await output(channel, source).send_response(sender_of(), {"text": text, "utter_action": CTA})

    assert fake.calls == []
    [record] = log.failures(sender_of())
    assert (record.status, record.error_type, record.error_message) == (
        OutboundStatus.REFUSED,
        "MessageTooLong",
        reason,
    )


async def test_an_agent_reply_over_280_raises_the_typed_error(channel: TwitterInput) -> None:
    long = "Thanks for your patience, we are on it: https://brightcart.example/status " + "x" * 210

    with pytest.raises(MessageTooLong) as refused:
        await channel.sender.reply_public(BRAND["id"], TWEET_ID, long, handle="pat_example")

    assert (refused.value.length, refused.value.limit) == (13 + 40 + 23 + 1 + 210, 280)


async def test_closed_dms_are_flagged_and_the_call_to_action_then_offers_the_alternative(
    channel: TwitterInput, fake: FakeX, flags: ConsumerFlags, log: OutboundLog
) -> None:
    fake.fail_next(
        403, {"errors": [{"code": 349, "message": "You cannot send messages to this user."}]}
    )

    await output(channel, "twitter_dm", HELP_ACCOUNT).send_response(
        sender_of(HELP_ACCOUNT), {"text": "Here is your order"}
    )
    await output(channel, "tweet", HELP_ACCOUNT).send_response(
        sender_of(HELP_ACCOUNT), invitation(HELP_ACCOUNT)
    )

    assert flags.get(sender_of(HELP_ACCOUNT))[DMS_CLOSED] == "1"
    failed = log.failures(sender_of(HELP_ACCOUNT))
    assert [(r.error_type, r.error_code) for r in failed] == [("RecipientUnavailable", 349)]
    assert fake.texts()[-1] == f"@pat_example Hi @pat_example, please DM us: {CLOSED_DMS_TEXT}"


async def test_without_an_alternative_the_call_to_action_keeps_the_dm_link(
    channel: TwitterInput, fake: FakeX, flags: ConsumerFlags
) -> None:
    flags.set(sender_of(), DMS_CLOSED, "1")

    await output(channel, "tweet").send_response(sender_of(), invitation())

    assert "https://x.com/messages/compose?recipient_id=" in fake.texts()[0]


async def test_a_duplicate_reply_is_refused_with_xs_reason(
    channel: TwitterInput, fake: FakeX, log: OutboundLog
) -> None:
    fake.fail_next(403, {"errors": [{"code": 187, "message": "Status is a duplicate."}]})

    await output(channel, "tweet").send_response(sender_of(), invitation())

    [record] = log.failures(sender_of())
    assert (record.status, record.error_type, record.error_code, record.error_message) == (
        OutboundStatus.FAILED,
        "DuplicateContent",
        187,
        "Status is a duplicate.",
    )
    assert len(fake.calls) == 1  # permanent: not retried


@pytest.mark.parametrize(
    ("account", "source", "reason"),
    [
        (DISABLED_ACCOUNT, "twitter_dm", f"not sent: account {DISABLED_ACCOUNT['id']} is disabled"),
        (
            PRIVATE_ONLY_ACCOUNT,
            "tweet",
            f"not sent: public answers are off for account {PRIVATE_ONLY_ACCOUNT['id']}",
        ),
        ({"id": "999"}, "twitter_dm", "not sent: account 999 is not configured"),
    ],
)
async def test_an_account_that_may_not_answer_sends_nothing(
    channel: TwitterInput, fake: FakeX, account: dict[str, str], source: str, reason: str
) -> None:
    sender = channel.sender
    sending = (
        sender.reply_public(account["id"], TWEET_ID, "hi", origin=Origin.CTA)
        if source == "tweet"
        else sender.send_dm(account["id"], PAT["id"], "hi")
    )

    with pytest.raises(OutboundRefused, match=reason):
        await sending

    assert fake.calls == []


async def test_the_unbound_output_channel_answers_where_the_conversation_last_wrote(
    channel: TwitterInput, fake: FakeX, inbox: Inbox
) -> None:
    latest = channel.get_output_channel()

    await latest.send_response(sender_of(), {"text": "nobody to answer yet"})
    inbox.add(event("tweet"))
    await latest.send_response(sender_of(), {"text": "Your order shipped"})  # public: refused
    inbox.add(event("twitter_dm"))
    await latest.send_response(sender_of(), {"text": "Your order shipped"})

    assert latest.target is None
    assert [call.path for call in fake.calls] == [f"/2/dm_conversations/with/{PAT['id']}/messages"]


async def test_a_reply_to_our_reply_joins_the_thread_of_the_consumers_tweet(
    channel: TwitterInput, fake: FakeX, inbox: Inbox
) -> None:
    root = "1874000000000000500"
    mention = encode(aaa(tweets=(aaa_tweet("@BrandCo help", tweet_id=root, in_reply_to="1874"),)))
    await channel.accept(mention, signed(mention))
    stored = inbox.get(f"twitter:{BRAND['id']}:tweet:{root}")
    assert stored is not None
    await channel.output_channel_for(stored.event).send_response(sender_of(), invitation())
    [ours] = fake.calls
    our_id = "1875000000000000001"

    answer = encode(aaa(tweets=(aaa_tweet("@BrandCo done", in_reply_to=our_id),)))
    await channel.accept(answer, signed(answer))

    record = inbox.get(f"twitter:{BRAND['id']}:tweet:{TWEET_ID}")
    assert record is not None
    assert ours.body["reply"] == {"in_reply_to_tweet_id": root}
    assert (record.event.context.thread_id, record.event.context.parent_id) == ("1874", our_id)


async def test_the_output_channel_is_named_for_the_domains_channel_variations(
    channel: TwitterInput,
) -> None:
    assert TwitterOutput.name() == "twitter"
    assert output(channel, "twitter_dm").target.visibility.value == "private"  # type: ignore[union-attr]
