"""The answer of a consumer action: the ids it created and the deliveries it queued.

With ``"wait": true`` the answer comes once each delivery's first attempt has an outcome.
"""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse
from sanic.response import json as json_response

from sandbox.core import Sandbox
from sandbox.records import Delivery

__all__ = ["respond_with_deliveries"]

WAIT_TIMEOUT_S = 30.0


async def respond_with_deliveries(
    sandbox: Sandbox, data: dict[str, Any], result: dict[str, Any], deliveries: list[Delivery]
) -> HTTPResponse:
    """``result`` plus ``delivery_id`` (the first), ``delivery_ids`` and the delivered ``body``."""
    if data.get("wait"):
        for delivery in deliveries:
            await sandbox.deliverer.wait_first_attempt(delivery, WAIT_TIMEOUT_S)
    first = deliveries[0] if deliveries else None
    answer = {
        **result,
        "delivery_id": first.id if first else None,
        "delivery_ids": [delivery.id for delivery in deliveries],
        "body": first.json_body() if first else None,
        "outcome": first.outcome if first else None,
    }
    return json_response(answer, status=201)
