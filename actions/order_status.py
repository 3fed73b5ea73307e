"""The order-status form: validating the order number and looking the order up.

``order_status_form`` (domain.yml) asks for ``order_number``; ``validate_order_status_form``
normalises what the consumer typed; ``action_order_status`` looks the order up and sets the
``order_*`` slots, from which the rules pick the ``utter_order_<state>`` response.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.order_book import Order, OrderBook, YamlOrderBook, normalise_order_number
from bot.settings import Settings

__all__ = ["ActionOrderStatus", "ValidateOrderStatusForm"]

logger = logging.getLogger(__name__)

NOT_FOUND = "not_found"


def _first_text(value: Any) -> str | None:
    """A slot filled from several entities holds a list: the first one counts."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


class ValidateOrderStatusForm(FormValidationAction):
    """Accepts ``BC-123456``, ``bc 123456``, ``#123456`` or ``123456``; stores ``BC-123456``."""

    def name(self) -> str:
        return "validate_order_status_form"

    def validate_order_number(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """Normalises the number, or asks again after saying what a number looks like."""
        text = _first_text(slot_value)
        normalised = normalise_order_number(text) if text else None
        if normalised is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
            return {"order_number": None}
        return {"order_number": normalised}


class ActionOrderStatus(Action):
    """Looks the order up and sets ``order_state`` and the details the responses show.

    Args:
        order_book: where orders are looked up; by default the YAML file named by ``ORDERS_FILE``.
    """

    def __init__(self, order_book: OrderBook | None = None) -> None:
        self._order_book = order_book

    def name(self) -> str:
        return "action_order_status"

    def _book(self) -> OrderBook:
        if self._order_book is None:
            self._order_book = YamlOrderBook(Path(Settings.from_env().orders_file))
        return self._order_book

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Sets the ``order_*`` slots; clears ``order_number`` so the next question asks anew."""
        number = normalise_order_number(_first_text(tracker.get_slot("order_number")) or "")
        order = self._book().find(number) if number else None
        logger.info("order lookup: found=%s", order is not None)
        if order is None:
            return [
                SlotSet("order_state", NOT_FOUND),
                SlotSet("order_checked", number or tracker.get_slot("order_number")),
                SlotSet("order_number", None),
            ]
        return [*_order_slots(order), SlotSet("order_number", None)]


def _order_slots(order: Order) -> list[EventType]:
    return [
        SlotSet("order_state", order.status.value),
        SlotSet("order_checked", order.number),
        SlotSet("order_items", _items(order.items)),
        SlotSet("order_carrier", order.carrier),
        SlotSet("order_tracking", order.tracking),
        SlotSet("order_date", _day(order)),
    ]


def _items(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _day(order: Order) -> str:
    """``Friday 27 November``: the way a person says a date in a chat."""
    day = order.date
    return f"{day:%A} {day.day} {day:%B}"
