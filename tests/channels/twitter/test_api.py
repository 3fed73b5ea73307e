"""``XClient``: X's calls as it makes them, and every answer X gives mapped to one of our errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.errors import (
    AuthenticationFailed,
    DuplicateContent,
    InvalidRequest,
    PermanentPlatformError,
    PlatformError,
    RateLimited,
    RecipientUnavailable,
    TransientPlatformError,
)
from channels.platform_client import CallRetry
from channels.twitter.api import DEFAULT_RETRY_AFTER, XClient
from tests.channels.twitter.fake_x import FakeX

NOW = 1_767_226_200.0


def client(fake: FakeX, waits: list[float] | None = None) -> XClient:
    async def sleep(seconds: float) -> None:
        if waits is not None:
            waits.append(seconds)

    return XClient(
        "https://api.x.test/",
        transport=fake.transport,
        clock=lambda: NOW,
        sleep=sleep,
        retry=CallRetry(attempts=3, first_delay=0.5),
    )


def answer(status: int, body: Any = None, **headers: str) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def problem(status: int, detail: str, title: str = "Forbidden", **more: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": "about:blank", "status": status, **more}


DMS_CLOSED = "You cannot send messages to this user."
NOT_SUMMONED = (
    "Reply to this conversation is not allowed because you have not been mentioned or "
    "otherwise engaged by the author of the post you are replying to."
)

# (answer, error type, code, message)
ERRORS: list[tuple[str, httpx.Response, type[PlatformError] | None, int | None, str]] = [
    ("201", answer(201, {"data": {"id": "1"}}), None, None, ""),
    ("200", answer(200, {"data": {}}), None, None, ""),
    (
        "429 with reset",
        answer(
            429, problem(429, "Too Many Requests"), **{"x-rate-limit-reset": str(int(NOW) + 42)}
        ),
        RateLimited,
        None,
        "Too Many Requests",
    ),
    ("429 without reset", answer(429), RateLimited, None, "HTTP 429"),
    ("500", answer(500, "<html>oops</html>"), TransientPlatformError, None, "HTTP 500"),
    (
        "503 problem",
        answer(503, problem(503, "Service Unavailable", "Service Unavailable")),
        TransientPlatformError,
        None,
        "Service Unavailable",
    ),
    ("408", answer(408), TransientPlatformError, None, "HTTP 408"),
    (
        "401",
        answer(401, problem(401, "Unauthorized", "Unauthorized")),
        AuthenticationFailed,
        None,
        "Unauthorized",
    ),
    (
        "403 code 349",
        answer(403, {"errors": [{"code": 349, "message": DMS_CLOSED}]}),
        RecipientUnavailable,
        349,
        DMS_CLOSED,
    ),
    (
        "403 dms closed v2",
        answer(403, problem(403, DMS_CLOSED)),
        RecipientUnavailable,
        None,
        DMS_CLOSED,
    ),
    (
        "403 code 187",
        answer(403, {"errors": [{"code": 187, "message": "Status is a duplicate."}]}),
        DuplicateContent,
        187,
        "Status is a duplicate.",
    ),
    (
        "403 duplicate v2 with code",
        answer(
            403,
            problem(
                403,
                "You are not allowed to create a Tweet with duplicate content.",
                errors=[{"code": 187, "message": "Status is a duplicate."}],
            ),
        ),
        DuplicateContent,
        187,
        "You are not allowed to create a Tweet with duplicate content. (Status is a duplicate.)",
    ),
    (
        "403 duplicate v2",
        answer(403, problem(403, "You are not allowed to create a Tweet with duplicate content.")),
        DuplicateContent,
        None,
        "You are not allowed to create a Tweet with duplicate content.",
    ),
    (
        "403 not summoned",
        answer(403, problem(403, NOT_SUMMONED)),
        PermanentPlatformError,
        None,
        NOT_SUMMONED,
    ),
    (
        "403 other",
        answer(403, problem(403, "You are not permitted to perform this action.")),
        InvalidRequest,
        None,
        "You are not permitted to perform this action.",
    ),
    (
        "400 invalid request",
        answer(
            400,
            {
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
                "errors": [{"message": "$.text: must be at most 280 characters", "parameters": {}}],
            },
        ),
        InvalidRequest,
        None,
        "One or more parameters to your request was invalid. "
        "($.text: must be at most 280 characters)",
    ),
    (
        "400 errors only",
        answer(400, {"errors": [{"message": "text: required"}]}),
        InvalidRequest,
        None,
        "text: required",
    ),
    ("404", answer(404, problem(404, "Not Found", "Not Found")), InvalidRequest, None, "Not Found"),
    ("302", answer(302, None, location="https://x.com"), InvalidRequest, None, "HTTP 302"),
]


@pytest.mark.parametrize(
    ("response", "error_type", "code", "message"),
    [row[1:] for row in ERRORS],
    ids=[row[0] for row in ERRORS],
)
def test_every_x_answer_maps_to_one_error(
    response: httpx.Response,
    error_type: type[PlatformError] | None,
    code: int | None,
    message: str,
) -> None:
    error = client(FakeX()).error_for(response)

    if error_type is None:
        assert error is None
        return
    assert type(error) is error_type
    assert (error.platform, error.status, error.code, str(error)) == (
        "twitter",
        response.status_code,
        code,
        message,
    )


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [
        ({"x-rate-limit-reset": str(int(NOW) + 42)}, 42.0),
        ({"x-rate-limit-reset": str(int(NOW) - 5)}, 0.0),
        ({"x-rate-limit-reset": "soon"}, DEFAULT_RETRY_AFTER),
        ({}, DEFAULT_RETRY_AFTER),
    ],
)
def test_a_rate_limit_waits_until_the_reset_time(
    headers: dict[str, str], retry_after: float
) -> None:
    error = client(FakeX()).error_for(answer(429, **headers))

    assert isinstance(error, RateLimited)
    assert error.retry_after == retry_after


async def test_a_reply_tweet_is_posted_as_the_account_under_the_tweet() -> None:
    fake = FakeX()

    new_id = await client(fake).create_tweet("token-1", "@pat_example hi", in_reply_to="42")

    assert new_id == "1875000000000000001"
    [call] = fake.calls
    assert (call.method, call.path, call.authorization) == ("POST", "/2/tweets", "Bearer token-1")
    assert call.body == {"text": "@pat_example hi", "reply": {"in_reply_to_tweet_id": "42"}}


async def test_a_dm_is_sent_to_the_participant() -> None:
    fake = FakeX()

    dm_id = await client(fake).send_dm("token-1", "1205290247124217856", "Hello")

    assert dm_id == "1875000000000000001"
    [call] = fake.calls
    assert call.path == "/2/dm_conversations/with/1205290247124217856/messages"
    assert (call.authorization, call.body) == ("Bearer token-1", {"text": "Hello"})


async def test_a_rate_limited_call_waits_for_the_reset_and_retries() -> None:
    fake = FakeX()
    fake.fail_next(
        429, problem(429, "Too Many Requests"), **{"x-rate-limit-reset": str(int(NOW) + 7)}
    )
    fake.fail_next(503, problem(503, "Service Unavailable"))
    waits: list[float] = []

    dm_id = await client(fake, waits).send_dm("t", "1", "Hello")

    assert dm_id is not None
    assert waits == [7.0, 1.0]
    assert len(fake.calls) == 3


async def test_a_closed_dm_is_not_retried() -> None:
    fake = FakeX()
    fake.fail_next(403, {"errors": [{"code": 349, "message": DMS_CLOSED}]})

    with pytest.raises(RecipientUnavailable):
        await client(fake).send_dm("t", "1", "Hello")

    assert len(fake.calls) == 1


async def test_an_unreadable_success_body_costs_only_the_id() -> None:
    x = XClient("https://api.x.test", transport=httpx.MockTransport(lambda _r: answer(201, "ok")))

    assert await x.create_tweet("t", "hi", in_reply_to="1") is None
