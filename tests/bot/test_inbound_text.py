from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from bot.inbound_text import neutralise_commands


@pytest.mark.parametrize(
    ("typed", "seen"),
    [
        ("/restart", "restart"),
        ("  /request_human", "request_human"),
        ('/greet{"order_number": "BC-1"}', 'greet{"order_number": "BC-1"}'),
        ("//human", "human"),
        ("/ stop", "stop"),
        ("/", "\u2215"),
        ("where is my order? /restart", "where is my order? /restart"),
        ("hello", "hello"),
        ("", ""),
    ],
)
def test_neutralise_commands(typed: str, seen: str) -> None:
    assert neutralise_commands(typed) == seen


@given(st.text())
def test_no_consumer_text_is_ever_read_as_a_command_by_rasa(typed: str) -> None:
    # Rasa strips the text, then matches its command pattern at the start.
    pattern = YAMLStoryReader._regex_message_pattern()

    assert pattern.match(neutralise_commands(typed).strip()) is None
