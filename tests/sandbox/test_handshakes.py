"""The verification handshakes: Meta's verify-token GET and X's CRC, retried until they pass."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx
import pytest

from sandbox.client import SandboxClient
from sandbox.handshakes import check_facebook, check_x
from sandbox.testing import TEST_SECRETS
from tests.sandbox.webhook_receiver import WebhookReceiver


def test_both_handshakes_pass_against_a_webhook_that_answers_them(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    client.check_webhooks()
    statuses = client.wait_for_webhooks(timeout=10)

    assert {name: status.state for name, status in statuses.items()} == {
        "facebook": "ok",
        "x": "ok",
    }
    [meta] = receiver.received("/facebook", method="GET")[-1:]
    assert meta.query["hub.mode"] == "subscribe"
    assert meta.query["hub.verify_token"] == TEST_SECRETS["FACEBOOK_VERIFY_TOKEN"]
    assert meta.query["hub.challenge"]
    [crc] = receiver.received("/x", method="GET")[-1:]
    assert crc.query["crc_token"]


def test_a_handshake_keeps_retrying_until_the_webhook_answers(
    client: SandboxClient, receiver: WebhookReceiver
) -> None:
    receiver.answer_handshakes = False
    client.check_webhooks()
    with pytest.raises(TimeoutError):
        client.wait_for_webhooks(timeout=0.5)
    pending = client.webhooks()

    receiver.answer_handshakes = True
    statuses = client.wait_for_webhooks(timeout=10)

    assert pending["facebook"].state == "pending"
    assert pending["facebook"].last_error == "answered HTTP 404, expected 200"
    assert pending["x"].attempts > 1
    assert statuses["x"].state == "ok"


async def _meta_echoing(body: str, status: int = 200) -> str | None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(status, text=body))
    async with httpx.AsyncClient(transport=transport) as http:
        return await check_facebook(http, "http://webhook.test/", "token")


async def test_meta_check_refuses_a_wrong_challenge_and_a_non_200() -> None:
    assert await _meta_echoing("not the challenge") is not None
    assert await _meta_echoing("", status=403) == "answered HTTP 403, expected 200"


async def test_meta_check_passes_when_the_challenge_is_echoed() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        assert request.url.params["hub.verify_token"] == "token"
        return httpx.Response(200, text=request.url.params["hub.challenge"])

    async with httpx.AsyncClient(transport=httpx.MockTransport(echo)) as http:
        assert await check_facebook(http, "http://webhook.test/", "token") is None


def _crc_answer(secret: str) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        token = request.url.params["crc_token"].encode()
        digest = hmac.new(secret.encode(), token, hashlib.sha256).digest()
        body = {"response_token": "sha256=" + base64.b64encode(digest).decode()}
        return httpx.Response(200, content=json.dumps(body))

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(("secret", "passes"), [("right", True), ("wrong", False)])
async def test_x_crc_check_verifies_the_hmac_of_the_token(secret: str, passes: bool) -> None:
    async with httpx.AsyncClient(transport=_crc_answer(secret)) as http:
        problem = await check_x(http, "http://webhook.test/", "right")

    assert (problem is None) == passes
