from __future__ import annotations

from typing import Any

import pytest

from bot.guard import OutboundMessage
from channels.facebook.render import render_message, short_title, split_text

SENTENCE = "Your parcel left our warehouse this morning. "  # 45 characters


def choice(title: str, payload: str | None = None) -> dict[str, Any]:
    return {"title": title, "payload": payload or f"/{title.lower().replace(' ', '_')}"}


def test_a_short_text_is_one_piece() -> None:
    assert split_text("Hello there.") == ["Hello there."]


def test_a_long_text_is_split_after_sentences_within_the_limit() -> None:
    text = SENTENCE * 100  # 4500 characters

    pieces = split_text(text)

    assert len(pieces) == 3
    assert all(len(piece) <= 2000 for piece in pieces)
    assert all(piece.endswith("morning.") for piece in pieces)
    assert " ".join(pieces) == text.strip()


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("One. Two three four", 12, ["One.", "Two three", "four"]),
        ("Is it? Yes! Sure.", 8, ["Is it?", "Yes!", "Sure."]),
        ("line one\nline two", 12, ["line one", "line two"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
        ("Ok.\u201d Then more words here", 10, ["Ok.\u201d", "Then more", "words here"]),
    ],
)
def test_pieces_fall_back_to_words_then_to_characters(
    text: str, limit: int, expected: list[str]
) -> None:
    assert split_text(text, limit) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Track my order", "Track my order"),
        ("Talk to a human agent now", "Talk to a human\u2026"),
        ("Supercalifragilisticexpialidocious", "Supercalifragilisti\u2026"),
        ("  Yes,   please  ", "Yes, please"),
    ],
)
def test_titles_are_cut_at_a_word_with_an_ellipsis(title: str, expected: str) -> None:
    assert short_title(title) == expected
    assert len(short_title(title)) <= 20


def test_a_plain_text_is_one_text_message() -> None:
    assert render_message(OutboundMessage(text="Hello!")) == [{"text": "Hello!"}]


def test_a_long_text_becomes_several_messages() -> None:
    messages = render_message(OutboundMessage(text=SENTENCE * 100))

    assert len(messages) == 3
    assert all(len(message["text"]) <= 2000 for message in messages)


def test_quick_replies_ride_natively_on_the_last_message() -> None:
    message = OutboundMessage(
        text=SENTENCE * 50,
        quick_replies=(choice("Yes", "/affirm"), choice("Talk to a human agent now", "/human")),
    )

    *first, last = render_message(message)

    assert all("quick_replies" not in item for item in first)
    assert last["quick_replies"] == [
        {"content_type": "text", "title": "Yes", "payload": "/affirm"},
        {"content_type": "text", "title": "Talk to a human\u2026", "payload": "/human"},
    ]


def test_more_than_13_quick_replies_continue_as_numbered_text() -> None:
    options = tuple(choice(f"Store {n}") for n in range(1, 16))

    [message] = render_message(OutboundMessage(text="Which store?", quick_replies=options))

    assert len(message["quick_replies"]) == 13
    assert message["quick_replies"][-1]["title"] == "Store 13"
    assert message["text"] == "Which store?\n14. Store 14\n15. Store 15"


def test_special_quick_replies_keep_their_content_type() -> None:
    [message] = render_message(
        OutboundMessage(text="Your email?", quick_replies=({"content_type": "user_email"},))
    )

    assert message["quick_replies"] == [{"content_type": "user_email"}]


def test_up_to_three_buttons_become_a_button_template() -> None:
    buttons = (
        choice("Track my order", "/order_status"),
        {"title": "Open our help centre now", "url": "https://help.test"},
    )

    [message] = render_message(OutboundMessage(text="How can I help?", buttons=buttons))

    assert message == {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "button",
                "text": "How can I help?",
                "buttons": [
                    {"type": "postback", "title": "Track my order", "payload": "/order_status"},
                    {"type": "web_url", "title": "Open our help\u2026", "url": "https://help.test"},
                ],
            },
        }
    }


@pytest.mark.parametrize(
    ("text", "count"),
    [("Pick one", 4), ("x" * 641, 2)],
    ids=["more than 3 buttons", "text too long for the template"],
)
def test_buttons_that_do_not_fit_a_template_become_quick_replies(text: str, count: int) -> None:
    buttons = tuple(choice(f"Option {n}") for n in range(1, count + 1))

    [message] = render_message(OutboundMessage(text=text, buttons=buttons))

    assert message["text"] == text
    assert [reply["title"] for reply in message["quick_replies"]] == [b["title"] for b in buttons]


def test_link_buttons_that_do_not_fit_a_template_become_lines_of_text() -> None:
    buttons = (
        *(choice(f"Option {n}") for n in range(1, 4)),
        {"title": "FAQ", "url": "https://faq.test"},
    )

    [message] = render_message(OutboundMessage(text="Pick one", buttons=buttons))

    assert message["text"] == "Pick one\nFAQ: https://faq.test"
    assert len(message["quick_replies"]) == 3


def test_images_and_attachments_follow_the_text_as_attachment_messages() -> None:
    message = OutboundMessage(
        text="Here is your label",
        image="https://cdn.test/parcel.png",
        attachment="https://cdn.test/label.pdf",
        quick_replies=(choice("Thanks"),),
    )

    text, image, attachment = render_message(message)

    assert text == {"text": "Here is your label"}
    assert image == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://cdn.test/parcel.png", "is_reusable": True},
        }
    }
    assert attachment["attachment"]["type"] == "file"
    assert attachment["quick_replies"][0]["title"] == "Thanks"


def test_elements_and_custom_payloads_are_sent_as_given() -> None:
    elements = ({"title": "Blue jacket", "subtitle": "In stock"},)
    custom = {"attachment": {"type": "template", "payload": {"template_type": "media"}}}

    generic, raw = render_message(OutboundMessage(elements=elements, custom=custom))

    assert generic["attachment"]["payload"] == {
        "template_type": "generic",
        "elements": list(elements),
    }
    assert raw == custom
