"""The JSON the consumer UI polls (``GET /sandbox/api/state``): the world as the platforms show it.

Comments nest under their post and replies under their comment; a Messenger thread per consumer;
posts on X with their replies under them; a DM conversation per consumer.
"""

from __future__ import annotations

from typing import Any

from sandbox.core import Sandbox
from sandbox.world import BRAND_X_ID, PAGE_ID, PAGE_NAME, PAGE_USERNAME, Comment, Tweet, World

__all__ = ["ui_state"]


def _comment(world: World, comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author_name": comment.author_name,
        "by_page": comment.by_page,
        "message": comment.message,
        "created_time": comment.created_time,
        "edited": comment.edited,
        "liked_by_page": comment.liked_by_page,
        "private_reply": comment.private_reply_mid is not None,
        "replies": [
            _comment(world, reply)
            for reply in world.comments.values()
            if reply.parent_id == comment.id and not reply.removed
        ],
    }


def _posts(world: World) -> list[dict[str, Any]]:
    posts = sorted(world.posts.values(), key=lambda post: post.created_time, reverse=True)
    return [
        {
            "id": post.id,
            "author_name": post.author_name,
            "by_page": post.by_page,
            "message": post.message,
            "created_time": post.created_time,
            "liked_by_page": post.id in world.liked,
            "private_reply": post.private_reply_mid is not None,
            "comments": [
                _comment(world, comment)
                for comment in world.comments.values()
                if comment.parent_id == post.id and not comment.removed
            ],
        }
        for post in posts
    ]


def _messenger(world: World) -> dict[str, list[dict[str, Any]]]:
    threads: dict[str, list[dict[str, Any]]] = {
        p.psid: [] for p in world.facebook_personas.values()
    }
    for message in world.messenger:
        sent = message.message or {}
        attachment = sent.get("attachment") or {}
        payload = attachment.get("payload") or {}
        answered = world.comments.get(message.comment_id or "") or world.posts.get(
            message.post_id or ""
        )
        threads.setdefault(message.psid, []).append(
            {
                "mid": message.mid,
                "from_page": message.from_page,
                "kind": message.kind,
                "text": message.text if message.text is not None else payload.get("text"),
                "payload": message.payload,
                "ref": message.ref,
                "comment_id": message.comment_id or message.post_id,
                "comment_text": answered.message if answered is not None else None,
                "quick_replies": sent.get("quick_replies", []),
                "buttons": payload.get("buttons", []),
                "media_url": payload.get("url"),
                "timestamp_ms": message.timestamp_ms,
            }
        )
    return threads


def _tweet(world: World, tweet: Tweet) -> dict[str, Any]:
    author = world.x_user(tweet.author_id)
    return {
        "id": tweet.id,
        "author": {"id": author.id, "name": author.name, "handle": author.handle},
        "by_brand": author.id == BRAND_X_ID,
        "text": tweet.text,
        "created_at": tweet.created_at,
        "in_reply_to": tweet.in_reply_to,
        "quote_of": tweet.quote_of,
        "retweet_of": tweet.retweet_of,
    }


def _timeline(world: World) -> list[dict[str, Any]]:
    roots = [tweet for tweet in world.tweets.values() if tweet.in_reply_to is None]
    roots.sort(key=lambda tweet: tweet.created_at, reverse=True)
    timeline = []
    for root in roots:
        replies = [
            _tweet(world, tweet)
            for tweet in sorted(world.tweets.values(), key=lambda tweet: tweet.created_at)
            if tweet.conversation_id == root.id and tweet.id != root.id
        ]
        timeline.append({**_tweet(world, root), "replies": replies})
    return timeline


def _dms(world: World) -> dict[str, list[dict[str, Any]]]:
    conversations: dict[str, list[dict[str, Any]]] = {
        user.id: [] for user in world.x_users.values() if user.id != BRAND_X_ID
    }
    for message in world.dms:
        consumer = message.recipient_id if message.sender_id == BRAND_X_ID else message.sender_id
        conversations.setdefault(consumer, []).append(
            {
                "id": message.id,
                "from_brand": message.sender_id == BRAND_X_ID,
                "text": message.text,
                "created_ms": message.created_ms,
                "quick_reply_metadata": message.quick_reply_metadata,
            }
        )
    return conversations


def ui_state(sandbox: Sandbox) -> dict[str, Any]:
    """Everything the consumer UI shows."""
    world = sandbox.world
    brand = world.brand
    return {
        "version": world.version,
        "now": sandbox.clock.now(),
        "page": {"id": PAGE_ID, "name": PAGE_NAME, "username": PAGE_USERNAME},
        "brand_x": {"id": brand.id, "name": brand.name, "handle": brand.handle},
        "personas": {
            "facebook": [
                {
                    "key": p.key,
                    "name": p.name,
                    "psid": p.psid,
                    "asid": p.asid,
                    "restricted": p.restricted,
                    "blocked_page": p.blocked_page,
                }
                for p in world.facebook_personas.values()
            ],
            "x": [
                {
                    "key": u.key,
                    "id": u.id,
                    "name": u.name,
                    "handle": u.handle,
                    "dms_closed": u.dms_closed,
                }
                for u in world.x_users.values()
                if u.id != BRAND_X_ID
            ],
        },
        "posts": _posts(world),
        "messenger": _messenger(world),
        "timeline": _timeline(world),
        "dms": _dms(world),
        "webhooks": {name: status.as_json() for name, status in sandbox.handshakes.status.items()},
    }
