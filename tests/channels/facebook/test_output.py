from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from bot.errors import OutboundRefused
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundStatus
from channels.facebook.output import FacebookOutput
from channels.facebook.sender import FacebookSender, TypingIndicator
from tests.channels.facebook.conftest import NOW, make_sender
from tests.channels.facebook.factories import COMMENT_ID, COMMENTER_ID, PSID, make_config, page
from tests.channels.facebook.fake_graph import FakeGraph
from tests.factories import PAGE_ID, make_context, make_event

CTA = {
    "text": "Hi Jane, please message us: https://m.me/brightcart",
    "utter_action": "utter_public_to_private",
}
COMMENT_TARGET = Target.from_context(make_context("facebook_comment"))
PRIVATE_TARGET = Target.from_context(make_context("messenger"))


def output(
    sender: FacebookSender, outbound: OutboundLog, target: Target | None, **kwargs: Any
) -> FacebookOutput:
    return FacebookOutput(sender, target=target, guard=OutboundGuard(), outbound=outbound, **kwargs)


def cta_sender(
    mode: str, graph: FakeGraph, inbox: Inbox, outbound: OutboundLog, links: IdentityLinks
) -> FacebookSender:
    return make_sender(
        make_config(pages=[page(cta=mode)]), graph, inbox, outbound=outbound, links=links
    )


async def test_a_bot_answer_in_messenger_is_sent_and_logged(
    sender: FacebookSender, inbox: Inbox, outbound: OutboundLog, graph: FakeGraph
) -> None:
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(minutes=1)))
    channel = output(sender, outbound, PRIVATE_TARGET)

    await channel.send_response(
        PRIVATE_TARGET.conversation_id,
        {
            "text": "Which order?",
            "quick_replies": [{"title": "BC-123456", "payload": "/inform"}],
            "utter_action": "utter_ask_order_number",
        },
    )

    [body] = graph.sent_messages()
    assert body["message"]["quick_replies"] == [
        {"content_type": "text", "title": "BC-123456", "payload": "/inform"}
    ]
    [record] = outbound.for_conversation(PRIVATE_TARGET.conversation_id)
    assert (record.status, record.origin, record.kind, record.platform_message_id) == (
        OutboundStatus.SENT,
        "bot",
        "message",
        "m_sent1",
    )


async def test_a_quick_answer_needs_no_typing_indicator(
    sender: FacebookSender, inbox: Inbox, outbound: OutboundLog, graph: FakeGraph
) -> None:
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(minutes=1)))
    typing = sender.start_typing(PAGE_ID, PSID, delay=0.5)
    channel = output(sender, outbound, PRIVATE_TARGET, typing=typing)

    await channel.send_response(PRIVATE_TARGET.conversation_id, {"text": "One"})
    await asyncio.sleep(0.6)

    assert [call.body.get("sender_action") for call in graph.calls if call.body] == [None]


async def test_the_typing_indicator_of_a_slow_turn_comes_before_the_first_answer(
    sender: FacebookSender, inbox: Inbox, outbound: OutboundLog, graph: FakeGraph
) -> None:
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(minutes=1)))
    typing = sender.start_typing(PAGE_ID, PSID, delay=0.01)
    channel = output(sender, outbound, PRIVATE_TARGET, typing=typing)
    await asyncio.sleep(0.05)  # the bot thinks

    await channel.send_response(PRIVATE_TARGET.conversation_id, {"text": "One"})
    await channel.send_response(PRIVATE_TARGET.conversation_id, {"text": "Two"})

    assert [
        call.body.get("sender_action") or call.body["message"]["text"]
        for call in graph.calls
        if call.body
    ] == [
        "typing_on",
        "One",
        "Two",
    ]


async def test_a_bot_message_to_a_comment_is_refused_and_nothing_reaches_facebook(
    sender: FacebookSender, outbound: OutboundLog, graph: FakeGraph
) -> None:
    channel = output(sender, outbound, COMMENT_TARGET)

    await channel.send_response(
        COMMENT_TARGET.conversation_id,
        {"text": "Your order shipped", "utter_action": "utter_order_shipped"},
    )

    assert graph.calls == []
    [record] = outbound.failures(COMMENT_TARGET.conversation_id)
    assert (record.status, record.origin) == (OutboundStatus.REFUSED, "bot")


async def test_the_call_to_action_goes_as_one_private_reply_per_comment(
    inbox: Inbox, outbound: OutboundLog, links: IdentityLinks, graph: FakeGraph
) -> None:
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(hours=1)))
    sender = cta_sender("private_reply", graph, inbox, outbound, links)

    await output(sender, outbound, COMMENT_TARGET).send_response(
        COMMENT_TARGET.conversation_id, CTA
    )
    await output(sender, outbound, COMMENT_TARGET).send_response(
        COMMENT_TARGET.conversation_id, CTA
    )

    [body] = graph.sent_messages()
    assert body["recipient"] == {"comment_id": COMMENT_ID}
    assert body["message"]["text"] == CTA["text"]
    [record] = outbound.for_conversation(COMMENT_TARGET.conversation_id)
    assert (record.kind, record.origin, record.target_id) == ("private_reply", "cta", COMMENT_ID)
    assert links.private_for("facebook", PAGE_ID, COMMENTER_ID).private_user_id == PSID  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mode", "paths"),
    [
        ("private_reply", [f"/{PAGE_ID}/messages"]),
        ("public_link", [f"/{COMMENT_ID}/comments"]),
        ("both", [f"/{PAGE_ID}/messages", f"/{COMMENT_ID}/comments"]),
    ],
)
async def test_the_call_to_action_follows_the_page_cta_mode(
    inbox: Inbox,
    outbound: OutboundLog,
    links: IdentityLinks,
    graph: FakeGraph,
    mode: str,
    paths: list[str],
) -> None:
    sender = cta_sender(mode, graph, inbox, outbound, links)

    await output(sender, outbound, COMMENT_TARGET, written_at=NOW).send_response("x", CTA)

    assert [call.path for call in graph.calls] == paths
    assert all(call.body == {"message": CTA["text"]} for call in graph.of("/comments"))
    kinds = [record.kind for record in outbound.for_conversation(COMMENT_TARGET.conversation_id)]
    assert kinds == ["private_reply" if path.endswith("messages") else "comment" for path in paths]


