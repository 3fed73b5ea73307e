"""``GraphClient``: the Graph API calls of the Facebook channel, and the one map of its errors.

Every call acts as a page, with that page's access token as the ``access_token`` query
parameter (never logged: ``PlatformClient`` logs the kind, status and time only). Graph errors
are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``; ``error_for``
maps them, first by code (``GRAPH_ERRORS``), then by HTTP status::

    code / subcode          → bot.errors
    1, 2, HTTP 5xx          → TransientPlatformError   (retried with backoff)
    4, 17, 32, 613, HTTP 429→ RateLimited              (retried after the usage headers' wait)
    10 / 2018278            → OutsideMessagingWindow
    10 / 2018300            → ThreadOwnedElsewhere
    551                     → RecipientUnavailable
    190, HTTP 401           → AuthenticationFailed
    100, other 4xx          → InvalidRequest
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bot.errors import (
    AuthenticationFailed,
    InvalidRequest,
    OutsideMessagingWindow,
    PlatformError,
    RateLimited,
    RecipientUnavailable,
    ThreadOwnedElsewhere,
    TransientPlatformError,
)
from channels.platform_client import PlatformClient

__all__ = [
    "DEFAULT_RATE_LIMIT_WAIT",
    "GRAPH_ERRORS",
    "NO_PROFILE_SUBCODE",
    "GraphClient",
    "Profile",
    "SendResult",
    "rate_limit_wait",
]

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT_WAIT = 30.0  # seconds, when the usage headers do not say
NO_PROFILE_SUBCODE = 2018218  # "no profile available for this user" (EU / Japan restrictions)
USAGE_HEADERS = ("x-business-use-case-usage", "x-app-usage", "x-page-usage")
PROFILE_FIELDS = "first_name,last_name,profile_pic"

# (code, subcode or None for any) → the error; the first matching row wins.
GRAPH_ERRORS: tuple[tuple[int, int | None, type[PlatformError]], ...] = (
    (1, None, TransientPlatformError),
    (2, None, TransientPlatformError),
    (4, None, RateLimited),
    (17, None, RateLimited),
    (32, None, RateLimited),
    (613, None, RateLimited),
    (10, 2018278, OutsideMessagingWindow),
    (10, 2018300, ThreadOwnedElsewhere),
    (551, None, RecipientUnavailable),
    (190, None, AuthenticationFailed),
    (100, None, InvalidRequest),
)


@dataclass(frozen=True)
class SendResult:
    """The Send API's answer: who got it (the PSID, also for a Private Reply) and its id."""

    recipient_id: str | None
    message_id: str | None


@dataclass(frozen=True)
class Profile:
    """What the Graph API tells of a Messenger consumer; any field may be missing."""

    first_name: str | None = None
    last_name: str | None = None
    profile_pic: str | None = None

    @property
    def name(self) -> str | None:
        """The full name, as far as it is known."""
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


def _usage_waits(value: Any) -> list[float]:
    if isinstance(value, Mapping):
        waits = [float(v) for k, v in value.items() if k == "estimated_time_to_regain_access"]
        return waits + [wait for item in value.values() for wait in _usage_waits(item)]
    if isinstance(value, list):
        return [wait for item in value for wait in _usage_waits(item)]
    return []


def rate_limit_wait(headers: Mapping[str, str]) -> float:
    """Seconds to wait per the usage headers' ``estimated_time_to_regain_access`` (minutes)."""
    minutes: list[float] = []
    for name in USAGE_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        try:
            minutes.extend(_usage_waits(json.loads(raw)))
        except (ValueError, TypeError):
            logger.debug("unreadable %s header ignored", name)
    longest = max(minutes, default=0.0)
    return longest * 60.0 if longest > 0 else DEFAULT_RATE_LIMIT_WAIT


def _error_fields(response: httpx.Response) -> tuple[str, int | None, int | None]:
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, Mapping):
        error = {}
    code, subcode = error.get("code"), error.get("error_subcode")
    message = str(error.get("message") or f"HTTP {response.status_code}")
    return (
        message,
        code if isinstance(code, int) else None,
        subcode if isinstance(subcode, int) else None,
    )


