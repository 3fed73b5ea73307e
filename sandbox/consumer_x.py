"""What a consumer does on X, and the webhook each action delivers (AAA by default, or XAA).

A post reaches the brand's webhook when it involves the brand: a mention, a reply to one of its
posts, a quote or a retweet of one (AAA); a mention or a reply (XAA). Other posts only appear on
the timeline, as on X. A reply starts with the replied-to author's ``@handle``, as X clients
write it.

Each action first checks its request against the world (raising ``ControlError`` and changing
nothing), then returns a ``ConsumerAction`` that does it; so ``/burst`` checks every element before
doing any, then queues one delivery per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from sandbox.consumer_burst import burst_elements, check_each
from sandbox.consumer_delivery import respond_with_burst, respond_with_deliveries
from sandbox.control_http import ControlError, control, json_body, required_text
from sandbox.core import DeliveryOptions, Sandbox
from sandbox.records import Delivery
from sandbox.world import BRAND_X_ID, DirectMessage, Tweet, XUser
from sandbox.x_events import (
    aaa_dm_delivery,
    aaa_tweet_delivery,
    xaa_dm_delivery,
    xaa_event_type,
    xaa_post_delivery,
)

__all__ = ["ACTIONS", "ConsumerAction", "consumer_dm", "consumer_tweet", "x_consumer_blueprint"]

MAX_LONG_POST = 25000

# A checked action: calling it changes the world and queues the deliveries (the action's ids, the
# deliveries; none for a post the brand's webhook would not get).
ConsumerAction = Callable[[DeliveryOptions], tuple[dict[str, Any], list[Delivery]]]


def _user(sandbox: Sandbox, data: dict[str, Any]) -> XUser:
    for name in ("user", "persona", "user_id"):
        if isinstance(data.get(name), str):
            user = sandbox.world.x_user(data[name])
            if user.id == BRAND_X_ID:
                raise ControlError(f"{name}: the brand posts through the X API, not as a consumer")
            return user
    raise ControlError("user: the consumer's key, id or handle is required")


def _existing(sandbox: Sandbox, data: dict[str, Any], name: str) -> Tweet | None:
    if data.get(name) is None:
        return None
    found = sandbox.world.tweets.get(str(data[name]))
    if found is None:
        raise ControlError(f"{name}: no post {data[name]}", status=404)
    return found


def _format(data: dict[str, Any]) -> str:
    chosen = data.get("format", "aaa")
    if chosen not in ("aaa", "xaa"):
        raise ControlError("format: expected aaa or xaa")
    return str(chosen)


def _tweet(sandbox: Sandbox, data: dict[str, Any]) -> Callable[[], Tweet]:
    """Checks the consumer's post (mention, reply, quote or retweet); returns what posts it."""
    world = sandbox.world
    author = _user(sandbox, data)
    parent = _existing(sandbox, data, "in_reply_to")
    quoted = _existing(sandbox, data, "quote_of")
    retweeted = _existing(sandbox, data, "retweet_of")
    if retweeted is not None:
        text = f"RT @{world.x_user(retweeted.author_id).handle}: {retweeted.text}"
    else:
        text = required_text(data, "text")
    if len(text) > MAX_LONG_POST:
        raise ControlError(f"text: at most {MAX_LONG_POST} characters")
    replied_user = None
    if parent is not None:
        replied_user = world.x_user(parent.author_id)
        if replied_user.id != author.id and not text.lower().startswith(
            f"@{replied_user.handle.lower()}"
        ):
            text = f"@{replied_user.handle} {text}"
    elif retweeted is None:
        leading = world.mentions(text)
        if leading and leading[0][1] == 0:
            replied_user = leading[0][0]  # X sets in_reply_to_user for a post that starts with @

    def post() -> Tweet:
        tweet_id = sandbox.ids.snowflake()
        tweet = Tweet(
            id=tweet_id,
            author_id=author.id,
            text=text,
            created_at=sandbox.clock.now(),
            conversation_id=parent.conversation_id if parent else tweet_id,
            in_reply_to=parent.id if parent else None,
            in_reply_to_user_id=replied_user.id if replied_user else None,
            quote_of=quoted.id if quoted else None,
            retweet_of=retweeted.id if retweeted else None,
        )
        world.tweets[tweet.id] = tweet
        world.touch()
        return tweet

    return post


def _involves_brand(sandbox: Sandbox, tweet: Tweet) -> bool:
    world = sandbox.world
    related = (world.tweets.get(ref or "") for ref in (tweet.in_reply_to, tweet.retweet_of))
    return world.engages_brand(tweet) or any(
        t is not None and t.author_id == BRAND_X_ID for t in related
    )


