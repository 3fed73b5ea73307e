"""The X API v2 under ``/x/2/...``: post a reply, send a DM.

Authenticated with ``Authorization: Bearer <X_ACCESS_TOKEN>``; errors are
``application/problem+json``.
Every call goes through ``api_gate.serve`` (token, faults, recording).
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from sandbox.api_errors import XProblem, dms_closed
from sandbox.api_gate import ApiAnswer, ApiRequest, serve
from sandbox.core import DeliveryOptions, Sandbox
from sandbox.tweet_text import MAX_WEIGHTED_LENGTH, weighted_length
from sandbox.world import BRAND_X_ID, DirectMessage, Tweet, UnknownPersona
from sandbox.x_events import aaa_dm_delivery, aaa_tweet_delivery

__all__ = ["MAX_DM_LENGTH", "brand_dm", "brand_tweet", "x_blueprint"]

MAX_DM_LENGTH = 10000
_INVALID_TYPE = "https://api.twitter.com/2/problems/invalid-request"


def _invalid(message: str) -> XProblem:
    return XProblem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        problem_type=_INVALID_TYPE,
        errors=[{"message": message}],
    )


def _forbidden(detail: str, errors: list[dict[str, object]] | None = None) -> XProblem:
    return XProblem(403, "Forbidden", detail, errors=errors)


def _text(call: ApiRequest) -> str:
    body = call.body if isinstance(call.body, dict) else {}
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _invalid("text: a non-empty string is required")
    return text


def brand_tweet(sandbox: Sandbox, text: str, in_reply_to: str | None) -> Tweet:
    """Posts ``text`` as the brand, by X's rules (length, summoning, duplicates); echoes it (AAA).

    Raises:
        XProblem: 400 too long, 403 reply not allowed or duplicate content.
    """
    world = sandbox.world
    length = weighted_length(text)
    if length > MAX_WEIGHTED_LENGTH:
        raise _invalid(f"text: weighted length {length} is above {MAX_WEIGHTED_LENGTH}")
    parent = None
    if in_reply_to is not None:
        parent = world.tweets.get(in_reply_to)
        if parent is None:
            raise _forbidden(
                "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        if parent.author_id != BRAND_X_ID and not world.engages_brand(parent):
            raise _forbidden(
                "Reply to this conversation is not allowed because you have not been mentioned or "
                "otherwise engaged by the author of the post you are replying to."
            )
    if any(t.author_id == BRAND_X_ID and t.text == text for t in world.tweets.values()):
        raise _forbidden(
            "You are not allowed to create a Tweet with duplicate content.",
            [{"code": 187, "message": "Status is a duplicate."}],
        )
    tweet_id = sandbox.ids.snowflake()
    tweet = Tweet(
        id=tweet_id,
        author_id=BRAND_X_ID,
        text=text,
        created_at=sandbox.clock.now(),
        conversation_id=parent.conversation_id if parent else tweet_id,
        in_reply_to=parent.id if parent else None,
        in_reply_to_user_id=parent.author_id if parent else None,
    )
    world.tweets[tweet.id] = tweet
    world.touch()
    sandbox.deliver_x("echo_tweet", aaa_tweet_delivery(world, tweet), DeliveryOptions())
    return tweet


def brand_dm(sandbox: Sandbox, participant_id: str, text: str) -> DirectMessage:
    """Sends ``text`` as the brand to ``participant_id``; echoes it (AAA, with ``apps``).

    Raises:
        XProblem: 400 unknown participant or too long, 403 code 349 DMs closed.
    """
    if len(text) > MAX_DM_LENGTH:
        raise _invalid(f"text: at most {MAX_DM_LENGTH} characters")
    try:
        participant = sandbox.world.x_user(participant_id)
    except UnknownPersona as exc:
        raise _invalid(f"participant_id: no user {participant_id}") from exc
    if participant.id != participant_id or participant.id == BRAND_X_ID:
        raise _invalid(f"participant_id: {participant_id} is not a user you can message")
    if participant.dms_closed:
        raise dms_closed()
    message = DirectMessage(
        id=sandbox.ids.snowflake(),
        sender_id=BRAND_X_ID,
        recipient_id=participant.id,
        text=text,
        created_ms=sandbox.clock.now_ms(),
    )
    sandbox.world.dms.append(message)
    sandbox.world.touch()
    sandbox.deliver_x(
        "echo_dm", aaa_dm_delivery(sandbox.world, message, from_app=True), DeliveryOptions()
    )
    return message


def _tweets(sandbox: Sandbox, call: ApiRequest) -> ApiAnswer:
    text = _text(call)
    reply = call.body.get("reply") if isinstance(call.body, dict) else None
    in_reply_to = None
    if reply is not None:
        if not isinstance(reply, dict) or not reply.get("in_reply_to_tweet_id"):
            raise _invalid("reply.in_reply_to_tweet_id: required with reply")
        in_reply_to = str(reply["in_reply_to_tweet_id"])
    tweet = brand_tweet(sandbox, text, in_reply_to)
    return ApiAnswer(
        201, {"data": {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}}
    )


def _dm(sandbox: Sandbox, participant_id: str, call: ApiRequest) -> ApiAnswer:
    message = brand_dm(sandbox, participant_id, _text(call))
    return ApiAnswer(
        201, {"data": {"dm_conversation_id": message.conversation_id, "dm_event_id": message.id}}
    )


def x_blueprint(sandbox: Sandbox) -> Blueprint:
    """The X API routes."""
    blueprint = Blueprint("x", url_prefix="/x/2")

    @blueprint.post("/tweets")
    async def tweets(request: Request) -> HTTPResponse:
        return await serve(sandbox, request, "x", "x.tweets", lambda call: _tweets(sandbox, call))

    @blueprint.post("/dm_conversations/with/<participant_id>/messages")
    async def dm(request: Request, participant_id: str) -> HTTPResponse:
        handler = lambda call: _dm(sandbox, participant_id, call)  # noqa: E731
        return await serve(sandbox, request, "x", "x.dm", handler)

    @blueprint.route("/<rest:path>", methods=["GET", "POST", "DELETE", "PUT"])
    async def unknown(request: Request, rest: str) -> HTTPResponse:
        def refuse(_call: ApiRequest) -> ApiAnswer:
            raise XProblem(404, "Not Found Error", f"Could not find /2/{rest}.")

        return await serve(sandbox, request, "x", "x.other", refuse)

    return blueprint
