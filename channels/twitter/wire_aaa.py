"""Wire models of the Account Activity API (AAA): v1.1-shaped tweets and DM events.

Only the fields the channel reads are declared; unknown fields are ignored. The delivery is the
envelope: its items are parsed one by one (``Tweet``, ``DirectMessageEvent``, ``UserProfile``), so
one malformed item is skipped and the others are kept. The event kinds the product does not handle
(favourites, follows, typing, reads, deletes...) are kept as raw items: each is skipped with a
reason, none is dropped unseen.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from channels.twitter.wire import WireModel

__all__ = [
    "AaaDelivery",
    "DirectMessageEvent",
    "DmMessageCreate",
    "DmMessageData",
    "DmQuickReplyResponse",
    "DmTarget",
    "ExtendedTweet",
    "Tweet",
    "TweetEntities",
    "TweetUser",
    "UserMention",
    "UserProfile",
]


class TweetUser(WireModel):
    """The author of a tweet."""

    id_str: str = Field(..., min_length=1)
    screen_name: str | None = None
    name: str | None = None
    profile_image_url_https: str | None = None


class UserMention(WireModel):
    """An @mention in a tweet's text."""

    id_str: str
    screen_name: str
    indices: tuple[int, int] | None = None


class TweetEntities(WireModel):
    user_mentions: list[UserMention] = Field(default_factory=list)


class ExtendedTweet(WireModel):
    """The full text of a tweet longer than 140 characters."""

    full_text: str
    entities: TweetEntities | None = None


class Tweet(WireModel):
    """A v1.1 tweet (``tweet_create_events`` item)."""

    id_str: str = Field(..., min_length=1)
    text: str = ""
    truncated: bool = False
    extended_tweet: ExtendedTweet | None = None
    in_reply_to_status_id_str: str | None = None
    in_reply_to_user_id_str: str | None = None
    user: TweetUser
    entities: TweetEntities = Field(default_factory=TweetEntities)
    is_quote_status: bool = False
    quoted_status: dict[str, Any] | None = None
    quoted_status_id_str: str | None = None
    retweeted_status: dict[str, Any] | None = None
    timestamp_ms: str | None = None
    created_at: str | None = None  # "Thu Jan 01 00:10:00 +0000 2026"

    @property
    def full_text(self) -> str:
        """The whole text: ``extended_tweet.full_text`` when the tweet is truncated."""
        if self.truncated and self.extended_tweet is not None:
            return self.extended_tweet.full_text
        return self.text

    @property
    def mentions(self) -> list[UserMention]:
        """The mentions of the whole text."""
        if self.truncated and self.extended_tweet and self.extended_tweet.entities:
            return self.extended_tweet.entities.user_mentions
        return self.entities.user_mentions


class DmQuickReplyResponse(WireModel):
    """The option a consumer picked from a v1.1 quick reply."""

    type: str = "options"
    metadata: str | None = None


class DmMessageData(WireModel):
    text: str = ""
    quick_reply_response: DmQuickReplyResponse | None = None
    attachment: dict[str, Any] | None = None


class DmTarget(WireModel):
    recipient_id: str


class DmMessageCreate(WireModel):
    target: DmTarget
    sender_id: str = Field(..., min_length=1)
    source_app_id: str | None = None
    message_data: DmMessageData


class DirectMessageEvent(WireModel):
    """A ``direct_message_events`` item."""

    type: str
    id: str = Field(..., min_length=1)
    created_timestamp: str | None = None
    message_create: DmMessageCreate | None = None


class UserProfile(WireModel):
    """A profile of the ``users`` map that comes with DM events."""

    id: str
    name: str | None = None
    screen_name: str | None = None
    profile_image_url_https: str | None = None


class AaaDelivery(WireModel):
    """One Account Activity delivery: the subscribed account and its items, still unread."""

    for_user_id: str = Field(..., min_length=1)
    tweet_create_events: list[Any] = Field(default_factory=list)
    direct_message_events: list[Any] = Field(default_factory=list)
    users: dict[str, Any] = Field(default_factory=dict)