def _deliver_tweet(
    sandbox: Sandbox, tweet: Tweet, chosen_format: str, options: DeliveryOptions
) -> list[Delivery]:
    """Delivers the post in the chosen format, if the brand's webhook would get it."""
    if chosen_format == "xaa":
        event_type = xaa_event_type(sandbox.world, tweet)
        if event_type is None:
            return []
        body = xaa_post_delivery(sandbox.world, tweet, event_type, sandbox.ids.uuid())
        return sandbox.deliver_x(event_type, body, options)
    if not _involves_brand(sandbox, tweet):
        return []
    return sandbox.deliver_x("tweet", aaa_tweet_delivery(sandbox.world, tweet), options)


def consumer_tweet(sandbox: Sandbox, data: dict[str, Any]) -> ConsumerAction:
    """Checks a consumer's post; returns what posts it and delivers it (if the brand gets it)."""
    chosen_format = _format(data)
    post = _tweet(sandbox, data)

    def act(options: DeliveryOptions) -> tuple[dict[str, Any], list[Delivery]]:
        tweet = post()
        result = {"kind": "tweet", "tweet_id": tweet.id, "text": tweet.text}
        return result, _deliver_tweet(sandbox, tweet, chosen_format, options)

    return act


def _dm(sandbox: Sandbox, data: dict[str, Any]) -> Callable[[], DirectMessage]:
    """Checks the consumer's DM to the brand (a quick-reply answer: ``quick_reply_metadata``);
    returns what sends it."""
    author = _user(sandbox, data)
    text = required_text(data, "text")
    metadata = data.get("quick_reply_metadata")

    def send() -> DirectMessage:
        message = DirectMessage(
            id=sandbox.ids.snowflake(),
            sender_id=author.id,
            recipient_id=BRAND_X_ID,
            text=text,
            created_ms=sandbox.clock.now_ms(),
            quick_reply_metadata=str(metadata) if metadata is not None else None,
        )
        sandbox.world.dms.append(message)
        sandbox.world.touch()
        return message

    return send


def _deliver_dm(
    sandbox: Sandbox, message: DirectMessage, chosen_format: str, options: DeliveryOptions
) -> list[Delivery]:
    """Delivers the DM in the chosen format."""
    if chosen_format == "xaa":
        body = xaa_dm_delivery(sandbox.world, message, sandbox.ids.uuid())
        return sandbox.deliver_x("dm.received", body, options)
    return sandbox.deliver_x("dm", aaa_dm_delivery(sandbox.world, message, from_app=False), options)


def consumer_dm(sandbox: Sandbox, data: dict[str, Any]) -> ConsumerAction:
    """Checks a consumer's DM to the brand; returns what sends it and delivers it."""
    chosen_format = _format(data)
    send = _dm(sandbox, data)

    def act(options: DeliveryOptions) -> tuple[dict[str, Any], list[Delivery]]:
        message = send()
        result = {
            "kind": "dm",
            "dm_event_id": message.id,
            "dm_conversation_id": message.conversation_id,
        }
        return result, _deliver_dm(sandbox, message, chosen_format, options)

    return act


ACTIONS: dict[str, Callable[[Sandbox, dict[str, Any]], ConsumerAction]] = {
    "dm": consumer_dm,
    "tweet": consumer_tweet,
}


def x_consumer_blueprint(sandbox: Sandbox) -> Blueprint:
    """The consumer actions under ``/sandbox/api/x``."""
    blueprint = Blueprint("x_consumer", url_prefix="/sandbox/api/x")

    async def act(request: Request, kind: str) -> HTTPResponse:
        data = json_body(request)
        options = DeliveryOptions.from_json(data)
        result, deliveries = ACTIONS[kind](sandbox, data)(options)
        return await respond_with_deliveries(sandbox, data, result, deliveries)

    @blueprint.post("/tweets")
    @control
    async def tweets(request: Request) -> HTTPResponse:
        return await act(request, "tweet")

    @blueprint.post("/dms")
    @control
    async def dms(request: Request) -> HTTPResponse:
        return await act(request, "dm")

    @blueprint.post("/burst")
    @control
    async def burst(request: Request) -> HTTPResponse:
        data = json_body(request)
        options = DeliveryOptions.from_json(data)
        elements = burst_elements(data, ACTIONS)
        actions = check_each(elements, lambda element: ACTIONS[element["kind"]](sandbox, element))
        events: list[dict[str, Any]] = []
        deliveries: list[Delivery] = []
        for action in actions:
            result, queued = action(options)
            events.append(result)
            deliveries += queued
        return await respond_with_burst(sandbox, data, events, deliveries)

    return blueprint
