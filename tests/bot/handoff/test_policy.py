"""HandoffPolicy with real Rasa objects: the project's domain, trackers and the ensemble."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.errors import ConfigurationError
from bot.handoff.policy import ACTIVE_SLOT, OUTCOME_SLOT, HandoffPolicy
from bot.policy import PublicThreadPolicy
from tests.factories import context_dict
from tests.policies import create_policy, predicted

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


def make_policy(tmp_path: Path, **config: Any) -> HandoffPolicy:
    return create_policy(HandoffPolicy, tmp_path, **config)


def user(intent: str, source: str | None = "messenger", text: str = "hello") -> UserUttered:
    metadata = {"social": context_dict(source)} if source else {}
    return UserUttered(text, {"name": intent, "confidence": 0.9}, metadata=metadata)


def tracker(domain: Domain, *events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "facebook:100200300400500:6543210987654321",
        [ActionExecuted("action_listen"), *events],
        slots=domain.slots,
    )


QUEUED = (
    user("request_human"),
    ActionExecuted("action_handoff"),
    SlotSet(ACTIVE_SLOT, "queued"),
    SlotSet(OUTCOME_SLOT, "queued"),
    ActionExecuted("utter_handoff_queued"),
    ActionExecuted("action_listen"),
)
ASSIGNED = (*QUEUED, ConversationPaused(), SlotSet(ACTIVE_SLOT, "assigned"))


@pytest.mark.parametrize(
    ("situation", "events", "expected"),
    [
        ("queued, a question", (*QUEUED, user("order_status")), "action_listen"),
        ("assigned, /restart", (*ASSIGNED, user("restart", text="/restart")), "action_listen"),
        (
            "assigned, after a session expiry (slots carried over)",
            (
                *ASSIGNED,
                ActionExecuted("action_session_start"),
                SessionStarted(),
                SlotSet(ACTIVE_SLOT, "assigned"),
                ActionExecuted("action_listen"),
                user("greet"),
            ),
            "action_listen",
        ),
        (
            "assigned, a public comment: no call to action into the thread",
            (*ASSIGNED, user("complaint", source="facebook_comment")),
            "action_listen",
        ),
        ("queued, never mind", (*QUEUED, user("cancel_handoff")), "action_cancel_handoff"),
        (
            "right after the handoff action",
            (
                user("request_human"),
                ActionExecuted("action_handoff"),
                SlotSet(OUTCOME_SLOT, "queued"),
            ),
            "utter_handoff_queued",
        ),
        (
            "out of scope twice in a row",
            (
                user("out_of_scope"),
                ActionExecuted("utter_out_of_scope"),
                ActionExecuted("action_listen"),
                user("out_of_scope"),
            ),
            "action_handoff",
        ),
        (
            "failures before a restart do not count after it",
            (
                user("out_of_scope"),
                ActionExecuted("utter_out_of_scope"),
                Restarted(),
                ActionExecuted("action_listen"),
                user("out_of_scope"),
            ),
            None,
        ),
        ("no handoff, a question", (user("order_status"),), None),
    ],
)
def test_predictions(
    domain: Domain, tmp_path: Path, situation: str, events: tuple[Event, ...], expected: str | None
) -> None:
    prediction = make_policy(tmp_path).predict_action_probabilities(
        tracker(domain, *events), domain
    )

    assert predicted(domain, prediction) == expected, situation
    if expected is not None:
        assert prediction.max_confidence == 1.0
        assert prediction.is_no_user_prediction


def test_silence_wins_over_the_rule_policy_restart_and_the_public_call_to_action(
    domain: Domain, tmp_path: Path
) -> None:
    conversation = tracker(domain, *ASSIGNED, user("restart", source="facebook_comment"))
    restart = [0.0] * len(domain.action_names_or_texts)
    restart[domain.index_for_action("action_restart")] = 1.0
    rule = PolicyPrediction(restart, "RulePolicy", 4, is_no_user_prediction=True)
    public = create_policy(PublicThreadPolicy, tmp_path).predict_action_probabilities(
        conversation, domain
    )
    ours = make_policy(tmp_path).predict_action_probabilities(conversation, domain)

    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [rule, public, ours], conversation, domain
    )

    # The public-thread policy, too, sends no invitation into a thread a human owns.
    assert predicted(domain, public) == "action_listen"
    assert winner.policy_name == "HandoffPolicy"
    assert predicted(domain, winner) == "action_listen"


def test_training_checks_the_domain_has_what_the_policy_needs(tmp_path: Path) -> None:
    bare = Domain.from_dict({"intents": ["greet"], "responses": {"utter_greet": [{"text": "hi"}]}})

    with pytest.raises(ConfigurationError, match="action_handoff"):
        make_policy(tmp_path).train([], bare)


def test_training_on_the_project_domain_succeeds(domain: Domain, tmp_path: Path) -> None:
    policy = make_policy(tmp_path)

    assert policy.train([], domain) == policy._resource


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"priority": 6}, "expected a priority of at least 7"),
        ({"failures_before_handoff": -1}, "failures_before_handoff: expected a whole number"),
        ({"failures_before_handoff": "two"}, "failures_before_handoff: expected a whole number"),
        ({"failure_intents": "out_of_scope"}, "failure_intents: expected a list of intent names"),
    ],
)
def test_bad_options_name_the_key(tmp_path: Path, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_policy(tmp_path, **config)
