"""What the platforms document, written independently of ``sandbox/``: the reference payloads as
templates, their serialisation and their signatures.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from typing import Any

from sandbox.client import SandboxClient
from sandbox.testing import TEST_SECRETS
from tests.sandbox.webhook_receiver import Received, WebhookReceiver

PAYLOADS = Path(__file__).resolve().parent / "payloads"
PAGE_ID = "100200300400500"
BRAND_X_ID = "2244994945"
JANE_ASID, JANE_PSID = "7788990011223344", "6543210987654321"
PAT_ID = "1205290247124217856"
LINEN_POST = f"{PAGE_ID}_122100000000000001"
LINEN_TWEET = "1874000000000000100"


def reference(name: str) -> dict[str, Any]:
    """A reference payload (``tests/sandbox/payloads``, copied from the platforms' examples)."""
    loaded: dict[str, Any] = json.loads((PAYLOADS / name).read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def meta_bytes(body: Any) -> bytes:
    """Meta's serialisation: compact, non-ASCII escaped as \\uXXXX."""
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def x_bytes(body: Any) -> bytes:
    """X's serialisation: compact UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def assert_facebook_signed(received: Received) -> None:
    secret = TEST_SECRETS["FACEBOOK_APP_SECRET"].encode()
    sha256 = hmac.new(secret, received.body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(secret, received.body, hashlib.sha1).hexdigest()
    assert received.headers["x-hub-signature-256"] == f"sha256={sha256}"
    assert received.headers["x-hub-signature"] == f"sha1={sha1}"


def assert_x_signed(received: Received) -> None:
    secret = TEST_SECRETS["X_CONSUMER_SECRET"].encode()
    digest = hmac.new(secret, received.body, hashlib.sha256).digest()
    expected = "sha256=" + base64.b64encode(digest).decode()
    assert received.headers["x-twitter-webhooks-signature"] == expected


def received_delivery(
    client: SandboxClient, receiver: WebhookReceiver, delivery_id: str | None
) -> Received:
    """The request our webhook got for one delivery (waits for it)."""
    assert delivery_id is not None, "the action queued no delivery"
    body = client.delivery(delivery_id).body
    [received] = receiver.wait_for_body(body)
    return received


def assert_recent_ms(value: Any) -> int:
    assert isinstance(value, int), value
    assert abs(value - time.time() * 1000) < 120_000, value
    return value


def assert_recent_s(value: Any) -> int:
    assert isinstance(value, int), value
    assert abs(value - time.time()) < 120, value
    return value


def assert_graph_time(value: Any) -> str:
    assert isinstance(value, str), value
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", value), value
    return value
