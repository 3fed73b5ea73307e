"""The public-thread rule on the real Rasa server: messages carry the social context as metadata
(the REST channel passes ``metadata`` through, as the social channels do)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.conftest import RunningStack
from tests.factories import PAGE_ID, context_dict

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
