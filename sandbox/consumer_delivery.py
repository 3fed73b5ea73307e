"""The answer of a consumer action: the ids it created and the deliveries it queued.

With ``"wait": true`` the answer comes once each delivery's first attempt has an outcome (at most
``WAIT_TIMEOUT_S`` in all).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sanic.response import HTTPResponse
from sanic.response import json as json_response

from sandbox.core import Sandbox
from sandbox.records import Delivery

__all__ = ["respond_with_burst", "respond_with_deliveries"]

WAIT_TIMEOUT_S = 30.0


async def _wait_if_asked(
    sandbox: Sandbox, data: dict[str, Any], deliveries: list[Delivery]
) -> None:
    if data.get("wait"):
        await asyncio.gather(
            *(sandbox.deliverer.wait_first_attempt(d, WAIT_TIMEOUT_S) for d in deliveries)
        )


async def respond_with_deliveries(
    sandbox: Sandbox, data: dict[str, Any], result: dict[str, Any], deliveries: list[Delivery]
) -> HTTPResponse:
    """``result`` plus ``delivery_id`` (the first), ``delivery_ids`` and the delivered ``body``."""
    await _wait_if_asked(sandbox, data, deliveries)
    first = deliveries[0] if deliveries else None
    answer = {
        **result,
        "delivery_id": first.id if first else None,
        "delivery_ids": [delivery.id for delivery in deliveries],
        "body": first.json_body() if first else None,
        "outcome": first.outcome if first else None,
    }
    return json_response(answer, status=201)


async def respond_with_burst(
    sandbox: Sandbox,
    data: dict[str, Any],
    events: list[dict[str, Any]],
    deliveries: list[Delivery],
) -> HTTPResponse:
    """``{"kind": "burst", "events": [each event's ids], "delivery_ids": [...]}``."""
    await _wait_if_asked(sandbox, data, deliveries)
    answer = {
        "kind": "burst",
        "events": events,
        "delivery_ids": [delivery.id for delivery in deliveries],
    }
    return json_response(answer, status=201)
