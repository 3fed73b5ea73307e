"""Builders of X deliveries in both formats, and the channel configuration the tests use.

The defaults are the reference payloads' people: the brand account ``BrandCo`` (2244994945) and
the consumer Pat Example (1205290247124217856). ``aaa_*`` build Account Activity items (v1.1),
``xaa_*`` X Activity envelopes (v2); the same ids give the same dedupe keys in both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from bot.consumers import ConsumerFlags
from bot.guard import OutboundGuard
from bot.inbox import Inbox
from bot.outbound import OutboundLog
from bot.store import SocialStore
from channels.twitter.config import TwitterConfig
from channels.twitter.input import TwitterInput
from channels.twitter.verify import SIGNATURE_HEADER, sign
from tests.factories import X_ACCOUNT_ID

PAYLOADS = Path(__file__).parent / "payloads"

CONSUMER_SECRET = "test-consumer-secret"
OAUTH2_SECRET = "test-oauth2-client-secret"
ACCESS_TOKEN = "test-access-token"

BRAND = {"id": X_ACCOUNT_ID, "screen_name": "BrandCo", "name": "Brand Co"}
HELP_ACCOUNT = {"id": "3300000001", "screen_name": "BrandCoHelp", "name": "Brand Co Help"}
DISABLED_ACCOUNT = {"id": "3300000002", "screen_name": "BrandCoOld", "name": "Old"}
PRIVATE_ONLY_ACCOUNT = {"id": "3300000003", "screen_name": "BrandCoDMs", "name": "DMs only"}
PAT = {"id": "1205290247124217856", "screen_name": "pat_example", "name": "Pat Example"}
SAM = {"id": "1300000000000000042", "screen_name": "sam_other", "name": "Sam Other"}

TWEET_ID = "1874000000000000001"
DM_ID = "1874000000000000010"
CLOSED_DMS_TEXT = "Email us at care@brandco.example"


def credentials(**overrides: Any) -> dict[str, Any]:
    """The ``channels.twitter.TwitterInput`` mapping of the tests: four accounts."""
    account = {"access_token": ACCESS_TOKEN}
    data: dict[str, Any] = {
        "consumer_secret": CONSUMER_SECRET,
        "api_url": "https://api.x.test",
        "max_body_bytes": 20_000,
        "accounts": [
            {**account, "id": BRAND["id"], "screen_name": BRAND["screen_name"]},
            {
                **account,
                "id": HELP_ACCOUNT["id"],
                "screen_name": HELP_ACCOUNT["screen_name"],
                "dms_closed_alternative": CLOSED_DMS_TEXT,
            },
            {
                **account,
                "id": DISABLED_ACCOUNT["id"],
                "screen_name": DISABLED_ACCOUNT["screen_name"],
                "enabled": False,
            },
            {
                **account,
                "id": PRIVATE_ONLY_ACCOUNT["id"],
                "screen_name": PRIVATE_ONLY_ACCOUNT["screen_name"],
                "public": False,
            },
        ],
    }
    data.update(overrides)
    return data


def config(**overrides: Any) -> TwitterConfig:
    return TwitterConfig.from_credentials(credentials(**overrides))


def make_input(
    store: SocialStore,
    *,
    settings: TwitterConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **options: Any,
) -> TwitterInput:
    """The channel over ``store`` (inbox, flags, outbound log), with its own output guard.

    ``settings`` defaults to ``config(oauth2_client_secret=OAUTH2_SECRET)``; ``options`` go to
    ``TwitterInput`` (``retry``, ``worker_concurrency``...).
    """
    return TwitterInput(
        settings or config(oauth2_client_secret=OAUTH2_SECRET),
        transport=transport,
        inbox=Inbox(store),
        flags=ConsumerFlags(store),
        outbound=OutboundLog(store),
        guard=OutboundGuard(),
        **options,
    )


def reference(name: str) -> dict[str, Any]:
    """A reference payload of ``/work/shared/reference/payloads`` (copied beside the tests)."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / f"twitter-{name}.json").read_text())
    return loaded


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def signed(body: bytes, secret: str = CONSUMER_SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret, body)}


# --- Account Activity API --------------------------------------------------------------------


def aaa_user(person: dict[str, str]) -> dict[str, Any]:
    return {
        "id": int(person["id"]),
        "id_str": person["id"],
        "name": person["name"],
        "screen_name": person["screen_name"],
        "profile_image_url_https": "https://pbs.twimg.com/profile_images/0/a_normal.jpg",
    }


def aaa_tweet(
    text: str = "@BrandCo my order #1234 never arrived",
    *,
    tweet_id: str = TWEET_ID,
    author: dict[str, str] = PAT,
    mentions: tuple[dict[str, str], ...] = (BRAND,),
    in_reply_to: str | None = None,
    full_text: str | None = None,
    quoted: str | None = None,
    retweet_of: str | None = None,
) -> dict[str, Any]:
    """A ``tweet_create_events`` item; ``full_text`` makes it a truncated long tweet."""
    user_mentions = []
    for mention in mentions:
        start = text.find(f"@{mention['screen_name']}")
        user_mentions.append(
            {
                "id_str": mention["id"],
                "screen_name": mention["screen_name"],
                "indices": [start, start + len(mention["screen_name"]) + 1],
            }
        )
    tweet: dict[str, Any] = {
        "created_at": "Thu Jan 01 00:10:00 +0000 2026",
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": text,
        "truncated": full_text is not None,
        "in_reply_to_status_id_str": in_reply_to,
        "in_reply_to_user_id_str": mentions[0]["id"] if mentions else None,
        "user": aaa_user(author),
        "is_quote_status": quoted is not None,
        "entities": {"hashtags": [], "urls": [], "user_mentions": user_mentions},
        "timestamp_ms": "1767226200000",
    }
    if full_text is not None:
        tweet["extended_tweet"] = {
            "full_text": full_text,
            "entities": {"user_mentions": user_mentions},
        }
    if quoted is not None:
        tweet["quoted_status_id_str"] = quoted
        tweet["quoted_status"] = {"id_str": quoted, "text": "Our new linen collection"}
    if retweet_of is not None:
        tweet["retweeted_status"] = {"id_str": retweet_of, "text": "RT"}
    return tweet