async def test_with_both_an_impossible_private_reply_still_leaves_the_public_reply(
    inbox: Inbox, outbound: OutboundLog, links: IdentityLinks, graph: FakeGraph
) -> None:
    sender = cta_sender("both", graph, inbox, outbound, links)

    await output(
        sender, outbound, COMMENT_TARGET, written_at=NOW - timedelta(days=9)
    ).send_response("x", CTA)

    assert [call.path for call in graph.calls] == [f"/{COMMENT_ID}/comments"]


async def test_a_private_reply_out_of_its_window_is_logged_as_failed_not_raised(
    sender: FacebookSender, outbound: OutboundLog, graph: FakeGraph
) -> None:
    await output(
        sender, outbound, COMMENT_TARGET, written_at=NOW - timedelta(days=9)
    ).send_response("x", CTA)

    assert graph.calls == []
    [record] = outbound.failures(COMMENT_TARGET.conversation_id)
    assert (record.status, record.error_type) == (OutboundStatus.FAILED, "OutsideMessagingWindow")


async def test_an_agent_answers_a_comment_in_public(
    sender: FacebookSender, outbound: OutboundLog, graph: FakeGraph
) -> None:
    sent = await output(sender, outbound, COMMENT_TARGET).deliver(
        COMMENT_TARGET, Origin.AGENT, OutboundMessage(text="Hi Jane, it's Sam from Brightcart")
    )

    [call] = graph.calls
    assert call.path == f"/{COMMENT_ID}/comments"
    assert [item.kind for item in sent] == ["comment"]


@pytest.mark.parametrize("text", ["@", "@jane.doe", "  @Jane\n"])
async def test_an_agent_s_public_reply_that_is_only_a_mention_is_refused_unposted(
    sender: FacebookSender, outbound: OutboundLog, graph: FakeGraph, text: str
) -> None:
    channel = output(sender, outbound, COMMENT_TARGET)

    with pytest.raises(OutboundRefused, match="only a mention"):
        await channel.deliver(COMMENT_TARGET, Origin.AGENT, OutboundMessage(text=text))
    await channel.deliver(COMMENT_TARGET, Origin.AGENT, OutboundMessage(text="@Jane sorted!"))

    [call] = graph.calls  # the reply with something to say
    assert call.body == {"message": "@Jane sorted!"}


async def test_an_unbound_channel_answers_where_the_latest_message_was_written(
    sender: FacebookSender, inbox: Inbox, outbound: OutboundLog, graph: FakeGraph
) -> None:
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(minutes=3)))
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(minutes=2)))
    channel = output(sender, outbound, None)

    await channel.send_response(PRIVATE_TARGET.conversation_id, {"text": "Reminder: your order"})
    await channel.send_response(COMMENT_TARGET.conversation_id, {"text": "Reminder: your order"})
    await channel.send_response("facebook:1:unknown", {"text": "Reminder: your order"})

    [body] = graph.sent_messages()
    assert body["recipient"] == {"id": PSID}
    [refused] = outbound.failures(COMMENT_TARGET.conversation_id)
    assert refused.status is OutboundStatus.REFUSED


def test_the_output_channel_name_selects_facebook_response_variations(
    sender: FacebookSender,
) -> None:
    assert FacebookOutput.name() == "facebook"


async def test_a_public_message_left_empty_by_the_guard_sends_nothing(
    sender: FacebookSender, outbound: OutboundLog, graph: FakeGraph
) -> None:
    channel = output(sender, outbound, COMMENT_TARGET, written_at=NOW)

    await channel.send_response(
        "x", {"image": "https://cdn.test/cta.png", "utter_action": "utter_public_to_private"}
    )

    assert graph.calls == []


async def test_a_slow_typing_indicator_does_not_hold_the_answer(
    sender: FacebookSender, inbox: Inbox, outbound: OutboundLog, graph: FakeGraph
) -> None:
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(minutes=1)))
    never = asyncio.get_running_loop().create_future()

    async def stuck() -> None:
        await never

    typing = asyncio.get_running_loop().create_task(stuck())
    indicator = TypingIndicator(task=typing, started=True)  # its call is on its way
    channel = output(sender, outbound, PRIVATE_TARGET, typing=indicator, typing_wait=0.01)

    await channel.send_response(PRIVATE_TARGET.conversation_id, {"text": "Hi"})

    assert [body["message"]["text"] for body in graph.sent_messages()] == ["Hi"]
    await asyncio.sleep(0)
    assert typing.cancelled()
