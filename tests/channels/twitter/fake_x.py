"""A fake X API v2 behind ``httpx.MockTransport``: records every call, answers like X does."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    authorization: str | None
    body: dict[str, Any]


@dataclass
class FakeX:
    """Answers ``POST /2/tweets`` and DMs with new ids; ``fail_next`` queues error answers,
    ``answer_next`` any answers, or exceptions (``httpx.ReadTimeout``) raised like a transport."""

    calls: list[Call] = field(default_factory=list)
    failures: list[httpx.Response | Exception] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1875000000000000001))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def fail_next(self, status: int, body: dict[str, Any], **headers: str) -> None:
        self.failures.append(httpx.Response(status, json=body, headers=headers))

    def answer_next(self, *answers: httpx.Response | Exception) -> None:
        self.failures.extend(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        self.calls.append(
            Call(request.method, request.url.path, request.headers.get("authorization"), body)
        )
        if self.failures:
            answer = self.failures.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        new_id = str(next(self._ids))
        if request.url.path == "/2/tweets":
            return httpx.Response(201, json={"data": {"id": new_id, "text": body["text"]}})
        if request.url.path.startswith("/2/dm_conversations/with/"):
            return httpx.Response(
                201, json={"data": {"dm_conversation_id": "1-2", "dm_event_id": new_id}}
            )
        return httpx.Response(404, json={"title": "Not Found", "detail": "no such endpoint"})

    def texts(self) -> list[str]:
        return [call.body["text"] for call in self.calls]
