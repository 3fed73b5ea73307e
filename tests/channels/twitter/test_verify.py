"""The CRC answer and the delivery signatures of X webhooks (pure functions)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from bot.errors import BadSignature, MalformedPayload
from channels.twitter.verify import (
    OAUTH2_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    crc_response,
    sign,
    verify_signature,
)
from tests.channels.twitter.builders import CONSUMER_SECRET, OAUTH2_SECRET

BODY = b'{"for_user_id":"2244994945","tweet_create_events":[]}'


def test_the_crc_response_token_is_the_base64_hmac_of_the_token() -> None:
    digest = hmac.new(b"secret", b"challenge-123", hashlib.sha256).digest()

    answer = crc_response("secret", {"crc_token": "challenge-123"})

    assert answer == {"response_token": "sha256=" + base64.b64encode(digest).decode()}


@pytest.mark.parametrize("query", [{}, {"crc_token": ""}, {"crc_token": None}])
def test_a_crc_check_without_a_token_is_refused(query: dict[str, str | None]) -> None:
    with pytest.raises(MalformedPayload, match="crc_token is missing"):
        crc_response("secret", query)


def test_the_signature_is_the_base64_hmac_of_the_raw_body() -> None:
    digest = hmac.new(CONSUMER_SECRET.encode(), BODY, hashlib.sha256).digest()

    assert sign(CONSUMER_SECRET, BODY) == "sha256=" + base64.b64encode(digest).decode()


GOOD = sign(CONSUMER_SECRET, BODY)
GOOD_OAUTH2 = sign(OAUTH2_SECRET, BODY)


@pytest.mark.parametrize(
    ("headers", "oauth2_secret"),
    [
        ({SIGNATURE_HEADER: GOOD}, None),
        ({"X-Twitter-Webhooks-Signature": GOOD}, None),
        ({SIGNATURE_HEADER: GOOD, OAUTH2_SIGNATURE_HEADER: GOOD_OAUTH2}, OAUTH2_SECRET),
        ({SIGNATURE_HEADER: GOOD}, OAUTH2_SECRET),  # X sends the second header to newer apps only
        ({SIGNATURE_HEADER: GOOD, OAUTH2_SIGNATURE_HEADER: "sha256=unchecked"}, None),
    ],
    ids=["consumer", "header case", "both", "oauth2 not sent", "oauth2 not configured"],
)
def test_a_correctly_signed_delivery_passes(
    headers: dict[str, str], oauth2_secret: str | None
) -> None:
    verify_signature(
        BODY, headers, consumer_secret=CONSUMER_SECRET, oauth2_client_secret=oauth2_secret
    )


@pytest.mark.parametrize(
    ("body", "headers", "message"),
    [
        (BODY, {}, f"the {SIGNATURE_HEADER} header is missing"),
        (BODY, {SIGNATURE_HEADER: sign("other secret", BODY)}, "does not match the body"),
        (BODY + b" ", {SIGNATURE_HEADER: GOOD}, "does not match the body"),
        (BODY, {SIGNATURE_HEADER: "sha256=ünïcode"}, "does not match the body"),
        # Sanic decodes header bytes that are not UTF-8 with surrogateescape.
        (
            BODY,
            {SIGNATURE_HEADER: b"sha256=\xff\xfe".decode("utf-8", "surrogateescape")},
            "does not match",
        ),
        (
            BODY,
            {SIGNATURE_HEADER: GOOD, OAUTH2_SIGNATURE_HEADER: sign(CONSUMER_SECRET, BODY)},
            f"{OAUTH2_SIGNATURE_HEADER} does not match the body",
        ),
    ],
    ids=["missing", "wrong secret", "body changed", "not ascii", "not utf-8", "wrong oauth2"],
)
def test_a_wrongly_signed_delivery_is_refused(
    body: bytes, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(BadSignature, match=message):
        verify_signature(
            body, headers, consumer_secret=CONSUMER_SECRET, oauth2_client_secret=OAUTH2_SECRET
        )
