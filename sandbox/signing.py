"""How the platforms serialise and sign what they deliver: pure functions over bytes.

Facebook escapes non-ASCII as ``\\uXXXX`` with compact separators and signs the exact bytes with
HMAC-SHA256 (hex, ``X-Hub-Signature-256``) and HMAC-SHA1 (hex, the legacy ``X-Hub-Signature``).
X sends compact UTF-8 and signs with base64 HMAC-SHA256 (``x-twitter-webhooks-signature``); its
CRC answer is the same HMAC over the ``crc_token``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

__all__ = [
    "crc_response_token",
    "facebook_json",
    "facebook_signature_headers",
    "x_json",
    "x_signature",
    "x_signature_headers",
]


def facebook_json(body: Any) -> bytes:
    """``body`` serialised as Meta does: compact, non-ASCII escaped as ``\\uXXXX``."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def x_json(body: Any) -> bytes:
    """``body`` serialised as X does: compact UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def facebook_signature_headers(app_secret: str, body: bytes) -> dict[str, str]:
    """``X-Hub-Signature-256`` and the legacy ``X-Hub-Signature`` over ``body``."""
    key = app_secret.encode("utf-8")
    return {
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }


def x_signature(consumer_secret: str, message: bytes) -> str:
    """``sha256=`` + base64 HMAC-SHA256 of ``message``: the webhook signature and the CRC answer."""
    digest = hmac.new(consumer_secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def x_signature_headers(consumer_secret: str, body: bytes) -> dict[str, str]:
    """The ``x-twitter-webhooks-signature`` header over ``body``."""
    return {"x-twitter-webhooks-signature": x_signature(consumer_secret, body)}


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """The ``response_token`` X expects in answer to ``GET ?crc_token=...``."""
    return x_signature(consumer_secret, crc_token.encode("utf-8"))
