from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.consumers import ConsumerFlags
from bot.errors import InvalidRequest, OutsideMessagingWindow, RecipientUnavailable
from bot.guard import Origin, OutboundMessage, Target
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundStatus
from channels.facebook.config import FacebookConfig
from channels.facebook.sender import FacebookSender, reply_object
from channels.social_output import SentMessage
from tests.channels.facebook.conftest import NOW, make_sender
from tests.channels.facebook.factories import (
    COMMENT_ID,
    COMMENTER_ID,
    PAGE_TOKEN,
    PSID,
    make_config,
    page,
)
from tests.channels.facebook.fake_graph import FakeGraph, graph_error
from tests.factories import PAGE_ID, make_context, make_event

CONVERSATION = f"facebook:{PAGE_ID}:{PSID}"
COMMENT = Target.from_context(make_context("facebook_comment"))
VISITOR_POST = Target.from_context(make_context("facebook_post"))


def consumer_wrote(inbox: Inbox, ago: timedelta, source: str = "messenger", **fields: Any) -> None:
    inbox.add(make_event(source, occurred_at=NOW - ago, **fields))


async def test_a_private_message_answers_in_the_24_hour_window(
    sender: FacebookSender, inbox: Inbox, graph: FakeGraph
) -> None:
    consumer_wrote(inbox, timedelta(hours=1))

    sent = await sender.send_private(PAGE_ID, PSID, OutboundMessage(text="On its way!"), Origin.BOT)

    [call] = graph.calls
    assert (call.path, call.params) == (f"/{PAGE_ID}/messages", {"access_token": PAGE_TOKEN})
    assert call.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "On its way!"},
    }
    assert sent == [SentMessage("message", PSID, "m_sent1", "On its way!")]


async def test_an_agent_answers_with_the_human_agent_tag_after_24_hours(
    sender: FacebookSender, inbox: Inbox, graph: FakeGraph
) -> None:
    consumer_wrote(inbox, timedelta(days=3))

    await sender.send_private(
        PAGE_ID, PSID, OutboundMessage(text="Sorry for the wait"), Origin.AGENT
    )

    [body] = graph.sent_messages()
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


async def test_the_window_is_measured_from_the_latest_private_message_only(
    sender: FacebookSender, inbox: Inbox, graph: FakeGraph
) -> None:
    consumer_wrote(inbox, timedelta(days=2))
    # A public comment an hour ago opens no Messenger window (another conversation anyway).
    consumer_wrote(inbox, timedelta(hours=1), "facebook_comment")

    with pytest.raises(OutsideMessagingWindow, match="within 24 h"):
        await sender.send_private(PAGE_ID, PSID, OutboundMessage(text="Hi"), Origin.BOT)

    assert graph.calls == []


@pytest.mark.parametrize(
    ("answering_ago", "latest_ago", "outcome"),
    [
        # The message answered opens the window: the inbox is not asked (it holds nothing here).
        (timedelta(hours=2), None, "RESPONSE"),
        # Answering a message older than the window: a later message in the inbox still opens it.
        (timedelta(hours=30), timedelta(hours=1), "RESPONSE"),
        (timedelta(hours=30), None, "refused"),
    ],
)
async def test_the_message_being_answered_opens_the_window(
    sender: FacebookSender,
    inbox: Inbox,
    graph: FakeGraph,
    answering_ago: timedelta,
    latest_ago: timedelta | None,
    outcome: str,
) -> None:
    if latest_ago is not None:
        consumer_wrote(inbox, latest_ago)
    message = OutboundMessage(text="Hi")

    if outcome == "refused":
        with pytest.raises(OutsideMessagingWindow):
            await sender.send_private(
                PAGE_ID, PSID, message, Origin.BOT, answering=NOW - answering_ago
            )
        assert graph.calls == []
        return
    await sender.send_private(PAGE_ID, PSID, message, Origin.BOT, answering=NOW - answering_ago)

    [body] = graph.sent_messages()
    assert body["messaging_type"] == outcome


async def test_a_consumer_who_never_wrote_in_messenger_gets_nothing(
    sender: FacebookSender, graph: FakeGraph
) -> None:
    with pytest.raises(OutsideMessagingWindow, match="has not written in Messenger"):
        await sender.send_private(PAGE_ID, PSID, OutboundMessage(text="Hi"), Origin.AGENT)

    assert graph.calls == []


async def test_an_unreachable_consumer_is_flagged_for_agents(
    sender: FacebookSender, inbox: Inbox, graph: FakeGraph, flags: ConsumerFlags
) -> None:
    consumer_wrote(inbox, timedelta(minutes=5))
    graph.fail_next("/messages", graph_error(551, 1545041))

    with pytest.raises(RecipientUnavailable):
        await sender.send_private(PAGE_ID, PSID, OutboundMessage(text="Hi"), Origin.BOT)

    assert flags.get(CONVERSATION) == {"unreachable": "551"}


async def test_a_rich_message_is_sent_as_its_messenger_messages_in_order(
    sender: FacebookSender, inbox: Inbox, graph: FakeGraph
) -> None:
    consumer_wrote(inbox, timedelta(minutes=5))
    message = OutboundMessage(
        text="Here is your label",
        image="https://cdn.test/label.png",
        quick_replies=({"title": "Thanks", "payload": "/thanks"},),
    )

    sent = await sender.send_private(PAGE_ID, PSID, message, Origin.BOT)

    text, image = graph.sent_messages()
    assert text["message"] == {"text": "Here is your label"}
    assert image["message"]["attachment"]["type"] == "image"
    assert image["message"]["quick_replies"][0]["payload"] == "/thanks"
    assert [item.text for item in sent] == ["Here is your label", None]


