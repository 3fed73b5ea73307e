"""What the sandbox records, as the server keeps it and as ``SandboxClient`` reads it back.

One set of dataclasses for both sides: ``as_json()`` on the server, ``from_json()`` in the client.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "FACEBOOK_ENDPOINTS",
    "FAULT_ERRORS",
    "X_ENDPOINTS",
    "ActionResult",
    "ApiCall",
    "Attempt",
    "BurstResult",
    "Delivery",
    "Fault",
    "HandshakeStatus",
]

FACEBOOK_ENDPOINTS = (
    "facebook.messages",
    "facebook.comments",
    "facebook.likes",
    "facebook.profile",
)
X_ENDPOINTS = ("x.tweets", "x.dm")
# Each injectable error, and the platform it belongs to (None: both).
FAULT_ERRORS: dict[str, str | None] = {
    "http_500": None,
    "http_503": None,
    "timeout": None,
    "fb_rate_limit_4": "facebook",
    "fb_rate_limit_17": "facebook",
    "fb_rate_limit_32": "facebook",
    "fb_rate_limit_613": "facebook",
    "fb_window_2018278": "facebook",
    "fb_unavailable_551": "facebook",
    "fb_token_190": "facebook",
    "x_rate_limit_429": "x",
    "x_dms_closed_349": "x",
}


@dataclass
class ApiCall:
    """One call our code made to the sandbox's Graph or X API, and what it answered."""

    seq: int
    at: float
    platform: str
    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    response: Any

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ApiCall:
        return cls(**data)


@dataclass
class Attempt:
    """One try of a webhook delivery: the answer's status (None: no answer) and how long it took."""

    number: int
    at: float
    status: int | None
    elapsed_ms: float
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Delivery:
    """One webhook delivery with every attempt; ``outcome``: pending, retrying, delivered, gone."""

    id: str
    seq: int
    platform: str
    kind: str
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: list[Attempt] = field(default_factory=list)
    outcome: str = "pending"

    def json_body(self) -> Any:
        """The delivered body, parsed."""
        return json.loads(self.body)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seq": self.seq,
            "platform": self.platform,
            "kind": self.kind,
            "url": self.url,
            "headers": self.headers,
            "body": self.json_body(),
            "raw": self.body.decode("utf-8"),
            "attempts": [attempt.as_json() for attempt in self.attempts],
            "outcome": self.outcome,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        return cls(
            id=data["id"],
            seq=data["seq"],
            platform=data["platform"],
            kind=data["kind"],
            url=data["url"],
            body=data["raw"].encode("utf-8"),
            headers=data["headers"],
            attempts=[Attempt(**attempt) for attempt in data["attempts"]],
            outcome=data["outcome"],
        )


@dataclass
class Fault:
    """An injected delay and/or error on one API endpoint (``*``: all)."""

    id: int
    endpoint: str
    delay_ms: int = 0
    error: str | None = None
    count: int | None = None  # answers left; None: until cleared
    reset_after_s: float = 60.0
    hang_s: float = 30.0  # how long a "timeout" holds the request before a 504

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        return cls(**data)

    def applies_to(self, endpoint: str) -> bool:
        """Whether this fault hits a call of ``endpoint`` (platform errors stay on theirs)."""
        if self.count is not None and self.count <= 0:
            return False
        platform = endpoint.split(".", 1)[0]
        if FAULT_ERRORS.get(self.error or "") not in (None, platform):
            return False
        return self.endpoint in ("*", endpoint)


@dataclass
class HandshakeStatus:
    """The verification handshake with one webhook: pending until it answers correctly, then ok."""

    platform: str
    url: str
    state: str = "pending"
    attempts: int = 0
    last_error: str | None = None
    verified_at: float | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HandshakeStatus:
        return cls(**data)


@dataclass
class ActionResult:
    """What a consumer action created and the deliveries it queued (first: ``delivery_id``)."""

    kind: str
    delivery_id: str | None
    delivery_ids: list[str]
    body: Any
    outcome: str | None
    ids: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ActionResult:
        common = {"kind", "delivery_id", "delivery_ids", "body", "outcome"}
        return cls(
            kind=data["kind"],
            delivery_id=data["delivery_id"],
            delivery_ids=data["delivery_ids"],
            body=data["body"],
            outcome=data["outcome"],
            ids={name: value for name, value in data.items() if name not in common},
        )

    def _id(self, name: str) -> str:
        value = self.ids.get(name)
        if not isinstance(value, str):
            raise AttributeError(f"a {self.kind} action has no {name}")
        return value

    @property
    def mid(self) -> str:
        return self._id("mid")

    @property
    def psid(self) -> str:
        return self._id("psid")

    @property
    def comment_id(self) -> str:
        return self._id("comment_id")

    @property
    def post_id(self) -> str:
        return self._id("post_id")

    @property
    def tweet_id(self) -> str:
        return self._id("tweet_id")

    @property
    def dm_event_id(self) -> str:
        return self._id("dm_event_id")

    @property
    def events(self) -> list[dict[str, str]]:
        """The ids of each event of a batch."""
        events: list[dict[str, str]] = self.ids.get("events", [])
        return events


@dataclass
class BurstResult:
    """What a burst created (each event's ids, as its single action answers them) and the
    deliveries it queued, one per event (more with ``duplicate``), in order."""

    events: list[dict[str, Any]]
    delivery_ids: list[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BurstResult:
        return cls(events=data["events"], delivery_ids=data["delivery_ids"])
