"""The platforms' error answers, raised by the API handlers and rendered in one place.

``GraphError``: HTTP 400 (or 5xx) ``{"error": {"message", "type", "code", "error_subcode"?,
"fbtrace_id"}}``. ``XProblem``: ``application/problem+json`` ``{"title", "detail", "type",
"status"}`` plus ``errors`` where X adds them. ``injected_error`` builds the answer of an injected
fault of either platform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError",
    "GraphError",
    "XProblem",
    "dms_closed",
    "graph_unknown_object",
    "injected_error",
]


@dataclass
class ApiError(Exception):
    """An error answer: HTTP status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode("utf-8")


class GraphError(ApiError):
    """A Graph API error (``OAuthException``)."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        headers: dict[str, str] | None = None,
        error_type: str = "OAuthException",
        fbtrace_id: str = "AbCdEfGhIjK",
    ) -> None:
        error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        error["fbtrace_id"] = fbtrace_id
        super().__init__(status, {"error": error}, headers or {})

    @property
    def code(self) -> int:
        return int(self.body["error"]["code"])


class XProblem(ApiError):
    """An X API v2 problem."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        problem_type: str = "about:blank",
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "title": title,
            "detail": detail,
            "type": problem_type,
            "status": status,
        }
        if errors is not None:
            body["errors"] = errors
        super().__init__(status, body, headers or {}, "application/problem+json")


def graph_unknown_object(object_id: str, method: str = "post") -> GraphError:
    """Graph's answer for an id that does not exist (or is not reachable with this token)."""
    return GraphError(
        100,
        f"Unsupported {method} request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        error_type="GraphMethodException",
    )


_GRAPH_RATE_LIMITS = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


def _graph_usage_headers(reset_after_s: float, page_id: str) -> dict[str, str]:
    minutes = max(1, round(reset_after_s / 60))
    usage = {"call_count": 100, "total_cputime": 100, "total_time": 100}
    business = {page_id: [{"type": "pages", **usage, "estimated_time_to_regain_access": minutes}]}
    return {"x-app-usage": json.dumps(usage), "x-business-use-case-usage": json.dumps(business)}


def _graph_injected(error: str, reset_after_s: float, page_id: str) -> ApiError:
    if error.startswith("fb_rate_limit_"):
        code = int(error.rsplit("_", 1)[1])
        return GraphError(
            code, _GRAPH_RATE_LIMITS[code], headers=_graph_usage_headers(reset_after_s, page_id)
        )
    simple = {
        "http_500": GraphError(1, "An unknown error has occurred.", status=500),
        "http_503": GraphError(2, "(#2) Service temporarily unavailable", status=503),
        "fb_window_2018278": GraphError(
            10, "(#10) This message is sent outside of allowed window.", subcode=2018278
        ),
        "fb_unavailable_551": GraphError(
            551, "(#551) This person isn't available right now.", subcode=1545041
        ),
        "fb_token_190": GraphError(
            190, "Error validating access token: Session has expired.", subcode=463
        ),
    }
    return simple[error]


def _x_injected(error: str, reset_at: int) -> ApiError:
    if error == "x_rate_limit_429":
        headers = {
            "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset_at),
        }
        return XProblem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    if error == "x_dms_closed_349":
        return dms_closed()
    if error == "http_503":
        return XProblem(503, "Service Unavailable", "Service Unavailable")
    return XProblem(500, "Internal Server Error", "Internal Server Error")


def dms_closed() -> XProblem:
    """403 code 349: the person does not accept DMs from the brand."""
    return XProblem(
        403,
        "Forbidden",
        "You cannot send messages to this user.",
        errors=[{"code": 349, "message": "You cannot send messages to this user."}],
    )


def injected_error(
    error: str, platform: str, *, now: float, reset_after_s: float, page_id: str, fbtrace_id: str
) -> ApiError:
    """The answer of an injected ``error`` on an endpoint of ``platform``."""
    if platform == "facebook":
        answer = _graph_injected(error, reset_after_s, page_id)
        answer.body["error"]["fbtrace_id"] = fbtrace_id
        return answer
    return _x_injected(error, int(now + reset_after_s))
