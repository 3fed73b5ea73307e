"""Bad requests get 400 with what is wrong; every error has its HTTP status."""

from __future__ import annotations

from typing import Any

import pytest

from bot import errors
from channels.workspace.channel import STATUS, status_of
from tests.channels.workspace.conftest import PRIVATE, Workbench


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("reply", {"text": "   "}, "text: ensure this value has at least 1 characters"),
        ("reply", {}, "text: field required"),
        ("reply", {"text": "x" * 5001}, "text: ensure this value has at most 5000 characters"),
        (
            "reply",
            {"text": "hi", "visibility": "public"},
            "in_reply_to: a public reply needs the id of the message it answers",
        ),
        ("reply", {"text": "hi", "visibility": "shouting"}, "visibility: unexpected value"),
        (
            "reply",
            {"text": "hi", "mention": True},
            "in_reply_to and mention are for public replies",
        ),
        ("reply", {"text": "hi", "in_reply_too": "x"}, "in_reply_too: unknown field"),
        ("reply", [1, 2], "body: expected a JSON object, got list"),
        (
            "reply",
            b"{not json",
            "body: not JSON (Expecting property name enclosed in double quotes",
        ),
        ("reply", None, "body: expected a JSON object"),
        (
            "transfer",
            {"skill": "sales"},
            "skill: unknown skill 'sales': expected one of care_private",
        ),
        ("like", {"object_id": ""}, "object_id: ensure this value has at least 1 characters"),
        (
            "cta",
            {"in_reply_to": "not-in-this-conversation"},
            "in_reply_to: 'not-in-this-conversation' is not a public message of this conversation",
        ),
        ("close", {"closing_question": "perhaps"}, "closing_question: value could not be parsed"),
    ],
)
async def test_bad_bodies_answer_400_saying_what_is_wrong(
    bench: Workbench, action: str, body: Any, message: str
) -> None:
    await bench.consumer_says(PRIVATE, "hello?", "greet")
    record = await bench.hand_over()
    await bench.request("post", f"/api/handoffs/{record.id}/accept", "sam")
    payload = (
        {"content": body} if isinstance(body, bytes) else ({} if body is None else {"json": body})
    )

    answer = await bench.request("post", f"/api/handoffs/{record.id}/{action}", "sam", **payload)

    assert answer.status == 400
    assert message in answer.json["error"]
    assert "Traceback" not in answer.text
    assert bench.delivery.calls == []


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("put", "/api/me/status", {"status": "away"}, "status: unexpected value"),
        ("get", "/api/queues?skill=sales", None, "skill: unknown skill 'sales'"),
        ("get", "/api/events?handoff=first", None, "handoff: expected a whole number, got 'first'"),
        ("post", "/api/session", {"name": "sam"}, "password: field required"),
    ],
)
async def test_bad_queries_and_bodies_elsewhere_answer_400(
    bench: Workbench, method: str, path: str, body: Any, message: str
) -> None:
    answer = await bench.request(method, path, "sam", **({"json": body} if body else {}))

    assert answer.status == 400
    assert message in answer.json["error"]


async def test_an_unknown_handoff_is_404(bench: Workbench) -> None:
    answer = await bench.request("get", "/api/handoffs/999", "sam")

    assert answer.status == 404
    assert answer.json == {"error": "no handoff with id 999"}


def _every_error_class(root: type[Exception]) -> list[type[Exception]]:
    found = []
    for sub in root.__subclasses__():
        found += [sub, *_every_error_class(sub)]
    return found


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.NotAuthenticated("x"), 401),
        (errors.AccessDenied("x"), 403),
        (errors.InvalidInput("x", field="f"), 400),
        (errors.HandoffNotFound("x"), 404),
        (errors.HandoffConflict("x", holder="sam"), 409),
        (errors.OutsideMessagingWindow("x", platform="facebook"), 422),
        (errors.DeliveryUnsupported("x", platform="rest"), 422),
        (errors.RecipientUnavailable("x", platform="twitter"), 422),
        (errors.MessageTooLong("x", length=300, limit=280, origin="agent", target="public"), 422),
        (errors.OutboundRefused("x", origin="agent", target="public"), 422),
        (errors.RateLimited("x", platform="twitter", retry_after=3.0), 502),
        (errors.TransientPlatformError("x", platform="facebook"), 502),
        (errors.StoreError("x"), 503),
        (errors.ConfigurationError("x"), 500),
    ],
)
def test_status_of_each_error(error: errors.SocialCareError, status: int) -> None:
    assert status_of(error) == status


def test_the_status_table_covers_the_handoff_and_access_errors() -> None:
    mapped = {kind for kind, _ in STATUS}
    for kind in _every_error_class(errors.HandoffError) + _every_error_class(errors.AccessDenied):
        assert any(issubclass(kind, each) for each in mapped), kind
