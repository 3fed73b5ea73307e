"""The Graph API answers and fails as Meta documents: Send API, windows, Private Replies, comments,
likes, profile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.testing import TEST_SECRETS, RunningSandbox
from tests.sandbox.expected import JANE_ASID, JANE_PSID, LINEN_POST, PAGE_ID

TOKEN = TEST_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]
HOUR = 3600
DAY = 24 * HOUR
LENA_PSID = "6543210987659876"


def graph(
    sandbox: RunningSandbox,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    method: str = "POST",
    token: str | None = TOKEN,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    query = {**(params or {}), **({"access_token": token} if token is not None else {})}
    return httpx.request(
        method, f"{sandbox.graph_url()}/{path}", params=query, json=body, timeout=10
    )


def send(sandbox: RunningSandbox, body: dict[str, Any]) -> httpx.Response:
    return graph(sandbox, "me/messages", body)


def text_to(psid: str, text: str = "Hello", **fields: Any) -> dict[str, Any]:
    return {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"text": text},
        **fields,
    }


def error(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert set(body) >= {"message", "type", "code", "fbtrace_id"}
    return body


@pytest.mark.parametrize(
    ("token", "header"),
    [(None, None), ("wrong-token", None), (None, "Bearer wrong-token")],
    ids=["missing", "wrong", "wrong-bearer"],
)
def test_a_missing_or_wrong_token_is_refused_with_code_190(
    sandbox: RunningSandbox, token: str | None, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    query = {"access_token": token} if token else {}
    response = httpx.post(
        f"{sandbox.graph_url()}/me/messages", params=query, headers=headers, json=text_to(JANE_PSID)
    )

    assert response.status_code == 400
    assert error(response)["code"] == 190
    assert error(response)["type"] == "OAuthException"


def test_the_page_token_works_as_a_bearer_header_too(sandbox: RunningSandbox) -> None:
    sandbox.client.messenger("jane", "hi")
    response = httpx.post(
        f"{sandbox.graph_url('v21.0')}/{PAGE_ID}/messages",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json=text_to(JANE_PSID),
    )

    assert response.status_code == 200
    assert response.json()["recipient_id"] == JANE_PSID
    assert response.json()["message_id"].startswith("m_")


def test_an_unknown_api_version_is_refused(sandbox: RunningSandbox) -> None:
    response = httpx.post(
        f"{sandbox.base_url}/graph/latest/me/messages", params={"access_token": TOKEN}, json={}
    )

    assert response.status_code == 400
    assert error(response)["code"] == 2500


def quick_replies(count: int, title: str = "Yes", payload: str = "YES") -> dict[str, Any]:
    replies = [{"content_type": "text", "title": title, "payload": payload}] * count
    return {"text": "Pick one", "quick_replies": replies}


def buttons(count: int, text: str = "What next?") -> dict[str, Any]:
    button = {"type": "postback", "title": "Track", "payload": "TRACK"}
    payload = {"template_type": "button", "text": text, "buttons": [button] * count}
    return {"attachment": {"type": "template", "payload": payload}}


@pytest.mark.parametrize(
    ("message", "accepted"),
    [
        ({"text": "x" * 2000}, True),
        ({"text": "x" * 2001}, False),
        ({"text": ""}, False),
        ({}, False),
        (quick_replies(13), True),
        (quick_replies(14), False),
        (quick_replies(1, title="t" * 20), True),
        (quick_replies(1, title="t" * 21), False),
        (quick_replies(1, payload="p" * 1000), True),
        (quick_replies(1, payload="p" * 1001), False),
        (buttons(1), True),
        (buttons(3), True),
        (buttons(0), False),
        (buttons(4), False),
        (buttons(1, text="t" * 640), True),
        (buttons(1, text="t" * 641), False),
        ({"attachment": {"type": "image", "payload": {"url": "https://example.com/a.png"}}}, True),
        ({"attachment": {"type": "image", "payload": {}}}, False),
        ({"text": "both", "attachment": {"type": "image", "payload": {"url": "u"}}}, False),
    ],
)
def test_send_api_validates_messages_as_meta_does(
    sandbox: RunningSandbox, message: dict[str, Any], accepted: bool
) -> None:
    sandbox.client.messenger("jane", "hi")
    body = {"recipient": {"id": JANE_PSID}, "messaging_type": "RESPONSE", "message": message}
    response = send(sandbox, body)

    if accepted:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400
        assert error(response)["code"] == 100


def test_a_sender_action_goes_alone_and_answers_only_the_recipient(sandbox: RunningSandbox) -> None:
    sandbox.client.messenger("jane", "hi")
    alone = send(sandbox, {"recipient": {"id": JANE_PSID}, "sender_action": "typing_on"})
    mixed = send(sandbox, {**text_to(JANE_PSID), "sender_action": "typing_on"})

    assert alone.status_code == 200
    assert alone.json() == {"recipient_id": JANE_PSID}
    assert mixed.status_code == 400
    assert error(mixed)["code"] == 100


def test_an_unknown_recipient_is_code_100(sandbox: RunningSandbox) -> None:
    response = send(sandbox, text_to("1111111111111111"))

    assert response.status_code == 400
    assert (error(response)["code"], error(response)["error_subcode"]) == (100, 2018001)


@pytest.mark.parametrize(
    ("hours_since_message", "fields", "allowed"),
    [
        (0, {"messaging_type": "RESPONSE"}, True),
        (23, {"messaging_type": "RESPONSE"}, True),
        (25, {"messaging_type": "RESPONSE"}, False),
        (23, {"messaging_type": "UPDATE"}, True),
        (25, {"messaging_type": "UPDATE"}, False),
        (25, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, True),
        (7 * 24 - 1, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, True),
        (7 * 24 + 1, {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}, False),
    ],
)
def test_messaging_windows_follow_the_consumers_last_message(
    sandbox: RunningSandbox, hours_since_message: int, fields: dict[str, str], allowed: bool
) -> None:
    sandbox.client.messenger("jane", "My parcel is late")
    sandbox.client.advance_clock(hours_since_message * HOUR)
    response = send(sandbox, text_to(JANE_PSID, **fields))

    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400
        assert (error(response)["code"], error(response)["error_subcode"]) == (10, 2018278)
        assert error(response)["message"] == "(#10) This message is sent outside of allowed window."


def test_a_consumer_who_never_wrote_cannot_be_messaged(sandbox: RunningSandbox) -> None:
    response = send(sandbox, text_to(LENA_PSID))

    assert error(response)["error_subcode"] == 2018278


def private_reply(
    sandbox: RunningSandbox, comment_id: str, text: str = "Hi Jane"
) -> httpx.Response:
    return send(sandbox, {"recipient": {"comment_id": comment_id}, "message": {"text": text}})


def test_a_private_reply_answers_with_the_commenters_psid_and_lands_in_messenger(
    sandbox: RunningSandbox,
) -> None:
    commented = sandbox.client.comment("jane", LINEN_POST, "Is this in blue?")
    response = private_reply(sandbox, commented.comment_id, "Yes! Which size?")

    assert response.status_code == 200
    assert response.json()["recipient_id"] == JANE_PSID
    [message] = sandbox.client.state()["messenger"][JANE_PSID]
    assert message["text"] == "Yes! Which size?"
    assert message["kind"] == "private_reply"
    assert message["comment_id"] == commented.comment_id
    assert message["comment_text"] == "Is this in blue?"


def test_only_one_private_reply_per_comment(sandbox: RunningSandbox) -> None:
    commented = sandbox.client.comment("jane", LINEN_POST, "Is this in blue?")
    private_reply(sandbox, commented.comment_id)
    second = private_reply(sandbox, commented.comment_id)

    assert second.status_code == 400
    assert error(second)["code"] == 10
    assert "already" in error(second)["message"]


def test_a_private_reply_after_seven_days_is_outside_the_window(sandbox: RunningSandbox) -> None:
    commented = sandbox.client.comment("jane", LINEN_POST, "Is this in blue?")
    sandbox.client.advance_clock(7 * DAY + HOUR)
    response = private_reply(sandbox, commented.comment_id)

    assert (error(response)["code"], error(response)["error_subcode"]) == (10, 2018278)


def test_no_private_reply_to_the_pages_own_comment_or_post(sandbox: RunningSandbox) -> None:
    own = graph(sandbox, f"{LINEN_POST}/comments", {"message": "Thanks all!"}).json()["id"]

    to_comment = private_reply(sandbox, own)
    to_post = send(sandbox, {"recipient": {"post_id": LINEN_POST}, "message": {"text": "Hi"}})

    assert error(to_comment)["code"] == 100
    assert error(to_post)["code"] == 100


def test_a_private_reply_to_a_visitor_post_reaches_its_author(sandbox: RunningSandbox) -> None:
    posted = sandbox.client.visitor_post("jane", "Your store was closed today")
    response = send(
        sandbox, {"recipient": {"post_id": posted.post_id}, "message": {"text": "Sorry!"}}
    )

    assert response.status_code == 200
    assert response.json()["recipient_id"] == JANE_PSID


def test_after_a_private_reply_the_page_waits_for_the_consumers_answer(
    sandbox: RunningSandbox,
) -> None:
    commented = sandbox.client.comment("lena", LINEN_POST, "Is this in blue?")
    private_reply(sandbox, commented.comment_id)
    before = send(sandbox, text_to(LENA_PSID, "Are you there?"))
    sandbox.client.messenger("lena", "Yes, size M please")
    after = send(sandbox, text_to(LENA_PSID, "Noted!"))

    assert error(before)["error_subcode"] == 2018278
    assert after.status_code == 200


def test_a_person_who_blocked_the_page_is_unavailable(sandbox: RunningSandbox) -> None:
    persona = sandbox.client.add_persona("facebook", "Alex Kim", blocked_page=True)
    commented = sandbox.client.comment("Alex Kim", LINEN_POST, "Meh")
    sandbox.client.messenger("Alex Kim", "hi")

    for response in (
        private_reply(sandbox, commented.comment_id),
        send(sandbox, text_to(persona["psid"])),
    ):
        assert response.status_code == 400
        assert (error(response)["code"], error(response)["error_subcode"]) == (551, 1545041)


def test_a_public_reply_is_nested_under_the_comment_as_the_page(sandbox: RunningSandbox) -> None:
    commented = sandbox.client.comment("jane", LINEN_POST, "Is this in blue?")
    response = graph(sandbox, f"{commented.comment_id}/comments", {"message": "It is!"})

    assert response.status_code == 200
    reply_id = response.json()["id"]
    assert reply_id.startswith("122100000000000001_")
    [post] = [p for p in sandbox.client.state()["posts"] if p["id"] == LINEN_POST]
    [comment] = post["comments"]
    assert [(r["id"], r["message"], r["by_page"]) for r in comment["replies"]] == [
        (reply_id, "It is!", True)
    ]


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("122100000000000001_999/comments", {"message": "hi"}, 100),
        (f"{LINEN_POST}/comments", {"message": ""}, 100),
        ("122100000000000001_999/likes", None, 100),
    ],
)
def test_comments_and_likes_on_unknown_objects_fail_with_code_100(
    sandbox: RunningSandbox, path: str, body: dict[str, Any] | None, code: int
) -> None:
    response = graph(sandbox, path, body)

    assert response.status_code == 400
    assert error(response)["code"] == code


def test_a_like_answers_success_and_shows_on_the_post(sandbox: RunningSandbox) -> None:
    response = graph(sandbox, f"{LINEN_POST}/likes")

    assert response.json() == {"success": True}
    [post] = [p for p in sandbox.client.state()["posts"] if p["id"] == LINEN_POST]
    assert post["liked_by_page"] is True


def test_profile_get_answers_the_requested_fields(sandbox: RunningSandbox) -> None:
    fields = graph(
        sandbox, JANE_PSID, method="GET", params={"fields": "first_name,last_name,profile_pic"}
    )
    only_first = graph(sandbox, JANE_PSID, method="GET", params={"fields": "first_name"})

    assert fields.status_code == 200
    body = fields.json()
    assert (body["first_name"], body["last_name"], body["id"]) == ("Jane", "Doe", JANE_PSID)
    assert httpx.get(body["profile_pic"]).headers["content-type"] == "image/svg+xml"
    assert only_first.json() == {"first_name": "Jane", "id": JANE_PSID}


@pytest.mark.parametrize(("person", "code"), [(LENA_PSID, 2018218), (JANE_ASID, 100)])
def test_profile_get_fails_for_restricted_profiles_and_app_scoped_ids(
    sandbox: RunningSandbox, person: str, code: int
) -> None:
    response = graph(sandbox, person, method="GET", params={"fields": "first_name"})

    assert response.status_code == 400
    assert error(response)["code"] == code


def test_every_call_is_recorded_without_the_token(sandbox: RunningSandbox) -> None:
    sandbox.client.messenger("jane", "hi")
    send(sandbox, text_to(JANE_PSID, "Recorded"))
    send(sandbox, text_to("0000"))

    ok, refused = sandbox.client.calls(platform="facebook", endpoint="facebook.messages")
    assert (ok.method, ok.path, ok.status) == ("POST", "/graph/v19.0/me/messages", 200)
    assert ok.body["message"] == {"text": "Recorded"}
    assert ok.response["recipient_id"] == JANE_PSID
    assert "access_token" not in ok.query
    assert (refused.status, refused.response["error"]["code"]) == (400, 100)
    assert sandbox.client.calls(since=ok.seq) == [refused]
