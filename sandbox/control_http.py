"""The HTTP side of the control API (``/sandbox/api/...``): JSON in, JSON out, errors as 4xx.

Handlers raise ``ControlError`` (or ``UnknownPersona`` / ``ValueError`` from the world); ``control``
turns them into ``{"error": message}`` with 404 or 400, never a trace.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from sandbox.world import UnknownPersona

__all__ = ["ControlError", "control", "json_body", "required_text"]

logger = logging.getLogger(__name__)

RouteHandler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


class ControlError(Exception):
    """A control request we refuse: ``status`` and a message that says what is wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (empty when there is no body).

    Raises:
        ControlError: the body is not a JSON object.
    """
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except ValueError as exc:
        raise ControlError(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def required_text(data: dict[str, Any], name: str) -> str:
    """``data[name]`` as a non-empty string.

    Raises:
        ControlError: missing, empty or not a string.
    """
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(f"{name}: a non-empty string is required")
    return value


def control(handler: RouteHandler) -> RouteHandler:
    """Maps the control API's errors to JSON answers."""

    @functools.wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
        try:
            return await handler(request, *args, **kwargs)
        except UnknownPersona as exc:
            return json_response({"error": str(exc).strip("'\"")}, status=404)
        except ControlError as exc:
            return json_response({"error": str(exc)}, status=exc.status)
        except ValueError as exc:
            return json_response({"error": str(exc)}, status=400)

    return wrapped
