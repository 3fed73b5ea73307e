from __future__ import annotations

import json

import httpx
import pytest

from bot.errors import (
    AuthenticationFailed,
    InvalidRequest,
    OutsideMessagingWindow,
    PlatformError,
    RateLimited,
    RecipientUnavailable,
    ThreadOwnedElsewhere,
    TransientPlatformError,
)
from channels.facebook.graph import (
    DEFAULT_RATE_LIMIT_WAIT,
    GRAPH_ERRORS,
    GraphClient,
    Profile,
    SendResult,
    rate_limit_wait,
)
from channels.platform_client import CallRetry
from tests.channels.facebook.factories import PAGE_TOKEN, PSID
from tests.channels.facebook.fake_graph import FakeGraph, graph_error
from tests.factories import PAGE_ID

BUC_10_MINUTES = json.dumps(
    {PAGE_ID: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 10}]}
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(graph: FakeGraph, *, clock: Clock | None = None, attempts: int = 1) -> GraphClient:
    async def no_wait(_seconds: float) -> None:
        return None

    return GraphClient(
        "http://graph.test/",
        "v19.0",
        transport=graph.transport,
        retry=CallRetry(attempts=attempts),
        sleep=no_wait,
        clock=clock or Clock(),
    )


# (HTTP status, code, subcode, headers) → (error class, retry_after if rate limited)
ERROR_TABLE = [
    pytest.param(500, 1, None, {}, TransientPlatformError, None, id="1 unknown"),
    pytest.param(503, 2, None, {}, TransientPlatformError, None, id="2 service"),
    pytest.param(400, 4, None, {}, RateLimited, DEFAULT_RATE_LIMIT_WAIT, id="4 app limit"),
    pytest.param(
        400,
        17,
        None,
        {"x-app-usage": json.dumps({"call_count": 100, "estimated_time_to_regain_access": 2})},
        RateLimited,
        120.0,
        id="17 user limit, x-app-usage",
    ),
    pytest.param(
        400,
        32,
        None,
        {"x-business-use-case-usage": BUC_10_MINUTES},
        RateLimited,
        600.0,
        id="32 page limit, BUC header",
    ),
    pytest.param(400, 613, None, {}, RateLimited, DEFAULT_RATE_LIMIT_WAIT, id="613 custom"),
    pytest.param(400, 10, 2018278, {}, OutsideMessagingWindow, None, id="10/2018278 window"),
    pytest.param(400, 10, 2018300, {}, ThreadOwnedElsewhere, None, id="10/2018300 owner"),
    pytest.param(400, 551, 1545041, {}, RecipientUnavailable, None, id="551 unavailable"),
    pytest.param(400, 190, 463, {}, AuthenticationFailed, None, id="190 token"),
    pytest.param(400, 100, None, {}, InvalidRequest, None, id="100 parameter"),
    pytest.param(403, 10, None, {}, InvalidRequest, None, id="10 other: permission"),
    pytest.param(403, 200, None, {}, InvalidRequest, None, id="other code"),
    pytest.param(502, None, None, {}, TransientPlatformError, None, id="5xx without body"),
    pytest.param(429, None, None, {}, RateLimited, DEFAULT_RATE_LIMIT_WAIT, id="429"),
    pytest.param(401, None, None, {}, AuthenticationFailed, None, id="401"),
    pytest.param(404, None, None, {}, InvalidRequest, None, id="other 4xx"),
]


def answer(
    status: int, code: int | None, subcode: int | None, headers: dict[str, str]
) -> httpx.Response:
    if code is None:
        return httpx.Response(status, text="<html>Bad Gateway</html>", headers=headers)
    return graph_error(code, subcode, status=status, headers=headers)


@pytest.mark.parametrize(
    ("status", "code", "subcode", "headers", "expected", "retry_after"), ERROR_TABLE
)
async def test_every_graph_error_maps_to_its_typed_exception(
    status: int,
    code: int | None,
    subcode: int | None,
    headers: dict[str, str],
    expected: type[PlatformError],
    retry_after: float | None,
) -> None:
    graph = FakeGraph()
    graph.fail_next("/messages", answer(status, code, subcode, headers))

    with pytest.raises(PlatformError) as caught:
        await client(graph).send(PAGE_ID, PAGE_TOKEN, {"recipient": {"id": PSID}}, kind="message")

    assert type(caught.value) is expected
    assert (caught.value.platform, caught.value.status, caught.value.code) == (
        "facebook",
        status,
        code,
    )
    assert caught.value.subcode == subcode
    if retry_after is not None:
        assert isinstance(caught.value, RateLimited)
        assert caught.value.retry_after == retry_after


