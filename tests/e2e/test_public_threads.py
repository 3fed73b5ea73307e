"""The public-thread rule on the real Rasa server and action server.

Through the REST channel, whose messages carry the social context as metadata as the social
channels' do; and through the sandbox, whose signed Facebook and X webhooks reach the real
channels, which answer through the sandbox's Graph and X APIs. How the consumer then continues in
private, and the bot answers with the public context, is in ``test_facebook.py`` and
``test_twitter.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.client import ApiCall, SandboxClient
from tests.e2e.conftest import RunningStack
from tests.factories import PAGE_ID, X_ACCOUNT_ID, context_dict

INVITATION = (
    "Hi Jane, we'd like to help with this. Please continue in a private message: "
    f"https://m.me/{PAGE_ID}?ref=pub-122100000000000001_1234567890123456"
)
ASK_NUMBER = "What's your order number? It's in your confirmation email and looks like BC-123456."


def social(source: str, **fields: Any) -> dict[str, Any]:
    return {"social": context_dict(source, **fields)}


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(message.get("text", "")) for message in messages]


def test_a_public_comment_gets_only_the_invitation_and_private_gets_the_bot(
    stack: RunningStack,
) -> None:
    sender = f"facebook:{PAGE_ID}:{uuid.uuid4().hex[:10]}"

    public = texts(stack.say(sender, "where is my order?", social("facebook_comment")))
    again = texts(stack.say(sender, "hello?? anyone?", social("facebook_comment")))
    private = texts(stack.say(sender, "where is my order?", social("messenger")))

    assert public == [INVITATION]
    assert again == []  # one invitation per thread within the cooldown
    assert private == [ASK_NUMBER]
    assert stack.tracker(sender)["slots"]["social_visibility"] == "private"


def test_a_public_message_during_a_form_interrupts_nothing_and_says_only_the_invitation(
    stack: RunningStack,
) -> None:
    sender = f"twitter:2244994945:{uuid.uuid4().hex[:10]}"

    asked = texts(stack.say(sender, "where is my order?", social("twitter_dm")))
    public = texts(stack.say(sender, "@brightcart BC-104233 where is it??", social("tweet")))
    answered = texts(stack.say(sender, "it's BC-104233", social("twitter_dm")))

    assert asked == [ASK_NUMBER]
    assert len(public) == 1
    assert public[0].startswith("Hi @pat_example, we'd like to help with this.")
    assert "https://x.com/messages/compose?recipient_id=2244994945" in public[0]
    assert answered[0].startswith("Good news: order BC-104233")


def test_a_commenter_arriving_in_private_is_answered_about_their_comment(
    stack: RunningStack,
) -> None:
    commenter = uuid.uuid4().hex[:10]
    psid = uuid.uuid4().hex[:10]
    author = {"id": commenter, "name": "Jane Doe", "handle": None}
    comment_id = f"122100000000000001_{commenter}"
    public_sender = f"facebook:{PAGE_ID}:{commenter}"
    private_sender = f"facebook:{PAGE_ID}:{psid}"

    [invitation] = texts(
        stack.say(
            public_sender,
            "is the linen duvet available in blue?",
            social("facebook_comment", author=author, event_id=comment_id),
        )
    )
    ref = invitation.rsplit("?ref=", 1)[1]
    arrival = social(
        "messenger",
        author={"id": psid, "name": "Jane Doe", "handle": None},
        thread_id=psid,
        event_id=f"m_{psid}",
        referral=ref,
    )
    answer = texts(stack.say(private_sender, "/continue_from_public", arrival))

    assert ref == f"pub-{comment_id}"
    assert answer == [
        'Thanks for messaging us! About your comment on our post: "is the linen duvet available '
        "in blue?\". I'm Brightcart's assistant and I'll help you from here. Tell me more, or "
        "share your order number (like BC-123456) if it's about an order."
    ]
    slots = stack.tracker(private_sender)["slots"]
    assert slots["public_origin_ref"] == ref
    assert slots["public_origin_source"] == "facebook_comment"


# --- through the sandbox: a comment or a mention, as the platforms deliver them ---------------

POST_ID = f"{PAGE_ID}_122100000000000001"
CTA_STEPS = ["action_public_to_private", "utter_public_to_private", "action_listen"]
PUBLIC_TEXTS = [
    "where is my order BC-104233",  # in private: the order form, then a long answer
    "/restart",
    "/request_human",
    '/order_status{"order_number": "BC-104233"}',
]


@dataclass(frozen=True)
class PublicMessage:
    """A public message written in the sandbox, and how to tell the brand's answers to it."""

    sender_id: str  # the Rasa conversation
    public: Callable[[ApiCall], bool]  # under the message, or a Private Reply to it
    private: Callable[[ApiCall], bool]  # to the consumer in Messenger or by DM

    def answers(self, sandbox: SandboxClient) -> tuple[list[ApiCall], list[ApiCall]]:
        calls = sandbox.calls()
        return [c for c in calls if self.public(c)], [c for c in calls if self.private(c)]


