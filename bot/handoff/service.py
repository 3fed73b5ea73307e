"""``HandoffService``: the consumer's side of a handoff, from "a human, please" to a queue.

``request`` routes the conversation (``routing.yml``), checks where it can go now (hours,
agents online, queue length, fallbacks) and queues it with its context summary; ``cancel`` takes
a consumer who changed their mind out of the queue. ``action_handoff`` and
``action_cancel_handoff`` are thin adapters over it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from bot.errors import HandoffConflict
from bot.handoff.availability import Outcome, Placement, expected_wait, place
from bot.handoff.clock import Clock, utcnow
from bot.handoff.handoffs import HandoffRecord, HandoffStatus, HandoffStore, NewHandoff
from bot.routing import Router, RoutingContext, RoutingDecision, RoutingFile

__all__ = ["CancelOutcome", "HandoffRequest", "HandoffResult", "HandoffService"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffRequest:
    """A conversation the bot hands over.

    Attributes:
        conversation_id: the Rasa sender id.
        context: what routing decides on (``summary.routing_context``).
        reason: why: ``request_human``, ``bot_failed``, or the intent a rule handed over on.
        summary: the context summary for the agent (``summary.summarise``).
    """

    conversation_id: str
    context: RoutingContext
    reason: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class HandoffResult:
    """What became of a request.

    Attributes:
        outcome: queued (open skill), queued out of hours, or the bot keeps the conversation.
        decision: the routing decision (skill, priority, rule).
        placement: where availability sent it, with each skill passed over and why.
        handoff: the queued handoff; None when the bot keeps the conversation.
        position: 1 for the next in line; None when not queued.
        wait: the expected wait; None when unknown or not queued.
        created: False when the conversation was queued already (the same handoff is reported).
    """

    outcome: Outcome
    decision: RoutingDecision
    placement: Placement
    handoff: HandoffRecord | None = None
    position: int | None = None
    wait: timedelta | None = None
    created: bool = False

    @property
    def message(self) -> str | None:
        """The designer's message for the consumer (a ``message:`` fallback), if any."""
        return self.placement.message


class CancelOutcome(str, Enum):
    """What the consumer who said "never mind" is told."""

    CANCELLED = "cancelled"  # out of the queue: the bot is back
    TAKEN = "taken"  # too late: an agent accepted it
    NOTHING_TO_CANCEL = "nothing_to_cancel"


class HandoffService:
    """Routes, places and queues handoffs.

    Args:
        routing: the validated routing file.
        handoffs: the store's handoffs.
        clock: the current time (tests pass a fixed one).
    """

    def __init__(self, routing: RoutingFile, handoffs: HandoffStore, clock: Clock = utcnow) -> None:
        self.routing = routing
        self.router = Router(routing)
        self.handoffs = handoffs
        self._clock = clock
        self._capacities = {skill.name: skill.capacity_per_agent for skill in routing.skills}

    def request(self, request: HandoffRequest) -> HandoffResult:
        """Queues the conversation where it can be answered, or says why the bot keeps it.

        Raises:
            StoreError: the social store failed.
        """
        decision = self.router.decide(request.context)
        loads = self.handoffs.loads(self._capacities)
        placement = place(self.routing, decision.skill, self._clock(), loads)
        logger.info(
            "handoff of %s: rule=%s skill=%s -> %s %s%s",
            request.conversation_id,
            decision.rule or "(default)",
            decision.skill,
            placement.outcome.value,
            placement.skill or "-",
            f" ({'; '.join(placement.path)})" if placement.path else "",
        )
        if placement.skill is None:
            return HandoffResult(placement.outcome, decision, placement)
        context = request.context
        record, created = self.handoffs.create(
            NewHandoff(
                conversation_id=request.conversation_id,
                platform=context.platform or "rest",
                account_id=context.account_id,
                visibility=context.visibility or "private",
                source=context.source,
                skill=placement.skill,
                priority=decision.priority,
                rule=decision.rule,
                reason=request.reason,
                summary={
                    **request.summary,
                    "routing": {
                        "rule": decision.rule,
                        "skill": decision.skill,
                        "placed_in": placement.skill,
                        "passed_over": list(placement.path),
                        "intent": context.intent,
                        "confidence": round(context.confidence, 3),
                    },
                },
            )
        )
        position = self.handoffs.position(record) or 1
        outcome = placement.outcome
        if record.status is HandoffStatus.ASSIGNED:
            outcome, position = Outcome.QUEUED, 1  # asked again while an agent has it
        wait = None
        if outcome is Outcome.QUEUED:
            wait = expected_wait(
                position, loads[record.skill], self._capacities.get(record.skill, 1)
            )
        return HandoffResult(
            outcome, decision, placement, record, position=position, wait=wait, created=created
        )

    def cancel(self, conversation_id: str) -> CancelOutcome:
        """Takes the conversation out of the queue, unless an agent accepted it already."""
        try:
            cancelled = self.handoffs.cancel_queued(conversation_id)
        except HandoffConflict as taken:
            logger.info("handoff of %s not cancelled: %s", conversation_id, taken)
            return CancelOutcome.TAKEN
        if cancelled is None:
            return CancelOutcome.NOTHING_TO_CANCEL
        logger.info("handoff %d of %s cancelled by the consumer", cancelled.id, conversation_id)
        return CancelOutcome.CANCELLED
