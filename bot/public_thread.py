"""What the bot may do after a public message: the pure decision behind ``PublicThreadPolicy``.

The rule of the product: in public the bot never answers; the only automated message is the
invitation to continue in private (the call to action, CTA), at most once per author and thread
within a cooldown, never to the brand's own account, never into a thread a human agent owns.
Everything here is a pure function of what the conversation shows, so it is
tested without Rasa.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from bot.context import Visibility

__all__ = [
    "ACTION_LISTEN",
    "CTA_ACTION",
    "CTA_RESPONSE",
    "CtaSent",
    "Decision",
    "PublicThreadRules",
    "ThreadState",
    "ctas_sent",
    "decide",
    "effective_visibility",
]

ACTION_LISTEN = "action_listen"
CTA_ACTION = "action_public_to_private"  # prepares the invitation (link, name) in slots
CTA_RESPONSE = "utter_public_to_private"  # the invitation, worded by bot designers


@dataclass(frozen=True)
class CtaSent:
    """A call to action already sent in a thread, at ``timestamp`` (epoch seconds)."""

    thread_id: str | None
    timestamp: float


@dataclass(frozen=True)
class ThreadState:
    """What the decision needs to know of a conversation.

    Attributes:
        latest_action: the last action run (``action_listen`` right after a user message).
        visibility: of the latest user message's social context, if it carries one.
        thread_id: the public thread of the latest user message, if public.
        is_external: the latest "user message" is an external event (``/trigger_intent``, a
            reminder), whose metadata replaced the social context.
        remembered_visibility: the visibility the policy persisted in its slot.
        now: epoch seconds of the latest user message.
        ctas: calls to action already sent in this conversation.
        agent_owns_thread: a human agent owns the conversation (a handoff is queued or assigned).
        author_is_brand: the latest message was written by the brand's own page or account.
    """

    latest_action: str | None
    visibility: Visibility | None
    thread_id: str | None = None
    is_external: bool = False
    remembered_visibility: Visibility | None = None
    now: float = 0.0
    ctas: tuple[CtaSent, ...] = ()
    agent_owns_thread: bool = False
    author_is_brand: bool = False


@dataclass(frozen=True)
class PublicThreadRules:
    """The bot designer's options (``config.yml``)."""

    cta_action: str = CTA_ACTION
    cta_response: str = CTA_RESPONSE
    cta_cooldown: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Decision:
    """``action`` to force (``None``: stay out of the way) and the visibility to remember."""

    action: str | None
    remember: Visibility | None = None


def effective_visibility(state: ThreadState) -> Visibility | None:
    """The visibility that governs the next action."""
    if state.visibility is not None:
        return state.visibility
    if state.is_external:
        return state.remembered_visibility
    return None


def _cta_in_cooldown(state: ThreadState, rules: PublicThreadRules) -> bool:
    window = rules.cta_cooldown.total_seconds()
    return any(
        cta.thread_id == state.thread_id and state.now - cta.timestamp < window
        for cta in state.ctas
    )


def _to_remember(visibility: Visibility | None, remembered: Visibility | None) -> Visibility | None:
    """What the slot must now hold, or None when it holds it already. Nothing remembered means
    never public, as private does: a conversation that starts in private (nearly all) costs no
    slot event."""
    if visibility is None or visibility == remembered:
        return None
    if visibility is Visibility.PRIVATE and remembered is None:
        return None
    return visibility


def decide(state: ThreadState, rules: PublicThreadRules) -> Decision:
    """The action after a public message, or ``None`` in private.

    Public, right after the consumer's message: the CTA action, then its response, unless a
    CTA was sent in this thread within the cooldown, a human agent owns the thread, or the brand
    wrote the message; then, or after anything else, listen. So no other policy's bot response
    can ever follow a public message.
    """
    visibility = effective_visibility(state)
    remember = _to_remember(visibility, state.remembered_visibility)
    if visibility is not Visibility.PUBLIC:
        return Decision(action=None, remember=remember)
    if state.agent_owns_thread or state.author_is_brand:
        return Decision(action=ACTION_LISTEN, remember=remember)
    if state.latest_action == ACTION_LISTEN and not _cta_in_cooldown(state, rules):
        return Decision(action=rules.cta_action, remember=remember)
    if state.latest_action == rules.cta_action:
        return Decision(action=rules.cta_response, remember=remember)
    return Decision(action=ACTION_LISTEN, remember=remember)


def ctas_sent(
    turns: Iterable[tuple[str, str | None, float]], cta_action: str = CTA_ACTION
) -> tuple[CtaSent, ...]:
    """The CTAs in a conversation, from its ``(kind, value, timestamp)`` turns.

    ``kind`` is ``"user"`` (value: the thread of a public message, or None) or ``"action"``
    (value: the action name). A CTA belongs to the thread of the user message before it.
    """
    thread: str | None = None
    sent: list[CtaSent] = []
    for kind, value, timestamp in turns:
        if kind == "user":
            thread = value
        elif kind == "action" and value == cta_action:
            sent.append(CtaSent(thread_id=thread, timestamp=timestamp))
    return tuple(sent)
