"""An agent's actions on Facebook through the real sender, a fake Graph API and a real store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import InvalidRequest, OutboundRefused, OutsideMessagingWindow
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundStatus
from channels.facebook.agents import FacebookAgentDelivery, split_conversation
from channels.facebook.sender import FacebookSender
from tests.channels.facebook.conftest import NOW
from tests.channels.facebook.factories import COMMENT_ID, COMMENTER_ID, PSID
from tests.channels.facebook.fake_graph import FakeGraph
from tests.factories import PAGE_ID, make_event

MESSENGER_USER = f"facebook:{PAGE_ID}:{PSID}"
COMMENTER = f"facebook:{PAGE_ID}:{COMMENTER_ID}"


@pytest.fixture
def agents(sender: FacebookSender, inbox: Inbox, links: IdentityLinks) -> FacebookAgentDelivery:
    return FacebookAgentDelivery(sender, inbox, links)


async def test_a_private_reply_to_a_messenger_user_carries_the_human_agent_tag_after_a_day(
    agents: FacebookAgentDelivery, inbox: Inbox, graph: FakeGraph
) -> None:
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(days=2)))

    delivered = await agents.reply_private(MESSENGER_USER, "Sorry for the wait, Jane")

    [body] = graph.sent_messages()
    assert body["recipient"] == {"id": PSID}
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    assert (delivered.kind, delivered.target_id) == ("message", PSID)


async def test_a_commenter_linked_to_messenger_is_answered_in_messenger(
    agents: FacebookAgentDelivery, inbox: Inbox, links: IdentityLinks, graph: FakeGraph
) -> None:
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(hours=1)))
    inbox.add(make_event("messenger", occurred_at=NOW - timedelta(minutes=5)))
    links.link(
        platform="facebook",
        account_id=PAGE_ID,
        public_user_id=COMMENTER_ID,
        private_user_id=PSID,
        via="private_reply",
    )

    await agents.reply_private(COMMENTER, "Here in private now")

    [body] = graph.sent_messages()
    assert body["recipient"] == {"id": PSID}


async def test_a_commenter_never_met_in_messenger_gets_a_private_reply_once(
    agents: FacebookAgentDelivery, inbox: Inbox, graph: FakeGraph
) -> None:
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(hours=1)))

    first = await agents.reply_private(COMMENTER, "We're on it")
    # The Private Reply's answer linked the commenter to their PSID: Messenger next, where they
    # have not written yet, which the agent is told.
    with pytest.raises(OutsideMessagingWindow, match="has not written in Messenger yet"):
        await agents.reply_private(COMMENTER, "Again")

    [body] = graph.sent_messages()
    assert body["recipient"] == {"comment_id": COMMENT_ID}
    assert first.kind == "private_reply"


async def test_a_public_reply_goes_under_the_comment_naming_the_commenter(
    agents: FacebookAgentDelivery, inbox: Inbox, graph: FakeGraph
) -> None:
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(hours=1)))

    delivered = await agents.reply_public(COMMENTER, COMMENT_ID, "it ships tomorrow.", True)

    [call] = graph.of("/comments")
    assert call.path == f"/{COMMENT_ID}/comments"
    assert call.body == {"message": "Jane, it ships tomorrow."}
    assert delivered.kind == "comment"


async def test_a_public_reply_that_is_only_a_mention_is_refused_unposted(
    agents: FacebookAgentDelivery, inbox: Inbox, graph: FakeGraph
) -> None:
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(hours=1)))

    with pytest.raises(OutboundRefused, match="only a mention"):
        await agents.reply_public(COMMENTER, COMMENT_ID, "@jane", False)

    assert graph.calls == []


async def test_a_public_reply_to_something_not_of_the_conversation_is_refused(
    agents: FacebookAgentDelivery, graph: FakeGraph
) -> None:
    with pytest.raises(InvalidRequest, match="not a comment or post of this conversation"):
        await agents.reply_public(COMMENTER, "123_456", "hello", False)

    assert graph.calls == []


async def test_the_one_click_call_to_action_is_a_private_reply_then_falls_back_to_the_link(
    agents: FacebookAgentDelivery, inbox: Inbox, outbound: OutboundLog, graph: FakeGraph
) -> None:
    inbox.add(make_event("facebook_comment", occurred_at=NOW - timedelta(hours=1)))

    first = await agents.send_cta(COMMENTER, COMMENT_ID)
    outbound.record(  # as the workspace records every agent send
        sender_id=COMMENTER,
        platform="facebook",
        account_id=PAGE_ID,
        origin="cta",
        visibility="public",
        kind=first.kind,
        target_id=first.target_id,
        text=first.text,
        status=OutboundStatus.SENT,
    )
    await agents.send_cta(COMMENTER, COMMENT_ID)  # the Private Reply is used up: the link

    [private] = graph.sent_messages()
    [public] = graph.of("/comments")
    assert private["recipient"] == {"comment_id": COMMENT_ID}
    assert private["message"]["text"].startswith("Hi Jane, thanks for your comment.")
    assert f"?ref=pub-{COMMENT_ID}" in public.body["message"]


async def test_a_like_is_made_as_the_page(agents: FacebookAgentDelivery, graph: FakeGraph) -> None:
    await agents.like(COMMENTER, COMMENT_ID)

    [call] = graph.of("/likes")
    assert call.path == f"/{COMMENT_ID}/likes"


@pytest.mark.parametrize("conversation", ["twitter:1:2", "facebook::2", "facebook:1", "rest-user"])
def test_other_conversations_are_refused(conversation: str) -> None:
    with pytest.raises(InvalidRequest, match="not a Facebook conversation"):
        split_conversation(conversation)
