"""The workspace API's request bodies, parsed once at the edge into typed models.

A bad body is refused with ``InvalidInput`` naming every wrong field and what was expected;
unknown fields are refused too (a misspelt ``in_reply_to`` must not silently make a reply private).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, root_validator, validator

from bot.errors import InvalidInput

__all__ = [
    "CloseRequest",
    "CtaRequest",
    "LikeRequest",
    "ReplyRequest",
    "SignInRequest",
    "StatusRequest",
    "TransferRequest",
    "parse_body",
]

MAX_TEXT = 5000  # above every platform's limit: the platform refuses longer with its own reason

Model = TypeVar("Model", bound=BaseModel)


class _Body(BaseModel):
    class Config:
        extra = "forbid"
        anystr_strip_whitespace = True


class SignInRequest(_Body):
    """``POST /api/session``."""

    name: str = Field(..., min_length=1, max_length=64)
    password: str = Field(..., min_length=1, max_length=1024)


class StatusRequest(_Body):
    """``PUT /api/me/status``."""

    status: Literal["online", "offline"]


class ReplyRequest(_Body):
    """``POST /api/handoffs/<id>/reply``: in private, or in public under ``in_reply_to``."""

    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    visibility: Literal["private", "public"] = "private"
    in_reply_to: str | None = Field(None, min_length=1, max_length=255)
    mention: bool = False

    @root_validator(skip_on_failure=True)
    def _public_needs_a_target(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["visibility"] == "public" and not values.get("in_reply_to"):
            raise ValueError("in_reply_to: a public reply needs the id of the message it answers")
        if values["visibility"] == "private" and (values.get("in_reply_to") or values["mention"]):
            raise ValueError(
                "visibility: in_reply_to and mention are for public replies; "
                'set "visibility": "public"'
            )
        return values


class CtaRequest(_Body):
    """``POST /api/handoffs/<id>/cta``: the invitation under a public message."""

    in_reply_to: str = Field(..., min_length=1, max_length=255)


class LikeRequest(_Body):
    """``POST /api/handoffs/<id>/like``."""

    object_id: str = Field(..., min_length=1, max_length=255)


class TransferRequest(_Body):
    """``POST /api/handoffs/<id>/transfer``."""

    skill: str = Field(..., min_length=1, max_length=64)
    note: str | None = Field(None, max_length=1000)

    @validator("note")
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class CloseRequest(_Body):
    """``POST /api/handoffs/<id>/close``."""

    closing_question: bool = True


def _problems(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"] if part != "__root__")
        message = str(item["msg"])
        if item["type"] == "value_error.extra":
            message = "unknown field"
        problems.append(f"{location}: {message}" if location else message)
    return problems


def parse_body(model: type[Model], body: bytes | None, *, optional: bool = False) -> Model:
    """The JSON ``body`` as ``model``.

    Args:
        optional: an empty body means ``{}`` (every field's default).

    Raises:
        InvalidInput: not JSON, not an object, or wrong fields; the message names each.
    """
    if not body:
        if not optional:
            raise InvalidInput("expected a JSON object", field="body")
        data: Any = {}
    else:
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"not JSON ({exc.msg} at character {exc.pos})", field="body"
            ) from exc
        except UnicodeDecodeError as exc:
            raise InvalidInput("not UTF-8 text", field="body") from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"expected a JSON object, got {type(data).__name__}", field="body")
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        raise InvalidInput("; ".join(_problems(exc))) from exc
