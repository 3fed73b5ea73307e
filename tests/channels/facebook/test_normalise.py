from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import pytest

from bot.events import Skipped, SocialEvent
from channels.facebook.normalise import from_call_to_action, normalise_delivery
from channels.facebook.wire import parse_delivery
from tests.channels.facebook.factories import (
    COMMENT_ID,
    COMMENTER_ID,
    OTHER_PAGE_ID,
    POST_ID,
    PSID,
    attachment,
    attachments_message,
    comment,
    delivery,
    echo,
    encode,
    entry,
    feed_change,
    make_config,
    messaging_item,
    page,
    postback,
    quick_reply,
    reference,
    referral,
    signal,
    text_message,
    visitor_post,
)
from tests.factories import PAGE_ID

RECEIVED_AT = datetime(2026, 1, 1, 1, 0, tzinfo=timezone.utc)
VISITOR_POST_ID = f"{PAGE_ID}_122100000000000099"
REPLY_ID = "122100000000000001_5555555555555555"
RED_DIGEST = hashlib.sha256(b"Actually, red").hexdigest()[:12]


def normalise(body: bytes | dict[str, Any], **config: Any) -> list[SocialEvent | Skipped]:
    raw = body if isinstance(body, bytes) else encode(body)
    return normalise_delivery(parse_delivery(raw), make_config(**config), received_at=RECEIVED_AT)


def one(body: bytes | dict[str, Any], **config: Any) -> SocialEvent | Skipped:
    [result] = normalise(body, **config)
    return result


def messenger(*items: dict[str, Any]) -> dict[str, Any]:
    return delivery(entry(messaging=items))


def feed(*changes: dict[str, Any], page_id: str = PAGE_ID) -> dict[str, Any]:
    return delivery(entry(page_id=page_id, changes=changes, time=1767225800))


