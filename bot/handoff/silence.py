"""When the bot must keep quiet or hand over: the pure decision behind ``HandoffPolicy``.

While a handoff is active (the ``handoff_active`` slot is ``queued`` or ``assigned``) the bot
says nothing: after every consumer message it listens, also after a session expiry or a
``/restart`` (which wake a paused Rasa conversation; the slot carries over). The only exception:
while the handoff still waits in the queue, the consumer may leave it ("never mind"), which runs
the cancel action. After the handoff or cancel action, the response named by the outcome follows
(``utter_handoff_<outcome>``). And when the bot keeps failing in private (out of scope or not
understood, several times in a row), it hands over by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ACTION_LISTEN",
    "ASSIGNED",
    "QUEUED",
    "HandoffRules",
    "HandoffState",
    "consecutive_failures",
    "decide",
]

ACTION_LISTEN = "action_listen"
QUEUED = "queued"  # values of the handoff_active slot
ASSIGNED = "assigned"


@dataclass(frozen=True)
class HandoffRules:
    """The bot designer's options (``config.yml``, ``HandoffPolicy``)."""

    handoff_action: str = "action_handoff"
    cancel_action: str = "action_cancel_handoff"
    cancel_intents: frozenset[str] = frozenset({"cancel_handoff"})
    failure_intents: frozenset[str] = frozenset({"out_of_scope", "nlu_fallback"})
    failures_before_handoff: int = 2  # 0: the bot never hands over by itself
    outcome_prefix: str = "utter_handoff_"


@dataclass(frozen=True)
class HandoffState:
    """What the decision needs to know of a conversation.

    Attributes:
        latest_action: the last action run (``action_listen`` right after a user message).
        active: the ``handoff_active`` slot: ``queued``, ``assigned`` or None.
        outcome: the ``handoff_outcome`` slot the handoff or cancel action set.
        intent: the latest user message's intent.
        public: whether the latest user message was written in public.
        failures: failing user messages in a row at the end (``consecutive_failures``).
        responses: the domain's response names.
    """

    latest_action: str | None
    active: str | None = None
    outcome: str | None = None
    intent: str | None = None
    public: bool = False
    failures: int = 0
    responses: frozenset[str] = frozenset()


def decide(state: HandoffState, rules: HandoffRules) -> str | None:
    """The action to force, or None to let the other policies decide."""
    latest = state.latest_action
    if latest in (rules.handoff_action, rules.cancel_action):
        response = f"{rules.outcome_prefix}{state.outcome}" if state.outcome else None
        return response if response in state.responses else ACTION_LISTEN
    if latest is not None and latest.startswith(rules.outcome_prefix):
        return ACTION_LISTEN
    if state.active:
        if (
            latest == ACTION_LISTEN
            and state.active == QUEUED
            and state.intent in rules.cancel_intents
        ):
            return rules.cancel_action
        return ACTION_LISTEN
    if (
        latest == ACTION_LISTEN
        and not state.public
        and rules.failures_before_handoff > 0
        and state.failures >= rules.failures_before_handoff
    ):
        return rules.handoff_action
    return None


def consecutive_failures(turns: Iterable[tuple[str, str | None]], rules: HandoffRules) -> int:
    """Failing user messages in a row at the end of a conversation, since its last handoff.

    Args:
        turns: ``("user", intent)`` and ``("action", name)`` in order.
    """
    count = 0
    for kind, value in turns:
        if kind == "action" and value in (rules.handoff_action, rules.cancel_action):
            count = 0
        elif kind == "user":
            count = count + 1 if value in rules.failure_intents else 0
    return count