async def test_a_private_reply_answers_the_comment_once_and_links_the_commenter(
    sender: FacebookSender,
    inbox: Inbox,
    graph: FakeGraph,
    links: IdentityLinks,
    outbound: OutboundLog,
) -> None:
    consumer_wrote(inbox, timedelta(hours=2), "facebook_comment")

    sent = await sender.private_reply(COMMENT, "Hi Jane, let's continue in Messenger")

    [call] = graph.calls
    assert call.body == {
        "recipient": {"comment_id": COMMENT_ID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi Jane, let's continue in Messenger"},
    }
    assert sent == SentMessage(
        "private_reply", COMMENT_ID, "m_sent1", "Hi Jane, let's continue in Messenger"
    )
    link = links.private_for("facebook", PAGE_ID, COMMENTER_ID)
    assert link is not None
    assert (link.private_user_id, link.via, link.origin_event_id) == (
        PSID,
        "private_reply",
        COMMENT_ID,
    )

    outbound.record(
        sender_id=COMMENT.conversation_id,
        platform="facebook",
        account_id=PAGE_ID,
        origin="cta",
        visibility="public",
        kind="private_reply",
        target_id=COMMENT_ID,
        text="...",
        status=OutboundStatus.SENT,
    )
    assert await sender.private_reply(COMMENT, "again?") is None
    assert len(graph.calls) == 1


async def test_a_private_reply_to_a_visitor_post_names_the_post(
    sender: FacebookSender, graph: FakeGraph
) -> None:
    await sender.private_reply(VISITOR_POST, "Hi", written_at=NOW)

    [body] = graph.sent_messages()
    assert body["recipient"] == {"post_id": VISITOR_POST.event_id}


async def test_a_private_reply_comes_within_7_days_of_the_comment(
    sender: FacebookSender, inbox: Inbox, graph: FakeGraph
) -> None:
    consumer_wrote(inbox, timedelta(days=8), "facebook_comment")

    with pytest.raises(OutsideMessagingWindow, match="within 7 days"):
        await sender.private_reply(COMMENT, "Hi")

    assert graph.calls == []


async def test_no_private_reply_where_the_page_turned_them_off(
    graph: FakeGraph, inbox: Inbox
) -> None:
    config = make_config(pages=[page(private_replies=False)])
    sender = make_sender(config, graph, inbox)

    with pytest.raises(InvalidRequest, match="private_replies is off"):
        await sender.private_reply(COMMENT, "Hi", written_at=NOW)

    assert graph.calls == []


@pytest.mark.parametrize(
    ("target", "object_id"),
    [
        (COMMENT, COMMENT_ID),
        (replace(COMMENT, event_id="1_reply", parent_id=COMMENT_ID), COMMENT_ID),
        (VISITOR_POST, VISITOR_POST.event_id),
    ],
    ids=["top-level comment", "reply to a comment", "visitor post"],
)
async def test_a_public_reply_goes_under_the_comment_or_its_top_level_comment(
    sender: FacebookSender, graph: FakeGraph, target: Target, object_id: str
) -> None:
    sent = await sender.reply_public(target, "We're looking into it")

    [call] = graph.calls
    assert (call.path, call.body) == (
        f"/{object_id}/comments",
        {"message": "We're looking into it"},
    )
    assert (sent.kind, sent.target_id) == ("comment", object_id)
    assert reply_object(target) == object_id


async def test_the_page_likes_a_comment(sender: FacebookSender, graph: FakeGraph) -> None:
    sent = await sender.like(PAGE_ID, COMMENT_ID)

    [call] = graph.calls
    assert (call.method, call.path) == ("POST", f"/{COMMENT_ID}/likes")
    assert sent == SentMessage("like", COMMENT_ID)


@pytest.mark.parametrize(
    ("pages", "message"),
    [([page(enabled=False)], "is disabled"), ([page("42")], "is not configured")],
)
async def test_nothing_is_sent_for_a_disabled_or_unknown_page(
    graph: FakeGraph, inbox: Inbox, pages: list[dict[str, Any]], message: str
) -> None:
    config: FacebookConfig = make_config(pages=pages)
    sender = make_sender(config, graph, inbox)

    with pytest.raises(InvalidRequest, match=f"page {PAGE_ID} {message}"):
        await sender.reply_public(COMMENT, "Hi")

    assert graph.calls == []


async def test_a_failing_typing_indicator_is_not_an_error(
    sender: FacebookSender, graph: FakeGraph
) -> None:
    graph.fail_next("/messages", graph_error(10, 2018278))

    await sender.typing_on(PAGE_ID, PSID)

    [call] = graph.calls
    assert call.body == {"recipient": {"id": PSID}, "sender_action": "typing_on"}


async def test_the_profile_is_fetched_with_the_page_token(
    sender: FacebookSender, graph: FakeGraph
) -> None:
    profile = await sender.profile(PAGE_ID, PSID)

    assert profile is not None
    assert profile.name == "Jane Doe"
    assert graph.calls[0].params["access_token"] == PAGE_TOKEN
