"""The X API answers and fails as X documents: replies, length, duplicates, summoning, DMs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.testing import TEST_SECRETS, RunningSandbox
from tests.sandbox.expected import BRAND_X_ID, LINEN_TWEET, PAT_ID

HEADERS = {"Authorization": f"Bearer {TEST_SECRETS['X_ACCESS_TOKEN']}"}
ROBIN_ID = "1205290247124217999"
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
NOT_SUMMONED = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise "
    "engaged by the author of the post you are replying to."
)


def post_tweet(
    sandbox: RunningSandbox, body: dict[str, Any], headers: dict[str, str] = HEADERS
) -> httpx.Response:
    return httpx.post(f"{sandbox.x_api_url}/2/tweets", headers=headers, json=body)


def send_dm(sandbox: RunningSandbox, participant: str, text: str) -> httpx.Response:
    url = f"{sandbox.x_api_url}/2/dm_conversations/with/{participant}/messages"
    return httpx.post(url, headers=HEADERS, json={"text": text})


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= {"title", "detail", "type", "status"}
    assert body["status"] == response.status_code
    return body


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}], ids=["missing", "wrong"]
)
def test_a_missing_or_wrong_token_is_401_problem(
    sandbox: RunningSandbox, headers: dict[str, str]
) -> None:
    response = post_tweet(sandbox, {"text": "hi"}, headers)

    assert response.status_code == 401
    assert problem(response)["title"] == "Unauthorized"


def test_a_reply_to_a_mention_is_created(sandbox: RunningSandbox) -> None:
    mention = sandbox.client.mention("pat", "my order never arrived")
    response = post_tweet(
        sandbox, {"text": "Sorry Pat!", "reply": {"in_reply_to_tweet_id": mention.tweet_id}}
    )

    assert response.status_code == 201
    data = response.json()["data"]
    assert data == {"id": data["id"], "text": "Sorry Pat!", "edit_history_tweet_ids": [data["id"]]}
    [thread] = [t for t in sandbox.client.state()["timeline"] if t["id"] == mention.tweet_id]
    assert [(r["id"], r["by_brand"]) for r in thread["replies"]] == [(data["id"], True)]


URL = "https://brightcart.example/" + "a" * 80


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("x" * 280, True),
        ("x" * 281, False),
        (URL + " " + "x" * 256, True),  # the URL counts 23
        (URL + " " + "x" * 257, False),
        ("漢" * 140, True),  # CJK counts 2
        ("漢" * 141, False),
    ],
    ids=["280", "281", "url-280", "url-281", "cjk-280", "cjk-282"],
)
def test_posts_are_limited_to_280_weighted_characters(
    sandbox: RunningSandbox, text: str, accepted: bool
) -> None:
    response = post_tweet(sandbox, {"text": text})

    if accepted:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 400
        assert problem(response)["title"] == "Invalid Request"


def test_duplicate_text_of_an_earlier_brand_post_is_403_code_187(sandbox: RunningSandbox) -> None:
    first = post_tweet(sandbox, {"text": "We are on it."})
    second = post_tweet(sandbox, {"text": "We are on it."})

    assert first.status_code == 201
    assert second.status_code == 403
    body = problem(second)
    assert body["detail"] == DUPLICATE
    assert body["errors"] == [{"code": 187, "message": "Status is a duplicate."}]


@pytest.mark.parametrize(
    ("make_target", "allowed"),
    [
        (lambda c: c.tweet("pat", "Nice weather today").tweet_id, False),
        (lambda c: c.mention("pat", "help please").tweet_id, True),
        (lambda c: c.quote("pat", LINEN_TWEET, "Love it").tweet_id, True),
        (lambda c: c.reply_tweet("pat", LINEN_TWEET, "In blue?").tweet_id, True),
        (lambda _c: LINEN_TWEET, True),
    ],
    ids=["not-summoned", "mention", "quote", "reply-to-brand", "own-post"],
)
def test_the_brand_may_reply_only_where_it_was_summoned(
    sandbox: RunningSandbox, make_target: Any, allowed: bool
) -> None:
    target = make_target(sandbox.client)
    response = post_tweet(sandbox, {"text": "Hi!", "reply": {"in_reply_to_tweet_id": target}})

    if allowed:
        assert response.status_code == 201, response.text
    else:
        assert response.status_code == 403
        assert problem(response)["detail"] == NOT_SUMMONED


def test_a_dm_answers_the_conversation_and_event_ids(sandbox: RunningSandbox) -> None:
    response = send_dm(sandbox, PAT_ID, "Hi Pat, in private")

    assert response.status_code == 201
    data = response.json()["data"]
    assert data["dm_conversation_id"] == f"{BRAND_X_ID}-{PAT_ID}"
    [message] = sandbox.client.state()["dms"][PAT_ID]
    assert (message["id"], message["from_brand"], message["text"]) == (
        data["dm_event_id"],
        True,
        "Hi Pat, in private",
    )


@pytest.mark.parametrize(("length", "status"), [(10000, 201), (10001, 400)])
def test_dms_are_limited_to_10000_characters(
    sandbox: RunningSandbox, length: int, status: int
) -> None:
    assert send_dm(sandbox, PAT_ID, "x" * length).status_code == status


def test_a_person_with_closed_dms_is_403_code_349(sandbox: RunningSandbox) -> None:
    response = send_dm(sandbox, ROBIN_ID, "Hi Robin")

    assert response.status_code == 403
    assert problem(response)["errors"] == [
        {"code": 349, "message": "You cannot send messages to this user."}
    ]


def test_a_dm_to_an_unknown_person_is_400(sandbox: RunningSandbox) -> None:
    assert send_dm(sandbox, "42", "Hi").status_code == 400


def test_x_calls_are_recorded(sandbox: RunningSandbox) -> None:
    send_dm(sandbox, PAT_ID, "Recorded")

    [call] = sandbox.client.calls(platform="x", endpoint="x.dm")
    assert (call.method, call.status, call.body) == ("POST", 201, {"text": "Recorded"})
    assert call.path == f"/x/2/dm_conversations/with/{PAT_ID}/messages"