def test_the_error_table_test_covers_every_row_of_the_map() -> None:
    tested = {(p.values[1], p.values[2], p.values[4]) for p in ERROR_TABLE}

    for code, subcode, error_class in GRAPH_ERRORS:
        assert any(
            c == code and (subcode is None or s == subcode) and e is error_class
            for c, s, e in tested
        ), (code, subcode)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, DEFAULT_RATE_LIMIT_WAIT),
        ({"x-business-use-case-usage": BUC_10_MINUTES}, 600.0),
        ({"x-business-use-case-usage": "not json"}, DEFAULT_RATE_LIMIT_WAIT),
        (
            {
                "x-app-usage": json.dumps({"estimated_time_to_regain_access": 1}),
                "x-business-use-case-usage": BUC_10_MINUTES,
            },
            600.0,
        ),
        ({"x-app-usage": json.dumps({"call_count": 90})}, DEFAULT_RATE_LIMIT_WAIT),
        (
            {
                "x-business-use-case-usage": json.dumps(
                    {"1": [{"estimated_time_to_regain_access": 0}]}
                )
            },
            DEFAULT_RATE_LIMIT_WAIT,
        ),
    ],
)
def test_the_rate_limit_wait_comes_from_the_usage_headers_in_minutes(
    headers: dict[str, str], seconds: float
) -> None:
    assert rate_limit_wait(httpx.Headers(headers)) == seconds


async def test_a_transient_error_is_retried_and_then_succeeds() -> None:
    graph = FakeGraph()
    graph.fail_next("/messages", graph_error(2, status=503))

    result = await client(graph, attempts=3).send(
        PAGE_ID, PAGE_TOKEN, {"recipient": {"id": PSID}, "message": {"text": "hi"}}, kind="message"
    )

    assert isinstance(result, SendResult)
    assert len(graph.of("/messages")) == 2


async def test_a_permanent_error_is_not_retried() -> None:
    graph = FakeGraph()
    graph.fail_next("/messages", graph_error(10, 2018278))

    with pytest.raises(OutsideMessagingWindow):
        await client(graph, attempts=3).send(PAGE_ID, PAGE_TOKEN, {}, kind="message")

    assert len(graph.of("/messages")) == 1


async def test_send_posts_to_the_page_with_its_token_and_returns_the_ids() -> None:
    graph = FakeGraph()
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi"}}

    result = await client(graph).send(PAGE_ID, PAGE_TOKEN, body, kind="message")

    [call] = graph.calls
    assert (call.method, call.path, call.params, call.body) == (
        "POST",
        f"/{PAGE_ID}/messages",
        {"access_token": PAGE_TOKEN},
        body,
    )
    assert result == SendResult(recipient_id=PSID, message_id="m_sent1")


async def test_comment_and_like_act_on_the_object_as_the_page() -> None:
    graph = FakeGraph()
    graph_client = client(graph)

    comment_id = await graph_client.comment("123_456", PAGE_TOKEN, "We're on it!")
    await graph_client.like("123_456", PAGE_TOKEN)

    reply, like = graph.calls
    assert (reply.path, reply.body, reply.params) == (
        "/123_456/comments",
        {"message": "We're on it!"},
        {"access_token": PAGE_TOKEN},
    )
    assert comment_id == "123_456_reply1"
    assert (like.method, like.path, like.params) == (
        "POST",
        "/123_456/likes",
        {"access_token": PAGE_TOKEN},
    )


async def test_a_profile_is_fetched_once_and_cached_until_it_expires() -> None:
    graph = FakeGraph()
    clock = Clock()
    graph_client = client(graph, clock=clock)

    first = await graph_client.profile(PAGE_ID, PAGE_TOKEN, PSID)
    second = await graph_client.profile(PAGE_ID, PAGE_TOKEN, PSID)
    clock.now += 3601
    await graph_client.profile(PAGE_ID, PAGE_TOKEN, PSID)

    assert first == second == Profile("Jane", "Doe", "https://cdn.test/j")
    assert first is not None
    assert first.name == "Jane Doe"
    assert len(graph.calls) == 2
    assert graph.calls[0].params == {
        "fields": "first_name,last_name,profile_pic",
        "access_token": PAGE_TOKEN,
    }


@pytest.mark.parametrize(
    "failure", [graph_error(100, 2018218), graph_error(2018218)], ids=["subcode", "code"]
)
async def test_no_profile_available_is_no_profile_not_an_error(failure: httpx.Response) -> None:
    graph = FakeGraph()
    graph.fail_next(f"/{PSID}", failure)
    graph_client = client(graph)

    assert await graph_client.profile(PAGE_ID, PAGE_TOKEN, PSID) is None
    assert await graph_client.profile(PAGE_ID, PAGE_TOKEN, PSID) is None  # cached too
    assert len(graph.calls) == 1


async def test_missing_profile_fields_are_none() -> None:
    graph = FakeGraph()
    graph.fail_next(f"/{PSID}", httpx.Response(200, json={"first_name": "Jane", "id": PSID}))

    profile = await client(graph).profile(PAGE_ID, PAGE_TOKEN, PSID)

    assert profile == Profile(first_name="Jane")
    assert profile.name == "Jane"  # type: ignore[union-attr]


async def test_other_profile_errors_are_raised() -> None:
    graph = FakeGraph()
    graph.fail_next(f"/{PSID}", graph_error(190))

    with pytest.raises(AuthenticationFailed):
        await client(graph).profile(PAGE_ID, PAGE_TOKEN, PSID)
