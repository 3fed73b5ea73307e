from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.order_book import Order, OrderState
from actions.order_status import ActionOrderStatus, ValidateOrderStatusForm

DOMAIN: dict[str, Any] = {"slots": {"order_number": {"type": "text"}}, "forms": {}}


class InMemoryOrderBook:
    """A fake order book: the orders it was given."""

    def __init__(self, *orders: Order) -> None:
        self.orders = {order.number: order for order in orders}
        self.lookups: list[str] = []

    def find(self, number: str) -> Order | None:
        self.lookups.append(number)
        return self.orders.get(number)


SHIPPED = Order(
    number="BC-104233",
    status=OrderState.SHIPPED,
    items=["Linen duvet cover", "Two linen pillowcases"],
    carrier="DPD",
    tracking="15501234567890",
    date=date(2026, 11, 27),
)
PROCESSING = Order(
    number="BC-120337",
    status=OrderState.PROCESSING,
    items=["Oak bookshelf", "Brass desk lamp", "Rug"],
    date=date(2026, 11, 26),
)


def make_tracker(slots: dict[str, Any], text: str = "it's BC-104233") -> Tracker:
    return Tracker(
        sender_id="facebook:100200300400500:6543210987654321",
        slots=slots,
        latest_message={"text": text, "intent": {"name": "inform", "confidence": 0.98}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": "order_status_form"},
        latest_action_name="action_listen",
    )


def slots_set(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in events if event["event"] == "slot"}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("bc 104233", "BC-104233"), ("#131209", "BC-131209"), (["104233", "BC-555555"], "BC-104233")],
)
def test_the_form_stores_the_normalised_order_number(typed: Any, stored: str) -> None:
    dispatcher = CollectingDispatcher()

    result = ValidateOrderStatusForm().validate_order_number(
        typed, dispatcher, make_tracker({"order_number": typed}), DOMAIN
    )

    assert result == {"order_number": stored}
    assert dispatcher.messages == []


def test_the_form_rejects_what_is_not_an_order_number_and_says_why() -> None:
    dispatcher = CollectingDispatcher()

    result = ValidateOrderStatusForm().validate_order_number(
        "12-34", dispatcher, make_tracker({"order_number": "12-34"}), DOMAIN
    )

    assert result == {"order_number": None}
    assert [message["response"] for message in dispatcher.messages] == [
        "utter_invalid_order_number"
    ]


async def test_the_form_validation_runs_through_the_sdk_form_machinery() -> None:
    dispatcher = CollectingDispatcher()
    tracker = Tracker(
        sender_id="twitter:2244994945:1205290247124217856",
        slots={"order_number": "#104233", "requested_slot": "order_number"},
        latest_message={"text": "#104233", "intent": {"name": "inform", "confidence": 0.9}},
        events=[
            {"event": "slot", "name": "order_number", "value": "#104233"},
        ],
        paused=False,
        followup_action=None,
        active_loop={"name": "order_status_form"},
        latest_action_name="action_listen",
    )
    domain = {
        "slots": {"order_number": {"type": "text"}},
        "forms": {"order_status_form": {"required_slots": ["order_number"]}},
    }

    events = await ValidateOrderStatusForm().run(dispatcher, tracker, domain)

    assert slots_set(events) == {"order_number": "BC-104233"}


def test_a_shipped_order_sets_every_detail_the_response_shows() -> None:
    book = InMemoryOrderBook(SHIPPED)
    dispatcher = CollectingDispatcher()

    events = ActionOrderStatus(order_book=book).run(
        dispatcher, make_tracker({"order_number": "BC-104233"}), DOMAIN
    )

    assert slots_set(events) == {
        "order_state": "shipped",
        "order_checked": "BC-104233",
        "order_items": "Linen duvet cover and Two linen pillowcases",
        "order_carrier": "DPD",
        "order_tracking": "15501234567890",
        "order_date": "Friday 27 November",
        "order_number": None,
    }
    assert dispatcher.messages == []  # the rules pick the response from order_state


def test_an_order_being_prepared_lists_its_items() -> None:
    events = ActionOrderStatus(order_book=InMemoryOrderBook(PROCESSING)).run(
        CollectingDispatcher(), make_tracker({"order_number": "BC-120337"}), DOMAIN
    )

    slots = slots_set(events)
    assert slots["order_state"] == "processing"
    assert slots["order_items"] == "Oak bookshelf, Brass desk lamp and Rug"
    assert slots["order_carrier"] is None


def test_an_unknown_order_is_reported_as_not_found_and_the_number_is_cleared() -> None:
    book = InMemoryOrderBook(SHIPPED)

    events = ActionOrderStatus(order_book=book).run(
        CollectingDispatcher(), make_tracker({"order_number": "#999999"}), DOMAIN
    )

    assert slots_set(events) == {
        "order_state": "not_found",
        "order_checked": "BC-999999",
        "order_number": None,
    }
    assert book.lookups == ["BC-999999"]


def test_the_action_reads_the_order_book_named_by_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RASA_TOKEN", "a-token-for-tests")
    monkeypatch.setenv("ORDERS_FILE", "orders.yml")
    monkeypatch.chdir(__file__.rsplit("/tests/", 1)[0])

    events = ActionOrderStatus().run(
        CollectingDispatcher(), make_tracker({"order_number": "BC-118842"}), DOMAIN
    )

    assert slots_set(events)["order_state"] == "delivered"
