"""The pure decision behind HandoffPolicy: a table of conversation states and forced actions."""

from __future__ import annotations

import pytest

from bot.handoff.silence import HandoffRules, HandoffState, consecutive_failures, decide

RULES = HandoffRules()
RESPONSES = frozenset(
    {"utter_handoff_queued", "utter_handoff_cancelled", "utter_handoff_unavailable"}
)


def state(latest: str | None = "action_listen", **fields: object) -> HandoffState:
    return HandoffState(latest_action=latest, responses=RESPONSES, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("situation", "conversation", "expected"),
    [
        ("no handoff: stays out of the way", state(intent="greet"), None),
        ("queued: a message gets silence", state(active="queued", intent="greet"), "action_listen"),
        ("assigned: a message gets silence", state(active="assigned"), "action_listen"),
        (
            "assigned: /restart gets silence",
            state(active="assigned", intent="restart"),
            "action_listen",
        ),
        (
            "queued: request_human again gets silence",
            state(active="queued", intent="request_human"),
            "action_listen",
        ),
        (
            "queued: never mind leaves the queue",
            state(active="queued", intent="cancel_handoff"),
            "action_cancel_handoff",
        ),
        (
            "assigned: never mind reaches the agent, nothing else",
            state(active="assigned", intent="cancel_handoff"),
            "action_listen",
        ),
        (
            "after the handoff action: the outcome's response",
            state("action_handoff", active="queued", outcome="queued"),
            "utter_handoff_queued",
        ),
        (
            "after the cancel action: the outcome's response",
            state("action_cancel_handoff", outcome="cancelled"),
            "utter_handoff_cancelled",
        ),
        (
            "an outcome without a response: listen",
            state("action_handoff", outcome="team_message"),
            "action_listen",
        ),
        ("after the handoff action failed: listen", state("action_handoff"), "action_listen"),
        (
            "after an outcome response: listen, even with no handoff active",
            state("utter_handoff_unavailable"),
            "action_listen",
        ),
        (
            "one failure: the bot answers itself",
            state(intent="out_of_scope", failures=1),
            None,
        ),
        (
            "two failures in a row: hand over",
            state(intent="nlu_fallback", failures=2),
            "action_handoff",
        ),
        (
            "two failures in public: the public-thread policy decides",
            state(intent="out_of_scope", failures=2, public=True),
            None,
        ),
        (
            "failures while a handoff is active: silence",
            state(active="queued", intent="out_of_scope", failures=3),
            "action_listen",
        ),
        (
            "failures, but mid-turn: not again",
            state("utter_out_of_scope", intent="out_of_scope", failures=2),
            None,
        ),
    ],
)
def test_decide(situation: str, conversation: HandoffState, expected: str | None) -> None:
    assert decide(conversation, RULES) == expected, situation


def test_the_bot_never_hands_over_by_itself_when_failures_are_switched_off() -> None:
    rules = HandoffRules(failures_before_handoff=0)

    assert decide(state(intent="out_of_scope", failures=9), rules) is None


@pytest.mark.parametrize(
    ("turns", "count"),
    [
        ([], 0),
        ([("user", "out_of_scope")], 1),
        ([("user", "out_of_scope"), ("action", "utter_out_of_scope"), ("user", "nlu_fallback")], 2),
        ([("user", "out_of_scope"), ("user", "greet"), ("user", "out_of_scope")], 1),
        ([("user", "out_of_scope"), ("action", "action_handoff"), ("user", "out_of_scope")], 1),
        ([("user", "nlu_fallback"), ("action", "action_cancel_handoff")], 0),
    ],
)
def test_consecutive_failures_count_back_to_the_last_success_or_handoff(
    turns: list[tuple[str, str | None]], count: int
) -> None:
    assert consecutive_failures(turns, RULES) == count
