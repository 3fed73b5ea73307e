"""The demo world: the brand's Page and X account, the consumers, and everything they wrote.

Plain in-memory objects, mutated by the API handlers and the consumer actions of one event loop
(no locks needed). ``seeded_world()`` builds the world the sandbox starts with and resets to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "BRAND_X_HANDLE",
    "BRAND_X_ID",
    "BRAND_X_NAME",
    "FACEBOOK_APP_ID",
    "PAGE_ID",
    "PAGE_NAME",
    "PAGE_USERNAME",
    "X_APP",
    "Comment",
    "DirectMessage",
    "FacebookPersona",
    "MessengerMessage",
    "Post",
    "Tweet",
    "UnknownPersona",
    "World",
    "XUser",
    "dm_conversation_id",
    "seeded_world",
]

PAGE_ID = "100200300400500"
PAGE_NAME = "Brightcart"
PAGE_USERNAME = "brightcart"
FACEBOOK_APP_ID = 263902037430900  # the id Meta puts in echoes' ``app_id`` (an integer there)
BRAND_X_ID = "2244994945"
BRAND_X_HANDLE = "Brightcart"
BRAND_X_NAME = "Brightcart"
X_APP = {"id": "17763544", "name": "Brightcart Care", "url": "https://brightcart.example"}

_MENTION = re.compile(r"(?<![\w@])@(\w{1,15})")


class UnknownPersona(LookupError):
    """No consumer (or brand) is known by that key, id or handle."""


@dataclass
class FacebookPersona:
    """A consumer on Facebook: one app-scoped id in the feed, another PSID in Messenger."""

    key: str
    name: str
    asid: str
    psid: str
    restricted: bool = False  # profile GET fails (EU / Japan restrictions)
    blocked_page: bool = False  # Send API answers 551

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def last_name(self) -> str:
        return self.name.split(" ", 1)[1] if " " in self.name else ""


@dataclass
class XUser:
    """An X account: the brand or a consumer."""

    key: str
    id: str
    name: str
    handle: str
    dms_closed: bool = False
    created_ms: int = 1576198570797

    @property
    def profile_image_url(self) -> str:
        return f"https://pbs.twimg.com/profile_images/{self.id}/{self.handle}_normal.jpg"


@dataclass
class Post:
    """A post on the Page: the page's own, or a visitor's."""

    id: str  # "<page id>_<post id>"
    author_id: str
    author_name: str
    message: str
    created_time: int
    item: str = "status"
    status_type: str = "mobile_status_update"
    private_reply_mid: str | None = None

    @property
    def by_page(self) -> bool:
        return self.author_id == PAGE_ID

    @property
    def permalink_url(self) -> str:
        page, post = self.id.split("_", 1)
        return f"https://www.facebook.com/{page}/posts/{post}"


@dataclass
class Comment:
    """A comment on a post, or a reply to a comment (Facebook nests one level only)."""

    id: str  # "<post id>_<comment id>"
    post_id: str
    parent_id: str  # the post's id for a top-level comment, else the top-level comment's id
    author_id: str
    author_name: str
    message: str
    created_time: int
    removed: bool = False
    edited: bool = False
    liked_by_page: bool = False
    private_reply_mid: str | None = None

    @property
    def by_page(self) -> bool:
        return self.author_id == PAGE_ID


@dataclass
class MessengerMessage:
    """One message of a Messenger thread between the Page and a consumer."""

    mid: str
    psid: str
    from_page: bool
    timestamp_ms: int
    kind: str  # message, quick_reply, postback, referral, private_reply
    text: str | None = None
    payload: str | None = None
    ref: str | None = None
    comment_id: str | None = None  # the comment a private reply answers
    post_id: str | None = None  # the visitor post a private reply answers
    message: dict[str, Any] | None = None  # what the page sent (quick replies, attachment)
    messaging_type: str | None = None
    tag: str | None = None


@dataclass
class Tweet:
    """A post on X."""

    id: str
    author_id: str
    text: str
    created_at: float
    conversation_id: str
    in_reply_to: str | None = None
    in_reply_to_user_id: str | None = None
    quote_of: str | None = None
    retweet_of: str | None = None


@dataclass
class DirectMessage:
    """One X direct message."""

    id: str
    sender_id: str
    recipient_id: str
    text: str
    created_ms: int
    quick_reply_metadata: str | None = None

    @property
    def conversation_id(self) -> str:
        return dm_conversation_id(self.sender_id, self.recipient_id)


def dm_conversation_id(first: str, second: str) -> str:
    """``<smaller id>-<larger id>``, as X names a one-to-one DM conversation."""
    low, high = sorted((first, second), key=int)
    return f"{low}-{high}"


P = TypeVar("P", FacebookPersona, XUser)


def _facebook_references(persona: FacebookPersona) -> tuple[str, ...]:
    return (persona.key, persona.psid, persona.asid, persona.name)


def _x_references(user: XUser) -> tuple[str, ...]:
    return (user.key.lower(), user.id, user.handle.lower())


class _Index(Generic[P]):
    """Reference -> the first consumer (in the order they were added) that it names.

    Consumers are added, never removed or replaced (the control API refuses a key that exists):
    the index is rebuilt when their number changed, or when its answer is no longer in the dict.
    """

    def __init__(self, references: Callable[[P], tuple[str, ...]]) -> None:
        self._references: Callable[[P], tuple[str, ...]] = references
        self._by_reference: dict[str, P] = {}
        self._size = -1

    def find(self, consumers: dict[str, P], reference: str) -> P | None:
        if self._size != len(consumers):
            self._rebuild(consumers)
        found = self._by_reference.get(reference)
        if found is not None and consumers.get(found.key) is not found:
            self._rebuild(consumers)  # replaced behind the index's back
            found = self._by_reference.get(reference)
        return found

    def _rebuild(self, consumers: dict[str, P]) -> None:
        self._by_reference = {}
        for consumer in consumers.values():
            for reference in self._references(consumer):
                self._by_reference.setdefault(reference, consumer)
        self._size = len(consumers)


@dataclass
class World:
    """Everything that exists on the sandbox's Facebook and X."""

    facebook_personas: dict[str, FacebookPersona]
    x_users: dict[str, XUser]
    posts: dict[str, Post] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    messenger: list[MessengerMessage] = field(default_factory=list)
    last_consumer_message: dict[str, float] = field(default_factory=dict)  # psid -> epoch s
    tweets: dict[str, Tweet] = field(default_factory=dict)
    dms: list[DirectMessage] = field(default_factory=list)
    liked: set[str] = field(default_factory=set)
    version: int = 0
    # Who each reference names (key, ids, handle, name): a lookup per platform call, and a long
    # run (the benchmark) adds thousands of consumers. Rebuilt when consumers were added.
    _facebook_index: _Index[FacebookPersona] = field(
        default_factory=lambda: _Index(_facebook_references), init=False, repr=False, compare=False
    )
    _x_index: _Index[XUser] = field(
        default_factory=lambda: _Index(_x_references), init=False, repr=False, compare=False
    )

    def touch(self) -> None:
        """Marks a change, so the consumer UI redraws."""
        self.version += 1

    def facebook_persona(self, reference: str) -> FacebookPersona:
        """The consumer known by key, PSID, app-scoped id or name.

        Raises:
            UnknownPersona: nobody matches.
        """
        persona = self._facebook_index.find(self.facebook_personas, reference)
        if persona is None:
            raise UnknownPersona(f"no Facebook persona {reference!r}")
        return persona

    def x_user(self, reference: str) -> XUser:
        """The X account known by key, id or handle (with or without ``@``, any case).

        Raises:
            UnknownPersona: nobody matches.
        """
        user = self._x_index.find(self.x_users, reference.removeprefix("@").lower())
        if user is None:
            raise UnknownPersona(f"no X user {reference!r}")
        return user

    @property
    def brand(self) -> XUser:
        return self.x_users["brand"]

    def mentions(self, text: str) -> list[tuple[XUser, int, int]]:
        """The known accounts ``@``-mentioned in ``text``, with code-point start and end."""
        found = []
        for match in _MENTION.finditer(text):
            try:
                found.append((self.x_user(match.group(1)), match.start(), match.end()))
            except UnknownPersona:
                continue
        return found

    def engages_brand(self, tweet: Tweet) -> bool:
        """Whether the author summoned the brand: mentioned it or quoted one of its posts."""
        if any(user.id == BRAND_X_ID for user, _, _ in self.mentions(tweet.text)):
            return True
        quoted = self.tweets.get(tweet.quote_of or "")
        return quoted is not None and quoted.author_id == BRAND_X_ID

    def thread(self, psid: str) -> list[MessengerMessage]:
        """The Messenger thread with one consumer, oldest first."""
        return [message for message in self.messenger if message.psid == psid]


