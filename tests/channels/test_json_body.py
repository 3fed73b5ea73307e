"""``load_json``: the one reader of webhook JSON, and what it refuses or makes storable."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import MalformedPayload
from channels.json_body import MAX_DEPTH, load_json


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"text": "hi \\ud83d\\ude00"}', {"text": "hi \U0001f600"}),  # a pair: one emoji
        (b'{"text": "a\\u0000b"}', {"text": "a\ufffdb"}),
        (
            b'{"te\\u0000xt": ["\\ud800", {"k": "\\udfff"}]}',
            {"te\ufffdxt": ["\ufffd", {"k": "\ufffd"}]},
        ),
        (b'"\\u0000"', "\ufffd"),
        (b"[1.5, -2, 12345678901234567890]", [1.5, -2, 12345678901234567890]),
        (nested(MAX_DEPTH), nested_list(MAX_DEPTH)),
    ],
    ids=["surrogate pair", "nul", "nul key, lone surrogates", "bare string", "numbers", "deepest"],
)
def test_json_is_read_with_unstorable_characters_replaced(body: bytes, expected: Any) -> None:
    assert load_json(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{oops", "the body is not JSON: Expecting property name"),
        (b"\xff\xfe\x00", "the body is not JSON"),
        (b"", "the body is not JSON"),
        (b'{"a": NaN}', "the body is not JSON: NaN is not a JSON number"),
        (b"[-Infinity]", "the body is not JSON: -Infinity is not a JSON number"),
        (b"[1e999]", "the body is not JSON: the number 1e999 is too large"),
        (b"[" + b"9" * 5000 + b"]", "the body is not JSON"),
        (nested(MAX_DEPTH + 1), f"the body is nested deeper than {MAX_DEPTH} levels"),
        (nested(100_000), f"the body is nested deeper than {MAX_DEPTH} levels"),
        (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "nested deeper"),
    ],
    ids=[
        "not json",
        "not utf-8",
        "empty",
        "nan",
        "infinity",
        "float overflow",
        "huge integer",
        "one level too deep",
        "far too deep for the parser",
        "deep objects",
    ],
)
def test_what_is_not_plain_json_is_refused_saying_why(body: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message) as refused:
        load_json(body)

    assert refused.value.status == 400
