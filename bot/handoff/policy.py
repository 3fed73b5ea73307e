"""``HandoffPolicy``: the Rasa adapter of ``bot.handoff.silence.decide``.

Listed in ``config.yml`` above ``PublicThreadPolicy``::

    policies:
      - name: bot.handoff.policy.HandoffPolicy
        priority: 7                  # above PublicThreadPolicy (6) and RulePolicy (4)
        failures_before_handoff: 2   # out of scope / not understood this often in a row: hand over
        failure_intents: [out_of_scope, nlu_fallback]
        cancel_intents: [cancel_handoff]

Its predictions have confidence 1.0 and ``is_no_user_prediction`` set, so they beat rules,
memoization, TED, forms and the public-thread policy alike. While ``handoff_active`` is set the
bot only listens: Rasa's own pause (``ConversationPaused``) is lifted by a session expiry and
skipped by ``/restart``, the slot is not (``carry_over_slots_to_new_session: true``).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.context import SocialContext
from bot.errors import ConfigurationError, InvalidSocialContext
from bot.handoff.silence import HandoffRules, HandoffState, consecutive_failures, decide

__all__ = ["ACTIVE_SLOT", "OUTCOME_SLOT", "HandoffPolicy", "handoff_state"]

logger = logging.getLogger(__name__)

ACTIVE_SLOT = "handoff_active"
OUTCOME_SLOT = "handoff_outcome"
MIN_PRIORITY = 7  # above PublicThreadPolicy (6): no call to action into a thread a human owns
_KEY = "policies.HandoffPolicy"


def _is_public(tracker: DialogueStateTracker) -> bool:
    latest = tracker.latest_message
    try:
        context = SocialContext.from_metadata(latest.metadata if latest else None)
    except InvalidSocialContext:
        return False
    return context is not None and context.is_public


def handoff_state(
    tracker: DialogueStateTracker, domain: Domain, rules: HandoffRules
) -> HandoffState:
    """What ``decide`` needs, read from a live tracker."""
    turns: list[tuple[str, str | None]] = []
    for event in tracker.applied_events():
        if isinstance(event, UserUttered):
            turns.append(("user", event.intent_name))
        elif isinstance(event, ActionExecuted):
            turns.append(("action", event.action_name))
    latest = tracker.latest_message
    active = tracker.get_slot(ACTIVE_SLOT)
    outcome = tracker.get_slot(OUTCOME_SLOT)
    return HandoffState(
        latest_action=tracker.latest_action_name,
        active=str(active) if active else None,
        outcome=str(outcome) if outcome else None,
        intent=latest.intent_name if latest is not None else None,
        public=_is_public(tracker),
        failures=consecutive_failures(turns, rules),
        responses=frozenset(domain.responses),
    )


def _names(config: dict[str, Any], key: str, default: frozenset[str]) -> frozenset[str]:
    value = config.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigurationError(
            "expected a list of intent names", file="config.yml", key=f"{_KEY}.{key}"
        )
    return frozenset(value)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class HandoffPolicy(Policy):
    """Keeps the bot quiet while a human owns the conversation; hands over when it keeps failing."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Options a bot designer may set in ``config.yml``."""
        defaults = HandoffRules()
        return {
            "priority": MIN_PRIORITY,
            "handoff_action": defaults.handoff_action,
            "cancel_action": defaults.cancel_action,
            "cancel_intents": sorted(defaults.cancel_intents),
            "failure_intents": sorted(defaults.failure_intents),
            "failures_before_handoff": defaults.failures_before_handoff,
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
                f"expected a priority of at least {MIN_PRIORITY} (above PublicThreadPolicy's "
                f"6 and RulePolicy's 4), got {self.priority}",
                file="config.yml",
                key=f"{_KEY}.priority",
            )
        failures = config.get("failures_before_handoff", 2)
        if not isinstance(failures, int) or isinstance(failures, bool) or failures < 0:
            raise ConfigurationError(
                f"expected a whole number, 0 to never hand over by itself, got {failures!r}",
                file="config.yml",
                key=f"{_KEY}.failures_before_handoff",
            )
        defaults = HandoffRules()
        self.rules = HandoffRules(
            handoff_action=str(config.get("handoff_action", defaults.handoff_action)),
            cancel_action=str(config.get("cancel_action", defaults.cancel_action)),
            cancel_intents=_names(config, "cancel_intents", defaults.cancel_intents),
            failure_intents=_names(config, "failure_intents", defaults.failure_intents),
            failures_before_handoff=failures,
        )

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn; checks that the domain has what the policy names."""
        for name in (self.rules.handoff_action, self.rules.cancel_action):
            if name not in domain.action_names_or_texts:
                raise ConfigurationError(
                    f"HandoffPolicy needs the action {name!r}, which is not in the domain",
                    file="domain.yml",
                    key="actions",
                )
        slots = {slot.name for slot in domain.slots}
        for slot in (ACTIVE_SLOT, OUTCOME_SLOT):
            if slot not in slots:
                raise ConfigurationError(
                    f"HandoffPolicy needs a slot {slot!r} (influence_conversation: false for "
                    f"{ACTIVE_SLOT})",
                    file="domain.yml",
                    key="slots",
                )
        with self._model_storage.write_to(self._resource) as directory:
            (directory / "handoff_policy.txt").write_text("rule-based\n")
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The forced action; no prediction when the bot may go on as usual."""
        action = decide(handoff_state(tracker, domain, self.rules), self.rules)
        probabilities = self._default_predictions(domain)
        if action is None:
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(action)] = 1.0
        logger.debug("handoff: forcing %s", action)
        return self._prediction(probabilities, is_no_user_prediction=True)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> HandoffPolicy:
        """Loads the (stateless) policy."""
        return cls(config, model_storage, resource, execution_context)
