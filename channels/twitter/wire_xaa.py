"""Wire models of the X Activity API (XAA): one event per envelope, v2-shaped objects.

``{"data": {"event_type", "event_uuid", "filter": {"user_id"}, "tag", "payload", "includes"}}``.
The envelope is ``data`` with its ``event_type`` and ``filter.user_id`` (the account). The payload's
shape depends on ``event_type``: a v2 Post for ``post.*`` events, a v2 DM event for ``dm.*``
events. It is parsed by type in ``normalise``, with ``includes``: a malformed event is skipped,
a malformed envelope refused. Unknown fields are ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from channels.twitter.wire import WireModel

__all__ = [
    "DM_RECEIVED",
    "POST_EVENT_TYPES",
    "DmEvent",
    "Includes",
    "Mention",
    "NoteTweet",
    "Post",
    "PostEntities",
    "ReferencedTweet",
    "XaaDelivery",
    "XaaEvent",
    "XaaFilter",
    "XaaUser",
]

POST_EVENT_TYPES = frozenset({"post.mention.create", "post.reply.create"})
DM_RECEIVED = "dm.received"


class Mention(WireModel):
    """An @mention in a post's text."""

    username: str
    id: str | None = None
    start: int | None = None
    end: int | None = None


class PostEntities(WireModel):
    mentions: list[Mention] = Field(default_factory=list)


class ReferencedTweet(WireModel):
    type: str  # "replied_to" | "quoted" | "retweeted"
    id: str


class NoteTweet(WireModel):
    """The full text of a long post."""

    text: str


class Post(WireModel):
    """A v2 Post: the payload of ``post.mention.create`` and ``post.reply.create``."""

    id: str = Field(..., min_length=1)
    text: str = ""
    author_id: str = Field(..., min_length=1)
    conversation_id: str | None = None
    created_at: datetime
    in_reply_to_user_id: str | None = None
    referenced_tweets: list[ReferencedTweet] = Field(default_factory=list)
    entities: PostEntities = Field(default_factory=PostEntities)
    note_tweet: NoteTweet | None = None

    @property
    def full_text(self) -> str:
        """The whole text: ``note_tweet.text`` for long posts."""
        return self.note_tweet.text if self.note_tweet is not None else self.text

    def referenced(self, kind: str) -> str | None:
        """The id of the post referenced as ``kind`` (``replied_to``, ``quoted``...), if any."""
        return next((ref.id for ref in self.referenced_tweets if ref.type == kind), None)


class DmEvent(WireModel):
    """A v2 DM event: the payload of ``dm.received``."""

    id: str = Field(..., min_length=1)
    event_type: str = "MessageCreate"
    text: str = ""
    sender_id: str = Field(..., min_length=1)
    dm_conversation_id: str | None = None
    created_at: datetime


class XaaUser(WireModel):
    id: str
    name: str | None = None
    username: str | None = None
    profile_image_url: str | None = None


class Includes(WireModel):
    users: list[XaaUser] = Field(default_factory=list)

    def user(self, user_id: str) -> XaaUser | None:
        """The expanded profile of ``user_id``, if X sent it."""
        return next((user for user in self.users if user.id == user_id), None)


class XaaFilter(WireModel):
    user_id: str = Field(..., min_length=1)


class XaaEvent(WireModel):
    """The event of one envelope; ``payload`` and ``includes`` are parsed once its type is known."""

    event_type: str = Field(..., min_length=1)
    event_uuid: str | None = None
    filter: XaaFilter
    tag: str | None = None
    payload: Any = None
    includes: Any = None


class XaaDelivery(WireModel):
    """One X Activity API delivery."""

    data: XaaEvent
