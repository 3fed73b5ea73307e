"""What a consumer does on Facebook, and the webhook each action delivers.

Each action first checks its request against the world (raising ``ControlError`` and changing
nothing), then returns a ``Build``: calling it changes the world and builds one Messenger event or
feed change (``BuiltEvent``). So ``/batch`` and ``/burst`` check every element before building any.
The routes wrap one event in its own delivery, several (``/batch``) into one delivery with several
entries and several events per entry, or each event of a ``/burst`` into its own delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from sandbox.consumer_burst import burst_elements, check_each
from sandbox.consumer_delivery import respond_with_burst, respond_with_deliveries
from sandbox.control_http import ControlError, control, json_body, required_text
from sandbox.core import DeliveryOptions, Sandbox
from sandbox.facebook_events import (
    changes_entry,
    comment_change,
    messaging_entry,
    messenger_event,
    page_delivery,
    visitor_post_change,
)
from sandbox.records import Delivery
from sandbox.world import PAGE_ID, Comment, FacebookPersona, MessengerMessage, Post

__all__ = ["ACTIONS", "Build", "BuiltEvent", "batch_body", "facebook_consumer_blueprint"]


@dataclass
class BuiltEvent:
    """One Messenger event (``field`` messaging) or feed change (``field`` changes) and its ids."""

    kind: str
    field: str
    event: dict[str, Any]
    ids: dict[str, str]


# A checked action: calling it changes the world and builds the event.
Build = Callable[[], BuiltEvent]


def _persona(sandbox: Sandbox, data: dict[str, Any]) -> FacebookPersona:
    for name in ("persona", "psid", "user"):
        if isinstance(data.get(name), str):
            return sandbox.world.facebook_persona(data[name])
    raise ControlError("persona (or psid, user): the consumer's key, PSID or name is required")


def _messenger(sandbox: Sandbox, data: dict[str, Any], kind: str, **fields: Any) -> Build:
    persona = _persona(sandbox, data)

    def build() -> BuiltEvent:
        now = sandbox.clock.now()
        message = MessengerMessage(
            mid=sandbox.ids.mid(),
            psid=persona.psid,
            from_page=False,
            timestamp_ms=int(now * 1000),
            kind=kind,
            **fields,
        )
        sandbox.world.messenger.append(message)
        sandbox.world.last_consumer_message[persona.psid] = now
        sandbox.world.touch()
        ids = {"mid": message.mid, "psid": persona.psid}
        return BuiltEvent(kind, "messaging", messenger_event(message), ids)

    return build


def messenger(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """A text message in Messenger."""
    return _messenger(sandbox, data, "message", text=required_text(data, "text"))


def quick_reply(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """A tap on a quick reply: its title as text and its payload."""
    title, payload = required_text(data, "title"), required_text(data, "payload")
    return _messenger(sandbox, data, "quick_reply", text=title, payload=payload)


def postback(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """A tap on a postback button (with the m.me ``ref`` when it opened the thread)."""
    title, payload = required_text(data, "title"), required_text(data, "payload")
    return _messenger(sandbox, data, "postback", text=title, payload=payload, ref=data.get("ref"))


def referral(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """The consumer opened the existing thread through an m.me link with ``ref``."""
    return _messenger(sandbox, data, "referral", ref=required_text(data, "ref"))


def _feed(sandbox: Sandbox, kind: str, change: dict[str, Any], ids: dict[str, str]) -> BuiltEvent:
    sandbox.world.touch()
    return BuiltEvent(kind, "changes", change, ids)


def comment(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """A comment on a post, or (with ``parent_id``) a reply to a comment."""
    persona = _persona(sandbox, data)
    text = required_text(data, "text")
    world = sandbox.world
    post = world.posts.get(required_text(data, "post_id"))
    if post is None:
        raise ControlError(f"post_id: no post {data['post_id']}", status=404)
    parent_id = data.get("parent_id") or post.id
    if parent_id != post.id:
        parent = world.comments.get(parent_id)
        if parent is None or parent.post_id != post.id or parent.removed:
            raise ControlError(f"parent_id: no comment {parent_id} on post {post.id}", status=404)
        parent_id = parent.parent_id if parent.parent_id != post.id else parent.id  # one level

    def build() -> BuiltEvent:
        now = int(sandbox.clock.now())
        created = Comment(
            id=f"{post.id.split('_', 1)[1]}_{sandbox.ids.facebook_comment()}",
            post_id=post.id,
            parent_id=parent_id,
            author_id=persona.asid,
            author_name=persona.name,
            message=text,
            created_time=now,
        )
        world.comments[created.id] = created
        change = comment_change(created, post, "add", now)
        return _feed(sandbox, "comment", change, {"comment_id": created.id, "post_id": post.id})

    return build


def visitor_post(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """A post a visitor writes on the Page."""
    persona = _persona(sandbox, data)
    text = required_text(data, "text")

    def build() -> BuiltEvent:
        post = Post(
            id=f"{PAGE_ID}_{sandbox.ids.facebook_post()}",
            author_id=persona.asid,
            author_name=persona.name,
            message=text,
            created_time=int(sandbox.clock.now()),
        )
        sandbox.world.posts[post.id] = post
        return _feed(sandbox, "visitor_post", visitor_post_change(post), {"post_id": post.id})

    return build


def _existing_comment(sandbox: Sandbox, data: dict[str, Any]) -> Comment:
    found = sandbox.world.comments.get(required_text(data, "comment_id"))
    if found is None or found.removed:
        raise ControlError(f"comment_id: no comment {data['comment_id']}", status=404)
    return found


def edit(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """The author edits a comment."""
    edited = _existing_comment(sandbox, data)
    text = required_text(data, "text")

    def build() -> BuiltEvent:
        edited.message, edited.edited = text, True
        post = sandbox.world.posts[edited.post_id]
        change = comment_change(edited, post, "edited", int(sandbox.clock.now()))
        ids = {"comment_id": edited.id, "post_id": post.id}
        return _feed(sandbox, "comment_edit", change, ids)

    return build


def remove(sandbox: Sandbox, data: dict[str, Any]) -> Build:
    """The author removes a comment."""
    removed = _existing_comment(sandbox, data)

    def build() -> BuiltEvent:
        removed.removed = True
        post = sandbox.world.posts[removed.post_id]
        change = comment_change(removed, post, "remove", int(sandbox.clock.now()))
        ids = {"comment_id": removed.id, "post_id": post.id}
        return _feed(sandbox, "comment_remove", change, ids)

    return build


ACTIONS: dict[str, Callable[[Sandbox, dict[str, Any]], Build]] = {
    "messenger": messenger,
    "quick_reply": quick_reply,
    "postback": postback,
    "referral": referral,
    "comment": comment,
    "visitor_post": visitor_post,
    "comment_edit": edit,
    "comment_remove": remove,
}


def batch_body(sandbox: Sandbox, built: list[tuple[int, BuiltEvent]]) -> dict[str, Any]:
    """One delivery of several events: one entry per (entry number, field), in first-seen order."""
    groups: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for entry, event in built:
        groups.setdefault((entry, event.field), []).append(event.event)
    entries = []
    for (_, field), events in groups.items():
        if field == "messaging":
            entries.append(messaging_entry(sandbox.clock.now_ms(), events))
        else:
            entries.append(changes_entry(int(sandbox.clock.now()), events))
    return page_delivery(entries)


def facebook_consumer_blueprint(sandbox: Sandbox) -> Blueprint:
    """The consumer actions under ``/sandbox/api/facebook``."""
    blueprint = Blueprint("facebook_consumer", url_prefix="/sandbox/api/facebook")

    async def act(request: Request, kind: str, **extra: Any) -> HTTPResponse:
        data = {**json_body(request), **extra}
        options = DeliveryOptions.from_json(data)
        built = ACTIONS[kind](sandbox, data)()
        deliveries = sandbox.deliver_facebook(kind, batch_body(sandbox, [(0, built)]), options)
        return await respond_with_deliveries(sandbox, data, {"kind": kind, **built.ids}, deliveries)

    for path, kind in (
        ("/messenger", "messenger"),
        ("/quick_reply", "quick_reply"),
        ("/postback", "postback"),
        ("/referral", "referral"),
        ("/comments", "comment"),
        ("/posts", "visitor_post"),
    ):

        async def handler(request: Request, kind: str = kind) -> HTTPResponse:
            return await act(request, kind)

        blueprint.add_route(control(handler), path, methods=["POST"], name=kind)

    @blueprint.post("/comments/<comment_id>/edit")
    @control
    async def edit_comment(request: Request, comment_id: str) -> HTTPResponse:
        return await act(request, "comment_edit", comment_id=comment_id)

    @blueprint.post("/comments/<comment_id>/remove")
    @control
    async def remove_comment(request: Request, comment_id: str) -> HTTPResponse:
        return await act(request, "comment_remove", comment_id=comment_id)

    @blueprint.post("/batch")
    @control
    async def batch(request: Request) -> HTTPResponse:
        data = json_body(request)
        options = DeliveryOptions.from_json(data)
        checked: list[tuple[int, Build]] = [
            (int(spec.get("entry", 0)), ACTIONS[spec["kind"]](sandbox, spec))
            for spec in burst_elements(data, ACTIONS)
        ]
        built = [(entry, build()) for entry, build in checked]
        deliveries = sandbox.deliver_facebook("batch", batch_body(sandbox, built), options)
        events = [{"kind": event.kind, **event.ids} for _, event in built]
        return await respond_with_deliveries(
            sandbox, data, {"kind": "batch", "events": events}, deliveries
        )

    @blueprint.post("/burst")
    @control
    async def burst(request: Request) -> HTTPResponse:
        data = json_body(request)
        options = DeliveryOptions.from_json(data)
        elements = burst_elements(data, ACTIONS)
        builds = check_each(elements, lambda element: ACTIONS[element["kind"]](sandbox, element))
        events: list[dict[str, Any]] = []
        deliveries: list[Delivery] = []
        for element, build in zip(elements, builds, strict=True):
            kind, built = element["kind"], build()
            events.append({"kind": kind, **built.ids})
            body = batch_body(sandbox, [(0, built)])
            deliveries += sandbox.deliver_facebook(kind, body, options)
        return await respond_with_burst(sandbox, data, events, deliveries)

    return blueprint
