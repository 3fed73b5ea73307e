"""Where orders are looked up: the ``OrderBook`` protocol and the demo ``YamlOrderBook``.

A brand replaces ``YamlOrderBook`` with a client of its order system; the actions depend only on
the protocol.
"""

from __future__ import annotations

import re
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError, root_validator

from bot.errors import ConfigurationError
from bot.yamlconfig import load_yaml

__all__ = ["Order", "OrderBook", "OrderState", "YamlOrderBook", "normalise_order_number"]

_ORDER_NUMBER = re.compile(r"^\s*(?:#|BC[\s-]?)?(\d{6})\s*$", re.IGNORECASE)


def normalise_order_number(raw: str) -> str | None:
    """``"bc 104233"``, ``"#104233"``, ``"104233"`` → ``"BC-104233"``; anything else → ``None``."""
    match = _ORDER_NUMBER.match(raw)
    return f"BC-{match.group(1)}" if match else None


class OrderState(str, Enum):
    """Where an order stands (the values of the ``order_state`` slot)."""

    PROCESSING = "processing"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Order(BaseModel):
    """One order as the assistant reports it."""

    number: str
    status: OrderState
    items: list[str] = Field(..., min_items=1)
    date: date
    carrier: str | None = None
    tracking: str | None = None

    class Config:
        allow_mutation = False

    @root_validator(skip_on_failure=True)
    def _shipping_details(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["status"] is OrderState.SHIPPED and not (
            values.get("carrier") and values.get("tracking")
        ):
            raise ValueError("a shipped order needs a carrier and a tracking number")
        return values


class OrderBook(Protocol):
    """Looks orders up by their normalised number (``BC-123456``)."""

    def find(self, number: str) -> Order | None:
        """The order, or ``None`` when there is no such order."""


class YamlOrderBook:
    """The demo order book: a YAML file of ``orders: {BC-123456: {...}}``, read once.

    Raises:
        ConfigurationError: the file is missing or an order is invalid (names file, key, line).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._orders = self._load(path)

    @staticmethod
    def _load(path: Path) -> dict[str, Order]:
        document = load_yaml(path, {})
        orders = document.get("orders") if isinstance(document, dict) else None
        if not isinstance(orders, dict):
            raise ConfigurationError(
                "expected a mapping of order numbers to orders", file=str(path), key="orders"
            )
        text = path.read_text(encoding="utf-8")
        loaded: dict[str, Order] = {}
        for number, fields in orders.items():
            line = next(
                (n for n, raw in enumerate(text.splitlines(), 1) if raw.strip() == f"{number}:"),
                None,
            )
            normalised = normalise_order_number(str(number))
            if normalised != number:
                raise ConfigurationError(
                    "expected an order number like BC-123456",
                    file=str(path),
                    key=f"orders.{number}",
                    line=line,
                )
            try:
                loaded[number] = Order.parse_obj({**(fields or {}), "number": number})
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
                    if error["loc"] != ("__root__",)
                    else error["msg"]
                    for error in exc.errors()
                )
                raise ConfigurationError(
                    problems, file=str(path), key=f"orders.{number}", line=line
                ) from exc
        return loaded

    def find(self, number: str) -> Order | None:
        """The order with that normalised number, or ``None``."""
        return self._orders.get(number)