class _TtlCache:
    """A small LRU cache whose entries expire (profiles: the picture URL expires too)."""

    def __init__(self, ttl: float, size: int, clock: Callable[[], float]) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, Profile | None]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[bool, Profile | None]:
        found = self._entries.get(key)
        if found is None or found[0] <= self._clock():
            self._entries.pop(key, None)
            return False, None
        self._entries.move_to_end(key)
        return True, found[1]

    def put(self, key: tuple[str, str], value: Profile | None) -> None:
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


class GraphClient(PlatformClient):
    """The Graph API of one app, under ``<graph_url>/<version>``, acting as its pages.

    Args:
        graph_url: the Graph API root (``https://graph.facebook.com`` or the sandbox's).
        version: the Graph API version, e.g. ``v19.0``.
        profile_ttl: seconds a fetched profile (or its absence) is reused.
        clock: monotonic seconds (tests pass a fake one).
        **kwargs: ``PlatformClient`` options (transport, retry, sleep, timeout).
    """

    platform = "facebook"

    def __init__(
        self,
        graph_url: str,
        version: str,
        *,
        profile_ttl: float = 3600.0,
        profile_cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        **kwargs: Any,
    ) -> None:
        super().__init__(f"{graph_url.rstrip('/')}/{version}", **kwargs)
        self._profiles = _TtlCache(profile_ttl, profile_cache_size, clock)

    def error_for(self, response: httpx.Response) -> PlatformError | None:
        """The error a Graph answer means, or None for a success."""
        if response.is_success:
            return None
        message, code, subcode = _error_fields(response)
        status = response.status_code
        error_class = self._error_class(status, code, subcode)
        fields: dict[str, Any] = {
            "platform": self.platform,
            "status": status,
            "code": code,
            "subcode": subcode,
        }
        if error_class is RateLimited:
            return RateLimited(message, retry_after=rate_limit_wait(response.headers), **fields)
        return error_class(message, **fields)

    @staticmethod
    def _error_class(status: int, code: int | None, subcode: int | None) -> type[PlatformError]:
        for row_code, row_subcode, error_class in GRAPH_ERRORS:
            if code == row_code and row_subcode in (None, subcode):
                return error_class
        if status >= 500:
            return TransientPlatformError
        if status == 429:
            return RateLimited
        if status == 401:
            return AuthenticationFailed
        return InvalidRequest

    async def send(
        self, page_id: str, token: str, body: Mapping[str, Any], *, kind: str
    ) -> SendResult:
        """``POST /{page_id}/messages``: one Send API call (a message, a Private Reply...)."""
        response = await self.call(
            kind, "POST", f"/{page_id}/messages", json=body, params={"access_token": token}
        )
        answer = _json(response)
        return SendResult(
            recipient_id=_optional_str(answer.get("recipient_id")),
            message_id=_optional_str(answer.get("message_id")),
        )

    async def comment(self, object_id: str, token: str, text: str) -> str | None:
        """``POST /{object_id}/comments``: a public reply as the page; returns the comment id."""
        response = await self.call(
            "comment",
            "POST",
            f"/{object_id}/comments",
            json={"message": text},
            params={"access_token": token},
        )
        return _optional_str(_json(response).get("id"))

    async def like(self, object_id: str, token: str) -> None:
        """``POST /{object_id}/likes``: the page likes a comment or post."""
        await self.call("like", "POST", f"/{object_id}/likes", params={"access_token": token})

    async def profile(self, page_id: str, token: str, psid: str) -> Profile | None:
        """The consumer's name and picture (cached); None when the platform gives no profile.

        Raises:
            PlatformError: any other failure.
        """
        found, cached = self._profiles.get((page_id, psid))
        if found:
            return cached
        try:
            response = await self.call(
                "profile",
                "GET",
                f"/{psid}",
                params={"fields": PROFILE_FIELDS, "access_token": token},
            )
        except PlatformError as error:
            if NO_PROFILE_SUBCODE not in (error.code, error.subcode):
                raise
            logger.info("facebook profile of a consumer of page %s: not available", page_id)
            profile = None
        else:
            answer = _json(response)
            profile = Profile(
                first_name=_optional_str(answer.get("first_name")),
                last_name=_optional_str(answer.get("last_name")),
                profile_pic=_optional_str(answer.get("profile_pic")),
            )
        self._profiles.put((page_id, psid), profile)
        return profile


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)
