"""The sandbox's state and services: world, clock, calls, faults, deliveries, handshakes.

``Sandbox`` is the composition root the web handlers share. It signs and submits deliveries
(``deliver_facebook`` / ``deliver_x``) and records API calls; it knows nothing of HTTP frameworks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx

from sandbox.clock import Clock
from sandbox.config import SandboxConfig
from sandbox.deliveries import Deliverer, facebook_schedule, webhook_session, x_schedule
from sandbox.handshakes import Handshakes
from sandbox.ids import IdSource
from sandbox.records import ApiCall, Delivery, Fault
from sandbox.signing import facebook_json, facebook_signature_headers, x_json, x_signature_headers
from sandbox.world import World, seeded_world

__all__ = ["DeliveryOptions", "Sandbox"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryOptions:
    """What a consumer action may ask of its delivery: extra copies of the same body."""

    duplicate: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryOptions:
        duplicate = data.get("duplicate", 0)
        if not isinstance(duplicate, int) or not 0 <= duplicate <= 20:
            raise ValueError("duplicate: expected a whole number from 0 to 20")
        return cls(duplicate=duplicate)


class Sandbox:
    """Everything one running sandbox holds."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.ids = IdSource()
        self.world: World = seeded_world(self.clock.now())
        self.calls: list[ApiCall] = []
        self.faults: list[Fault] = []
        self._call_seq = 0
        self._fault_seq = 0
        self._http: httpx.AsyncClient | None = None  # the handshakes' few GETs
        self._webhooks: aiohttp.ClientSession | None = None  # every delivery's POST
        self._deliverer: Deliverer | None = None
        self._handshakes: Handshakes | None = None

    async def start(self) -> None:
        """Starts the webhook clients, the senders and the handshakes (in the server's loop)."""
        self._http = httpx.AsyncClient(headers={"User-Agent": "sandbox"})
        self._webhooks = webhook_session()
        schedules = {
            "facebook": facebook_schedule(self.config.retry_scale, self.config.facebook_timeout_s),
            "x": x_schedule(self.config.retry_scale, self.config.x_timeout_s),
        }
        self._deliverer = Deliverer(
            self._webhooks,
            schedules,
            self.clock,
            targets={"facebook": self.config.facebook_webhooks, "x": self.config.x_webhooks},
            senders=self.config.delivery_concurrency,
        )
        self._deliverer.start()
        self._handshakes = Handshakes(self._http, self.config, self.clock)
        self._handshakes.start()

    async def stop(self) -> None:
        """Stops everything started by ``start``."""
        if self._handshakes is not None:
            await self._handshakes.stop()
        if self._deliverer is not None:
            await self._deliverer.stop()
        if self._webhooks is not None:
            await self._webhooks.close()
        if self._http is not None:
            await self._http.aclose()

    @property
    def deliverer(self) -> Deliverer:
        assert self._deliverer is not None, "Sandbox.start() was not called"
        return self._deliverer

    @property
    def handshakes(self) -> Handshakes:
        assert self._handshakes is not None, "Sandbox.start() was not called"
        return self._handshakes

    def reset(self) -> None:
        """Back to the seeded world: clock, calls, faults and deliveries cleared."""
        self.clock.reset()
        version = self.world.version
        self.world = seeded_world(self.clock.now())
        self.world.version = version + 1
        self.calls.clear()
        self.faults.clear()
        self.deliverer.clear()

    def deliver_facebook(
        self, kind: str, body: dict[str, Any], options: DeliveryOptions
    ) -> list[Delivery]:
        """Serialises ``body`` as Meta does, signs it and queues it (plus duplicates)."""
        raw = facebook_json(body)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
            **facebook_signature_headers(self.config.facebook_app_secret, raw),
        }
        return self._submit("facebook", kind, self.config.facebook_webhook, raw, headers, options)

    def deliver_x(
        self, kind: str, body: dict[str, Any], options: DeliveryOptions
    ) -> list[Delivery]:
        """Serialises ``body`` as X does, signs it and queues it (plus duplicates)."""
        raw = x_json(body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Twitter-Webhooks/1.0",
            **x_signature_headers(self.config.x_consumer_secret, raw),
        }
        return self._submit("x", kind, self.config.x_webhook, raw, headers, options)

    def _submit(
        self,
        platform: str,
        kind: str,
        url: str,
        raw: bytes,
        headers: dict[str, str],
        options: DeliveryOptions,
    ) -> list[Delivery]:
        return [
            self.deliverer.submit(platform, kind, url, raw, headers)
            for _ in range(1 + options.duplicate)
        ]

    def record_call(self, **fields: Any) -> ApiCall:
        """Keeps one API call (``seq`` and ``at`` are added)."""
        self._call_seq += 1
        call = ApiCall(seq=self._call_seq, at=self.clock.now(), **fields)
        self.calls.append(call)
        logger.info("%s %s %s -> %s", call.platform, call.endpoint, call.method, call.status)
        return call

    def add_fault(self, **fields: Any) -> Fault:
        """Adds a fault; the first matching fault applies to each call."""
        self._fault_seq += 1
        fault = Fault(id=self._fault_seq, **fields)
        self.faults.append(fault)
        return fault

    def take_fault(self, endpoint: str) -> Fault | None:
        """The fault that hits this call of ``endpoint``, counting it down, or None."""
        for fault in self.faults:
            if fault.applies_to(endpoint):
                if fault.count is not None:
                    fault.count -= 1
                return fault
        return None
