"""Every API route refuses the unauthenticated (401) and other skills' agents (403)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.channels.workspace.conftest import Workbench

# (method, path, body): {id} is a handoff of the care_private skill.
API_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("delete", "/api/session", None),
    ("get", "/api/me", None),
    ("put", "/api/me/status", {"status": "online"}),
    ("get", "/api/queues", None),
    ("get", "/api/handoffs/{id}", None),
    ("post", "/api/handoffs/{id}/accept", None),
    ("post", "/api/handoffs/{id}/reply", {"text": "hello"}),
    ("post", "/api/handoffs/{id}/cta", {"in_reply_to": "x"}),
    ("post", "/api/handoffs/{id}/like", {"object_id": "x"}),
    ("post", "/api/handoffs/{id}/transfer", {"skill": "deliveries"}),
    ("post", "/api/handoffs/{id}/close", None),
    ("get", "/api/events?limit=1", None),
]

# Routes about one skill's queue or handoff: another skill's agent gets 403.
SKILL_ROUTES = [
    *[route for route in API_ROUTES if "{id}" in route[1]],
    ("get", "/api/queues?skill=care_private", None),
    ("get", "/api/events?limit=1&handoff={id}", None),
]


async def call(
    bench: Workbench, route: tuple[str, str, dict[str, Any] | None], **kwargs: Any
) -> Any:
    method, path, body = route
    record = await bench.hand_over()
    extra = {"json": body} if body is not None else {}
    return await bench.request(method, path.format(id=record.id), **extra, **kwargs)


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: f"{route[0]} {route[1]}")
async def test_without_credentials_every_api_route_answers_401(
    bench: Workbench, route: tuple[str, str, dict[str, Any] | None]
) -> None:
    answer = await call(bench, route)

    assert answer.status == 401
    assert answer.json == {
        "error": "sign in first: no session cookie or 'Authorization: Bearer' token"
    }


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda route: f"{route[0]} {route[1]}")
async def test_with_an_unknown_token_every_api_route_answers_401(
    bench: Workbench, route: tuple[str, str, dict[str, Any] | None]
) -> None:
    answer = await call(bench, route, headers={"Authorization": "Bearer not-a-token"})

    assert answer.status == 401
    assert "unknown or expired" in answer.json["error"]


@pytest.mark.parametrize("route", SKILL_ROUTES, ids=lambda route: f"{route[0]} {route[1]}")
async def test_an_agent_of_another_skill_gets_403_on_every_skill_route(
    bench: Workbench, route: tuple[str, str, dict[str, Any] | None]
) -> None:
    answer = await call(bench, route, headers=bench.auth("kim"))

    assert answer.status == 403
    assert "care_private" in answer.json["error"]
    assert "kim" in answer.json["error"]


@pytest.mark.parametrize("route", SKILL_ROUTES, ids=lambda route: f"{route[0]} {route[1]}")
async def test_an_admin_passes_the_skill_check_on_every_skill_route(
    bench: Workbench, route: tuple[str, str, dict[str, Any] | None]
) -> None:
    answer = await call(bench, route, headers=bench.auth("boss"))

    assert answer.status not in (401, 403), answer.json if answer.status != 200 else ""


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
