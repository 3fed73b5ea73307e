"""``action_handoff`` and ``action_cancel_handoff``: the consumer's side of a handoff.

``action_handoff`` routes the conversation with the social context of the latest message (none:
Rasa's REST channel, private), what the bot understood and the slots; queues it where it can be
answered now with a context summary for the agent; and sets the ``handoff_*`` slots. Then
``HandoffPolicy`` says ``utter_handoff_<outcome>`` (worded in domain.yml) and keeps the bot quiet
while ``handoff_active`` is set. ``action_cancel_handoff`` takes a consumer who says "never mind"
out of the queue while no agent has accepted yet.

The conversation is paused (``ConversationPaused``) when an agent accepts it in the workspace,
not here: Rasa predicts nothing at all for a paused conversation, so a queued consumer could not
leave the queue. While queued, ``HandoffPolicy`` keeps the bot quiet instead.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.errors import SocialCareError
from bot.handoff.availability import Outcome, say_wait
from bot.handoff.policy import ACTIVE_SLOT, OUTCOME_SLOT
from bot.handoff.service import CancelOutcome, HandoffRequest, HandoffService
from bot.handoff.silence import QUEUED, HandoffRules
from bot.handoff.summary import routing_context, summarise
from bot.runtime import handoff_store, shared_routing
from bot.settings import Settings

__all__ = ["ActionCancelHandoff", "ActionHandoff", "handoff_reason"]

logger = logging.getLogger(__name__)

POSITION_SLOT = "handoff_position"
WAIT_SLOT = "handoff_wait"
MESSAGE_SLOT = "handoff_message"
TEAM_MESSAGE = "team_message"  # the outcome whose response is the skill's own message

ServiceFactory = Callable[[], HandoffService]


def _default_service() -> HandoffService:
    settings = Settings.from_env()
    routing = shared_routing(Path(settings.routing_file), Path("domain.yml"))
    return HandoffService(routing, handoff_store(Path("endpoints.yml")))


_DEFAULT_RULES = HandoffRules()


def handoff_reason(intent: str | None, rules: HandoffRules = _DEFAULT_RULES) -> str:
    """Why the conversation is handed over, as agents read it."""
    if intent in rules.failure_intents:
        return "bot_failed"
    if intent == "request_human":
        return "request_human"
    return f"intent:{intent}" if intent else "rule"


class _ServiceAction(Action, abc.ABC):
    """Shares the lazily built service (the action server builds actions with no arguments)."""

    def __init__(self, service: HandoffService | ServiceFactory | None = None) -> None:
        self._service = service

    @abc.abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @property
    def service(self) -> HandoffService:
        """The handoff service (built from ROUTING_FILE and endpoints.yml on first use)."""
        if self._service is None:
            self._service = _default_service()
        elif not isinstance(self._service, HandoffService):
            self._service = self._service()
        return self._service


class ActionHandoff(_ServiceAction):
    """Hands the conversation to a human skill, or says why the bot keeps it."""

    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The ``handoff_*`` slots for ``utter_handoff_<outcome>``; the form is left if active."""
        latest: dict[str, Any] = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        events: list[EventType] = []
        if tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        try:
            result = self.service.request(
                HandoffRequest(
                    conversation_id=tracker.sender_id,
                    context=routing_context(
                        tracker.events, tracker.current_slot_values(), latest.get("metadata")
                    ),
                    reason=handoff_reason(intent),
                    summary=summarise(tracker.events, tracker.current_slot_values()),
                )
            )
        except SocialCareError:
            # The store or routing.yml failed: the bot keeps the conversation and says so.
            logger.exception("handoff of %s failed; the bot keeps it", tracker.sender_id)
            return [*events, SlotSet(ACTIVE_SLOT, None), SlotSet(OUTCOME_SLOT, "unavailable")]
        if result.handoff is None:
            outcome = TEAM_MESSAGE if result.message else Outcome.UNAVAILABLE.value
            return [
                *events,
                SlotSet(ACTIVE_SLOT, None),
                SlotSet(MESSAGE_SLOT, result.message),
                SlotSet(OUTCOME_SLOT, outcome),
            ]
        outcome = TEAM_MESSAGE if result.outcome is Outcome.OUT_OF_HOURS else result.outcome.value
        return [
            *events,
            SlotSet(ACTIVE_SLOT, QUEUED),
            SlotSet(POSITION_SLOT, str(result.position)),
            SlotSet(WAIT_SLOT, say_wait(result.wait)),
            SlotSet(MESSAGE_SLOT, result.message),
            SlotSet(OUTCOME_SLOT, outcome),
        ]


class ActionCancelHandoff(_ServiceAction):
    """Takes the consumer out of the queue ("never mind"); the bot is back."""

    def name(self) -> str:
        return "action_cancel_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """``handoff_outcome``: cancelled, taken (an agent has it) or nothing_to_cancel."""
        try:
            outcome = self.service.cancel(tracker.sender_id)
        except SocialCareError:
            logger.exception("cancelling the handoff of %s failed", tracker.sender_id)
            outcome = CancelOutcome.NOTHING_TO_CANCEL
        if outcome is CancelOutcome.TAKEN:
            return [SlotSet(OUTCOME_SLOT, outcome.value)]
        return [SlotSet(ACTIVE_SLOT, None), SlotSet(OUTCOME_SLOT, outcome.value)]
