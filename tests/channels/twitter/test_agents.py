"""An agent's actions on X through the real sender, a fake X API and a real store."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from bot.consumers import DMS_CLOSED, ConsumerFlags
from bot.errors import DeliveryUnsupported, InvalidRequest
from bot.inbox import Inbox
from channels.twitter import TwitterInput
from channels.twitter.agents import XAgentDelivery
from tests.channels.twitter.builders import BRAND, CLOSED_DMS_TEXT, HELP_ACCOUNT, PAT
from tests.channels.twitter.fake_x import FakeX
from tests.factories import make_context, make_event

CONVERSATION = f"twitter:{BRAND['id']}:{PAT['id']}"
HELP_CONVERSATION = f"twitter:{HELP_ACCOUNT['id']}:{PAT['id']}"


@pytest.fixture
def agents(channel: TwitterInput, inbox: Inbox) -> XAgentDelivery:
    return XAgentDelivery(channel.sender, inbox)


def mention(inbox: Inbox, account: dict[str, str] = BRAND) -> str:
    context = make_context("tweet", account_id=account["id"])
    inbox.add(make_event("tweet", context=context, dedupe_key=f"t:{context.event_id}"))
    return context.event_id


async def test_a_private_reply_is_a_dm(agents: XAgentDelivery, fake: FakeX) -> None:
    delivered = await agents.reply_private(CONVERSATION, "Hi Pat, checking your order now.")

    [call] = fake.calls
    assert call.path == f"/2/dm_conversations/with/{PAT['id']}/messages"
    assert call.body == {"text": "Hi Pat, checking your order now."}
    assert delivered.kind == "dm"


async def test_a_public_reply_answers_the_tweet_naming_the_consumer(
    agents: XAgentDelivery, inbox: Inbox, fake: FakeX
) -> None:
    tweet_id = mention(inbox)

    await agents.reply_public(CONVERSATION, tweet_id, "it's on its way!", True)

    [call] = fake.calls
    assert call.body == {
        "text": "@pat_example it's on its way!",
        "reply": {"in_reply_to_tweet_id": tweet_id},
    }


async def test_the_one_click_call_to_action_ends_with_the_dm_link(
    agents: XAgentDelivery, inbox: Inbox, fake: FakeX
) -> None:
    tweet_id = mention(inbox)

    await agents.send_cta(CONVERSATION, tweet_id)

    [call] = fake.calls
    text = call.body["text"]
    link = urlparse(text.rsplit(" ", 1)[-1])
    assert text.startswith("@pat_example We'd like to look into this with you.")
    assert (link.netloc, parse_qs(link.query)["recipient_id"]) == ("x.com", [BRAND["id"]])
    assert f"ref pub-{tweet_id}" in parse_qs(link.query)["text"][0]


async def test_the_call_to_action_offers_the_alternative_when_dms_are_closed(
    agents: XAgentDelivery, inbox: Inbox, flags: ConsumerFlags, fake: FakeX
) -> None:
    tweet_id = mention(inbox, HELP_ACCOUNT)
    flags.set(HELP_CONVERSATION, DMS_CLOSED, "1")

    await agents.send_cta(HELP_CONVERSATION, tweet_id)

    [call] = fake.calls
    assert "x.com/messages/compose" not in call.body["text"]
    assert call.body["text"].endswith(CLOSED_DMS_TEXT)


async def test_likes_are_not_offered_on_x(agents: XAgentDelivery, fake: FakeX) -> None:
    with pytest.raises(DeliveryUnsupported, match="Facebook only"):
        await agents.like(CONVERSATION, "1")

    assert fake.calls == []


@pytest.mark.parametrize("conversation", ["facebook:1:2", "twitter::2", "rest-user"])
async def test_other_conversations_are_refused(agents: XAgentDelivery, conversation: str) -> None:
    with pytest.raises(InvalidRequest, match="not an X conversation"):
        await agents.reply_private(conversation, "hello")