def recipient(call: ApiCall) -> dict[str, Any]:
    return dict(call.body.get("recipient") or {})


def comment(sandbox: SandboxClient, text: str) -> PublicMessage:
    """A new consumer comments on the page's post (the page answers with a Private Reply)."""
    key = uuid.uuid4().hex[:8]
    jane = sandbox.add_persona("facebook", f"Jane {key}", key=key)
    comment_id = sandbox.comment(jane["asid"], POST_ID, text).ids["comment_id"]
    return PublicMessage(
        sender_id=f"facebook:{PAGE_ID}:{jane['asid']}",
        public=lambda call: (
            recipient(call).get("comment_id") == comment_id or f"/{comment_id}/" in call.path
        ),
        private=lambda call: recipient(call).get("id") == jane["psid"],
    )


def mention(sandbox: SandboxClient, text: str) -> PublicMessage:
    """A new consumer mentions the brand (the brand answers with a reply tweet)."""
    key = f"pat{uuid.uuid4().hex[:8]}"
    pat = sandbox.add_persona("x", f"Pat {key}", key=key, handle=key)
    tweet_id = sandbox.mention(pat["id"], text).ids["tweet_id"]
    return PublicMessage(
        sender_id=f"twitter:{X_ACCOUNT_ID}:{pat['id']}",
        public=lambda call: (call.body.get("reply") or {}).get("in_reply_to_tweet_id") == tweet_id,
        private=lambda call: call.path.rstrip("/").endswith(f"/with/{pat['id']}/messages"),
    )


def finished_turn(stack: RunningStack, sender_id: str, timeout: float = 30) -> list[dict[str, Any]]:
    """The conversation's events once the bot listens again after the consumer's message.

    Rasa stores the tracker after the turn's messages were sent: whatever the bot would say about
    the message was said by then.
    """
    deadline = time.monotonic() + timeout
    while True:
        events: list[dict[str, Any]] = stack.tracker(sender_id)["events"]
        users = [index for index, event in enumerate(events) if event["event"] == "user"]
        if users and users[-1] < len(events) - 1 and events[-1].get("name") == "action_listen":
            return events
        if time.monotonic() > deadline:
            raise TimeoutError(f"the turn of {sender_id} did not end: {events[-3:]}")
        time.sleep(0.2)


@pytest.mark.parametrize("text", PUBLIC_TEXTS)
@pytest.mark.parametrize("write", [comment, mention], ids=["facebook_comment", "x_mention"])
def test_a_public_message_gets_exactly_one_call_to_action_and_drives_nothing_else(
    stack: RunningStack,
    sandbox: SandboxClient,
    write: Callable[[SandboxClient, str], PublicMessage],
    text: str,
) -> None:
    written = write(sandbox, text)

    events = finished_turn(stack, written.sender_id)
    public, private = written.answers(sandbox)

    assert len(public) == 1  # the call to action: a Private Reply, a reply tweet
    assert private == []
    [user] = [event for event in events if event["event"] == "user"]
    after = events[events.index(user) + 1 :]
    assert [event["name"] for event in after if event["event"] == "action"] == CTA_STEPS
    assert len([event for event in after if event["event"] == "bot"]) == 1
    kinds = {event["event"] for event in events}
    assert kinds.isdisjoint({"restart", "pause", "active_loop", "followup"}), kinds
    # The channels neutralise the command syntax: NLU reads words, no "/intent{...}" parse.
    assert not user["text"].lstrip().startswith("/")
    assert len(user["parse_data"]["intent_ranking"]) > 1
    assert all(entity.get("extractor") for entity in user["parse_data"]["entities"])
