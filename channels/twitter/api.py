"""``XClient``: the X API v2 calls the channel makes, and the one table from X's answers to errors.

Calls: a reply tweet (``POST /2/tweets``) and a DM
(``POST /2/dm_conversations/with/{id}/messages``), each with the acting account's user token as
``Authorization: Bearer``. X answers errors as problem+json (``{title, detail, type, status,
errors?}``) or, on older paths, ``{errors: [{code, message}]}``; ``error_for`` reads both:

=============================================  =======================================
answer                                         error
=============================================  =======================================
2xx                                            none
429 (waits ``x-rate-limit-reset`` - now)       ``RateLimited``
5xx, 408                                       ``TransientPlatformError``
401                                            ``AuthenticationFailed``
code 349, "cannot send messages"               ``RecipientUnavailable`` (DMs closed)
code 187, "duplicate content"                  ``DuplicateContent``
403 "not been mentioned or otherwise engaged"  ``PermanentPlatformError`` (reply not allowed)
any other answer                               ``InvalidRequest``
=============================================  =======================================
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import Field, ValidationError

from bot.errors import (
    AuthenticationFailed,
    DuplicateContent,
    InvalidRequest,
    PermanentPlatformError,
    PlatformError,
    RateLimited,
    RecipientUnavailable,
    TransientPlatformError,
)
from channels.platform_client import PlatformClient
from channels.twitter.wire import WireModel

__all__ = [
    "DEFAULT_RETRY_AFTER",
    "DMS_CLOSED_CODE",
    "DUPLICATE_CODE",
    "XClient",
    "XErrorItem",
    "XProblem",
]

DMS_CLOSED_CODE = 349
DUPLICATE_CODE = 187
DEFAULT_RETRY_AFTER = 60.0  # a 429 without x-rate-limit-reset

_DMS_CLOSED_WORDS = ("cannot send messages",)
_DUPLICATE_WORDS = ("duplicate content", "is a duplicate")
_NOT_SUMMONED_WORDS = ("not been mentioned", "otherwise engaged")


class XErrorItem(WireModel):
    code: int | None = None
    message: str | None = None
    title: str | None = None
    detail: str | None = None


class XProblem(WireModel):
    """An X error body: v2 problem+json, or the older ``errors`` list."""

    title: str | None = None
    detail: str | None = None
    type: str | None = None
    status: int | None = None
    errors: list[XErrorItem] = Field(default_factory=list)

    @classmethod
    def of(cls, response: httpx.Response) -> XProblem:
        """The problem in ``response``'s body; an empty one when it is not JSON or not an object."""
        try:
            return cls.parse_obj(response.json())
        except (ValueError, ValidationError):
            return cls()

    @property
    def code(self) -> int | None:
        """The first X error code given, if any."""
        return next((item.code for item in self.errors if item.code is not None), None)

    @property
    def reason(self) -> str:
        """X's words: the detail (else the title), and the first error's message if it adds."""
        summary = self.detail or self.title or ""
        first = next((item.message or item.detail for item in self.errors), None)
        if not first or first == summary:
            return summary
        return f"{summary} ({first})" if summary else first


class _TweetCreated(WireModel):
    id: str | None = None


class _DmSent(WireModel):
    dm_event_id: str | None = None
    dm_conversation_id: str | None = None


class _Created(WireModel):
    data: dict[str, Any] = Field(default_factory=dict)


_Answer = TypeVar("_Answer", _TweetCreated, _DmSent)


def _has(text: str, words: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in words)


class XClient(PlatformClient):
    """The X API client of one app; each call acts as the account whose token it is given.

    Args:
        base_url: the API root: ``https://api.x.com``, or the sandbox's ``.../x``.
        clock: epoch seconds now, to turn ``x-rate-limit-reset`` into a wait (tests fake it).
        **kwargs: ``PlatformClient``'s options (timeout, transport, retry, sleep).
    """

    platform = "twitter"

    def __init__(
        self, base_url: str, *, clock: Callable[[], float] = time.time, **kwargs: Any
    ) -> None:
        super().__init__(base_url, **kwargs)
        self._clock = clock

    def error_for(self, response: httpx.Response) -> PlatformError | None:
        status = response.status_code
        if 200 <= status < 300:
            return None
        problem = XProblem.of(response)
        code = problem.code
        reason = problem.reason or f"HTTP {status}"
        details: dict[str, Any] = {"platform": self.platform, "status": status, "code": code}
        if status == 429:
            return RateLimited(reason, retry_after=self._retry_after(response), **details)
        if status >= 500 or status == 408:
            return TransientPlatformError(reason, **details)
        if status == 401:
            return AuthenticationFailed(reason, **details)
        if code == DMS_CLOSED_CODE or _has(reason, _DMS_CLOSED_WORDS):
            return RecipientUnavailable(reason, **details)
        if code == DUPLICATE_CODE or _has(reason, _DUPLICATE_WORDS):
            return DuplicateContent(reason, **details)
        if status == 403 and _has(reason, _NOT_SUMMONED_WORDS):
            return PermanentPlatformError(reason, **details)
        return InvalidRequest(reason, **details)

    def _retry_after(self, response: httpx.Response) -> float:
        try:
            reset = float(response.headers["x-rate-limit-reset"])
        except (KeyError, ValueError):
            return DEFAULT_RETRY_AFTER
        return max(0.0, reset - self._clock())

    async def create_tweet(self, token: str, text: str, *, in_reply_to: str) -> str | None:
        """Posts ``text`` as a reply to tweet ``in_reply_to``; returns the new tweet's id."""
        response = await self.call(
            "tweet",
            "POST",
            "/2/tweets",
            json={"text": text, "reply": {"in_reply_to_tweet_id": in_reply_to}},
            headers=_bearer(token),
        )
        return _created(response, _TweetCreated).id

    async def send_dm(self, token: str, participant_id: str, text: str) -> str | None:
        """Sends ``text`` to ``participant_id`` in a one-to-one DM; returns the DM event id."""
        response = await self.call(
            "dm",
            "POST",
            f"/2/dm_conversations/with/{participant_id}/messages",
            json={"text": text},
            headers=_bearer(token),
        )
        return _created(response, _DmSent).dm_event_id


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _created(response: httpx.Response, model: type[_Answer]) -> _Answer:
    # The message went out whatever the body says: a body we cannot read costs only its id.
    try:
        return model.parse_obj(_Created.parse_obj(response.json()).data)
    except (ValueError, ValidationError):
        return model()
