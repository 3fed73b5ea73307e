"""Buttons and quick replies as numbered DM lines, and the consumer's answers mapped back."""

from __future__ import annotations

import pytest

from channels.twitter.options import (
    NumberedOption,
    chosen_option,
    dump_options,
    load_options,
    render_options,
)

BUTTONS = [
    {"title": "Track my order", "payload": "/order_status"},
    {"title": "Our stores", "url": "https://brightcart.example/stores", "type": "web_url"},
    {"title": "Talk to a person", "payload": '/request_human{"reason": "dm"}'},
]
OFFERED = [
    NumberedOption(1, "Track my order", "/order_status"),
    NumberedOption(2, "Talk to a person", '/request_human{"reason": "dm"}'),
]


def test_options_become_numbered_lines_and_links_plain_lines() -> None:
    text, options = render_options("What can I do for you?", BUTTONS)

    assert text == (
        "What can I do for you?\n\n"
        "1. Track my order\n"
        "Our stores: https://brightcart.example/stores\n"
        "2. Talk to a person"
    )
    assert options == OFFERED


def test_a_text_without_options_is_sent_as_it_is() -> None:
    assert render_options("Hello", []) == ("Hello", [])


def test_a_quick_reply_without_a_payload_answers_with_its_title() -> None:
    assert render_options("", [{"title": "Yes"}]) == ("1. Yes", [NumberedOption(1, "Yes", "Yes")])


@pytest.mark.parametrize(
    ("answer", "number"),
    [
        ("1", 1),
        (" 2 ", 2),
        ("2.", 2),
        ("#2", 2),
        ("(1)", 1),
        ("track my order", 1),
        ("Track my order!", 1),
        ("1. Track my order", 1),
        ("2) talk to a person", 2),
        ("3", None),
        ("0", None),
        ("1 please, and a refund", None),
        ("12 items", None),
        ("where is my order?", None),
        ("", None),
    ],
)
def test_an_answer_picks_an_option_by_number_or_title(answer: str, number: int | None) -> None:
    picked = chosen_option(answer, OFFERED)

    assert (picked.number if picked else None) == number


def test_without_options_offered_nothing_is_picked() -> None:
    assert chosen_option("1", []) is None


def test_options_survive_being_remembered() -> None:
    assert load_options(dump_options(OFFERED)) == OFFERED


@pytest.mark.parametrize("stored", [None, "", "not json", '[["x"]]', "{}"])
def test_unreadable_remembered_options_are_none(stored: str | None) -> None:
    assert load_options(stored) == []
