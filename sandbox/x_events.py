"""X webhook bodies: Account Activity API (v1.1 objects) and X Activity API (v2 objects).

Pure functions from world objects to JSON-ready dicts, keys in the order X sends them.
``signing.x_json`` turns the result into the bytes that are signed and sent.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.clock import iso_millis, twitter_date
from sandbox.tweet_text import COMPAT_DISPLAY_LIMIT, MAX_WEIGHTED_LENGTH, cut, truncate_for_compat
from sandbox.world import BRAND_X_ID, X_APP, DirectMessage, Tweet, World, XUser

__all__ = [
    "XAA_TAG",
    "aaa_dm_delivery",
    "aaa_tweet_delivery",
    "v1_tweet",
    "xaa_dm_delivery",
    "xaa_event_type",
    "xaa_post_delivery",
]

XAA_TAG = "brightcart"
_EMPTY_ENTITIES: dict[str, list[Any]] = {
    "hashtags": [],
    "symbols": [],
    "user_mentions": [],
    "urls": [],
}


def _v1_user(user: XUser) -> dict[str, Any]:
    return {
        "id": int(user.id),
        "id_str": user.id,
        "name": user.name,
        "screen_name": user.handle,
        "location": None,
        "protected": False,
        "verified": user.id == BRAND_X_ID,
        "followers_count": 50000 if user.id == BRAND_X_ID else 12,
        "friends_count": 300 if user.id == BRAND_X_ID else 40,
        "statuses_count": 9000 if user.id == BRAND_X_ID else 210,
        "created_at": twitter_date(user.created_ms / 1000),
        "profile_image_url_https": user.profile_image_url,
        "default_profile": user.id != BRAND_X_ID,
    }


def _entities(urls: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"hashtags": [], "urls": urls, "symbols": [], "user_mentions": mentions}


def _short_link(tweet_id: str) -> str:
    return "https://t.co/" + hashlib.sha256(tweet_id.encode()).hexdigest()[:10]


def _user_mentions(world: World, text: str, limit: int | None = None) -> list[dict[str, Any]]:
    return [
        {
            "screen_name": user.handle,
            "name": user.name,
            "id": int(user.id),
            "id_str": user.id,
            "indices": [start, end],
        }
        for user, start, end in world.mentions(text)
        if limit is None or end <= limit
    ]


def v1_tweet(world: World, tweet: Tweet) -> dict[str, Any]:
    """A v1.1 tweet object in compatibility mode: ``truncated`` + ``extended_tweet`` above 140."""
    author = world.x_user(tweet.author_id)
    parent = world.tweets.get(tweet.in_reply_to or "")
    replied_user = world.x_user(tweet.in_reply_to_user_id) if tweet.in_reply_to_user_id else None
    long = len(tweet.text) > COMPAT_DISPLAY_LIMIT
    link = _short_link(tweet.id)
    text = truncate_for_compat(tweet.text, link) if long else tweet.text
    body: dict[str, Any] = {
        "created_at": twitter_date(tweet.created_at),
        "id": int(tweet.id),
        "id_str": tweet.id,
        "text": text,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "truncated": long,
        "in_reply_to_status_id": int(parent.id) if parent else None,
        "in_reply_to_status_id_str": parent.id if parent else None,
        "in_reply_to_user_id": int(replied_user.id) if replied_user else None,
        "in_reply_to_user_id_str": replied_user.id if replied_user else None,
        "in_reply_to_screen_name": replied_user.handle if replied_user else None,
        "user": _v1_user(author),
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
    }
    quoted = world.tweets.get(tweet.quote_of or "")
    if quoted is not None:
        body["quoted_status_id"] = int(quoted.id)
        body["quoted_status_id_str"] = quoted.id
        body["quoted_status"] = v1_tweet(world, quoted)
    retweeted = world.tweets.get(tweet.retweet_of or "")
    if retweeted is not None:
        body["retweeted_status"] = v1_tweet(world, retweeted)
    shown_mentions = _user_mentions(world, text, len(text) - len(link) if long else None)
    urls = []
    if long:
        start = len(text) - len(link)
        status_url = f"https://twitter.com/i/web/status/{tweet.id}"
        urls.append(
            {
                "url": link,
                "expanded_url": status_url,
                "display_url": "twitter.com/i/web/status/1…",
                "indices": [start, len(text)],
            }
        )
    body.update(
        {
            "is_quote_status": quoted is not None,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": _entities(urls, shown_mentions),
        }
    )
    if long:
        body["extended_tweet"] = {
            "full_text": tweet.text,
            "display_text_range": [0, len(tweet.text)],
            "entities": _entities([], _user_mentions(world, tweet.text)),
        }
    body.update(
        {
            "favorited": False,
            "retweeted": False,
            "filter_level": "low",
            "lang": "en",
            "timestamp_ms": str(int(tweet.created_at * 1000)),
        }
    )
    return body


def aaa_tweet_delivery(world: World, tweet: Tweet) -> dict[str, Any]:
    """``tweet_create_events`` for the brand (``user_has_blocked`` when the brand is mentioned)."""
    body: dict[str, Any] = {"for_user_id": BRAND_X_ID}
    if any(user.id == BRAND_X_ID for user, _, _ in world.mentions(tweet.text)):
        body["user_has_blocked"] = False
    body["tweet_create_events"] = [v1_tweet(world, tweet)]
    return body


def _users_map_entry(user: XUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "created_timestamp": str(user.created_ms),
        "name": user.name,
        "screen_name": user.handle,
        "protected": False,
        "verified": user.id == BRAND_X_ID,
        "followers_count": 50000 if user.id == BRAND_X_ID else 12,
        "friends_count": 300 if user.id == BRAND_X_ID else 40,
        "statuses_count": 9000 if user.id == BRAND_X_ID else 210,
        "profile_image_url_https": user.profile_image_url,
    }


def aaa_dm_delivery(world: World, message: DirectMessage, from_app: bool) -> dict[str, Any]:
    """``direct_message_events`` with the ``users`` map (and ``apps`` when our app sent it)."""
    message_data: dict[str, Any] = {"text": message.text, "entities": dict(_EMPTY_ENTITIES)}
    if message.quick_reply_metadata is not None:
        message_data["quick_reply_response"] = {
            "type": "options",
            "metadata": message.quick_reply_metadata,
        }
    create: dict[str, Any] = {
        "target": {"recipient_id": message.recipient_id},
        "sender_id": message.sender_id,
    }
    if from_app:
        create["source_app_id"] = X_APP["id"]
    create["message_data"] = message_data
    event = {
        "type": "message_create",
        "id": message.id,
        "created_timestamp": str(message.created_ms),
        "message_create": create,
    }
    body: dict[str, Any] = {"for_user_id": BRAND_X_ID, "direct_message_events": [event]}
    if from_app:
        body["apps"] = {X_APP["id"]: dict(X_APP)}
    sender, recipient = world.x_user(message.sender_id), world.x_user(message.recipient_id)
    body["users"] = {user.id: _users_map_entry(user) for user in (sender, recipient)}
    return body


def xaa_event_type(world: World, tweet: Tweet) -> str | None:
    """``post.reply.create`` for a reply to a brand post, ``post.mention.create`` for a mention."""
    parent = world.tweets.get(tweet.in_reply_to or "")
    if parent is not None and parent.author_id == BRAND_X_ID:
        return "post.reply.create"
    if any(user.id == BRAND_X_ID for user, _, _ in world.mentions(tweet.text)):
        return "post.mention.create"
    return None


def _xaa_envelope(
    event_type: str, event_uuid: str, payload: dict[str, Any], user: XUser
) -> dict[str, Any]:
    include = {
        "id": user.id,
        "name": user.name,
        "username": user.handle,
        "profile_image_url": user.profile_image_url,
    }
    return {
        "data": {
            "event_type": event_type,
            "event_uuid": event_uuid,
            "filter": {"user_id": BRAND_X_ID},
            "tag": XAA_TAG,
            "payload": payload,
            "includes": {"users": [include]},
        }
    }


def xaa_post_delivery(
    world: World, tweet: Tweet, event_type: str, event_uuid: str
) -> dict[str, Any]:
    """An XAA post event whose payload is a v2 Post (``note_tweet`` above 280)."""
    long = len(tweet.text) > MAX_WEIGHTED_LENGTH
    post: dict[str, Any] = {
        "id": tweet.id,
        "text": cut(tweet.text, MAX_WEIGHTED_LENGTH) if long else tweet.text,
        "author_id": tweet.author_id,
        "conversation_id": tweet.conversation_id,
        "created_at": iso_millis(tweet.created_at),
    }
    if tweet.in_reply_to_user_id is not None:
        post["in_reply_to_user_id"] = tweet.in_reply_to_user_id
    referenced = []
    if tweet.in_reply_to is not None:
        referenced.append({"type": "replied_to", "id": tweet.in_reply_to})
    if tweet.quote_of is not None:
        referenced.append({"type": "quoted", "id": tweet.quote_of})
    if referenced:
        post["referenced_tweets"] = referenced
    post["entities"] = {
        "mentions": [
            {"start": start, "end": end, "username": user.handle, "id": user.id}
            for user, start, end in world.mentions(tweet.text)
        ]
    }
    if long:
        post["note_tweet"] = {"text": tweet.text}
    return _xaa_envelope(event_type, event_uuid, post, world.x_user(tweet.author_id))


def xaa_dm_delivery(world: World, message: DirectMessage, event_uuid: str) -> dict[str, Any]:
    """An XAA ``dm.received`` event whose payload is a v2 DM event."""
    payload = {
        "id": message.id,
        "event_type": "MessageCreate",
        "text": message.text,
        "sender_id": message.sender_id,
        "dm_conversation_id": message.conversation_id,
        "created_at": iso_millis(message.created_ms / 1000),
    }
    return _xaa_envelope("dm.received", event_uuid, payload, world.x_user(message.sender_id))
