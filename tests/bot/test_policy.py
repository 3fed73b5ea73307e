"""PublicThreadPolicy with real Rasa objects: the project's domain, trackers and the ensemble."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import runtime
from bot.errors import ConfigurationError
from bot.policy import VISIBILITY_SLOT, PublicThreadPolicy
from tests.factories import X_ACCOUNT_ID, context_dict
from tests.policies import create_policy, predicted

ROOT = Path(__file__).resolve().parents[2]
# A slot of another name than the handoff's (handoff_active: "queued" or "assigned" while set).
TEXT_SLOT = {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


@pytest.fixture(scope="module")
def handoff_domain(domain: Domain) -> Domain:
    return domain.merge(Domain.from_dict({"slots": {"agent_on_it": dict(TEXT_SLOT)}}))


def make_policy(tmp_path: Path, **config: Any) -> PublicThreadPolicy:
    return create_policy(PublicThreadPolicy, tmp_path, **config)


def user(source: str | None, text: str = "where is my order?", **context: Any) -> UserUttered:
    metadata = {"social": context_dict(source, **context)} if source else {}
    return UserUttered(text, {"name": "order_status", "confidence": 0.99}, metadata=metadata)


def tracker(domain: Domain, *events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "facebook:100200300400500:7788990011223344",
        [ActionExecuted("action_listen"), *events],
        slots=domain.slots,
    )


@pytest.mark.parametrize("source", ["facebook_comment", "facebook_post", "tweet"])
def test_after_a_public_message_only_the_call_to_action_then_listening(
    domain: Domain, tmp_path: Path, source: str
) -> None:
    policy = make_policy(tmp_path)
    conversation = tracker(domain, user(source))

    first = policy.predict_action_probabilities(conversation, domain)
    conversation.update(ActionExecuted("action_public_to_private"))
    second = policy.predict_action_probabilities(conversation, domain)
    conversation.update(ActionExecuted("utter_public_to_private"))
    third = policy.predict_action_probabilities(conversation, domain)

    assert [predicted(domain, p) for p in (first, second, third)] == [
        "action_public_to_private",
        "utter_public_to_private",
        "action_listen",
    ]
    assert all(p.max_confidence == 1.0 and p.is_no_user_prediction for p in (first, second, third))
    assert first.events == [SlotSet(VISIBILITY_SLOT, "public")]


@pytest.mark.parametrize("source", ["messenger", "twitter_dm", None])
def test_in_private_it_stays_out_of_the_way(domain: Domain, tmp_path: Path, source: str) -> None:
    prediction = make_policy(tmp_path).predict_action_probabilities(
        tracker(domain, user(source)), domain
    )

    assert predicted(domain, prediction) is None
    assert not prediction.is_no_user_prediction


def test_it_wins_over_an_active_form_and_the_rule_policy(domain: Domain, tmp_path: Path) -> None:
    conversation = tracker(
        domain,
        user("messenger"),
        ActionExecuted("order_status_form"),
        ActiveLoop("order_status_form"),
        SlotSet("requested_slot", "order_number"),
        ActionExecuted("action_listen"),
        user("facebook_comment", text="BC-104233"),
    )
    ours = make_policy(tmp_path).predict_action_probabilities(conversation, domain)
    form = [0.0] * len(domain.action_names_or_texts)
    form[domain.index_for_action("order_status_form")] = 1.0
    rule_prediction = PolicyPrediction(form, "RulePolicy", 4, is_no_user_prediction=True)

    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [rule_prediction, ours], conversation, domain
    )

    assert winner.policy_name == "PublicThreadPolicy"
    assert predicted(domain, winner) == "action_public_to_private"


def test_a_second_public_message_in_the_same_thread_gets_no_second_invitation(
    domain: Domain, tmp_path: Path
) -> None:
    conversation = tracker(
        domain,
        user("facebook_comment"),
        ActionExecuted("action_public_to_private"),
        ActionExecuted("utter_public_to_private"),
        ActionExecuted("action_listen"),
        user("facebook_comment", text="hello??"),
    )

    prediction = make_policy(tmp_path).predict_action_probabilities(conversation, domain)

    assert predicted(domain, prediction) == "action_listen"


@pytest.mark.parametrize(
    ("hours_later", "expected"),
    [(1, "action_listen"), (23.9, "action_listen"), (24, "action_public_to_private")],
)
def test_the_invitation_comes_again_in_the_thread_once_the_cooldown_is_over(
    domain: Domain, tmp_path: Path, hours_later: float, expected: str
) -> None:
    start, later = 1_000_000.0, 1_000_000.0 + hours_later * 3600
    comment = user("facebook_comment")
    comment.timestamp = start
    private = user("messenger", text="hi")
    private.timestamp = later - 60
    again = user("facebook_comment", text="still waiting")
    again.timestamp = later
    conversation = tracker(
        domain,
        comment,
        ActionExecuted("action_public_to_private", timestamp=start),
        ActionExecuted("utter_public_to_private", timestamp=start),
        ActionExecuted("action_listen", timestamp=start),
        private,
        ActionExecuted("utter_greet", timestamp=later - 60),
        ActionExecuted("action_listen", timestamp=later - 60),
        again,
    )

    prediction = make_policy(tmp_path).predict_action_probabilities(conversation, domain)

    assert predicted(domain, prediction) == expected


def test_an_external_event_after_a_public_message_stays_public(
    domain: Domain, tmp_path: Path
) -> None:
    conversation = tracker(
        domain,
        SlotSet(VISIBILITY_SLOT, "public"),
        UserUttered("/greet", {"name": "greet"}, metadata={"is_external": True}),
    )

    prediction = make_policy(tmp_path).predict_action_probabilities(conversation, domain)

    assert predicted(domain, prediction) == "action_public_to_private"


def test_a_reminder_after_the_invitation_stays_in_its_thread_and_gets_no_second_one(
    domain: Domain, tmp_path: Path
) -> None:
    conversation = tracker(
        domain,
        user("tweet"),
        ActionExecuted("action_public_to_private"),
        ActionExecuted("utter_public_to_private"),
        ActionExecuted("action_listen"),
        SlotSet(VISIBILITY_SLOT, "public"),
        UserUttered("/remind", {"name": "greet"}, metadata={"is_external": True}),
    )

    prediction = make_policy(tmp_path).predict_action_probabilities(conversation, domain)

    assert predicted(domain, prediction) == "action_listen"


def test_training_checks_the_domain_has_what_the_policy_needs(tmp_path: Path) -> None:
    policy = make_policy(tmp_path)
    bare = Domain.from_dict({"intents": ["greet"], "responses": {"utter_greet": [{"text": "hi"}]}})

    with pytest.raises(ConfigurationError, match="action_public_to_private"):
        policy.train([], bare)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"priority": 3}, "expected a priority of at least 5"),
        ({"cta_cooldown_hours": "soon"}, "cta_cooldown_hours: expected a number of hours"),
        ({"cta_cooldown_hours": -1}, "cta_cooldown_hours: expected a number of hours of 0 or"),
    ],
)
def test_bad_options_name_the_key(tmp_path: Path, config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        make_policy(tmp_path, **config)


@pytest.mark.parametrize(
    ("config", "slot", "value", "expected"),
    [
        ({}, "handoff_active", "assigned", "action_listen"),
        ({}, "handoff_active", "queued", "action_listen"),
        ({}, "handoff_active", None, "action_public_to_private"),
        ({"handoff_slot": "agent_on_it"}, "agent_on_it", "yes", "action_listen"),
        ({"handoff_slot": "agent_on_it"}, "handoff_active", "assigned", "action_public_to_private"),
    ],
)
def test_no_call_to_action_into_a_thread_a_human_agent_owns(
    handoff_domain: Domain,
    tmp_path: Path,
    config: dict[str, Any],
    slot: str,
    value: str | None,
    expected: str,
) -> None:
    conversation = tracker(handoff_domain, SlotSet(slot, value), user("facebook_comment"))

    prediction = make_policy(tmp_path, **config).predict_action_probabilities(
        conversation, handoff_domain
    )

    assert predicted(handoff_domain, prediction) == expected
    assert prediction.is_no_user_prediction


def test_a_handoff_slot_the_domain_lacks_is_no_handoff(
    domain: Domain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = make_policy(tmp_path, handoff_slot="no_such_slot")

    with caplog.at_level("INFO"):
        prediction = policy.predict_action_probabilities(tracker(domain, user("tweet")), domain)

    assert predicted(domain, prediction) == "action_public_to_private"
    assert "non existing slot" not in caplog.text


def test_the_brand_s_own_tweet_gets_no_invitation(domain: Domain, tmp_path: Path) -> None:
    brand = {"id": X_ACCOUNT_ID, "name": "Brightcart", "handle": "brightcart"}
    conversation = tracker(domain, user("tweet", author=brand))

    prediction = make_policy(tmp_path).predict_action_probabilities(conversation, domain)

    assert predicted(domain, prediction) == "action_listen"


def test_the_call_to_action_is_the_process_s_for_the_output_channels_and_guard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "_call_to_action", runtime.CallToAction())

    make_policy(tmp_path, cta_cooldown_hours=2.5, cta_response="utter_invite")

    assert runtime.call_to_action() == runtime.CallToAction("utter_invite", timedelta(hours=2.5))
