"""``load_json``: a webhook body's JSON, read once and made safe for everything below the edge.

Python's ``json`` accepts more than JSON and more than the store can hold. Read here, a body:

- nested deeper than ``MAX_DEPTH`` levels is refused (real deliveries nest about ten; deeper
  ones would exhaust the stack in the parser or when the event is written back as JSON);
- holding ``NaN``, ``Infinity`` or a number too large for a float is refused (not JSON, and
  PostgreSQL's JSON refuses them);
- has NUL characters and lone UTF-16 surrogates (``"\\ud800"``) in its strings and keys replaced
  by U+FFFD: no platform sends them in text or ids, and neither PostgreSQL nor SQLite can store
  them in a text column.

Every refusal is a ``MalformedPayload`` (400) that says what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bot.errors import MalformedPayload

__all__ = ["MAX_DEPTH", "json_type", "load_json"]

MAX_DEPTH = 64

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# In the raw body, what can become such a character once parsed: a NUL byte, or an escape of NUL
# or of a surrogate. A body without any, and with fewer brackets than the depth limit, needs no
# walk through its strings (nearly every delivery).
_MAY_BE_UNSTORABLE = re.compile(rb"\x00|\\u(?:0000|[dD][89a-fA-F])")
_REPLACEMENT = "\ufffd"


def _constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


def _text(value: str) -> str:
    return _UNSTORABLE.sub(_REPLACEMENT, value) if _UNSTORABLE.search(value) else value


def _cleaned(document: Any) -> Any:
    """``document`` with its strings made storable, checked for depth without recursion."""
    if isinstance(document, str):
        return _text(document)
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        container, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedPayload(f"the body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(container, dict):
            if any(_UNSTORABLE.search(key) for key in container):
                items = list(container.items())
                container.clear()
                container.update((_text(key), value) for key, value in items)
            keys: list[Any] = list(container)
        elif isinstance(container, list):
            keys = list(range(len(container)))
        else:
            continue
        for key in keys:
            value = container[key]
            if isinstance(value, str):
                container[key] = _text(value)
            elif isinstance(value, (dict, list)):
                stack.append((value, depth + 1))
    return document


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (``object``, ``array``, ``null``...), for errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def load_json(body: bytes) -> Any:
    """The JSON document of ``body``, made safe to parse further and to store.

    Raises:
        MalformedPayload: not JSON, non-standard numbers, or nested too deeply; says which.
    """
    try:
        document = json.loads(body, parse_constant=_constant, parse_float=_finite)
    except RecursionError as exc:
        raise MalformedPayload(f"the body is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:
        raise MalformedPayload(f"the body is not JSON: {exc}") from exc
    if body.count(b"{") + body.count(b"[") < MAX_DEPTH and not _MAY_BE_UNSTORABLE.search(body):
        return document
    return _cleaned(document)
