"""The two webhook checks of Meta, as pure functions: the subscription handshake and signatures.

Signatures are HMACs of the app secret over the raw body, as received (Meta escapes non-ASCII
as ``\\uXXXX``; re-serialising would change the bytes). ``X-Hub-Signature-256`` is required;
the legacy sha1 ``X-Hub-Signature`` alone is accepted only when the operator opts in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from bot.errors import BadSignature, MalformedPayload

__all__ = [
    "SHA1_HEADER",
    "SHA256_HEADER",
    "check_signature",
    "sign",
    "subscription_challenge",
]

SHA256_HEADER = "X-Hub-Signature-256"
SHA1_HEADER = "X-Hub-Signature"

_ALGORITHMS = {"sha256": hashlib.sha256, "sha1": hashlib.sha1}


def sign(app_secret: str, body: bytes, algorithm: str = "sha256") -> str:
    """The header value Meta sends for ``body``: ``sha256=<hex HMAC>`` (or ``sha1=...``)."""
    digest = hmac.new(app_secret.encode(), body, _ALGORITHMS[algorithm]).hexdigest()
    return f"{algorithm}={digest}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((item for key, item in headers.items() if key.lower() == wanted), None)


def _matches(app_secret: str, body: bytes, received: str, algorithm: str) -> bool:
    expected = sign(app_secret, body, algorithm).encode()
    # Bytes on both sides: compare_digest refuses non-ASCII str, and a header can hold anything.
    return hmac.compare_digest(expected, received.strip().encode("utf-8", "replace"))


def check_signature(
    body: bytes, headers: Mapping[str, str], app_secret: str, *, accept_sha1_only: bool = False
) -> None:
    """Accepts a delivery signed with the app secret, in constant time.

    Raises:
        BadSignature: the required header is missing, or the signature does not match the body.
    """
    sha256 = _header(headers, SHA256_HEADER)
    if sha256 is not None:
        if not _matches(app_secret, body, sha256, "sha256"):
            raise BadSignature(f"{SHA256_HEADER} does not match the body")
        return
    sha1 = _header(headers, SHA1_HEADER)
    if sha1 is not None and accept_sha1_only:
        if not _matches(app_secret, body, sha1, "sha1"):
            raise BadSignature(f"{SHA1_HEADER} does not match the body")
        return
    if sha1 is not None:
        raise BadSignature(
            f"{SHA256_HEADER} is missing; {SHA1_HEADER} alone is accepted only with "
            "accept_sha1_only: true"
        )
    raise BadSignature(f"{SHA256_HEADER} is missing")


def subscription_challenge(query: Mapping[str, str | None], verify_token: str) -> str:
    """The ``hub.challenge`` to echo when Meta subscribes with our verify token.

    Raises:
        BadSignature: not a subscription, or the verify token is wrong (403).
        MalformedPayload: the subscription carries no challenge (400).
    """
    if query.get("hub.mode") != "subscribe":
        raise BadSignature(f"hub.mode: expected 'subscribe', got {query.get('hub.mode')!r}")
    token = query.get("hub.verify_token") or ""
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        raise BadSignature("hub.verify_token does not match the configured verify_token")
    challenge = query.get("hub.challenge")
    if not challenge:
        raise MalformedPayload("hub.challenge is missing")
    return challenge
