"""``PublicThreadPolicy``: the Rasa adapter of ``bot.public_thread.decide``.

Listed in ``config.yml``::

    policies:
      - name: bot.policy.PublicThreadPolicy
        priority: 6              # above RulePolicy (4): the policy must win in public
        cta_action: action_public_to_private     # fills cta_name and cta_link
        cta_response: utter_public_to_private    # the invitation, with channel variations
        cta_cooldown_hours: 24   # one call to action per author and thread in this window
        handoff_slot: handoff_active  # set while a human agent owns the conversation

After a public message it predicts the call to action (the action, then its response), then
``action_listen``, with confidence
1.0 and ``is_no_user_prediction`` set, so it beats rules, memoization, TED and active forms alike
(the ensemble keeps only no-user predictions when there is one). In private it predicts nothing
and stays out of the way. It remembers the visibility in the ``social_visibility`` slot, so an
external event (``/trigger_intent``, a reminder), whose metadata replaces the social context,
is still known to be public. No call to action goes to the brand's own account, nor into a
conversation a human agent owns (the ``handoff_slot`` is set): the policy listens instead.

The call to action is also the process's (``bot.runtime.set_call_to_action``): the output
channels know it by its response, and the guard's limiter (``bot.cta_limits``) enforces the same
cooldown where messages leave.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.context import METADATA_KEY, SocialContext, Visibility
from bot.errors import ConfigurationError, InvalidSocialContext
from bot.public_thread import (
    CTA_ACTION,
    CTA_RESPONSE,
    PublicThreadRules,
    ThreadState,
    ctas_sent,
    decide,
    effective_visibility,
)
from bot.runtime import CallToAction, set_call_to_action

__all__ = ["HANDOFF_SLOT", "VISIBILITY_SLOT", "PublicThreadPolicy", "thread_state"]

logger = logging.getLogger(__name__)

VISIBILITY_SLOT = "social_visibility"
HANDOFF_SLOT = "handoff_active"  # the handoff's: "queued" or "assigned" while a human owns it
MIN_PRIORITY = 5  # RulePolicy has 4; the policy must outrank every built-in policy


def _social_context(metadata: dict[str, Any] | None) -> SocialContext | None:
    try:
        return SocialContext.from_metadata(metadata)
    except InvalidSocialContext:
        logger.warning("a user message carries an invalid social context; treated as private")
        return None


def _is_external(metadata: dict[str, Any] | None) -> bool:
    return bool(metadata and metadata.get("is_external"))


def _public_thread(metadata: dict[str, Any] | None) -> str | None:
    """The thread of a past message if it was public, read from two fields of its context.

    Not ``SocialContext.from_metadata``: it costs tens of µs, and the policy reads every message
    within the cooldown at each prediction; each was validated when it was the latest.
    """
    social = (metadata or {}).get(METADATA_KEY)
    if not isinstance(social, dict) or social.get("visibility") != Visibility.PUBLIC.value:
        return None
    thread = social.get("thread_id")
    return thread if isinstance(thread, str) else None


_USER = UserUttered.type_name
_ACTION = ActionExecuted.type_name


def _recent_events(tracker: DialogueStateTracker, since: float, action: str) -> list[Event]:
    """The user messages and runs of ``action`` from the newest consumer message written before
    ``since``, oldest first.

    Calls to action older than ``since`` (the cooldown's start) do not matter, so the policy's
    time per prediction follows the activity within the cooldown, not the conversation's length.
    The first message, if any, says which thread the calls to action after it belong to. Events
    are told apart by ``type_name``: ``isinstance`` on Rasa's abstract event classes costs more
    than the rest of the loop.
    """
    recent: list[Event] = []
    for event in reversed(tracker.events):
        kind = event.type_name
        if kind == _ACTION:
            if event.action_name == action:
                recent.append(event)
        elif kind == _USER:
            recent.append(event)
            if event.timestamp < since and not _is_external(event.metadata):
                break
    recent.reverse()
    return recent


def _turns(events: list[Event]) -> list[tuple[str, str | None, float]]:
    """The ``(kind, value, timestamp)`` turns of ``ctas_sent``: user messages with their public
    thread, actions with their name. An external event (``/trigger_intent``, a reminder) carries
    no social context: it stays in the thread of the message before it."""
    turns: list[tuple[str, str | None, float]] = []
    thread: str | None = None
    for event in events:
        if event.type_name == _USER:
            if not _is_external(event.metadata):
                thread = _public_thread(event.metadata)
            turns.append(("user", thread, event.timestamp))
        else:
            turns.append(("action", event.action_name, event.timestamp))
    return turns


def _slot_value(tracker: DialogueStateTracker, name: str) -> Any:
    # Not get_slot(): it logs every read of a slot the domain lacks (no handoff in the domain).
    slot = tracker.slots.get(name)
    return slot.value if slot is not None else None


def thread_state(
    tracker: DialogueStateTracker, rules: PublicThreadRules, handoff_slot: str = HANDOFF_SLOT
) -> ThreadState:
    """What ``decide`` needs, read from a live tracker."""
    latest = tracker.latest_message
    metadata = latest.metadata if latest is not None else None
    context = _social_context(metadata)
    remembered = _slot_value(tracker, VISIBILITY_SLOT)
    state = ThreadState(
        latest_action=tracker.latest_action_name,
        visibility=context.visibility if context else None,
        thread_id=context.thread_id if context else None,
        is_external=_is_external(metadata),
        remembered_visibility=Visibility(remembered)
        if remembered in ("public", "private")
        else None,
        now=latest.timestamp if latest is not None else 0.0,
        agent_owns_thread=_slot_value(tracker, handoff_slot) not in (None, False, ""),
        author_is_brand=context is not None and context.author.id == context.account_id,
    )
    if effective_visibility(state) is not Visibility.PUBLIC:
        return state  # the calls to action sent matter only after a public message
    since = state.now - rules.cta_cooldown.total_seconds()
    turns = _turns(_recent_events(tracker, since, rules.cta_action))
    thread_id = state.thread_id
    if context is None and state.is_external:
        thread_id = next((value for kind, value, _ in reversed(turns) if kind == "user"), None)
    return replace(state, thread_id=thread_id, ctas=ctas_sent(turns, rules.cta_action))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class PublicThreadPolicy(Policy):
    """Keeps the bot out of public threads: only the call to action, then listening."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Options a bot designer may set in ``config.yml``."""
        return {
            "priority": 6,
            "cta_action": CTA_ACTION,
            "cta_response": CTA_RESPONSE,
            "cta_cooldown_hours": 24.0,
            "handoff_slot": HANDOFF_SLOT,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        if self.priority < MIN_PRIORITY:
            raise ConfigurationError(
                f"expected a priority of at least {MIN_PRIORITY} (above RulePolicy's 4), "
                f"got {self.priority}",
                file="config.yml",
                key="policies.PublicThreadPolicy.priority",
            )
        try:
            hours = float(config.get("cta_cooldown_hours", 24.0))
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                "expected a number of hours",
                file="config.yml",
                key="policies.PublicThreadPolicy.cta_cooldown_hours",
            ) from exc
        if hours < 0:
            raise ConfigurationError(
                f"expected a number of hours of 0 or more, got {hours:g}",
                file="config.yml",
                key="policies.PublicThreadPolicy.cta_cooldown_hours",
            )
        cooldown = timedelta(hours=hours)
        self.rules = PublicThreadRules(
            cta_action=str(config.get("cta_action", CTA_ACTION)),
            cta_response=str(config.get("cta_response", CTA_RESPONSE)),
            cta_cooldown=cooldown,
        )
        self.handoff_slot = str(config.get("handoff_slot") or HANDOFF_SLOT)
        # The output channels and the guard's limiter follow the same call to action.
        set_call_to_action(CallToAction(self.rules.cta_response, cooldown))

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn: the rule of the product is not learnt from stories."""
        self._check_domain(domain)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "public_thread_policy.txt").write_text("rule-based\n")
        return self._resource

    def _check_domain(self, domain: Domain) -> None:
        for name in (self.rules.cta_action, self.rules.cta_response):
            if name not in domain.action_names_or_texts:
                raise ConfigurationError(
                    f"the call to action needs {name!r}, which is not in the domain",
                    file="domain.yml",
                    key="actions" if name.startswith("action_") else "responses",
                )
        if VISIBILITY_SLOT not in {slot.name for slot in domain.slots}:
            raise ConfigurationError(
                f"expected a slot {VISIBILITY_SLOT!r} (categorical: public, private) for "
                "PublicThreadPolicy",
                file="domain.yml",
                key="slots",
            )

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The forced action after a public message; no prediction in private."""
        decision = decide(thread_state(tracker, self.rules, self.handoff_slot), self.rules)
        events = [SlotSet(VISIBILITY_SLOT, decision.remember.value)] if decision.remember else []
        probabilities = self._default_predictions(domain)
        if decision.action is None:
            return self._prediction(probabilities, events=events)
        probabilities[domain.index_for_action(decision.action)] = 1.0
        logger.debug("public thread: forcing %s", decision.action)
        return self._prediction(probabilities, events=events, is_no_user_prediction=True)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> PublicThreadPolicy:
        """Loads the (stateless) policy."""
        return cls(config, model_storage, resource, execution_context)
