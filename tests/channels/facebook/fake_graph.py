"""A fake Graph API on ``httpx.MockTransport``: records every request, answers like Meta does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.channels.facebook.factories import PSID


@dataclass(frozen=True)
class GraphCall:
    """One request the fake received."""

    method: str
    path: str  # without the version prefix: "/100200300400500/messages"
    params: dict[str, str]
    body: dict[str, Any] | None


def graph_error(
    code: int,
    subcode: int | None = None,
    *,
    status: int = 400,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A Graph API error answer."""
    error: dict[str, Any] = {"message": f"error {code}", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "Abc123"
    return httpx.Response(status, json={"error": error}, headers=headers)


class FakeGraph:
    """Answers Send API, comment, like and profile calls; ``fail_next`` scripts errors (an error
    answer, or an exception such as ``httpx.ReadTimeout`` raised as the transport would)."""

    def __init__(self, version: str = "v19.0") -> None:
        self.version = version
        self.calls: list[GraphCall] = []
        self._scripted: list[tuple[str, httpx.Response | Exception]] = []
        self.transport = httpx.MockTransport(self._handle)

    def fail_next(self, path_suffix: str, *answers: httpx.Response | Exception) -> None:
        """The next calls whose path ends with ``path_suffix`` get ``answers``, in order."""
        self._scripted.extend((path_suffix, answer) for answer in answers)

    def of(self, path_suffix: str) -> list[GraphCall]:
        """The calls whose path ends with ``path_suffix``."""
        return [call for call in self.calls if call.path.endswith(path_suffix)]

    def sent_messages(self) -> list[dict[str, Any]]:
        """The bodies of Send API calls that carried a message (not sender actions)."""
        return [call.body for call in self.of("/messages") if call.body and "message" in call.body]

    def _handle(self, request: httpx.Request) -> httpx.Response:
        prefix = f"/{self.version}"
        assert request.url.path.startswith(prefix), request.url.path
        path = request.url.path[len(prefix) :]
        body = json.loads(request.content) if request.content else None
        self.calls.append(GraphCall(request.method, path, dict(request.url.params), body))
        for index, (suffix, answer) in enumerate(self._scripted):
            if path.endswith(suffix):
                del self._scripted[index]
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return self._default(request.method, path, body)

    def _default(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        number = len(self.calls)
        if path.endswith("/messages"):
            recipient = (body or {}).get("recipient", {})
            if "sender_action" in (body or {}):
                return httpx.Response(200, json={"recipient_id": recipient.get("id")})
            # A Private Reply is answered with the commenter's PSID.
            return httpx.Response(
                200,
                json={"recipient_id": recipient.get("id", PSID), "message_id": f"m_sent{number}"},
            )
        if path.endswith("/comments"):
            return httpx.Response(200, json={"id": f"{path.split('/')[1]}_reply{number}"})
        if path.endswith("/likes"):
            return httpx.Response(200, json={"success": True})
        if method == "GET":
            return httpx.Response(
                200,
                json={
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "profile_pic": "https://cdn.test/j",
                },
            )
        return httpx.Response(404, json={"error": {"message": "unknown path", "code": 803}})