def seeded_world(now: float) -> World:
    """The world the sandbox starts with: Brightcart's page and account, four consumers."""
    day = 86400
    world = World(
        facebook_personas={
            "jane": FacebookPersona("jane", "Jane Doe", "7788990011223344", "6543210987654321"),
            "lena": FacebookPersona(
                "lena", "Lena Weber", "7788990011225566", "6543210987659876", restricted=True
            ),
        },
        x_users={
            "brand": XUser(
                "brand", BRAND_X_ID, BRAND_X_NAME, BRAND_X_HANDLE, created_ms=1401234567000
            ),
            "pat": XUser("pat", "1205290247124217856", "Pat Example", "pat_example"),
            "robin": XUser(
                "robin", "1205290247124217999", "Robin Quiet", "robin_quiet", dms_closed=True
            ),
        },
    )
    posts = [
        ("122100000000000001", "Our new linen collection is here!", "photo", "added_photos", 3),
        (
            "122100000000000002",
            "Free delivery on every order this weekend.",
            "status",
            "mobile_status_update",
            2,
        ),
        (
            "122100000000000003",
            "Our Main St store now opens at 8am.",
            "status",
            "mobile_status_update",
            1,
        ),
    ]
    for post_id, message, item, status_type, days_ago in posts:
        full_id = f"{PAGE_ID}_{post_id}"
        world.posts[full_id] = Post(
            full_id, PAGE_ID, PAGE_NAME, message, int(now - days_ago * day), item, status_type
        )
    tweets = [
        (
            "1874000000000000100",
            "Our new linen collection is here! https://brightcart.example/linen",
            3,
        ),
        ("1874000000000000101", "Free delivery on every order this weekend.", 2),
    ]
    for tweet_id, text, days_ago in tweets:
        world.tweets[tweet_id] = Tweet(tweet_id, BRAND_X_ID, text, now - days_ago * day, tweet_id)
    return world