def aaa_dm(
    text: str = "Order number is 1234",
    *,
    dm_id: str = DM_ID,
    sender: dict[str, str] = PAT,
    recipient: dict[str, str] = BRAND,
    quick_reply: str | None = None,
    app_id: str | None = None,
) -> dict[str, Any]:
    """A ``direct_message_events`` item (``app_id``: sent through that app, as X marks it)."""
    data: dict[str, Any] = {"text": text, "entities": {"user_mentions": [], "urls": []}}
    if quick_reply is not None:
        data["quick_reply_response"] = {"type": "options", "metadata": quick_reply}
    create: dict[str, Any] = {
        "target": {"recipient_id": recipient["id"]},
        "sender_id": sender["id"],
    }
    if app_id is not None:
        create["source_app_id"] = app_id
    create["message_data"] = data
    return {
        "type": "message_create",
        "id": dm_id,
        "created_timestamp": "1767227000000",
        "message_create": create,
    }


def aaa(
    *,
    for_user: dict[str, str] = BRAND,
    tweets: tuple[dict[str, Any], ...] = (),
    dms: tuple[dict[str, Any], ...] = (),
    **other_events: list[dict[str, Any]],
) -> dict[str, Any]:
    """An Account Activity delivery for ``for_user``; DMs come with the ``users`` map."""
    delivery: dict[str, Any] = {"for_user_id": for_user["id"], **other_events}
    if tweets:
        delivery["tweet_create_events"] = list(tweets)
    if dms:
        delivery["direct_message_events"] = list(dms)
        people = (PAT, SAM, BRAND, HELP_ACCOUNT)
        delivery["users"] = {
            person["id"]: {**aaa_user(person), "id": person["id"]} for person in people
        }
    return delivery


# --- X Activity API --------------------------------------------------------------------------


def xaa_user(person: dict[str, str]) -> dict[str, str]:
    return {
        "id": person["id"],
        "name": person["name"],
        "username": person["screen_name"],
        "profile_image_url": "https://pbs.twimg.com/profile_images/0/a_normal.jpg",
    }


def xaa(
    event_type: str,
    payload: dict[str, Any],
    *,
    for_user: dict[str, str] = BRAND,
    users: tuple[dict[str, str], ...] = (PAT,),
) -> dict[str, Any]:
    """An X Activity envelope."""
    return {
        "data": {
            "event_type": event_type,
            "event_uuid": "5f0c6a4e-7a43-4f5b-9a55-0e1f2d3c4b5a",
            "filter": {"user_id": for_user["id"]},
            "tag": "brand-activity",
            "payload": payload,
            "includes": {"users": [xaa_user(person) for person in users]},
        }
    }


def xaa_post(
    text: str = "@BrandCo my order #1234 never arrived",
    *,
    post_id: str = TWEET_ID,
    author: dict[str, str] = PAT,
    mentions: tuple[dict[str, str], ...] = (BRAND,),
    conversation_id: str | None = None,
    replied_to: str | None = None,
    quoted: str | None = None,
    retweeted: str | None = None,
    note_text: str | None = None,
) -> dict[str, Any]:
    """A v2 Post; ``note_text`` makes it a long post."""
    references = [
        {"type": kind, "id": ref}
        for kind, ref in (("replied_to", replied_to), ("quoted", quoted), ("retweeted", retweeted))
        if ref is not None
    ]
    post: dict[str, Any] = {
        "id": post_id,
        "text": text,
        "author_id": author["id"],
        "conversation_id": conversation_id or post_id,
        "created_at": "2026-01-01T00:10:00.000Z",
        "entities": {
            "mentions": [
                {
                    "start": text.find(f"@{mention['screen_name']}"),
                    "end": text.find(f"@{mention['screen_name']}")
                    + len(mention["screen_name"])
                    + 1,
                    "username": mention["screen_name"],
                    "id": mention["id"],
                }
                for mention in mentions
            ]
        },
    }
    if references:
        post["referenced_tweets"] = references
    if replied_to is not None:
        post["in_reply_to_user_id"] = BRAND["id"]
    if note_text is not None:
        post["note_tweet"] = {"text": note_text}
    return post


def xaa_dm(
    text: str = "Order number is 1234",
    *,
    dm_id: str = DM_ID,
    sender: dict[str, str] = PAT,
    recipient: dict[str, str] = BRAND,
    event_type: str = "MessageCreate",
) -> dict[str, Any]:
    """A v2 DM event."""
    low, high = sorted((int(sender["id"]), int(recipient["id"])))
    return {
        "id": dm_id,
        "event_type": event_type,
        "text": text,
        "sender_id": sender["id"],
        "dm_conversation_id": f"{low}-{high}",
        "created_at": "2026-01-01T00:23:20.000Z",
    }
