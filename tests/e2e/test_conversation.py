"""Conversations through the REST channel of a real ``rasa run`` with the real action server."""

from __future__ import annotations

import uuid

from tests.e2e.conftest import RunningStack


def _texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(message.get("text", "")) for message in messages]


def _sender() -> str:
    return f"e2e-{uuid.uuid4().hex[:12]}"


def test_order_status_through_the_form_and_the_action_server(stack: RunningStack) -> None:
    sender = _sender()

    greeting = _texts(stack.say(sender, "hi"))
    asked = _texts(stack.say(sender, "where is my order?"))
    answered = _texts(stack.say(sender, "it's bc 104233"))
    closing = _texts(stack.say(sender, "no thanks"))

    assert any("Brightcart" in text for text in greeting)
    assert asked == [
        "What's your order number? It's in your confirmation email and looks like BC-123456."
    ]
    assert answered == [
        "Good news: order BC-104233 (Linen duvet cover and Two linen pillowcases) is on its way "
        "with DPD, tracking number 15501234567890. It should arrive by Friday 27 November.",
        "Is there anything else I can help you with?",
    ]
    assert len(closing) == 1
    assert closing[0] in {
        "Thanks for chatting with Brightcart. Have a great day!",
        "Bye for now! We're here whenever you need us.",
    }
    slots = stack.tracker(sender)["slots"]
    assert slots["order_state"] == "shipped"
    assert slots["order_checked"] == "BC-104233"
    assert slots["order_number"] is None


def test_an_order_number_in_the_first_message_is_looked_up_at_once(stack: RunningStack) -> None:
    answered = _texts(stack.say(_sender(), "what's the status of order #131209?"))

    assert answered == [
        "Order BC-131209 (Running shoes) was cancelled on Thursday 12 November, and the full "
        "amount went back to your original payment method.",
        "Is there anything else I can help you with?",
    ]


def test_an_unknown_order_is_reported_and_a_second_question_asks_again(
    stack: RunningStack,
) -> None:
    sender = _sender()

    stack.say(sender, "track my order")
    unknown = _texts(stack.say(sender, "BC-000001"))
    asked_again = _texts(stack.say(sender, "can you check my order?"))

    assert unknown == [
        "I couldn't find order BC-000001. Please check the number in your confirmation email; "
        'if it\'s right, say "agent" and a colleague will look into it.'
    ]
    assert asked_again == [
        "What's your order number? It's in your confirmation email and looks like BC-123456."
    ]


def test_a_consumer_without_the_number_leaves_the_form(stack: RunningStack) -> None:
    sender = _sender()

    stack.say(sender, "can you check my order please")
    left = _texts(stack.say(sender, "no, I don't have it with me"))
    hours = _texts(stack.say(sender, "what are your opening hours?"))

    assert left[0].startswith("No problem. You'll find the order number")
    assert hours[0].startswith("Our stores are open Monday to Saturday")
    assert stack.tracker(sender)["active_loop"] in ({}, None)
