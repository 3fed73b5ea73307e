"""What every Graph and X API call goes through: token check, injected faults, recording.

The handlers themselves take an ``ApiRequest`` and return an ``ApiAnswer`` (or raise an
``ApiError``); ``serve`` wraps them and adapts to and from Sanic.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from sanic.request import Request
from sanic.response import HTTPResponse, raw

from sandbox.api_errors import ApiError, GraphError, XProblem, injected_error
from sandbox.core import Sandbox
from sandbox.world import PAGE_ID

__all__ = ["ApiAnswer", "ApiRequest", "Handler", "serve"]

logger = logging.getLogger(__name__)


@dataclass
class ApiRequest:
    """One API call, parsed: JSON body, form body or query parameters all land in ``params``."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApiAnswer:
    """A successful answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[ApiRequest], ApiAnswer]


def _parse(request: Request) -> ApiRequest:
    query = dict(parse_qsl(request.query_string, keep_blank_values=True))
    headers = {name.lower(): value for name, value in request.headers.items()}
    body: Any = None
    if request.body:
        text = request.body.decode("utf-8", errors="replace")
        if "json" in headers.get("content-type", "") or text.lstrip().startswith(("{", "[")):
            try:
                body = json.loads(text)
            except ValueError:
                body = text
        else:
            body = dict(parse_qsl(text, keep_blank_values=True))
    params: dict[str, Any] = dict(query)
    if isinstance(body, dict):
        params.update(body)
    return ApiRequest(request.method, request.path, query, headers, body, params)


def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    return value[7:] if value.lower().startswith("bearer ") else None


def _authenticate(sandbox: Sandbox, platform: str, call: ApiRequest) -> None:
    if platform == "facebook":
        token = call.query.get("access_token") or _bearer(call.headers)
        if token is None or not secrets.compare_digest(
            token, sandbox.config.facebook_page_access_token
        ):
            raise GraphError(
                190,
                "Invalid OAuth access token - Cannot parse access token",
                fbtrace_id=sandbox.ids.fbtrace(),
            )
        return
    token = _bearer(call.headers)
    if token is None or not secrets.compare_digest(token, sandbox.config.x_access_token):
        raise XProblem(401, "Unauthorized", "Unauthorized")


async def _answer(
    sandbox: Sandbox, platform: str, endpoint: str, call: ApiRequest, handler: Handler
) -> ApiAnswer | ApiError:
    try:
        _authenticate(sandbox, platform, call)
        fault = sandbox.take_fault(endpoint)
        if fault is not None:
            await asyncio.sleep(fault.delay_ms / 1000)
            if fault.error == "timeout":
                await asyncio.sleep(fault.hang_s)
                fault_error = "http_503" if platform == "x" else "http_500"
                answer = injected_error(
                    fault_error,
                    platform,
                    now=time.time(),
                    reset_after_s=0,
                    page_id=PAGE_ID,
                    fbtrace_id=sandbox.ids.fbtrace(),
                )
                answer.status = 504
                return answer
            if fault.error is not None:
                return injected_error(
                    fault.error,
                    platform,
                    now=time.time(),
                    reset_after_s=fault.reset_after_s,
                    page_id=PAGE_ID,
                    fbtrace_id=sandbox.ids.fbtrace(),
                )
        return handler(call)
    except GraphError as error:
        error.body["error"]["fbtrace_id"] = sandbox.ids.fbtrace()
        return error
    except ApiError as error:
        return error


async def serve(
    sandbox: Sandbox, request: Request, platform: str, endpoint: str, handler: Handler
) -> HTTPResponse:
    """Answers one API call with ``handler``, after the token check and any injected fault."""
    call = _parse(request)
    outcome = await _answer(sandbox, platform, endpoint, call, handler)
    if isinstance(outcome, ApiError):
        status, body, headers = outcome.status, outcome.body, outcome.headers
        content_type = outcome.content_type
    else:
        status, body, headers = outcome.status, outcome.body, outcome.headers
        content_type = "application/json"
    sandbox.record_call(
        platform=platform,
        endpoint=endpoint,
        method=call.method,
        path=call.path,
        query={name: value for name, value in call.query.items() if name != "access_token"},
        body=call.body,
        status=status,
        response=body,
    )
    return raw(
        json.dumps(body).encode("utf-8"), status=status, headers=headers, content_type=content_type
    )
