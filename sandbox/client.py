"""``SandboxClient``: post as a consumer, read what the brand sent, inject faults, move the clock.

Used by tests and benchmarks; it talks to a running sandbox over HTTP::

    client = SandboxClient("http://127.0.0.1:5080")
    sent = client.messenger("jane", "Where is my order?")
    [call] = client.wait_for_calls(lambda c: c.endpoint == "facebook.messages")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from sandbox.records import ActionResult, ApiCall, BurstResult, Delivery, Fault, HandshakeStatus
from sandbox.world import PAGE_ID

__all__ = ["ActionResult", "BurstResult", "SandboxClient", "SandboxError"]


class SandboxError(Exception):
    """The sandbox refused a control request (``status``, and its ``error`` message)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"sandbox answered {status}: {message}")
        self.status = status


class SandboxClient:
    """A synchronous client of the sandbox's control API (and, for convenience, its UI state).

    Args:
        base_url: e.g. ``http://127.0.0.1:5080``.
        timeout: seconds per request.
        transport: an httpx transport to use instead of the network (tests).
    """

    def __init__(
        self, base_url: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"/sandbox/api{path}", **kwargs)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            raise SandboxError(response.status_code, message)
        return response.json()

    def _act(self, path: str, body: dict[str, Any], duplicate: int, wait: bool) -> ActionResult:
        payload = {name: value for name, value in body.items() if value is not None}
        payload.update({"duplicate": duplicate, "wait": wait})
        return ActionResult.from_json(self._request("POST", path, json=payload))

    # Health

    def health(self) -> dict[str, Any]:
        """``GET /sandbox/api/health``."""
        health: dict[str, Any] = self._request("GET", "/health")
        return health

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Waits until the sandbox answers its health check.

        Raises:
            TimeoutError: not ready within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.health()
                return
            except (httpx.TransportError, SandboxError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the sandbox at {self.base_url} is not ready") from None
                time.sleep(0.1)

    # Facebook, as a consumer

    def messenger(
        self, persona: str, text: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """A Messenger text from ``persona`` (key, PSID or name)."""
        return self._act("/facebook/messenger", {"persona": persona, "text": text}, duplicate, wait)

    def quick_reply(
        self, persona: str, title: str, payload: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """A tap on a quick reply."""
        body = {"persona": persona, "title": title, "payload": payload}
        return self._act("/facebook/quick_reply", body, duplicate, wait)

    def postback(
        self,
        persona: str,
        title: str,
        payload: str,
        *,
        ref: str | None = None,
        duplicate: int = 0,
        wait: bool = False,
    ) -> ActionResult:
        """A tap on a postback button (``ref``: the m.me ref that opened the thread)."""
        body = {"persona": persona, "title": title, "payload": payload, "ref": ref}
        return self._act("/facebook/postback", body, duplicate, wait)

    def referral(
        self, persona: str, ref: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """The consumer opens the thread through ``https://m.me/brightcart?ref=<ref>``."""
        return self._act("/facebook/referral", {"persona": persona, "ref": ref}, duplicate, wait)

    def comment(
        self, user: str, post_id: str, text: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """A comment on a post of the Page."""
        body = {"user": user, "post_id": post_id, "text": text}
        return self._act("/facebook/comments", body, duplicate, wait)

    def reply(
        self, user: str, comment_id: str, text: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """A reply to a comment (its post is read from the comment id)."""
        post_id = f"{PAGE_ID}_{comment_id.split('_', 1)[0]}"
        body = {"user": user, "post_id": post_id, "parent_id": comment_id, "text": text}
        return self._act("/facebook/comments", body, duplicate, wait)

    def visitor_post(
        self, user: str, text: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """A post written on the Page by a visitor."""
        return self._act("/facebook/posts", {"user": user, "text": text}, duplicate, wait)

    def edit_comment(
        self, comment_id: str, text: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """The author edits a comment."""
        return self._act(f"/facebook/comments/{comment_id}/edit", {"text": text}, duplicate, wait)

    def remove_comment(
        self, comment_id: str, *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """The author removes a comment."""
        return self._act(f"/facebook/comments/{comment_id}/remove", {}, duplicate, wait)

    def batch(
        self, events: list[dict[str, Any]], *, duplicate: int = 0, wait: bool = False
    ) -> ActionResult:
        """Several events in one delivery: each ``{"kind": ..., "entry": n, ...}``.

        Kinds: messenger, quick_reply, postback, referral, comment, visitor_post, comment_edit,
        comment_remove; events with the same ``entry`` number share an entry.
        """
        return self._act("/facebook/batch", {"events": events}, duplicate, wait)

    def burst(
        self, platform: str, events: list[dict[str, Any]], *, duplicate: int = 0, wait: bool = False
    ) -> BurstResult:
        """Events on ``platform`` (facebook, x), each in its own delivery, all queued at once.

        Each event: ``{"kind": ..., ...}`` with its single action's fields (Facebook: the kinds of
        ``batch``; X: ``dm``, ``tweet``); if one is refused, ``SandboxError`` (400), none queued.
        """
        payload = {"events": events, "duplicate": duplicate, "wait": wait}
        return BurstResult.from_json(self._request("POST", f"/{platform}/burst", json=payload))

    # X, as a consumer

    def tweet(
        self,
        user: str,
        text: str | None = None,
        *,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        format: str = "aaa",
        duplicate: int = 0,
        wait: bool = False,
    ) -> ActionResult:
        """A post by ``user`` (key, id or handle): mention, reply, quote or retweet."""
        body = {
            "user": user,
            "text": text,
            "in_reply_to": in_reply_to,
            "quote_of": quote_of,
            "retweet_of": retweet_of,
            "format": format,
        }
        return self._act("/x/tweets", body, duplicate, wait)

    def mention(self, user: str, text: str, **options: Any) -> ActionResult:
        """A post that mentions @Brightcart (added in front when ``text`` does not)."""
        if "@brightcart" not in text.lower():
            text = f"@Brightcart {text}"
        return self.tweet(user, text, **options)

    def reply_tweet(self, user: str, tweet_id: str, text: str, **options: Any) -> ActionResult:
        """A reply to a post (X puts the replied-to author's @handle in front)."""
        return self.tweet(user, text, in_reply_to=tweet_id, **options)

    def quote(self, user: str, tweet_id: str, text: str, **options: Any) -> ActionResult:
        """A quote of a post."""
        return self.tweet(user, text, quote_of=tweet_id, **options)

    def retweet(self, user: str, tweet_id: str, **options: Any) -> ActionResult:
        """A retweet of a post."""
        return self.tweet(user, retweet_of=tweet_id, **options)

    def dm(
        self,
        user: str,
        text: str,
        *,
        quick_reply_metadata: str | None = None,
        format: str = "aaa",
        duplicate: int = 0,
        wait: bool = False,
    ) -> ActionResult:
        """A DM from ``user`` to the brand (a quick-reply answer with ``quick_reply_metadata``)."""
        body = {
            "user": user,
            "text": text,
            "quick_reply_metadata": quick_reply_metadata,
            "format": format,
        }
        return self._act("/x/dms", body, duplicate, wait)

    def add_persona(self, platform: str, name: str, **fields: Any) -> dict[str, Any]:
        """Adds a consumer (``facebook``: asid, psid, restricted, blocked_page; ``x``: id,
        handle, dms_closed); ids are made up when not given."""
        persona: dict[str, Any] = self._request(
            "POST", "/personas", json={"platform": platform, "name": name, **fields}
        )
        return persona

    # What the brand sent, and what was delivered

    def calls(
        self, platform: str | None = None, endpoint: str | None = None, since: int = 0
    ) -> list[ApiCall]:
        """The recorded API calls, oldest first."""
        params: dict[str, Any] = {"since": since}
        if platform is not None:
            params["platform"] = platform
        if endpoint is not None:
            params["endpoint"] = endpoint
        return [ApiCall.from_json(call) for call in self._request("GET", "/calls", params=params)]

    def clear_calls(self) -> None:
        self._request("DELETE", "/calls")

    def wait_for_calls(
        self,
        predicate: Callable[[ApiCall], bool] | None = None,
        count: int = 1,
        timeout: float = 10.0,
        *,
        platform: str | None = None,
        endpoint: str | None = None,
        since: int = 0,
    ) -> list[ApiCall]:
        """Polls until ``count`` recorded calls match; returns them.

        Raises:
            TimeoutError: fewer matched within ``timeout`` seconds (the message lists them).
        """
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls(platform, endpoint, since)
            matching = [call for call in calls if predicate is None or predicate(call)]
            if len(matching) >= count:
                return matching
            if time.monotonic() > deadline:
                seen = [(call.endpoint, call.status) for call in calls]
                raise TimeoutError(f"{len(matching)} of {count} calls matched; recorded: {seen}")
            time.sleep(0.05)

    def deliveries(
        self, platform: str | None = None, since: int = 0, kind: str | None = None
    ) -> list[Delivery]:
        """Every webhook delivery with its attempts, oldest first."""
        params: dict[str, Any] = {"since": since}
        if platform is not None:
            params["platform"] = platform
        if kind is not None:
            params["kind"] = kind
        return [
            Delivery.from_json(item) for item in self._request("GET", "/deliveries", params=params)
        ]

    def delivery(self, delivery_id: str) -> Delivery:
        return Delivery.from_json(self._request("GET", f"/deliveries/{delivery_id}"))

    def wait_for_delivery(
        self, delivery_id: str, outcomes: tuple[str, ...] = ("delivered",), timeout: float = 10.0
    ) -> Delivery:
        """Polls until the delivery's outcome is one of ``outcomes``.

        Raises:
            TimeoutError: it was not within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            delivery = self.delivery(delivery_id)
            if delivery.outcome in outcomes:
                return delivery
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"delivery {delivery_id} is {delivery.outcome} after "
                    f"{len(delivery.attempts)} attempts, not {' or '.join(outcomes)}"
                )
            time.sleep(0.05)

    # Faults, clock, reset, handshakes

    def inject(
        self,
        endpoint: str = "*",
        error: str | None = None,
        *,
        delay_ms: int = 0,
        count: int | None = None,
        reset_after_s: float = 60.0,
        hang_s: float = 30.0,
    ) -> Fault:
        """Injects a delay and/or an error on ``endpoint`` (``count``: None until cleared)."""
        body = {
            "endpoint": endpoint,
            "error": error,
            "delay_ms": delay_ms,
            "count": count,
            "reset_after_s": reset_after_s,
            "hang_s": hang_s,
        }
        return Fault.from_json(self._request("POST", "/faults", json=body))

    def faults(self) -> list[Fault]:
        return [Fault.from_json(item) for item in self._request("GET", "/faults")]

    def clear_faults(self) -> None:
        self._request("DELETE", "/faults")

    def advance_clock(self, seconds: float) -> float:
        """Moves the sandbox clock forward; returns its new time (epoch seconds)."""
        now: float = self._request("POST", "/clock", json={"advance_seconds": seconds})["now"]
        return now

    def reset(self) -> None:
        """Back to the seeded world; calls, faults, deliveries and clock offset cleared."""
        self._request("POST", "/reset")

    def state(self) -> dict[str, Any]:
        """What the consumer UI shows."""
        state: dict[str, Any] = self._request("GET", "/state")
        return state

    def webhooks(self) -> dict[str, HandshakeStatus]:
        """The verification handshake of each webhook."""
        return {
            name: HandshakeStatus.from_json(status)
            for name, status in self._request("GET", "/webhooks").items()
        }

    def check_webhooks(self) -> None:
        """Starts both handshakes again (they retry until the webhook answers)."""
        self._request("POST", "/webhooks/check")

    def wait_for_webhooks(self, timeout: float = 30.0) -> dict[str, HandshakeStatus]:
        """Waits until both handshakes passed.

        Raises:
            TimeoutError: naming the last problem of each one still pending.
        """
        deadline = time.monotonic() + timeout
        while True:
            statuses = self.webhooks()
            if all(status.state == "ok" for status in statuses.values()):
                return statuses
            if time.monotonic() > deadline:
                pending = {n: s.last_error for n, s in statuses.items() if s.state != "ok"}
                raise TimeoutError(f"webhooks not verified: {pending}")
            time.sleep(0.1)
