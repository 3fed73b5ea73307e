"""``MetricsInput``: the Prometheus ``/metrics`` endpoint on the Rasa server.

Keyed in ``credentials.yml`` as ``channels.metrics.MetricsInput:``. Rasa mounts an input channel's
routes under ``/webhooks/<prefix>``; this one's prefix is ``/``, so the endpoint is ``/metrics``
where Prometheus looks by default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.handoffs import HandoffStore
from bot.inbox import Inbox
from bot.metrics import REGISTRY, watch_handoffs, watch_inbox
from bot.runtime import handoff_store, shared_inbox

__all__ = ["MetricsInput"]


class MetricsInput(InputChannel):
    """Serves the process's metrics in the Prometheus text format."""

    def __init__(
        self,
        endpoints: Path = Path("endpoints.yml"),
        inbox: Callable[[], Inbox] | None = None,
        handoffs: Callable[[], HandoffStore] | None = None,
    ) -> None:
        self._inbox = inbox or (lambda: shared_inbox(endpoints))
        self._handoffs = handoffs or (lambda: handoff_store(endpoints))

    @classmethod
    def name(cls) -> str:
        """The channel's name in Rasa."""
        return "metrics"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MetricsInput:
        """Nothing to configure."""
        return cls()

    def url_prefix(self) -> str:
        """``/``: Rasa joins it to ``/webhooks/``, which puts the routes at the root."""
        return "/"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /metrics``."""
        metrics = Blueprint("social_metrics", __name__)
        inbox, handoffs = self._inbox, self._handoffs

        @metrics.listener("after_server_start")
        async def watch(_app: Any, _loop: Any) -> None:
            watch_inbox(inbox)
            watch_handoffs(handoffs)

        @metrics.route("/metrics", methods=["GET"])
        async def scrape(_request: Request) -> HTTPResponse:
            # The inbox gauges query the store: off the event loop.
            body = await asyncio.to_thread(generate_latest, REGISTRY)
            return response.raw(body, content_type=CONTENT_TYPE_LATEST)

        return metrics
