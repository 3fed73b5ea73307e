"""X webhook checks, as pure functions: the CRC response token and the delivery signatures.

Both the Account Activity API and the X Activity API sign with the same scheme:
``sha256=<base64 HMAC-SHA256(key, data)>``, over the CRC token for the GET check and over the
raw body, exactly as received, for every POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from bot.errors import BadSignature, MalformedPayload

__all__ = [
    "OAUTH2_SIGNATURE_HEADER",
    "SIGNATURE_HEADER",
    "crc_response",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
OAUTH2_SIGNATURE_HEADER = "x-twitter-webhooks-signature-oauth2"


def sign(secret: str, data: bytes) -> str:
    """``sha256=<base64 HMAC-SHA256(secret, data)>``, the form X sends and expects."""
    digest = hmac.new(secret.encode("utf-8"), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response(consumer_secret: str, query: Mapping[str, str | None]) -> dict[str, str]:
    """The JSON answer to X's challenge-response check ``GET ?crc_token=T``.

    Raises:
        MalformedPayload: the query has no ``crc_token`` (400).
    """
    token = query.get("crc_token")
    if not token:
        raise MalformedPayload("crc_token is missing from the query string")
    return {"response_token": sign(consumer_secret, token.encode("utf-8"))}


def _matches(header: str, expected: str) -> bool:
    # Bytes on both sides: a header can hold anything, even surrogates Sanic decoded bytes to.
    return hmac.compare_digest(header.strip().encode("utf-8", "replace"), expected.encode("ascii"))


def verify_signature(
    body: bytes,
    headers: Mapping[str, str],
    *,
    consumer_secret: str,
    oauth2_client_secret: str | None = None,
) -> None:
    """Checks the signature headers of a delivery against its raw body, in constant time.

    ``x-twitter-webhooks-signature`` (consumer secret) is required. The OAuth2 header is
    checked when an OAuth2 client secret is configured and X sent it; a wrong one refuses the
    delivery even when the first header matches.

    Raises:
        BadSignature: a header is missing or does not match the body (403).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    header = lowered.get(SIGNATURE_HEADER)
    if not header:
        raise BadSignature(f"the {SIGNATURE_HEADER} header is missing")
    if not _matches(header, sign(consumer_secret, body)):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
    oauth2_header = lowered.get(OAUTH2_SIGNATURE_HEADER)
    if (
        oauth2_client_secret
        and oauth2_header is not None
        and not _matches(oauth2_header, sign(oauth2_client_secret, body))
    ):
        raise BadSignature(f"{OAUTH2_SIGNATURE_HEADER} does not match the body")
