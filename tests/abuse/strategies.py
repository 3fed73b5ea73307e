"""Hypothesis strategies of hostile input: bytes, JSON, and mutations of real deliveries.

``mutated(seed)`` draws a valid delivery and breaks it the way a buggy or hostile sender would:
fields removed, values of the wrong type, nulls, huge or strange strings, deep nesting, numbers
as strings and strings as numbers, unknown fields, repeated items. ``encode`` writes the result
as the platforms do (ASCII, non-ASCII escaped); deep nesting is spliced in as text, since
``json.dumps`` itself cannot write what is nested deeper than Python's recursion limit.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = [
    "FUZZ",
    "ON_SQLITE",
    "Deep",
    "arbitrary_json",
    "encode",
    "hostile_text",
    "mutated",
    "weird_value",
]

# Stable in CI (the same examples every run), no example database, no per-example deadline:
# the store is real and PostgreSQL's first statements are slower than the rest.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# For tests where the database is not the point: SQLite alone (the store fixture runs both).
ON_SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)

# Keys and values the parsers look for: arbitrary JSON built from them reaches past the
# envelope checks instead of stopping at the first one.
_KEYS = (
    "object",
    "entry",
    "id",
    "time",
    "messaging",
    "standby",
    "changes",
    "sender",
    "recipient",
    "message",
    "mid",
    "text",
    "postback",
    "payload",
    "referral",
    "ref",
    "field",
    "value",
    "item",
    "verb",
    "from",
    "comment_id",
    "post_id",
    "for_user_id",
    "tweet_create_events",
    "direct_message_events",
    "id_str",
    "user",
    "users",
    "type",
    "message_create",
    "sender_id",
    "message_data",
    "data",
    "event_type",
    "filter",
    "user_id",
    "created_at",
    "timestamp_ms",
    "created_timestamp",
)
_VALUES = (
    "page",
    "feed",
    "comment",
    "add",
    "message_create",
    "post.mention.create",
    "dm.received",
    "100200300400500",
    "2244994945",
    "1205290247124217856",
    "6543210987654321",
)

# Characters that break naive code: NUL, a lone surrogate, right-to-left override, a combining
# mark, an emoji outside the BMP, a line separator, the replacement character itself.
_STRANGE = ("\x00", "\ud800", "\udfff", "\u202e", "\u0301", "\U0001f600", "\u2028", "\ufffd", ":")

hostile_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()) | st.sampled_from(_STRANGE),
    max_size=40,
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
    | st.sampled_from(_VALUES)
)

arbitrary_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | hostile_text, children, max_size=5)
    ),
    max_leaves=30,
)


@dataclass(frozen=True)
class Deep:
    """A value nested ``depth`` lists deep, written by ``encode``."""

    depth: int


# Values that have broken parsers before: ids that cannot name a conversation or be stored,
# times out of any calendar, numbers JSON allows and floats do not.
_HOSTILE = (
    [],
    {},
    0,
    -1,
    2**63,
    10**30,
    -(10**30),
    1e308,
    -1e308,
    "",
    " ",
    "null",
    "0",
    "1e999",
    "a:b",
    "9" * 30,
    "-" + "9" * 30,
    "m_\x00",
    "m_\ud800",
    "9" * 300,
    "Thu Jan 01 00:10:00 +0000 99999",
    "2026-13-45T99:99:99Z",
)

weird_value = st.one_of(
    _scalars,
    st.sampled_from(_HOSTILE),
    st.sampled_from(_HOSTILE),  # twice: they matter more than arbitrary scalars
    st.integers(min_value=1_000, max_value=60_000).map(lambda size: "\u00e9" * size),
    st.integers(min_value=1, max_value=5_000).map(lambda size: "9" * size),
    st.builds(Deep, st.integers(min_value=30, max_value=5_000)),
    st.lists(arbitrary_json, max_size=3),
    st.dictionaries(st.sampled_from(_KEYS), arbitrary_json, max_size=3),
)

Path = tuple[str | int, ...]


def _paths(value: Any, here: Path = ()) -> list[Path]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*here, index))
    return found


def _at(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def _parent(document: Any, path: Path) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


def _swapped(value: Any) -> Any:
    """A number as a string, a numeric string as a number, a bool as a string, else null."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return len(value)
    return None


def _mutate(document: Any, path: Path, operation: str, value: Any) -> Any:
    if not path:  # the whole delivery
        return value if operation in ("replace", "remove") else document
    parent, last = _parent(document, path), path[-1]
    if operation == "remove":
        del parent[last]
    elif operation == "replace":
        parent[last] = value
    elif operation == "swap":
        parent[last] = _swapped(parent[last])
    elif operation == "unknown field" and isinstance(parent[last], dict):
        parent[last][f"unknown_{len(parent[last])}"] = value
    elif operation == "repeat" and isinstance(parent, list):
        parent.insert(int(last), copy.deepcopy(parent[last]))
    elif operation == "wrap":
        parent[last] = [parent[last]]
    return document


@st.composite
def mutated(draw: st.DrawFn, seeds: Sequence[dict[str, Any]]) -> Any:
    """One of ``seeds``, broken in one to three places."""
    document: Any = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(document)
        leaves = [path for path in paths if not isinstance(_at(document, path), (dict, list))]
        # Mostly values (ids, texts, times: what the parsers read), sometimes whole structures.
        path = draw(
            st.sampled_from(leaves)
            if leaves and draw(st.integers(0, 3))
            else st.sampled_from(paths)
        )
        operation = draw(
            st.sampled_from(
                [
                    "replace",
                    "replace",
                    "replace",
                    "remove",
                    "swap",
                    "unknown field",
                    "repeat",
                    "wrap",
                ]
            )
        )
        document = _mutate(document, path, operation, draw(weird_value))
    return document


def encode(document: Any) -> bytes:
    """The bytes a platform would send: ASCII JSON, ``Deep`` values spliced in as text."""
    splices: dict[str, str] = {}

    def placeholder(value: Any) -> Any:
        if isinstance(value, Deep):
            token = f"__deep_{len(splices)}__"
            splices[json.dumps(token)] = "[" * value.depth + "]" * value.depth
            return token
        raise TypeError(type(value).__name__)

    text = json.dumps(document, ensure_ascii=True, default=placeholder)
    for token, nested in splices.items():
        text = text.replace(token, nested)
    return text.encode("ascii")
