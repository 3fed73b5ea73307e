"""Each X webhook kind arrives byte for byte in the documented AAA or XAA shape, signed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from sandbox.client import ActionResult, SandboxClient
from sandbox.testing import TEST_SECRETS, RunningSandbox
from tests.sandbox.expected import (
    BRAND_X_ID,
    LINEN_TWEET,
    PAT_ID,
    assert_x_signed,
    received_delivery,
    reference,
    x_bytes,
)
from tests.sandbox.webhook_receiver import Received, WebhookReceiver

LINEN_TEXT = "Our new linen collection is here! https://brightcart.example/linen"
BRAND_MENTION = {
    "screen_name": "Brightcart",
    "name": "Brightcart",
    "id": int(BRAND_X_ID),
    "id_str": BRAND_X_ID,
}


def _twitter_date(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc).strftime(
        "%a %b %d %H:%M:%S +0000 %Y"
    )


def _user(actual: dict[str, Any], brand: bool) -> dict[str, Any]:
    """The reference's v1.1 user, as Pat or as the brand (picture URL taken from ``actual``)."""
    user = reference("twitter-aaa-mention.json")["tweet_create_events"][0]["user"]
    assert actual["profile_image_url_https"].startswith("https://pbs.twimg.com/profile_images/")
    user.update(location=None, profile_image_url_https=actual["profile_image_url_https"])
    if brand:
        user.update(
            id=int(BRAND_X_ID),
            id_str=BRAND_X_ID,
            name="Brightcart",
            screen_name="Brightcart",
            verified=True,
            followers_count=50000,
            friends_count=300,
            statuses_count=9000,
            created_at=_twitter_date(1401234567000),
            default_profile=False,
        )
    return user


