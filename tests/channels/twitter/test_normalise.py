"""Every kind of X delivery item, in both formats, normalised or skipped with its reason."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.errors import MalformedPayload
from bot.events import Skipped, SocialEvent
from channels.twitter.normalise import Known, normalise_delivery, strip_leading_mentions
from channels.twitter.options import NumberedOption
from tests.channels.twitter.builders import (
    BRAND,
    DISABLED_ACCOUNT,
    DM_ID,
    HELP_ACCOUNT,
    PAT,
    PRIVATE_ONLY_ACCOUNT,
    SAM,
    TWEET_ID,
    aaa,
    aaa_dm,
    aaa_tweet,
    config,
    encode,
    reference,
    xaa,
    xaa_dm,
    xaa_post,
)

PARENT_ID = "1873999999999999000"
ROOT_ID = "1873999999999990000"
TWEET_KEY = f"twitter:{BRAND['id']}:tweet:{TWEET_ID}"
DM_KEY = f"twitter:{BRAND['id']}:dm:{DM_ID}"
LONG = "@BrandCo " + "my parcel was left in the rain and everything inside is soaked " * 5
LONG_SEEN = LONG.removeprefix("@BrandCo ").strip()
UNKNOWN = {"id": "999", "screen_name": "nobody", "name": "Nobody"}


def normalise(payload: dict[str, Any], known: Known | None = None) -> list[SocialEvent | Skipped]:
    return normalise_delivery(encode(payload), config(), known)


def summary(item: SocialEvent | Skipped) -> tuple[Any, ...]:
    """What a row of the table checks: the reason of a skip, the contract fields of an event."""
    if isinstance(item, Skipped):
        return ("skipped", item.reason)
    context = item.context
    return (
        context.visibility.value,
        item.text,
        context.thread_id,
        context.parent_id,
        item.dedupe_key,
    )


def public(text: str, thread: str = TWEET_ID, parent: str | None = None) -> tuple[Any, ...]:
    return ("public", text, thread, parent, TWEET_KEY)


def private(text: str) -> tuple[Any, ...]:
    return ("private", text, PAT["id"], None, DM_KEY)


def skipped(reason: str) -> tuple[Any, ...]:
    return ("skipped", reason)


def other(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    return aaa(**{kind: [item]})


CASES: list[tuple[str, dict[str, Any], list[tuple[Any, ...]]]] = [
    # --- Account Activity API ---
    ("aaa reference mention", reference("aaa-mention"), [public("my order #1234 never arrived")]),
    ("aaa reference dm", reference("aaa-dm"), [private("Order number is 1234")]),
    (
        "aaa reply in a thread",
        aaa(tweets=(aaa_tweet("@BrandCo still nothing", in_reply_to=PARENT_ID),)),
        [public("still nothing", thread=PARENT_ID, parent=PARENT_ID)],
    ),
    (
        "aaa quote of a brand tweet",
        aaa(tweets=(aaa_tweet("is this in stock?", mentions=(), quoted=ROOT_ID),)),
        [public("is this in stock?")],
    ),
    (
        "aaa retweet",
        aaa(tweets=(aaa_tweet("RT @BrandCo: new linen", retweet_of=ROOT_ID),)),
        [skipped("a retweet is not a message")],
    ),
    (
        "aaa long tweet",
        aaa(tweets=(aaa_tweet(LONG[:139] + "…", full_text=LONG),)),
        [public(LONG_SEEN)],
    ),
    (
        "aaa dm with a quick-reply response",
        aaa(dms=(aaa_dm("Track my order", quick_reply="/order_status"),)),
        [private("/order_status")],
    ),
    (
        "aaa command typed in public",
        aaa(tweets=(aaa_tweet("@BrandCo /restart"),)),
        [public("restart")],
    ),
    (
        "aaa command typed in a dm",
        aaa(dms=(aaa_dm('/request_human{"x": 1}'),)),
        [private('request_human{"x": 1}')],
    ),
    (
        "aaa html entities",
        aaa(tweets=(aaa_tweet("@BrandCo fish &amp; chips &lt;3"),)),
        [public("fish & chips <3")],
    ),
    (
        "aaa echo of our tweet",
        aaa(tweets=(aaa_tweet("@pat_example sorry!", author=BRAND, mentions=(PAT,)),)),
        [skipped("echo of our own tweet")],
    ),
    (
        "aaa echo of our dm",
        aaa(dms=(aaa_dm("Here you go", sender=BRAND, recipient=PAT),)),
        [skipped("echo of our own DM")],
    ),
    (
        "aaa favourite",
        other("favorite_events", {"id": "f1", "favorited_status": {}, "user": {}}),
        [skipped("a favourite is not a message")],
    ),
    (
        "aaa follow",
        other("follow_events", {"type": "follow", "source": {}, "target": {}}),
        [skipped("a follow is not a message")],
    ),
    (
        "aaa typing",
        other("direct_message_indicate_typing_events", {"sender_id": PAT["id"]}),
        [skipped("a typing indicator is not a message")],
    ),
    (
        "aaa read",
        other("direct_message_mark_read_events", {"sender_id": PAT["id"]}),
        [skipped("a read receipt is not a message")],
    ),
    (
        "aaa delete",
        other("tweet_delete_events", {"status": {"id": TWEET_ID, "user_id": PAT["id"]}}),
        [skipped("a tweet deletion is not a message")],
    ),
    (
        "aaa disabled account",
        aaa(for_user=DISABLED_ACCOUNT, tweets=(aaa_tweet(),), dms=(aaa_dm(),)),
        [skipped(f"account {DISABLED_ACCOUNT['id']} is disabled")] * 2,
    ),
    (
        "aaa unknown account",
        aaa(for_user=UNKNOWN, tweets=(aaa_tweet(),)),
        [skipped("account 999 is not configured")],
    ),
    (
        "aaa account with public answers off",
        aaa(for_user=PRIVATE_ONLY_ACCOUNT, tweets=(aaa_tweet(),), dms=(aaa_dm("hi"),)),
        [
            skipped(f"public answers are off for account {PRIVATE_ONLY_ACCOUNT['id']}"),
            (
                "private",
                "hi",
                PAT["id"],
                None,
                f"twitter:{PRIVATE_ONLY_ACCOUNT['id']}:dm:{DM_ID}",
            ),
        ],
    ),
    (
        "aaa a thread within one delivery",
        aaa(
            tweets=(
                aaa_tweet("@BrandCo help", tweet_id=ROOT_ID),
                aaa_tweet("@BrandCo anyone?", tweet_id=PARENT_ID, in_reply_to=ROOT_ID),
                aaa_tweet("@BrandCo hello??", in_reply_to=PARENT_ID),
            )
        ),
        [
            ("public", "help", ROOT_ID, None, f"twitter:{BRAND['id']}:tweet:{ROOT_ID}"),
            ("public", "anyone?", ROOT_ID, ROOT_ID, f"twitter:{BRAND['id']}:tweet:{PARENT_ID}"),
            public("hello??", thread=ROOT_ID, parent=PARENT_ID),
        ],
    ),
    # --- X Activity API ---
    (
        "xaa mention",
        xaa("post.mention.create", xaa_post()),
        [public("my order #1234 never arrived")],
    ),
    (
        "xaa reply in a thread",
        xaa(
            "post.reply.create",
            xaa_post("@BrandCo still nothing", conversation_id=ROOT_ID, replied_to=PARENT_ID),
        ),
        [public("still nothing", thread=ROOT_ID, parent=PARENT_ID)],
    ),
    (
        "xaa quote of a brand post",
        xaa("post.mention.create", xaa_post("is this in stock?", mentions=(), quoted=ROOT_ID)),
        [public("is this in stock?")],
    ),
    (
        "xaa retweet",
        xaa("post.mention.create", xaa_post("RT @BrandCo: new linen", retweeted=ROOT_ID)),
        [skipped("a retweet is not a message")],
    ),
    (
        "xaa long post",
        xaa("post.mention.create", xaa_post(LONG[:139] + "…", note_text=LONG)),
        [public(LONG_SEEN)],
    ),
    ("xaa dm", xaa("dm.received", xaa_dm()), [private("Order number is 1234")]),
    (
        "xaa echo of our post",
        xaa(
            "post.reply.create",
            xaa_post("@pat_example sorry!", author=BRAND, mentions=(PAT,), replied_to=ROOT_ID),
            users=(BRAND,),
        ),
        [skipped("echo of our own tweet")],
    ),
    (
        "xaa echo of our dm",
        xaa("dm.received", xaa_dm("Here you go", sender=BRAND, recipient=PAT)),
        [skipped("echo of our own DM")],
    ),
    (
        "xaa dm that is not a message",
        xaa("dm.received", xaa_dm("", event_type="ParticipantsJoin")),
        [skipped("DM event of type 'ParticipantsJoin' is not a message")],
    ),
    (
        "xaa other event type",
        xaa("follow.follow", {"source": {}, "target": {}}),
        [skipped("event type 'follow.follow' is not handled")],
    ),
    (
        "xaa disabled account",
        xaa("dm.received", xaa_dm(), for_user=DISABLED_ACCOUNT),
        [skipped(f"account {DISABLED_ACCOUNT['id']} is disabled")],
    ),
    (
        "xaa unknown account",
        xaa("post.mention.create", xaa_post(), for_user=UNKNOWN),
        [skipped("account 999 is not configured")],
    ),
    (
        "xaa account with public answers off",
        xaa("post.mention.create", xaa_post(), for_user=PRIVATE_ONLY_ACCOUNT),
        [skipped(f"public answers are off for account {PRIVATE_ONLY_ACCOUNT['id']}")],
    ),
]


@pytest.mark.parametrize(
    ("payload", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_every_delivery_item_becomes_an_event_or_a_skip_with_its_reason(
    payload: dict[str, Any], expected: list[tuple[Any, ...]]
) -> None:
    assert [summary(item) for item in normalise(payload)] == expected


@pytest.mark.parametrize(
    ("aaa_payload", "xaa_payload"),
    [
        (reference("aaa-mention"), xaa("post.mention.create", xaa_post())),
        (reference("aaa-dm"), xaa("dm.received", xaa_dm())),
    ],
    ids=["tweet", "dm"],
)
def test_the_same_item_in_both_formats_is_the_same_event_with_one_dedupe_key(
    aaa_payload: dict[str, Any], xaa_payload: dict[str, Any]
) -> None:
    [from_aaa] = normalise(aaa_payload)
    [from_xaa] = normalise(xaa_payload)

    assert from_aaa == from_xaa


def test_a_tweet_for_two_subscribed_accounts_is_one_event_per_account() -> None:
    tweet = aaa_tweet("@BrandCo @BrandCoHelp where is it?", mentions=(BRAND, HELP_ACCOUNT))

    [for_brand] = normalise(aaa(tweets=(tweet,)))
    [for_help] = normalise(aaa(for_user=HELP_ACCOUNT, tweets=(tweet,)))

    assert isinstance(for_brand, SocialEvent)
    assert isinstance(for_help, SocialEvent)
    assert for_brand.dedupe_key == TWEET_KEY
    assert for_help.dedupe_key == f"twitter:{HELP_ACCOUNT['id']}:tweet:{TWEET_ID}"
    assert for_brand.sender_id != for_help.sender_id
    assert for_brand.text == for_help.text == "where is it?"


def test_a_mention_then_a_dm_of_one_consumer_are_one_conversation() -> None:
    [mention] = normalise(reference("aaa-mention"))
    [dm] = normalise(xaa("dm.received", xaa_dm()))

    assert isinstance(mention, SocialEvent)
    assert isinstance(dm, SocialEvent)
    assert mention.sender_id == dm.sender_id == f"twitter:{BRAND['id']}:{PAT['id']}"


def test_the_public_event_carries_the_contract_and_the_text_as_written() -> None:
    [event] = normalise(
        aaa(tweets=(aaa_tweet("@BrandCo @sam_other it broke", mentions=(BRAND, SAM)),))
    )

    assert isinstance(event, SocialEvent)
    assert event.text == "@sam_other it broke"  # only the brand's leading mention goes
    assert event.metadata() == {
        "mentions": [
            {"id": BRAND["id"], "handle": "BrandCo"},
            {"id": SAM["id"], "handle": "sam_other"},
        ],
        "text_as_written": "@BrandCo @sam_other it broke",
        "social": {
            "version": 1,
            "platform": "twitter",
            "visibility": "public",
            "source": "tweet",
            "account_id": BRAND["id"],
            "event_id": TWEET_ID,
            "thread_id": TWEET_ID,
            "parent_id": None,
            "author": {"id": PAT["id"], "name": "Pat Example", "handle": "pat_example"},
            "referral": None,
        },
    }


def test_a_quote_keeps_the_quoted_tweet_in_the_metadata() -> None:
    [event] = normalise(aaa(tweets=(aaa_tweet("nice", mentions=(), quoted=ROOT_ID),)))

    assert isinstance(event, SocialEvent)
    assert event.extra["quoted_tweet_id"] == ROOT_ID


def test_a_reply_to_a_stored_tweet_joins_that_tweets_thread() -> None:
    asked: list[tuple[str, str, str]] = []

    def thread_of(account_id: str, user_id: str, tweet_id: str) -> str | None:
        asked.append((account_id, user_id, tweet_id))
        return ROOT_ID

    [event] = normalise(
        aaa(tweets=(aaa_tweet("@BrandCo ?", in_reply_to=PARENT_ID),)), Known(thread_of=thread_of)
    )

    assert isinstance(event, SocialEvent)
    assert (event.context.thread_id, event.context.parent_id) == (ROOT_ID, PARENT_ID)
    assert asked == [(BRAND["id"], PAT["id"], PARENT_ID)]


OPTIONS = (
    NumberedOption(1, "Track my order", "/order_status"),
    NumberedOption(2, "Refund", "/refund"),
)


@pytest.mark.parametrize(
    ("answer", "offered", "seen"),
    [
        ("2", OPTIONS, "/refund"),
        ("refund", OPTIONS, "/refund"),
        ("2", (), "2"),
        ("3", OPTIONS, "3"),
        ("/refund", (), "refund"),
    ],
)
def test_a_dm_answering_a_numbered_option_becomes_its_payload(
    answer: str, offered: tuple[NumberedOption, ...], seen: str
) -> None:
    senders: list[str] = []

    def options_for(sender_id: str) -> tuple[NumberedOption, ...]:
        senders.append(sender_id)
        return offered

    [event] = normalise(xaa("dm.received", xaa_dm(answer)), Known(options_for=options_for))

    assert isinstance(event, SocialEvent)
    assert event.text == seen
    assert senders == [event.sender_id]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the body is not JSON"),
        (b"[]", "expected an Account Activity delivery"),
        (b'{"hello": 1}', "expected an Account Activity delivery"),
        (
            encode({"for_user_id": ""}),
            "not an Account Activity delivery: for_user_id: ensure this value has at least 1",
        ),
        (
            encode({"for_user_id": BRAND["id"], "tweet_create_events": {"id_str": "1"}}),
            "not an Account Activity delivery: tweet_create_events: value is not a valid list",
        ),
        (
            encode({**aaa(dms=(aaa_dm(),)), "users": ["not", "a", "map"]}),
            "not an Account Activity delivery: users: value is not a valid dict",
        ),
        (
            encode({"data": {"event_type": "dm.received"}}),
            "not an X Activity envelope: data.filter",
        ),
        (encode({"data": "dm.received"}), "not an X Activity envelope: data: value is not a"),
        (
            encode({"data": {**xaa("dm.received", xaa_dm())["data"], "event_type": ""}}),
            "not an X Activity envelope: data.event_type: ensure this value has at least 1",
        ),
    ],
    ids=[
        "not json",
        "a list",
        "neither format",
        "empty account",
        "tweets not a list",
        "users not a map",
        "xaa without filter",
        "xaa data not an object",
        "xaa without event type",
    ],
)
def test_a_malformed_envelope_is_refused_with_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload, match="^" + re.escape(message)):
        normalise_delivery(body, config())


MALFORMED_ITEMS = {
    "tweet without author": (
        aaa(tweets=({"id_str": "1"}, aaa_tweet())),
        ("tweet_create_events[0]: not a tweet: user: field required", "1"),
    ),
    "tweet not an object": (
        aaa(tweets=("1874000000000000002", aaa_tweet())),
        ("tweet_create_events[0]: not a tweet: __root__: ", None),
    ),
    "tweet without a time": (
        aaa(
            tweets=({**aaa_tweet(), "timestamp_ms": None, "created_at": None},),
            dms=(aaa_dm(),),
        ),
        (f"tweet_create_events[0]: tweet {TWEET_ID}: neither timestamp_ms nor", TWEET_ID),
    ),
    "dm without id": (
        aaa(dms=({"type": "message_create"}, aaa_dm())),
        ("direct_message_events[0]: not a direct message event: id: field required", None),
    ),
    "dm with a bad time": (
        aaa(
            dms=(
                {**aaa_dm(), "created_timestamp": "9" * 30},
                aaa_dm(dm_id="1874000000000000011"),
            )
        ),
        (f"direct_message_events[0]: direct message {DM_ID}: expected a time in epoch", DM_ID),
    ),
    "dm with wrong types": (
        aaa(dms=({**aaa_dm(), "message_create": "hello"}, aaa_dm(dm_id="1874000000000000011"))),
        ("direct_message_events[0]: not a direct message event: message_create: ", DM_ID),
    ),
}


@pytest.mark.parametrize(
    ("payload", "expected"), list(MALFORMED_ITEMS.values()), ids=list(MALFORMED_ITEMS)
)
def test_a_malformed_item_is_skipped_with_the_reason_and_the_others_are_read(
    payload: dict[str, Any], expected: tuple[str, str | None]
) -> None:
    reason, key = expected

    skipped, *others = normalise(payload)

    assert isinstance(skipped, Skipped)
    assert skipped.malformed
    assert skipped.reason.startswith(reason), skipped.reason
    assert skipped.key == key
    assert len(others) == 1
    assert isinstance(others[0], SocialEvent)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (
            xaa("post.mention.create", {"id": "1", "text": "hi"}),
            "the post.mention.create event: not a post: author_id: field required",
        ),
        (
            xaa("post.reply.create", [xaa_post()]),  # type: ignore[arg-type]
            "the post.reply.create event: not a post: __root__: ",
        ),
        (
            xaa("dm.received", {**xaa_dm(), "created_at": "yesterday"}),
            "the dm.received event: not a DM event: created_at: invalid datetime format",
        ),
        (
            {"data": {**xaa("dm.received", xaa_dm())["data"], "includes": {"users": "Pat"}}},
            "the dm.received event: not an includes object: users: value is not a valid list",
        ),
    ],
    ids=["post without author", "post not an object", "dm with a bad time", "bad includes"],
)
def test_a_malformed_x_activity_event_is_skipped_with_the_reason(
    payload: dict[str, Any], reason: str
) -> None:
    [skipped] = normalise(payload)

    assert isinstance(skipped, Skipped)
    assert skipped.malformed
    assert skipped.reason.startswith(reason), skipped.reason
    assert skipped.key == payload["data"]["event_uuid"]


def test_a_malformed_profile_leaves_the_dm_without_a_name() -> None:
    payload = aaa(dms=(aaa_dm(),))
    payload["users"][PAT["id"]] = {"id": PAT["id"], "name": ["Pat"]}

    [event] = normalise(payload)

    assert isinstance(event, SocialEvent)
    assert (event.context.author.id, event.context.author.name) == (PAT["id"], None)


@pytest.mark.parametrize(
    ("text", "stripped", "handles"),
    [
        ("@BrandCo hi", "hi", ["BrandCo"]),
        ("@brandco: hi", "hi", ["brandco"]),
        ("  @BrandCo @BrandCoHelp hi", "hi", ["BrandCo", "BrandCoHelp"]),
        ("@pat_example @BrandCo hi", "@pat_example @BrandCo hi", []),
        ("hi @BrandCo", "hi @BrandCo", []),
        ("@BrandCoX hi", "@BrandCoX hi", []),
    ],
)
def test_only_the_brands_leading_mentions_are_stripped(
    text: str, stripped: str, handles: list[str]
) -> None:
    assert strip_leading_mentions(text, frozenset({"brandco", "brandcohelp"})) == (
        stripped,
        handles,
    )


def test_a_dm_prefilled_by_the_call_to_action_arrives_then_says_what_the_consumer_added() -> None:
    written = "Hi! About my tweet (ref pub-1874000000000000001): it's order BC-104233"

    [arrived, typed] = normalise(xaa("dm.received", xaa_dm(written)))

    assert isinstance(arrived, SocialEvent)
    assert isinstance(typed, SocialEvent)
    assert (arrived.text, arrived.context.referral) == (
        "/continue_from_public",
        "pub-1874000000000000001",
    )
    assert arrived.sender_id == typed.sender_id
    assert arrived.dedupe_key != typed.dedupe_key
    assert typed.text == "it's order BC-104233"
    assert typed.extra["text_as_written"] == written


def test_a_prefilled_dm_sent_as_it_is_only_arrives() -> None:
    written = "Hi! About my tweet (ref pub-1874000000000000001): "

    [arrived] = normalise(xaa("dm.received", xaa_dm(written)))

    assert isinstance(arrived, SocialEvent)
    assert arrived.text == "/continue_from_public"


def test_a_dm_with_another_reference_keeps_its_words_and_the_referral() -> None:
    [event] = normalise(xaa("dm.received", xaa_dm("Hi (ref spring-sale): any offers?")))

    assert isinstance(event, SocialEvent)
    assert (event.text, event.context.referral) == ("Hi: any offers?", "spring-sale")


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (
            aaa_dm(dm_id="1874000000000000099", sender={**SAM, "id": "13:00"}),
            "unusable item: user_id: expected a non-empty id without ':', got '13:00'",
        ),
        (
            aaa_dm(dm_id="1" * 300),
            "unusable item: ensure this value has at most 255 characters",
        ),
        (
            aaa_dm(dm_id="1874000000000000098", sender={**SAM, "id": "9" * 300}),
            "unusable item: sender id: 319 characters; at most 255 are stored",
        ),
    ],
    ids=["colon in the sender id", "dm id too long", "sender id too long"],
)
def test_an_item_whose_ids_cannot_be_stored_is_skipped_and_the_batch_goes_on(
    item: dict[str, Any], reason: str
) -> None:
    skipped, kept = normalise(aaa(dms=(item, aaa_dm())))

    assert isinstance(skipped, Skipped)
    assert skipped.reason == reason
    assert isinstance(kept, SocialEvent)
    assert kept.dedupe_key == DM_KEY
