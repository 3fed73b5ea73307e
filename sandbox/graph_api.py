"""The Graph API under ``/graph/{version}/...``: Send API, public comments, likes, profile GET.

Authenticated with the page access token (``access_token`` parameter or ``Authorization: Bearer``).
Every call goes through ``api_gate.serve`` (token, faults, recording).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from sandbox.api_errors import GraphError, graph_unknown_object
from sandbox.api_gate import ApiAnswer, ApiRequest, serve
from sandbox.core import DeliveryOptions, Sandbox
from sandbox.facebook_events import changes_entry, comment_change, page_delivery
from sandbox.send_api import send
from sandbox.world import PAGE_ID, PAGE_NAME, Comment, Post, UnknownPersona

__all__ = ["graph_blueprint", "page_comment"]

_VERSION = re.compile(r"^v\d+\.\d+$")


def _check_version(version: str) -> None:
    if not _VERSION.match(version):
        raise GraphError(2500, f"Unknown path components: /{version}")


def _graph_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _commentable(sandbox: Sandbox, object_id: str) -> tuple[Post, Comment | None]:
    world = sandbox.world
    if object_id in world.posts:
        return world.posts[object_id], None
    comment = world.comments.get(object_id)
    if comment is None or comment.removed:
        raise graph_unknown_object(object_id)
    return world.posts[comment.post_id], comment


def page_comment(sandbox: Sandbox, object_id: str, message: str) -> Comment:
    """The page's public reply under a post or a comment (Facebook nests one level only)."""
    post, parent = _commentable(sandbox, object_id)
    if parent is not None and parent.parent_id != post.id:
        parent = sandbox.world.comments[parent.parent_id]
    short_post = post.id.split("_", 1)[1]
    comment = Comment(
        id=f"{short_post}_{sandbox.ids.facebook_comment()}",
        post_id=post.id,
        parent_id=parent.id if parent is not None else post.id,
        author_id=PAGE_ID,
        author_name=PAGE_NAME,
        message=message,
        created_time=int(sandbox.clock.now()),
    )
    sandbox.world.comments[comment.id] = comment
    sandbox.world.touch()
    change = comment_change(comment, post, "add", comment.created_time)
    sandbox.deliver_facebook(
        "page_comment",
        page_delivery([changes_entry(comment.created_time, [change])]),
        DeliveryOptions(),
    )
    return comment


def _comments(sandbox: Sandbox, object_id: str, call: ApiRequest) -> ApiAnswer:
    message = call.params.get("message")
    if not isinstance(message, str) or not message.strip():
        raise GraphError(100, "(#100) Missing message or attachment")
    comment = page_comment(sandbox, object_id, message)
    return ApiAnswer(200, {"id": comment.id})


def _likes(sandbox: Sandbox, object_id: str) -> ApiAnswer:
    _post, comment = _commentable(sandbox, object_id)
    if comment is not None:
        comment.liked_by_page = True
    sandbox.world.liked.add(object_id)
    sandbox.world.touch()
    return ApiAnswer(200, {"success": True})


def _fields(call: ApiRequest, default: str) -> list[str]:
    return [
        name.strip() for name in str(call.query.get("fields", default)).split(",") if name.strip()
    ]


def _object(sandbox: Sandbox, object_id: str, call: ApiRequest) -> ApiAnswer:
    world = sandbox.world
    if object_id in (PAGE_ID, "me"):
        return ApiAnswer(200, {"name": PAGE_NAME, "id": PAGE_ID})
    if object_id in world.comments and not world.comments[object_id].removed:
        comment = world.comments[object_id]
        author = {"name": comment.author_name, "id": comment.author_id}
        body = {"created_time": _graph_time(comment.created_time), "from": author}
        return ApiAnswer(200, {**body, "message": comment.message, "id": comment.id})
    if object_id in world.posts:
        post = world.posts[object_id]
        body = {"created_time": _graph_time(post.created_time), "message": post.message}
        return ApiAnswer(200, {**body, "id": post.id})
    try:
        persona = world.facebook_persona(object_id)
    except UnknownPersona:
        persona = None
    if persona is None or persona.psid != object_id:
        raise graph_unknown_object(object_id, "get")  # page tokens read PSIDs only
    if persona.restricted:
        raise GraphError(2018218, "(#2018218) No profile available for this person.")
    host = call.headers.get("host", "127.0.0.1")
    known: dict[str, Any] = {
        "first_name": persona.first_name,
        "last_name": persona.last_name,
        "name": persona.name,
        "profile_pic": f"http://{host}/sandbox/avatars/{persona.psid}.svg",
    }
    wanted = _fields(call, "first_name,last_name,profile_pic")
    return ApiAnswer(
        200, {**{name: known[name] for name in wanted if name in known}, "id": persona.psid}
    )


def _send(sandbox: Sandbox, object_id: str, call: ApiRequest) -> ApiAnswer:
    if object_id not in ("me", PAGE_ID):
        raise graph_unknown_object(object_id)
    return send(sandbox, call)


def graph_blueprint(sandbox: Sandbox) -> Blueprint:
    """The Graph API routes."""
    blueprint = Blueprint("graph", url_prefix="/graph")

    def route(
        version: str, handler: Callable[[ApiRequest], ApiAnswer]
    ) -> Callable[[ApiRequest], ApiAnswer]:
        def checked(call: ApiRequest) -> ApiAnswer:
            _check_version(version)
            return handler(call)

        return checked

    @blueprint.post("/<version>/<object_id>/messages")
    async def messages(request: Request, version: str, object_id: str) -> HTTPResponse:
        handler = route(version, lambda call: _send(sandbox, object_id, call))
        return await serve(sandbox, request, "facebook", "facebook.messages", handler)

    @blueprint.post("/<version>/<object_id>/comments")
    async def comments(request: Request, version: str, object_id: str) -> HTTPResponse:
        handler = route(version, lambda call: _comments(sandbox, object_id, call))
        return await serve(sandbox, request, "facebook", "facebook.comments", handler)

    @blueprint.post("/<version>/<object_id>/likes")
    async def likes(request: Request, version: str, object_id: str) -> HTTPResponse:
        handler = route(version, lambda _call: _likes(sandbox, object_id))
        return await serve(sandbox, request, "facebook", "facebook.likes", handler)

    @blueprint.get("/<version>/<object_id>")
    async def profile(request: Request, version: str, object_id: str) -> HTTPResponse:
        handler = route(version, lambda call: _object(sandbox, object_id, call))
        return await serve(sandbox, request, "facebook", "facebook.profile", handler)

    @blueprint.route("/<rest:path>", methods=["GET", "POST", "DELETE"])
    async def unknown(request: Request, rest: str) -> HTTPResponse:
        def refuse(_call: ApiRequest) -> ApiAnswer:
            raise GraphError(2500, f"Unknown path components: /{rest}")

        return await serve(sandbox, request, "facebook", "facebook.other", refuse)

    return blueprint
