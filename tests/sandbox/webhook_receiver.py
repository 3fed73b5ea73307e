"""A tiny real HTTP server standing in for our webhooks: it records what the sandbox delivers.

It answers the verification handshakes itself (with its own HMAC code, independent of the
sandbox's), and can be told to fail or hang the next N deliveries of a path.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.testing import TEST_SECRETS

__all__ = ["Received", "WebhookReceiver", "running_receiver"]


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """Serves ``/facebook`` and ``/x`` on a free port of 127.0.0.1.

    Args:
        verify_token: the Facebook verify token it accepts.
        consumer_secret: the X consumer secret it answers the CRC with.
    """

    def __init__(self, verify_token: str, consumer_secret: str) -> None:
        self.verify_token = verify_token
        self.consumer_secret = consumer_secret
        self.answer_handshakes = True
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._plans: dict[str, list[tuple[int, float]]] = {}  # path -> [(status, hang s)]
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                receiver._handle(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                receiver._handle(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def facebook_url(self) -> str:
        return f"{self.base_url}/facebook"

    @property
    def x_url(self) -> str:
        return f"{self.base_url}/x"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forgets what was received and every plan; answers handshakes again."""
        with self._lock:
            self._received.clear()
            self._plans.clear()
        self.answer_handshakes = True

    def fail_next(self, path: str, count: int, status: int = 500, hang_s: float = 0.0) -> None:
        """The next ``count`` POSTs to ``path`` answer ``status`` (after ``hang_s`` seconds)."""
        with self._lock:
            self._plans.setdefault(path, []).extend([(status, hang_s)] * count)

    def received(self, path: str | None = None, method: str = "POST") -> list[Received]:
        with self._lock:
            return [
                item
                for item in self._received
                if item.method == method and path in (None, item.path)
            ]

    def wait_for_body(self, body: bytes, count: int = 1, timeout: float = 10.0) -> list[Received]:
        """Waits until ``body`` arrived ``count`` times (any path); returns those requests."""
        deadline = time.monotonic() + timeout
        while True:
            matching = [item for item in self.received() if item.body == body]
            if len(matching) >= count:
                return matching
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(matching)} of {count} copies of the body arrived")
            time.sleep(0.02)

    def _crc_answer(self, token: str) -> bytes:
        digest = hmac.new(self.consumer_secret.encode(), token.encode(), hashlib.sha256).digest()
        return json.dumps(
            {"response_token": "sha256=" + base64.b64encode(digest).decode()}
        ).encode()

    def _handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        url = urlsplit(request.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in request.headers.items()}
        item = Received(request.command, url.path, query, headers, body, time.time())
        with self._lock:
            self._received.append(item)
            plan = self._plans.get(url.path) or []
            status, hang = plan.pop(0) if plan and request.command == "POST" else (200, 0.0)
        if hang:
            time.sleep(hang)
        answer, content_type = b"{}", "application/json"
        if request.command == "GET":
            status, answer, content_type = self._handshake(url.path, query)
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(answer)))
        request.end_headers()
        request.wfile.write(answer)

    def _handshake(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        if not self.answer_handshakes:
            return 404, b"not yet", "text/plain"
        if path == "/facebook":
            good = query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == (
                self.verify_token
            )
            if good:
                return 200, query.get("hub.challenge", "").encode(), "text/plain"
            return 403, b"wrong verify token", "text/plain"
        if path == "/x" and "crc_token" in query:
            return 200, self._crc_answer(query["crc_token"]), "application/json"
        return 404, b"", "text/plain"


@contextlib.contextmanager
def running_receiver() -> Iterator[WebhookReceiver]:
    """A started receiver that knows the test secrets, stopped at the end."""
    server = WebhookReceiver(
        TEST_SECRETS["FACEBOOK_VERIFY_TOKEN"], TEST_SECRETS["X_CONSUMER_SECRET"]
    ).start()
    try:
        yield server
    finally:
        server.stop()
