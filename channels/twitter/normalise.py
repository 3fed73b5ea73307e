"""Both X delivery formats, normalised into ``SocialEvent``s behind one function.

``normalise_delivery(body, config, known)`` parses an Account Activity (AAA) delivery or an X
Activity (XAA) envelope once, turns every item into a format-neutral ``PublicPost`` or
``PrivateMessage``, then applies the same rules to both formats: the account's toggles, echoes,
retweets, the thread, the text Rasa sees and the dedupe key. It is pure: what only the social
store knows (the thread of a tweet stored earlier, the options offered in the last DM) comes in
through ``Known``.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from bot.context import Author, Platform, SocialContext, Source, Visibility
from bot.errors import MalformedPayload
from bot.events import Skipped, SocialEvent, conversation_id, event_or_skip
from bot.inbound_text import neutralise_commands
from bot.origins import CONTINUE_FROM_PUBLIC, REF_PREFIX, arrival
from channels.json_body import load_json
from channels.twitter.config import TwitterAccount, TwitterConfig
from channels.twitter.links import take_reference, without_prefill
from channels.twitter.options import NumberedOption, chosen_option
from channels.twitter.wire_aaa import AaaDelivery, DirectMessageEvent, Tweet, UserProfile
from channels.twitter.wire_xaa import (
    DM_RECEIVED,
    POST_EVENT_TYPES,
    DmEvent,
    Includes,
    Post,
    XaaDelivery,
    XaaEvent,
)

__all__ = [
    "Known",
    "PrivateMessage",
    "PublicPost",
    "dedupe_key",
    "normalise_delivery",
    "strip_leading_mentions",
]

logger = logging.getLogger(__name__)

PLATFORM = Platform.TWITTER.value
_LEADING_MENTION = re.compile(r"^\s*@([A-Za-z0-9_]{1,15})\b[:,]?")
_HANDLED_AAA = frozenset({"tweet_create_events", "direct_message_events"})
_OTHER_AAA_KINDS = {
    "favorite_events": "a favourite",
    "follow_events": "a follow",
    "unfollow_events": "an unfollow",
    "block_events": "a block",
    "unblock_events": "an unblock",
    "mute_events": "a mute",
    "unmute_events": "an unmute",
    "direct_message_indicate_typing_events": "a typing indicator",
    "direct_message_mark_read_events": "a read receipt",
    "tweet_delete_events": "a tweet deletion",
    "user_event": "an app revocation",
}


def _nothing_known(_account_id: str, _user_id: str, _tweet_id: str) -> str | None:
    return None


def _no_options(_sender_id: str) -> Sequence[NumberedOption]:
    return ()


@dataclass(frozen=True)
class Known:
    """What the social store knows that a delivery does not say.

    Attributes:
        thread_of: ``(account id, author's user id, tweet id)`` → the thread of the tweet the
            author replies to, when it was seen before.
        options_for: Rasa sender id → the numbered options offered in the last DM to it.
    """

    thread_of: Callable[[str, str, str], str | None] = _nothing_known
    options_for: Callable[[str], Sequence[NumberedOption]] = _no_options


@dataclass(frozen=True)
class PublicPost:
    """A tweet, whichever format delivered it."""

    id: str
    author: Author
    text: str
    mentions: tuple[tuple[str | None, str], ...]  # (user id, handle)
    occurred_at: datetime
    parent_id: str | None = None  # the tweet it replies to
    conversation_id: str | None = None  # the thread's root, where the format says it
    quoted_id: str | None = None
    retweet: bool = False


@dataclass(frozen=True)
class PrivateMessage:
    """A DM received, whichever format delivered it."""

    id: str
    author: Author
    text: str
    occurred_at: datetime
    quick_reply: str | None = None  # the metadata of the quick-reply option picked
    extra: dict[str, Any] = field(default_factory=dict)


_Item: TypeAlias = PublicPost | PrivateMessage | Skipped


def dedupe_key(account_id: str, kind: str, item_id: str) -> str:
    """``twitter:<account id>:tweet:<id>`` / ``...:dm:<id>``: the same in both formats."""
    return f"{PLATFORM}:{account_id}:{kind}:{item_id}"


def strip_leading_mentions(text: str, handles: frozenset[str]) -> tuple[str, list[str]]:
    """The text without its leading @mentions of ``handles`` (lower-case), and those handles.

    ``"@BrandCo @pat hi"`` with ``{"brandco"}`` → ``("@pat hi", ["BrandCo"])``.
    """
    stripped: list[str] = []
    rest = text
    while (match := _LEADING_MENTION.match(rest)) and match.group(1).lower() in handles:
        stripped.append(match.group(1))
        rest = rest[match.end() :]
    return (rest.strip() if stripped else text), stripped


# --- parsing ---------------------------------------------------------------------------------

_Model = TypeVar("_Model", bound=BaseModel)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )


def _parse(model: type[_Model], raw: Any, what: str) -> _Model:
    try:
        return model.parse_obj(raw)
    except ValidationError as exc:
        raise MalformedPayload(f"not {what}: {_describe(exc)}") from exc


def _readable(build: Callable[[], _Item], where: str, key: str | None) -> _Item:
    """What ``build`` reads of one item, or the item skipped as malformed: the rest go on."""
    try:
        return build()
    except MalformedPayload as exc:
        return Skipped(f"{where}: {exc}", key, malformed=True)


def _raw_id(raw: Any, field_name: str) -> str | None:
    value = raw.get(field_name) if isinstance(raw, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _epoch_ms(value: str | None, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value or "") / 1000, tz=timezone.utc)
    except (ValueError, OverflowError, OSError) as exc:  # not a number; out of any date range
        raise MalformedPayload(f"{what}: expected a time in epoch milliseconds") from exc


def _tweet_time(tweet: Tweet) -> datetime:
    if tweet.timestamp_ms:
        return _epoch_ms(tweet.timestamp_ms, f"tweet {tweet.id_str}: timestamp_ms")
    try:
        return datetime.strptime(tweet.created_at or "", "%a %b %d %H:%M:%S %z %Y")
    except ValueError as exc:
        raise MalformedPayload(
            f"tweet {tweet.id_str}: neither timestamp_ms nor a created_at like "
            f"'Thu Jan 01 00:10:00 +0000 2026'"
        ) from exc


# --- Account Activity API --------------------------------------------------------------------


def _aaa_post(raw: Any) -> PublicPost:
    tweet = _parse(Tweet, raw, "a tweet")
    quoted = tweet.quoted_status_id_str
    if quoted is None and tweet.quoted_status is not None:
        quoted = str(tweet.quoted_status.get("id_str") or "") or None
    return PublicPost(
        id=tweet.id_str,
        author=Author(id=tweet.user.id_str, name=tweet.user.name, handle=tweet.user.screen_name),
        text=tweet.full_text,
        mentions=tuple((mention.id_str, mention.screen_name) for mention in tweet.mentions),
        occurred_at=_tweet_time(tweet),
        parent_id=tweet.in_reply_to_status_id_str or None,
        quoted_id=quoted if tweet.is_quote_status else None,
        retweet=tweet.retweeted_status is not None,
    )


def _aaa_profile(delivery: AaaDelivery, user_id: str) -> UserProfile | None:
    """The sender's profile, if the delivery carries a readable one (else the DM goes on without
    a name)."""
    try:
        return UserProfile.parse_obj(delivery.users[user_id]) if user_id in delivery.users else None
    except ValidationError:
        logger.warning("twitter: the profile of user %s is malformed: left out", user_id)
        return None


def _aaa_dm(raw: Any, delivery: AaaDelivery) -> _Item:
    event = _parse(DirectMessageEvent, raw, "a direct message event")
    create = event.message_create
    if event.type != "message_create" or create is None:
        return Skipped(f"direct message event of type {event.type!r} is not handled", event.id)
    profile = _aaa_profile(delivery, create.sender_id)
    data = create.message_data
    extra: dict[str, Any] = {}
    if data.attachment:
        extra["attachment"] = data.attachment
    return PrivateMessage(
        id=event.id,
        author=Author(
            id=create.sender_id,
            name=profile.name if profile else None,
            handle=profile.screen_name if profile else None,
        ),
        text=data.text,
        occurred_at=_epoch_ms(event.created_timestamp, f"direct message {event.id}"),
        quick_reply=data.quick_reply_response.metadata if data.quick_reply_response else None,
        extra=extra,
    )


def _aaa_items(raw: dict[str, Any]) -> tuple[str, list[_Item]]:
    delivery = _parse(AaaDelivery, raw, "an Account Activity delivery")
    items: list[_Item] = [
        _readable(
            partial(_aaa_post, tweet), f"tweet_create_events[{index}]", _raw_id(tweet, "id_str")
        )
        for index, tweet in enumerate(delivery.tweet_create_events)
    ]
    items += [
        _readable(
            partial(_aaa_dm, event, delivery),
            f"direct_message_events[{index}]",
            _raw_id(event, "id"),
        )
        for index, event in enumerate(delivery.direct_message_events)
    ]
    for key, value in raw.items():
        if key in _HANDLED_AAA or not (key.endswith("_events") or key in _OTHER_AAA_KINDS):
            continue
        what = _OTHER_AAA_KINDS.get(key, f"an item of {key}")
        for item in value if isinstance(value, list) else [value]:
            item_id = item.get("id") if isinstance(item, dict) else None
            items.append(Skipped(f"{what} is not a message", str(item_id) if item_id else None))
    return delivery.for_user_id, items


# --- X Activity API --------------------------------------------------------------------------


def _xaa_author(event: XaaEvent, user_id: str) -> Author:
    user = _parse(Includes, event.includes or {}, "an includes object").user(user_id)
    return Author(
        id=user_id, name=user.name if user else None, handle=user.username if user else None
    )


def _xaa_post(event: XaaEvent) -> _Item:
    post = _parse(Post, event.payload, "a post")
    return PublicPost(
        id=post.id,
        author=_xaa_author(event, post.author_id),
        text=post.full_text,
        mentions=tuple((mention.id, mention.username) for mention in post.entities.mentions),
        occurred_at=post.created_at,
        parent_id=post.referenced("replied_to"),
        conversation_id=post.conversation_id,
        quoted_id=post.referenced("quoted"),
        retweet=post.referenced("retweeted") is not None,
    )


def _xaa_dm(event: XaaEvent) -> _Item:
    dm = _parse(DmEvent, event.payload, "a DM event")
    if dm.event_type != "MessageCreate":
        return Skipped(f"DM event of type {dm.event_type!r} is not a message", dm.id)
    return PrivateMessage(
        id=dm.id,
        author=_xaa_author(event, dm.sender_id),
        text=dm.text,
        occurred_at=dm.created_at,
    )


def _xaa_items(raw: dict[str, Any]) -> tuple[str, list[_Item]]:
    event = _parse(XaaDelivery, raw, "an X Activity envelope").data
    if event.event_type in POST_EVENT_TYPES:
        read: Callable[[XaaEvent], _Item] = _xaa_post
    elif event.event_type == DM_RECEIVED:
        read = _xaa_dm
    else:
        skipped = Skipped(f"event type {event.event_type!r} is not handled", event.event_uuid)
        return event.filter.user_id, [skipped]
    item = _readable(partial(read, event), f"the {event.event_type} event", event.event_uuid)
    return event.filter.user_id, [item]


# --- the rules, the same for both formats ----------------------------------------------------


def _account_skip(
    account: TwitterAccount | None, account_id: str, item: PublicPost | PrivateMessage
) -> str | None:
    if account is None:
        return f"account {account_id} is not configured"
    if not account.enabled:
        return f"account {account_id} is disabled"
    if isinstance(item, PublicPost) and not account.public:
        return f"public answers are off for account {account_id}"
    return None


def _public_event(
    account_id: str,
    post: PublicPost,
    config: TwitterConfig,
    threads: dict[str, str],
    known: Known,
) -> SocialEvent | Skipped:
    key = dedupe_key(account_id, "tweet", post.id)
    if config.account(post.author.id) is not None:
        return Skipped("echo of our own tweet", key)  # ours: this or another brand account
    if post.retweet:
        return Skipped("a retweet is not a message", key)
    thread_id = post.conversation_id
    if thread_id is None and post.parent_id is not None:
        thread_id = threads.get(post.parent_id) or known.thread_of(
            account_id, post.author.id, post.parent_id
        )
    thread_id = thread_id or post.parent_id or post.id
    threads[post.id] = thread_id
    written = html.unescape(post.text)
    brand = config.brand_handles | {
        handle.lower()
        for user_id, handle in post.mentions
        if user_id is not None and config.account(user_id)
    }
    text, _ = strip_leading_mentions(written, brand)
    extra: dict[str, Any] = {
        "mentions": [{"id": user_id, "handle": handle} for user_id, handle in post.mentions],
        "text_as_written": written,
    }
    if post.quoted_id:
        extra["quoted_tweet_id"] = post.quoted_id
    return SocialEvent(
        context=SocialContext(
            platform=Platform.TWITTER,
            visibility=Visibility.PUBLIC,
            source=Source.TWEET,
            account_id=account_id,
            event_id=post.id,
            thread_id=thread_id,
            parent_id=post.parent_id,
            author=post.author,
        ),
        text=neutralise_commands(text),
        dedupe_key=key,
        occurred_at=post.occurred_at,
        extra=extra,
    )


def _private_event(
    account_id: str, dm: PrivateMessage, config: TwitterConfig, known: Known
) -> list[SocialEvent | Skipped]:
    key = dedupe_key(account_id, "dm", dm.id)
    if config.account(dm.author.id) is not None:
        return [Skipped("echo of our own DM", key)]
    written = html.unescape(dm.text)
    typed, referral = take_reference(written)  # the first DM after a call to action's link
    arriving = referral is not None and referral.startswith(REF_PREFIX)
    if arriving:
        typed = without_prefill(typed)
    extra: dict[str, Any] = {**dm.extra, "text_as_written": written}
    if dm.quick_reply is not None:
        text = dm.quick_reply  # offered by the bot: not consumer-typed, not neutralised
        extra["quick_reply"] = dm.quick_reply
    elif option := chosen_option(
        typed, known.options_for(conversation_id(PLATFORM, account_id, dm.author.id))
    ):
        text = option.payload  # the number or title of an option the bot offered
        extra["option"] = {"number": option.number, "title": option.title}
    else:
        text = neutralise_commands(typed)
    event = SocialEvent(
        context=SocialContext(
            platform=Platform.TWITTER,
            visibility=Visibility.PRIVATE,
            source=Source.TWITTER_DM,
            account_id=account_id,
            event_id=dm.id,
            thread_id=dm.author.id,
            author=dm.author,
            referral=referral,
        ),
        text=text or CONTINUE_FROM_PUBLIC,
        dedupe_key=key,
        occurred_at=dm.occurred_at,
        extra=extra,
    )
    if not arriving or referral is None:
        return [event]
    # The call to action's link: the bot first picks the public thread up, then reads what the
    # consumer added to the prefilled text, if anything.
    return [arrival(event, referral), event] if text else [arrival(event, referral)]


def normalise_delivery(
    body: bytes, config: TwitterConfig, known: Known | None = None
) -> list[SocialEvent | Skipped]:
    """Every item of one AAA or XAA delivery, as an event for the bot or a skip with its reason.

    A malformed item (a tweet without its author, a DM with a bad time...) is skipped as
    ``malformed`` with the reason; the others are read.

    Raises:
        MalformedPayload: the body is not JSON (see ``load_json``), or not one of the two
            envelopes (says what).
    """
    known = known or Known()
    raw = load_json(body)
    if isinstance(raw, dict) and "for_user_id" in raw:
        account_id, items = _aaa_items(raw)
    elif isinstance(raw, dict) and "data" in raw:
        account_id, items = _xaa_items(raw)
    else:
        raise MalformedPayload(
            "expected an Account Activity delivery (an object with for_user_id) or an "
            "X Activity envelope (an object with data)"
        )
    account = config.account(account_id)
    threads: dict[str, str] = {}  # tweets of this delivery: a reply may follow its parent
    results: list[SocialEvent | Skipped] = []
    for item in items:
        if isinstance(item, Skipped):
            results.append(item)
        elif reason := _account_skip(account, account_id, item):
            if account is None:
                logger.warning("twitter: skipped a delivery item for %s", reason)
            results.append(Skipped(reason, item.id))
        elif isinstance(item, PublicPost):
            public = partial(_public_event, account_id, item, config, threads, known)
            results.append(event_or_skip(public, dedupe_key(account_id, "tweet", item.id)))
        else:
            private = event_or_skip(
                partial(_private_event, account_id, item, config, known),
                dedupe_key(account_id, "dm", item.id),
            )
            results.extend([private] if isinstance(private, Skipped) else private)
    return results