def _v1_tweet(actual: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The reference tweet with ``fields`` replaced (``quoted``, ``retweeted`` where X has them)."""
    tweet = reference("twitter-aaa-mention.json")["tweet_create_events"][0]
    assert re.fullmatch(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \+0000 \d{4}", actual["created_at"])
    tweet["created_at"] = actual["created_at"]
    tweet["timestamp_ms"] = actual["timestamp_ms"]
    tweet["user"] = _user(actual["user"], brand=actual["user"]["id_str"] == BRAND_X_ID)
    extra = {name: fields.pop(name) for name in ("quoted", "retweeted") if name in fields}
    tweet.update(fields)
    if not extra:
        return tweet
    rebuilt: dict[str, Any] = {}
    for name, value in tweet.items():
        rebuilt[name] = value
        if name == "contributors" and "quoted" in extra:
            quoted = extra["quoted"]
            rebuilt.update(
                quoted_status_id=int(quoted["id_str"]),
                quoted_status_id_str=quoted["id_str"],
                quoted_status=quoted,
            )
        if name == "contributors" and "retweeted" in extra:
            rebuilt["retweeted_status"] = extra["retweeted"]
    return rebuilt


def _pat_tweet(actual: dict[str, Any], sent: ActionResult, **fields: Any) -> dict[str, Any]:
    """The consumer's post ``sent``, as the reference tweet with ``fields`` replaced."""
    return _v1_tweet(actual, id=int(sent.tweet_id), id_str=sent.tweet_id, **fields)


def _linen(actual: dict[str, Any]) -> dict[str, Any]:
    """The brand's seeded post as a v1.1 object (nested in quotes and retweets)."""
    return _v1_tweet(
        actual,
        id=int(LINEN_TWEET),
        id_str=LINEN_TWEET,
        text=LINEN_TEXT,
        in_reply_to_user_id=None,
        in_reply_to_user_id_str=None,
        in_reply_to_screen_name=None,
        entities={"hashtags": [], "urls": [], "symbols": [], "user_mentions": []},
    )


def _mentions(*spans: tuple[int, int]) -> dict[str, Any]:
    mentions = [{**BRAND_MENTION, "indices": list(span)} for span in spans]
    return {"hashtags": [], "urls": [], "symbols": [], "user_mentions": mentions}


def _aaa(tweet: dict[str, Any], mentioned: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"for_user_id": BRAND_X_ID}
    if mentioned:
        body["user_has_blocked"] = False
    body["tweet_create_events"] = [tweet]
    return body


Expect = Callable[[dict[str, Any]], dict[str, Any]]


def mention(client: SandboxClient) -> tuple[ActionResult, Expect]:
    text = "@Brightcart my order #1234 never arrived"
    sent = client.tweet("pat", text)

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        event = actual["tweet_create_events"][0]
        tweet = _pat_tweet(
            event,
            sent,
            text=text,
            in_reply_to_screen_name="Brightcart",
            entities=_mentions((0, 11)),
        )
        return _aaa(tweet)

    return sent, expect


def reply_in_thread(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.reply_tweet("pat", LINEN_TWEET, "Do you ship to Ireland?")
    text = "@Brightcart Do you ship to Ireland?"

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        tweet = _pat_tweet(
            actual["tweet_create_events"][0],
            sent,
            text=text,
            in_reply_to_status_id=int(LINEN_TWEET),
            in_reply_to_status_id_str=LINEN_TWEET,
            in_reply_to_screen_name="Brightcart",
            entities=_mentions((0, 11)),
        )
        return _aaa(tweet)

    return sent, expect


def quote(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.quote("pat", LINEN_TWEET, "Love this, but it shrank in the wash")

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        event = actual["tweet_create_events"][0]
        tweet = _pat_tweet(
            event,
            sent,
            text="Love this, but it shrank in the wash",
            in_reply_to_user_id=None,
            in_reply_to_user_id_str=None,
            in_reply_to_screen_name=None,
            quoted=_linen(event["quoted_status"]),
            is_quote_status=True,
            entities=_mentions(),
        )
        return _aaa(tweet, mentioned=False)

    return sent, expect


def retweet(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.retweet("pat", LINEN_TWEET)

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        event = actual["tweet_create_events"][0]
        tweet = _pat_tweet(
            event,
            sent,
            text=f"RT @Brightcart: {LINEN_TEXT}",
            in_reply_to_user_id=None,
            in_reply_to_user_id_str=None,
            in_reply_to_screen_name=None,
            retweeted=_linen(event["retweeted_status"]),
            entities=_mentions((3, 14)),
        )
        return _aaa(tweet)

    return sent, expect


def long_tweet(client: SandboxClient) -> tuple[ActionResult, Expect]:
    text = (
        "@Brightcart "
        + "the duvet cover I ordered arrived torn and the pillowcases never came " * 3
    )
    sent = client.tweet("pat", text)

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        event = actual["tweet_create_events"][0]
        shown = event["text"]
        link = re.fullmatch(r".+… (https://t\.co/\w{10})", shown, re.DOTALL)
        assert link is not None
        assert len(shown) <= 140
        assert text.startswith(shown[: shown.index("…")])
        start = len(shown) - 23
        url = {
            "url": link.group(1),
            "expanded_url": f"https://twitter.com/i/web/status/{sent.tweet_id}",
            "display_url": "twitter.com/i/web/status/1…",
            "indices": [start, len(shown)],
        }
        entities = _mentions((0, 11))
        entities["urls"] = [url]
        tweet = _pat_tweet(
            event,
            sent,
            text=shown,
            truncated=True,
            in_reply_to_screen_name="Brightcart",
            entities=entities,
        )
        rebuilt: dict[str, Any] = {}
        for name, value in tweet.items():
            if name == "favorited":
                rebuilt["extended_tweet"] = {
                    "full_text": text,
                    "display_text_range": [0, len(text)],
                    "entities": _mentions((0, 11)),
                }
            rebuilt[name] = value
        return _aaa(rebuilt)

    return sent, expect


def _dm_users(actual: dict[str, Any]) -> dict[str, Any]:
    users = reference("twitter-aaa-dm.json")["users"]
    for user_id, user in users.items():
        user["profile_image_url_https"] = actual[user_id]["profile_image_url_https"]
    users[BRAND_X_ID].update(name="Brightcart", screen_name="Brightcart")
    return users


def dm(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.dm("pat", "Order number is 1234 ✓")

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        body = reference("twitter-aaa-dm.json")
        event = body["direct_message_events"][0]
        event["id"] = sent.dm_event_id
        event["created_timestamp"] = actual["direct_message_events"][0]["created_timestamp"]
        event["message_create"]["message_data"]["text"] = "Order number is 1234 ✓"
        body["users"] = _dm_users(actual["users"])
        return body

    return sent, expect


def dm_quick_reply_response(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.dm("pat", "Track my order", quick_reply_metadata="TRACK_ORDER")

    def expect(actual: dict[str, Any]) -> dict[str, Any]:
        body = reference("twitter-aaa-dm.json")
        event = body["direct_message_events"][0]
        event["id"] = sent.dm_event_id
        event["created_timestamp"] = actual["direct_message_events"][0]["created_timestamp"]
        data = event["message_create"]["message_data"]
        data["text"] = "Track my order"
        data["quick_reply_response"] = {"type": "options", "metadata": "TRACK_ORDER"}
        body["users"] = _dm_users(actual["users"])
        return body

    return sent, expect


def _xaa(event_type: str, payload: dict[str, Any], actual: dict[str, Any]) -> dict[str, Any]:
    """The XAA envelope around ``payload`` (whose ``created_at`` is taken from ``actual``)."""
    data = actual["data"]
    assert uuid.UUID(data["event_uuid"]).version == 4
    created_at = data["payload"]["created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created_at)
    picture = data["includes"]["users"][0]["profile_image_url"]
    author = {"id": PAT_ID, "name": "Pat Example", "username": "pat_example"}
    return {
        "data": {
            "event_type": event_type,
            "event_uuid": data["event_uuid"],
            "filter": {"user_id": BRAND_X_ID},
            "tag": "brightcart",
            "payload": {**payload, "created_at": created_at},
            "includes": {"users": [{**author, "profile_image_url": picture}]},
        }
    }


BRAND_V2_MENTION = {"start": 0, "end": 11, "username": "Brightcart", "id": BRAND_X_ID}


def xaa_mention(client: SandboxClient) -> tuple[ActionResult, Expect]:
    text = "@Brightcart my order #1234 never arrived"
    sent = client.tweet("pat", text, format="xaa")
    payload = {
        "id": sent.tweet_id,
        "text": text,
        "author_id": PAT_ID,
        "conversation_id": sent.tweet_id,
        "created_at": None,
        "in_reply_to_user_id": BRAND_X_ID,
        "entities": {"mentions": [BRAND_V2_MENTION]},
    }
    return sent, lambda actual: _xaa("post.mention.create", payload, actual)


def xaa_reply(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.reply_tweet("pat", LINEN_TWEET, "Do you ship to Ireland?", format="xaa")
    payload = {
        "id": sent.tweet_id,
        "text": "@Brightcart Do you ship to Ireland?",
        "author_id": PAT_ID,
        "conversation_id": LINEN_TWEET,
        "created_at": None,
        "in_reply_to_user_id": BRAND_X_ID,
        "referenced_tweets": [{"type": "replied_to", "id": LINEN_TWEET}],
        "entities": {"mentions": [BRAND_V2_MENTION]},
    }
    return sent, lambda actual: _xaa("post.reply.create", payload, actual)


def xaa_long_post(client: SandboxClient) -> tuple[ActionResult, Expect]:
    text = "@Brightcart " + "a long story about a duvet cover that never arrived. " * 8
    sent = client.tweet("pat", text, format="xaa")
    payload = {
        "id": sent.tweet_id,
        "text": text[:280],
        "author_id": PAT_ID,
        "conversation_id": sent.tweet_id,
        "created_at": None,
        "in_reply_to_user_id": BRAND_X_ID,
        "entities": {"mentions": [BRAND_V2_MENTION]},
        "note_tweet": {"text": text},
    }
    return sent, lambda actual: _xaa("post.mention.create", payload, actual)


def xaa_dm(client: SandboxClient) -> tuple[ActionResult, Expect]:
    sent = client.dm("pat", "Order number is 1234", format="xaa")
    payload = {
        "id": sent.dm_event_id,
        "event_type": "MessageCreate",
        "text": "Order number is 1234",
        "sender_id": PAT_ID,
        "dm_conversation_id": f"{BRAND_X_ID}-{PAT_ID}",
        "created_at": None,
    }
    return sent, lambda actual: _xaa("dm.received", payload, actual)


@pytest.mark.parametrize(
    "case",
    [
        mention,
        reply_in_thread,
        quote,
        retweet,
        long_tweet,
        dm,
        dm_quick_reply_response,
        xaa_mention,
        xaa_reply,
        xaa_long_post,
        xaa_dm,
    ],
)
def test_consumer_action_delivers_the_documented_body_signed_by_x(
    case: Callable[[SandboxClient], tuple[ActionResult, Expect]],
    client: SandboxClient,
    receiver: WebhookReceiver,
) -> None:
    sent, expect = case(client)
    received = received_delivery(client, receiver, sent.delivery_id)

    assert received.path == "/x"
    assert received.body == x_bytes(expect(received.json()))
    assert_x_signed(received)


def test_a_post_that_does_not_involve_the_brand_is_not_delivered(client: SandboxClient) -> None:
    sent = client.tweet("pat", "Lovely weather in London today")

    assert sent.delivery_id is None
    assert any(post["id"] == sent.tweet_id for post in client.state()["timeline"])


def _echo(sandbox: RunningSandbox, receiver: WebhookReceiver, kind: str) -> Received:
    [delivery] = sandbox.client.deliveries(kind=kind)
    return received_delivery(sandbox.client, receiver, delivery.id)


def test_brand_posts_and_dms_are_echoed_back_through_aaa(
    sandbox: RunningSandbox, receiver: WebhookReceiver
) -> None:
    mention_sent = sandbox.client.tweet("pat", "@Brightcart hello")
    headers = {"Authorization": f"Bearer {TEST_SECRETS['X_ACCESS_TOKEN']}"}
    posted = httpx.post(
        f"{sandbox.x_api_url}/2/tweets",
        headers=headers,
        json={"text": "Hi Pat!", "reply": {"in_reply_to_tweet_id": mention_sent.tweet_id}},
    ).json()["data"]
    httpx.post(
        f"{sandbox.x_api_url}/2/dm_conversations/with/{PAT_ID}/messages",
        headers=headers,
        json={"text": "Hi Pat, in private."},
    )

    tweet_echo = _echo(sandbox, receiver, "echo_tweet")
    event = tweet_echo.json()["tweet_create_events"][0]
    assert event["id_str"] == posted["id"]
    assert event["user"]["id_str"] == BRAND_X_ID
    assert event["in_reply_to_status_id_str"] == mention_sent.tweet_id
    assert_x_signed(tweet_echo)

    dm_echo = _echo(sandbox, receiver, "echo_dm").json()
    create = dm_echo["direct_message_events"][0]["message_create"]
    assert create["sender_id"] == BRAND_X_ID
    assert create["target"] == {"recipient_id": PAT_ID}
    app_id = create["source_app_id"]
    assert list(dm_echo) == ["for_user_id", "direct_message_events", "apps", "users"]
    assert dm_echo["apps"][app_id]["id"] == app_id
