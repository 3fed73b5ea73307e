"""The control API under ``/sandbox/api``: health, recorded calls, faults, clock, reset,
deliveries, webhook handshakes, personas and the UI's state.
"""

from __future__ import annotations

import html
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, raw
from sanic.response import json as json_response

from sandbox.control_http import ControlError, control, json_body, required_text
from sandbox.core import Sandbox
from sandbox.records import FACEBOOK_ENDPOINTS, FAULT_ERRORS, X_ENDPOINTS
from sandbox.ui_state import ui_state
from sandbox.world import BRAND_X_ID, PAGE_ID, FacebookPersona, UnknownPersona, XUser

__all__ = ["control_blueprint", "fault_fields", "new_persona"]


def _number(data: dict[str, Any], name: str, default: float, minimum: float = 0) -> float:
    value = data.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ControlError(f"{name}: expected a number >= {minimum:g}")
    return float(value)


def fault_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The validated fields of ``POST /sandbox/api/faults``.

    Raises:
        ControlError: naming the field that is wrong.
    """
    endpoint = data.get("endpoint", "*")
    endpoints = ("*", *FACEBOOK_ENDPOINTS, *X_ENDPOINTS)
    if endpoint not in endpoints:
        raise ControlError(f"endpoint: expected one of {', '.join(endpoints)}")
    error = data.get("error")
    if error is not None and error not in FAULT_ERRORS:
        raise ControlError(f"error: expected null or one of {', '.join(FAULT_ERRORS)}")
    platform = FAULT_ERRORS.get(error or "")
    if platform is not None and endpoint != "*" and not endpoint.startswith(platform + "."):
        raise ControlError(f"error: {error} is a {platform} error, not for {endpoint}")
    count = data.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ControlError("count: expected null (until cleared) or a whole number >= 1")
    return {
        "endpoint": endpoint,
        "delay_ms": int(_number(data, "delay_ms", 0)),
        "error": error,
        "count": count,
        "reset_after_s": _number(data, "reset_after_s", 60),
        "hang_s": _number(data, "hang_s", 30),
    }


def new_persona(sandbox: Sandbox, data: dict[str, Any]) -> FacebookPersona | XUser:
    """Adds a consumer from ``POST /sandbox/api/personas`` (ids made up when not given)."""
    world = sandbox.world
    platform, name = data.get("platform"), required_text(data, "name")
    key = str(data.get("key") or name.split(" ", 1)[0].lower())
    if platform == "facebook":
        if key in world.facebook_personas:
            raise ControlError(f"key: a Facebook persona {key!r} exists already", status=409)
        persona = FacebookPersona(
            key=key,
            name=name,
            asid=str(data.get("asid") or sandbox.ids.facebook_comment()),
            psid=str(data.get("psid") or sandbox.ids.facebook_comment()),
            restricted=bool(data.get("restricted", False)),
            blocked_page=bool(data.get("blocked_page", False)),
        )
        world.facebook_personas[key] = persona
        world.touch()
        return persona
    if platform == "x":
        handle = str(data.get("handle") or key)
        try:
            world.x_user(handle)
        except UnknownPersona:
            pass
        else:
            raise ControlError(f"handle: an X user @{handle} exists already", status=409)
        user = XUser(
            key=key,
            id=str(data.get("id") or sandbox.ids.snowflake()),
            name=name,
            handle=handle,
            dms_closed=bool(data.get("dms_closed", False)),
        )
        world.x_users[key] = user
        world.touch()
        return user
    raise ControlError("platform: expected facebook or x")


def _avatar(name: str) -> bytes:
    initials = "".join(part[0] for part in name.split()[:2]).upper() or "?"
    hue = sum(map(ord, name)) % 360
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<circle cx="32" cy="32" r="32" fill="hsl({hue},55%,45%)"/>'
        '<text x="32" y="41" font-family="sans-serif" font-size="26" fill="#fff" '
        f'text-anchor="middle">{html.escape(initials)}</text></svg>'
    )
    return svg.encode("utf-8")


def control_blueprint(sandbox: Sandbox) -> Blueprint:
    """The control routes."""
    api = Blueprint("control", url_prefix="/sandbox")

    @api.get("/api/health")
    async def health(_request: Request) -> HTTPResponse:
        webhooks = {name: status.state for name, status in sandbox.handshakes.status.items()}
        return json_response(
            {"status": "ok", "page_id": PAGE_ID, "x_account_id": BRAND_X_ID, "webhooks": webhooks}
        )

    @api.get("/api/calls")
    @control
    async def calls(request: Request) -> HTTPResponse:
        platform, endpoint = request.args.get("platform"), request.args.get("endpoint")
        since = int(request.args.get("since", "0"))
        return json_response(
            [
                call.as_json()
                for call in sandbox.calls
                if call.seq > since
                and platform in (None, call.platform)
                and endpoint in (None, call.endpoint)
            ]
        )

    @api.delete("/api/calls")
    async def clear_calls(_request: Request) -> HTTPResponse:
        sandbox.calls.clear()
        return json_response({"cleared": True})

    @api.post("/api/faults")
    @control
    async def add_fault(request: Request) -> HTTPResponse:
        fault = sandbox.add_fault(**fault_fields(json_body(request)))
        return json_response(fault.as_json(), status=201)

    @api.get("/api/faults")
    async def faults(_request: Request) -> HTTPResponse:
        return json_response([fault.as_json() for fault in sandbox.faults])

    @api.delete("/api/faults")
    async def clear_faults(_request: Request) -> HTTPResponse:
        sandbox.faults.clear()
        return json_response({"cleared": True})

    @api.route("/api/clock", methods=["GET", "POST"])
    @control
    async def clock(request: Request) -> HTTPResponse:
        if request.method == "POST":
            sandbox.clock.advance(_number(json_body(request), "advance_seconds", 0, minimum=-1e12))
            sandbox.world.touch()
        return json_response({"now": sandbox.clock.now(), "offset_s": sandbox.clock.offset})

    @api.post("/api/reset")
    async def reset(_request: Request) -> HTTPResponse:
        sandbox.reset()
        return json_response({"reset": True})

    @api.get("/api/deliveries")
    @control
    async def deliveries(request: Request) -> HTTPResponse:
        platform, kind = request.args.get("platform"), request.args.get("kind")
        since = int(request.args.get("since", "0"))
        return json_response(
            [
                delivery.as_json()
                for delivery in sandbox.deliverer.deliveries.values()
                if delivery.seq > since
                and platform in (None, delivery.platform)
                and kind in (None, delivery.kind)
            ]
        )

    @api.get("/api/deliveries/<delivery_id>")
    @control
    async def delivery(_request: Request, delivery_id: str) -> HTTPResponse:
        found = sandbox.deliverer.deliveries.get(delivery_id)
        if found is None:
            raise ControlError(f"no delivery {delivery_id}", status=404)
        return json_response(found.as_json())

    @api.get("/api/webhooks")
    async def webhooks(_request: Request) -> HTTPResponse:
        return json_response({name: s.as_json() for name, s in sandbox.handshakes.status.items()})

    @api.post("/api/webhooks/check")
    async def check_webhooks(_request: Request) -> HTTPResponse:
        sandbox.handshakes.start()
        return json_response(
            {name: s.as_json() for name, s in sandbox.handshakes.status.items()}, status=202
        )

    @api.post("/api/personas")
    @control
    async def personas(request: Request) -> HTTPResponse:
        persona = new_persona(sandbox, json_body(request))
        fields = vars(persona)
        return json_response(
            {"platform": "facebook" if isinstance(persona, FacebookPersona) else "x", **fields},
            status=201,
        )

    @api.get("/api/state")
    async def state(_request: Request) -> HTTPResponse:
        return json_response(ui_state(sandbox))

    @api.get("/avatars/<filename>")
    async def avatar(_request: Request, filename: str) -> HTTPResponse:
        person_id = filename.removesuffix(".svg")
        world = sandbox.world
        names = [p.name for p in world.facebook_personas.values() if person_id in (p.psid, p.asid)]
        names += [u.name for u in world.x_users.values() if u.id == person_id]
        return raw(_avatar(names[0] if names else "?"), content_type="image/svg+xml")

    return api
