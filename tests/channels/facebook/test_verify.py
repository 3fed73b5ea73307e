from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.errors import BadSignature, MalformedPayload
from channels.facebook import verify
from channels.facebook.verify import check_signature, sign, subscription_challenge
from tests.channels.facebook.factories import APP_SECRET, VERIFY_TOKEN, reference

BODY = reference("facebook-messenger-text")


def test_sign_is_the_hex_hmac_of_the_app_secret_over_the_raw_body() -> None:
    expected = hmac.new(APP_SECRET.encode(), BODY, hashlib.sha256).hexdigest()

    assert sign(APP_SECRET, BODY) == f"sha256={expected}"
    assert sign(APP_SECRET, BODY, "sha1").startswith("sha1=")


@pytest.mark.parametrize(
    ("headers", "accept_sha1_only"),
    [
        ({"X-Hub-Signature-256": sign(APP_SECRET, BODY)}, False),
        ({"x-hub-signature-256": sign(APP_SECRET, BODY)}, False),
        (
            {
                "X-Hub-Signature-256": sign(APP_SECRET, BODY),
                "X-Hub-Signature": sign(APP_SECRET, BODY, "sha1"),
            },
            False,
        ),
        ({"X-Hub-Signature": sign(APP_SECRET, BODY, "sha1")}, True),
    ],
)
def test_a_correctly_signed_body_is_accepted(
    headers: dict[str, str], accept_sha1_only: bool
) -> None:
    check_signature(BODY, headers, APP_SECRET, accept_sha1_only=accept_sha1_only)


@pytest.mark.parametrize(
    ("headers", "accept_sha1_only", "message"),
    [
        ({}, False, "X-Hub-Signature-256 is missing"),
        ({}, True, "X-Hub-Signature-256 is missing"),
        (
            {"X-Hub-Signature": sign(APP_SECRET, BODY, "sha1")},
            False,
            "accepted only with accept_sha1_only: true",
        ),
        ({"X-Hub-Signature-256": sign("other-secret", BODY)}, False, "does not match"),
        ({"X-Hub-Signature-256": sign(APP_SECRET, BODY + b" ")}, False, "does not match"),
        ({"X-Hub-Signature-256": sign(APP_SECRET, BODY, "sha1")}, False, "does not match"),
        ({"X-Hub-Signature-256": "sha256=é"}, False, "does not match"),
        # Sanic decodes header bytes that are not UTF-8 with surrogateescape.
        (
            {"X-Hub-Signature-256": b"sha256=\xff".decode("utf-8", "surrogateescape")},
            False,
            "does not match",
        ),
        # a good sha1 does not rescue a bad sha256
        (
            {
                "X-Hub-Signature-256": "sha256=" + "0" * 64,
                "X-Hub-Signature": sign(APP_SECRET, BODY, "sha1"),
            },
            True,
            "X-Hub-Signature-256 does not match",
        ),
        ({"X-Hub-Signature": sign("other-secret", BODY, "sha1")}, True, "does not match"),
    ],
)
def test_a_missing_or_wrong_signature_is_refused(
    headers: dict[str, str], accept_sha1_only: bool, message: str
) -> None:
    with pytest.raises(BadSignature, match=message):
        check_signature(BODY, headers, APP_SECRET, accept_sha1_only=accept_sha1_only)


def test_signatures_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(verify.hmac, "compare_digest", recording)

    with pytest.raises(BadSignature):
        check_signature(BODY, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, APP_SECRET)

    assert compared == [(sign(APP_SECRET, BODY).encode(), b"sha256=" + b"0" * 64)]


def test_the_subscription_handshake_echoes_the_challenge() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }

    assert subscription_challenge(query, VERIFY_TOKEN) == "1158201444"


@pytest.mark.parametrize(
    ("query", "error", "message"),
    [
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}, BadSignature, "hub.mode"),
        ({"hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, BadSignature, "hub.mode"),
        ({"hub.mode": "subscribe", "hub.verify_token": "guess"}, BadSignature, "verify_token"),
        ({"hub.mode": "subscribe", "hub.challenge": "1"}, BadSignature, "verify_token"),
        (
            {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
            MalformedPayload,
            "challenge",
        ),
    ],
)
def test_a_wrong_handshake_is_refused(
    query: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        subscription_challenge(query, VERIFY_TOKEN)
