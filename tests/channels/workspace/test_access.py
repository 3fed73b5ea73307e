"""Every route of the workspace refuses the unauthenticated (401) and other skills' agents (403).

The routes come from the app itself: a route added without calls in ``CALLS`` (or a reason in
``PUBLIC``) fails every test of this table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sanic import Sanic

from channels.workspace import WorkspaceInput
from tests.channels.workspace.conftest import Workbench
from tests.factories import make_routing

PREFIX = "/webhooks/workspace"
Route = tuple[str, str]  # (method, path pattern under PREFIX), as the app declares it


def app_routes() -> list[Route]:
    """Every route of the workspace, read from a Sanic app that mounts its blueprint."""
    app = Sanic(f"workspace_routes_{uuid.uuid4().hex[:8]}")

    async def on_new_message(_message: Any) -> None:
        return None

    channel = WorkspaceInput(routing=make_routing())
    app.blueprint(channel.blueprint(on_new_message), url_prefix=PREFIX)
    return sorted(
        (method, "/" + route.path.removeprefix(PREFIX.lstrip("/")).lstrip("/"))
        for route in app.router.routes
        for method in route.methods
    )


# Open to anyone, and why. Every other route must have calls in CALLS.
PUBLIC: dict[Route, str] = {
    ("GET", "/"): "the page: it holds no data",
    ("GET", "/static/<name:str>"): "the page's script and style",
    ("POST", "/api/session"): "signing in (wrong credentials: 401, tested in test_flow)",
}


@dataclass(frozen=True)
class Call:
    """One request to a route: ``{id}`` is a handoff of the care_private skill.

    ``skill_scoped``: about one skill's queue or handoff, so an agent of another skill gets 403;
    else about the agent themselves, which every agent may ask.
    """

    path: str
    body: dict[str, Any] | None = None
    skill_scoped: bool = True


HANDOFF = "/api/handoffs/<handoff_id:int>"
CALLS: dict[Route, list[Call]] = {
    ("DELETE", "/api/session"): [Call("/api/session", skill_scoped=False)],
    ("GET", "/api/me"): [Call("/api/me", skill_scoped=False)],
    ("PUT", "/api/me/status"): [Call("/api/me/status", {"status": "online"}, skill_scoped=False)],
    ("GET", "/api/queues"): [
        Call("/api/queues", skill_scoped=False),
        Call("/api/queues?skill=care_private"),
    ],
    ("GET", HANDOFF): [Call("/api/handoffs/{id}")],
    ("POST", f"{HANDOFF}/accept"): [Call("/api/handoffs/{id}/accept")],
    ("POST", f"{HANDOFF}/reply"): [Call("/api/handoffs/{id}/reply", {"text": "hello"})],
    ("POST", f"{HANDOFF}/cta"): [Call("/api/handoffs/{id}/cta", {"in_reply_to": "x"})],
    ("POST", f"{HANDOFF}/like"): [Call("/api/handoffs/{id}/like", {"object_id": "x"})],
    ("POST", f"{HANDOFF}/transfer"): [Call("/api/handoffs/{id}/transfer", {"skill": "deliveries"})],
    ("POST", f"{HANDOFF}/close"): [Call("/api/handoffs/{id}/close")],
    ("GET", "/api/events"): [
        Call("/api/events?limit=1", skill_scoped=False),
        Call("/api/events?limit=1&handoff={id}"),
    ],
}

GUARDED = [route for route in app_routes() if route not in PUBLIC]


def calls_of(route: Route) -> list[Call]:
    """The calls that test ``route``: a route the app has and this table lacks fails its test."""
    if route not in CALLS:
        pytest.fail(f"{route[0]} {route[1]} has no calls in CALLS (or a reason in PUBLIC)")
    return CALLS[route]


async def call(bench: Workbench, route: Route, made: Call, **kwargs: Any) -> Any:
    record = await bench.hand_over()
    extra = {"json": made.body} if made.body is not None else {}
    return await bench.request(route[0].lower(), made.path.format(id=record.id), **extra, **kwargs)


def route_id(route: Route) -> str:
    return f"{route[0]} {route[1]}"


def test_the_tables_name_only_routes_the_app_has() -> None:
    routes = set(app_routes())

    assert set(PUBLIC) <= routes
    assert set(CALLS) <= routes
    assert GUARDED, "no guarded route found: is the route list read right?"


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_without_credentials_every_api_route_answers_401(
    bench: Workbench, route: Route
) -> None:
    for made in calls_of(route):
        answer = await call(bench, route, made)

        assert answer.status == 401, made.path
        assert answer.json == {
            "error": "sign in first: no session cookie or 'Authorization: Bearer' token"
        }


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_with_an_unknown_token_every_api_route_answers_401(
    bench: Workbench, route: Route
) -> None:
    for made in calls_of(route):
        answer = await call(bench, route, made, headers={"Authorization": "Bearer not-a-token"})

        assert answer.status == 401, made.path
        assert "unknown or expired" in answer.json["error"]


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_an_agent_of_another_skill_gets_403_on_every_skill_call(
    bench: Workbench, route: Route
) -> None:
    for made in calls_of(route):
        answer = await call(bench, route, made, headers=bench.auth("kim"))

        if made.skill_scoped:
            assert answer.status == 403, made.path
            assert "care_private" in answer.json["error"]
            assert "kim" in answer.json["error"]
        else:  # about kim herself: no skill check
            assert answer.status not in (401, 403), (made.path, answer.json)


@pytest.mark.parametrize("route", GUARDED, ids=route_id)
async def test_an_admin_passes_the_skill_check_on_every_call(
    bench: Workbench, route: Route
) -> None:
    for made in calls_of(route):
        answer = await call(bench, route, made, headers=bench.auth("boss"))

        assert answer.status not in (401, 403), (made.path, answer.json)


async def test_an_expired_session_cookie_is_refused(bench: Workbench) -> None:
    signed_in = await bench.request(
        "post", "/api/session", json={"name": "sam", "password": "sam's password"}
    )
    bench.clock.shift(hours=13)

    answer = await bench.request(
        "get", "/api/me", cookies={"workspace_session": signed_in.json["token"]}
    )

    assert answer.status == 401


@pytest.mark.parametrize("path", ["/", "/static/workspace.js", "/static/workspace.css"])
async def test_the_page_and_its_files_are_public_and_hold_no_data(
    bench: Workbench, path: str
) -> None:
    answer = await bench.request("get", path)

    assert answer.status == 200
    assert "care_private" not in answer.text


@pytest.mark.parametrize("name", ["../channel.py", "nope.js", "index.py", "%2e%2e%2fchannel.py"])
async def test_only_the_workspace_files_are_served(bench: Workbench, name: str) -> None:
    answer = await bench.request("get", f"/static/{name}")

    assert answer.status == 404
