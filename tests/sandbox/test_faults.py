"""Injected latency and errors hit the chosen endpoint, in each platform's shape, and expire."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from sandbox.client import SandboxError
from sandbox.testing import TEST_SECRETS, RunningSandbox
from tests.sandbox.expected import JANE_PSID, PAT_ID

GRAPH_TOKEN = {"access_token": TEST_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]}
X_HEADERS = {"Authorization": f"Bearer {TEST_SECRETS['X_ACCESS_TOKEN']}"}


def facebook_send(sandbox: RunningSandbox, timeout: float = 10) -> httpx.Response:
    body = {"recipient": {"id": JANE_PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}
    url = f"{sandbox.graph_url()}/me/messages"
    return httpx.post(url, params=GRAPH_TOKEN, json=body, timeout=timeout)


def x_dm(sandbox: RunningSandbox) -> httpx.Response:
    url = f"{sandbox.x_api_url}/2/dm_conversations/with/{PAT_ID}/messages"
    return httpx.post(url, headers=X_HEADERS, json={"text": "hi"}, timeout=10)


@pytest.fixture
def jane_wrote(sandbox: RunningSandbox) -> RunningSandbox:
    sandbox.client.messenger("jane", "hi")
    return sandbox


def test_a_delay_slows_the_chosen_endpoint_only(jane_wrote: RunningSandbox) -> None:
    jane_wrote.client.inject("facebook.messages", delay_ms=400)

    started = time.monotonic()
    delayed = facebook_send(jane_wrote)
    delayed_s = time.monotonic() - started
    other = x_dm(jane_wrote)

    assert delayed.status_code == 200
    assert delayed_s >= 0.4
    assert other.status_code == 201
    assert [fault.endpoint for fault in jane_wrote.client.faults()] == ["facebook.messages"]


def _graph_error(code: int, subcode: int | None = None, status: int = 400) -> Any:
    def check(response: httpx.Response) -> None:
        assert response.status_code == status
        error = response.json()["error"]
        assert (error["code"], error.get("error_subcode")) == (code, subcode)
        assert error["type"] == "OAuthException"
        assert error["fbtrace_id"]

    return check


def _graph_rate_limited(code: int) -> Any:
    def check(response: httpx.Response) -> None:
        _graph_error(code)(response)
        usage = json.loads(response.headers["x-business-use-case-usage"])
        [[page_usage]] = usage.values()
        assert page_usage["estimated_time_to_regain_access"] >= 1
        assert json.loads(response.headers["x-app-usage"])["call_count"] == 100

    return check


def _x_problem(status: int, code: int | None = None) -> Any:
    def check(response: httpx.Response) -> None:
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == status
        if code is not None:
            assert body["errors"][0]["code"] == code

    return check


def _x_rate_limited(response: httpx.Response) -> None:
    _x_problem(429)(response)
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert int(response.headers["x-rate-limit-limit"]) > 0
    assert abs(int(response.headers["x-rate-limit-reset"]) - (time.time() + 2)) <= 2


@pytest.mark.parametrize(
    ("endpoint", "error", "check"),
    [
        ("facebook.messages", "http_500", _graph_error(1, status=500)),
        ("facebook.messages", "http_503", _graph_error(2, status=503)),
        ("facebook.messages", "fb_rate_limit_613", _graph_rate_limited(613)),
        ("facebook.messages", "fb_rate_limit_4", _graph_rate_limited(4)),
        ("facebook.messages", "fb_rate_limit_17", _graph_rate_limited(17)),
        ("facebook.messages", "fb_rate_limit_32", _graph_rate_limited(32)),
        ("facebook.messages", "fb_window_2018278", _graph_error(10, 2018278)),
        ("facebook.messages", "fb_unavailable_551", _graph_error(551, 1545041)),
        ("facebook.messages", "fb_token_190", _graph_error(190, 463)),
        ("x.dm", "http_500", _x_problem(500)),
        ("x.dm", "http_503", _x_problem(503)),
        ("x.dm", "x_rate_limit_429", _x_rate_limited),
        ("x.dm", "x_dms_closed_349", _x_problem(403, 349)),
    ],
)
def test_each_injected_error_has_the_platforms_shape(
    jane_wrote: RunningSandbox, endpoint: str, error: str, check: Any
) -> None:
    jane_wrote.client.inject(endpoint, error, reset_after_s=2)
    response = facebook_send(jane_wrote) if endpoint.startswith("facebook") else x_dm(jane_wrote)

    check(response)
    [call] = jane_wrote.client.calls(endpoint=endpoint)
    assert call.status == response.status_code


def test_a_counted_fault_expires_and_the_endpoint_recovers(jane_wrote: RunningSandbox) -> None:
    jane_wrote.client.inject("facebook.messages", "http_503", count=2)

    statuses = [facebook_send(jane_wrote).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    [fault] = jane_wrote.client.faults()
    assert fault.count == 0


def test_a_fault_until_cleared_stays_until_cleared(jane_wrote: RunningSandbox) -> None:
    jane_wrote.client.inject("*", "http_500")
    before = [facebook_send(jane_wrote).status_code, x_dm(jane_wrote).status_code]
    jane_wrote.client.clear_faults()

    assert before == [500, 500]
    assert facebook_send(jane_wrote).status_code == 200


def test_a_platform_error_on_all_endpoints_stays_on_its_platform(
    jane_wrote: RunningSandbox,
) -> None:
    jane_wrote.client.inject("*", "fb_rate_limit_613")

    assert facebook_send(jane_wrote).status_code == 400
    assert x_dm(jane_wrote).status_code == 201


def test_a_timeout_holds_the_request_past_the_callers_patience(jane_wrote: RunningSandbox) -> None:
    jane_wrote.client.inject("facebook.messages", "timeout", hang_s=1.0, count=1)

    with pytest.raises(httpx.ReadTimeout):
        facebook_send(jane_wrote, timeout=0.3)


@pytest.mark.parametrize(
    "fault",
    [
        {"endpoint": "x.tweets", "error": "fb_window_2018278"},
        {"endpoint": "facebook.messages", "error": "x_rate_limit_429"},
        {"endpoint": "facebook.nothing"},
        {"endpoint": "*", "error": "http_418"},
        {"endpoint": "*", "error": "http_500", "count": 0},
    ],
)
def test_a_fault_that_cannot_happen_is_refused(
    sandbox: RunningSandbox, fault: dict[str, Any]
) -> None:
    with pytest.raises(SandboxError) as refused:
        sandbox.client.inject(**fault)

    assert refused.value.status == 400