PRIVATE = {"source": "messenger", "visibility": "private", "thread_id": PSID, "parent_id": None}
COMMENT = {"source": "facebook_comment", "visibility": "public", "thread_id": POST_ID}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            reference("facebook-messenger-text"),
            {
                **PRIVATE,
                "text": "Hi, my order #1234 hasn't arrived",
                "event_id": "m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
                "dedupe_key": "facebook:mid:m_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
                "author": {"id": PSID, "name": None, "handle": None},
                "referral": None,
                "extra": {},
            },
            id="reference messenger text",
        ),
        pytest.param(
            reference("facebook-messenger-postback"),
            {
                **PRIVATE,
                "text": "TRACK_ORDER",
                "event_id": "m_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210",
                "referral": "summer_campaign",
                "extra": {"postback": {"payload": "TRACK_ORDER", "title": "Track my order"}},
            },
            id="reference postback with referral",
        ),
        pytest.param(
            reference("facebook-feed-comment"),
            {
                **COMMENT,
                "text": "Is this available in blue?",
                "event_id": COMMENT_ID,
                "parent_id": POST_ID,
                "dedupe_key": f"facebook:feed:{COMMENT_ID}:add",
                "author": {"id": COMMENTER_ID, "name": "Jane Doe", "handle": None},
                "occurred_at": datetime(2026, 1, 1, 0, 3, 19, tzinfo=timezone.utc),
            },
            id="reference comment",
        ),
        pytest.param(
            reference("facebook-feed-visitor-post"),
            {
                "source": "facebook_post",
                "visibility": "public",
                "text": "Your store on Main St was closed during opening hours today.",
                "event_id": VISITOR_POST_ID,
                "thread_id": VISITOR_POST_ID,
                "parent_id": None,
                "dedupe_key": f"facebook:feed:{VISITOR_POST_ID}:add",
            },
            id="reference visitor post",
        ),
        pytest.param(
            messenger(text_message("/restart")),
            {**PRIVATE, "text": "restart"},
            id="typed command neutralised",
        ),
        pytest.param(
            messenger(quick_reply("Yes please", "/affirm")),
            {
                **PRIVATE,
                "text": "/affirm",
                "extra": {"quick_reply": {"payload": "/affirm", "title": "Yes please"}},
            },
            id="quick reply payload kept as offered",
        ),
        pytest.param(
            messenger(postback("/order_status", mid=None)),
            {
                **PRIVATE,
                "text": "/order_status",
                "event_id": f"postback-{PSID}-1767225599876",
                "dedupe_key": f"facebook:postback:{PAGE_ID}:{PSID}:1767225599876",
            },
            id="postback without mid",
        ),
        pytest.param(
            messenger(postback(None, title="/restart")),
            {**PRIVATE, "text": "restart"},
            id="postback without payload uses the title, neutralised",
        ),
        pytest.param(
            messenger(referral("summer_sale")),
            {
                **PRIVATE,
                "text": "/greet",
                "referral": "summer_sale",
                "event_id": f"referral-{PSID}-1767225599876",
                "dedupe_key": f"facebook:referral:{PAGE_ID}:{PSID}:1767225599876",
                "extra": {
                    "referral": {"ref": "summer_sale", "source": "SHORTLINK", "type": "OPEN_THREAD"}
                },
            },
            id="campaign referral alone greets",
        ),
        pytest.param(
            messenger(referral(f"pub-{COMMENT_ID}")),
            {**PRIVATE, "text": "/continue_from_public", "referral": f"pub-{COMMENT_ID}"},
            id="referral from our call to action continues the public thread",
        ),
        pytest.param(
            messenger(postback("GET_STARTED", ref=f"pub-{COMMENT_ID}")),
            {
                **PRIVATE,
                "text": "/continue_from_public",
                "referral": f"pub-{COMMENT_ID}",
                "extra": {"postback": {"payload": "GET_STARTED", "title": "Track my order"}},
            },
            id="get started from our call to action continues the public thread",
        ),
        pytest.param(
            messenger(text_message(referral={"ref": "ad_42", "source": "ADS"})),
            {**PRIVATE, "referral": "ad_42"},
            id="message with referral",
        ),
        pytest.param(
            messenger(attachments_message(attachment("image", "https://cdn.test/p.jpg"))),
            {
                **PRIVATE,
                "text": "[image] https://cdn.test/p.jpg",
                "extra": {"attachments": [{"type": "image", "url": "https://cdn.test/p.jpg"}]},
            },
            id="image",
        ),
        pytest.param(
            messenger(
                attachments_message(
                    attachment("file", "https://cdn.test/receipt.pdf"),
                    attachment("location", None, coordinates={"lat": 1.0, "long": 2.0}),
                )
            ),
            {"text": "[file] https://cdn.test/receipt.pdf\n[location]"},
            id="file and location",
        ),
        pytest.param(
            messenger(attachments_message(attachment("image", sticker_id=369239263222822))),
            {"text": "[sticker] https://cdn.test/p.jpg"},
            id="sticker",
        ),
        pytest.param(
            messenger(attachments_message(attachment(), text="Here is the parcel")),
            {
                "text": "Here is the parcel",
                "extra": {"attachments": [{"type": "image", "url": "https://cdn.test/p.jpg"}]},
            },
            id="text with attachment",
        ),
        pytest.param(
            messenger(text_message("and this?", reply_to={"mid": "m_earlier"})),
            {"text": "and this?", "extra": {"reply_to": "m_earlier"}},
            id="reply to a message",
        ),
        pytest.param(
            delivery(entry(standby=(text_message("anyone there?"),))),
            {**PRIVATE, "text": "anyone there?", "extra": {"standby": True}},
            id="standby message",
        ),
        pytest.param(
            feed(comment("/human please", comment_id=REPLY_ID, parent_id=COMMENT_ID)),
            {**COMMENT, "text": "human please", "event_id": REPLY_ID, "parent_id": COMMENT_ID},
            id="reply to a comment keeps its parent",
        ),
        pytest.param(
            feed(comment(None, photo="https://cdn.test/c.jpg")),
            {
                **COMMENT,
                "text": "[image] https://cdn.test/c.jpg",
                "extra": {
                    "attachments": [{"type": "image", "url": "https://cdn.test/c.jpg"}],
                    "cta_mode": "private_reply",
                },
            },
            id="photo comment",
        ),
        pytest.param(
            feed(visitor_post("look", item="photo", photo="https://cdn.test/v.jpg")),
            {"source": "facebook_post", "text": "look"},
            id="visitor photo post",
        ),
        pytest.param(
            feed(comment("Actually, red", verb="edited", created_time=1767229000)),
            {
                **COMMENT,
                "text": "Actually, red",
                "dedupe_key": f"facebook:feed:{COMMENT_ID}:edited:1767229000:{RED_DIGEST}",
                "extra": {"edited": True, "cta_mode": "private_reply"},
            },
            id="edited comment",
        ),
    ],
)
def test_each_kind_of_consumer_message_becomes_an_event(
    body: bytes | dict[str, Any], expected: dict[str, Any]
) -> None:
    result = one(body)

    assert isinstance(result, SocialEvent), result
    document = {
        **result.context.to_dict(),
        "text": result.text,
        "dedupe_key": result.dedupe_key,
        "occurred_at": result.occurred_at,
        "extra": result.extra,
    }
    assert {key: document[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("body", "config", "reason"),
    [
        pytest.param(messenger(echo()), {}, "echo of the page's own message", id="echo"),
        pytest.param(
            messenger(messaging_item(sender=PAGE_ID, message={"mid": "m_x", "text": "hi"})),
            {},
            "echo of the page's own message",
            id="page as sender",
        ),
        pytest.param(messenger(signal("read")), {}, "read is not a message", id="read"),
        pytest.param(messenger(signal("delivery")), {}, "delivery is not a message", id="delivery"),
        pytest.param(messenger(signal("reaction")), {}, "reaction is not a message", id="reaction"),
        pytest.param(messenger(signal("typing")), {}, "typing is not a message", id="typing"),
        pytest.param(
            delivery(entry(standby=(echo(),))),
            {},
            "echo of the page's own message",
            id="standby echo",
        ),
        pytest.param(
            messenger({"recipient": {"id": PAGE_ID}, "message": {"mid": "m_1", "text": "x"}}),
            {},
            "messaging item without sender",
            id="no sender",
        ),
        pytest.param(
            messenger(messaging_item(message_edit={"mid": "m_1", "text": "x", "num_edit": 1})),
            {},
            "without message, postback or referral",
            id="unhandled messaging kind",
        ),
        pytest.param(
            messenger(text_message("   ")), {}, "message without text or attachments", id="blank"
        ),
        pytest.param(
            messenger(postback(None, title="")),
            {},
            "postback without payload or title",
            id="empty postback",
        ),
        pytest.param(
            messenger(referral("summer_sale")),
            {"referral_intent": None},
            "a referral alone is not handled",
            id="referral off",
        ),
        pytest.param(
            messenger({"sender": {"id": "1"}, "message": {"mid": "m_1", "attachments": 3}}),
            {},
            "unreadable item: entry[0].messaging[0]: message.attachments",
            id="unreadable messaging item",
        ),
        pytest.param(
            feed(comment(author=(PAGE_ID, "Brightcart"))),
            {},
            "the page's own comment",
            id="own comment",
        ),
        pytest.param(
            feed(visitor_post(author=(PAGE_ID, "Brightcart"))),
            {},
            "the page's own post",
            id="own post",
        ),
        pytest.param(feed(comment(author=None)), {}, "comment without from", id="no from"),
        pytest.param(feed(comment(verb="remove")), {}, "'remove' of a comment", id="removed"),
        pytest.param(feed(comment(verb="hide")), {}, "'hide' of a comment", id="hidden"),
        pytest.param(feed(comment(verb="unhide")), {}, "'unhide' of a comment", id="unhidden"),
        pytest.param(
            feed(visitor_post(verb="remove")), {}, "'remove' of a post", id="post removed"
        ),
        pytest.param(
            feed(feed_change(item="reaction", reaction_type="like", message=None, comment_id=None)),
            {},
            "feed item 'reaction' is not a message",
            id="feed reaction",
        ),
        pytest.param(
            feed(feed_change(item="like", message=None)), {}, "feed item 'like'", id="feed like"
        ),
        pytest.param(feed(visitor_post(published=0)), {}, "unpublished post", id="unpublished"),
        pytest.param(feed(comment(None)), {}, "feed item without text", id="empty comment"),
        pytest.param(
            feed(comment(comment_id=None)), {}, "comment without its id", id="no comment id"
        ),
        pytest.param(
            feed({"field": "mention", "value": {"item": "comment", "verb": "add"}}),
            {},
            "'mention' changes are not handled",
            id="other field",
        ),
        pytest.param(
            feed({"field": "feed", "value": {"from": "nobody"}}),
            {},
            "unreadable item: entry[0].changes[0]: value.from",
            id="unreadable change",
        ),
        pytest.param(
            feed(comment(verb="edited")),
            {"edits": "ignore"},
            "edit of a comment (edits: ignore)",
            id="edit ignored",
        ),
        pytest.param(
            feed(comment()),
            {"pages": [page(public=False)]},
            f"public events of page {PAGE_ID} are off",
            id="public off",
        ),
        pytest.param(
            messenger(text_message()),
            {"pages": [page(enabled=False)]},
            f"page {PAGE_ID} is disabled",
            id="disabled page, private",
        ),
        pytest.param(
            feed(comment()),
            {"pages": [page(enabled=False)]},
            f"page {PAGE_ID} is disabled",
            id="disabled page, public",
        ),
        pytest.param(
            feed(comment(), page_id=OTHER_PAGE_ID),
            {},
            f"page {OTHER_PAGE_ID} is not configured",
            id="unknown page",
        ),
    ],
)
def test_what_is_not_a_consumer_message_for_the_bot_is_skipped_with_a_reason(
    body: dict[str, Any], config: dict[str, Any], reason: str
) -> None:
    result = one(body, **config)

    assert isinstance(result, Skipped), result
    assert reason in result.reason


@pytest.mark.parametrize(
    ("ref", "ours"), [("pub-1_2", True), ("pub-", False), ("summer_sale", False), (None, False)]
)
def test_only_our_call_to_action_refs_are_recognised(ref: str | None, ours: bool) -> None:
    assert from_call_to_action(ref) is ours


@pytest.mark.parametrize("intent", ["greet", None])
def test_the_call_to_action_ref_continues_whatever_the_referral_intent(intent: str | None) -> None:
    result = one(messenger(referral("pub-1_2")), referral_intent=intent)

    assert isinstance(result, SocialEvent)
    assert result.text == "/continue_from_public"


def test_the_skip_of_an_item_names_its_platform_id() -> None:
    result = one(messenger(echo(mid="m_echo9")))

    assert result == Skipped("echo of the page's own message", "m_echo9")


def test_private_messages_keep_working_when_the_public_toggle_is_off() -> None:
    result = one(messenger(text_message()), pages=[page(public=False)])

    assert isinstance(result, SocialEvent)


def test_every_entry_and_every_item_of_a_batch_is_read_in_order() -> None:
    body = delivery(
        entry(
            messaging=(
                text_message(mid="m_1"),
                signal("read"),
                quick_reply("Yes", "/affirm", mid="m_2"),
            )
        ),
        entry(standby=(text_message(mid="m_3"),), changes=(comment(),)),
        entry(page_id=OTHER_PAGE_ID, messaging=(text_message(mid="m_4"),)),
        entry(messaging=(text_message(mid="m_5", text="bye"),), changes=(visitor_post(),)),
    )

    results = normalise(body, pages=[page(), page(OTHER_PAGE_ID)])

    keys = [r.dedupe_key if isinstance(r, SocialEvent) else f"skip:{r.reason}" for r in results]
    assert keys == [
        "facebook:mid:m_1",
        "skip:read is not a message",
        "facebook:mid:m_2",
        "facebook:mid:m_3",
        f"facebook:feed:{COMMENT_ID}:add",
        "facebook:mid:m_4",
        "facebook:mid:m_5",
        f"facebook:feed:{VISITOR_POST_ID}:add",
    ]


def test_each_page_of_a_batch_is_its_own_brand_account() -> None:
    body = delivery(
        entry(messaging=(text_message(mid="m_1"),)),
        entry(page_id=OTHER_PAGE_ID, messaging=(text_message(mid="m_2"),)),
    )

    first, second = normalise(body, pages=[page(), page(OTHER_PAGE_ID)])

    assert isinstance(first, SocialEvent)
    assert isinstance(second, SocialEvent)
    assert first.sender_id == f"facebook:{PAGE_ID}:{PSID}"
    assert second.sender_id == f"facebook:{OTHER_PAGE_ID}:{PSID}"


def test_a_commenter_is_a_conversation_of_its_own_until_linked() -> None:
    result = one(feed(comment()))

    assert isinstance(result, SocialEvent)
    assert result.sender_id == f"facebook:{PAGE_ID}:{COMMENTER_ID}"


def test_a_later_edit_is_new_while_a_redelivered_edit_is_the_same() -> None:
    first = one(feed(comment("red", verb="edited", created_time=1767229000)))
    again = one(feed(comment("red", verb="edited", created_time=1767229000)))
    later = one(feed(comment("green", verb="edited", created_time=1767229000)))

    assert isinstance(first, SocialEvent)
    assert isinstance(again, SocialEvent)
    assert isinstance(later, SocialEvent)
    assert first.dedupe_key == again.dedupe_key
    assert later.dedupe_key != first.dedupe_key
    assert first.dedupe_key != f"facebook:feed:{COMMENT_ID}:add"


@pytest.mark.parametrize("edits", ["always_new", "new_if_unanswered"])
def test_an_edit_is_a_new_event_marked_as_an_edit(edits: str) -> None:
    result = one(feed(comment("red", verb="edited")), edits=edits)

    assert isinstance(result, SocialEvent)
    assert result.extra == {"edited": True, "cta_mode": "private_reply"}


def test_an_item_without_a_time_takes_the_entry_time_then_the_arrival_time() -> None:
    no_time = {"sender": {"id": PSID}, "message": {"mid": "m_1", "text": "hi"}}
    with_entry_time = one(delivery(entry(messaging=(no_time,), time=1767225600123)))
    without = one(delivery({"id": PAGE_ID, "messaging": [no_time]}))

    assert isinstance(with_entry_time, SocialEvent)
    assert isinstance(without, SocialEvent)
    assert with_entry_time.occurred_at == datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=timezone.utc)
    assert without.occurred_at == RECEIVED_AT


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            messaging_item(sender="12:34", message={"mid": "m_colon", "text": "hi"}),
            "unusable item: user_id: expected a non-empty id without ':', got '12:34'",
        ),
        (
            messaging_item(sender="9" * 300, message={"mid": "m_long", "text": "hi"}),
            "unusable item: sender id: 325 characters; at most 255 are stored",
        ),
        (
            text_message(mid="m" * 300),
            "unusable item: ensure this value has at most 255 characters",
        ),
    ],
    ids=["colon in the sender id", "sender id too long", "mid too long"],
)
def test_an_item_whose_ids_cannot_be_stored_is_skipped_and_the_batch_goes_on(
    item: dict[str, Any], reason: str
) -> None:
    skipped, kept = normalise(messenger(item, text_message(mid="m_fine")))

    assert isinstance(skipped, Skipped)
    assert skipped.reason == reason
    assert isinstance(kept, SocialEvent)
    assert kept.dedupe_key == "facebook:mid:m_fine"
