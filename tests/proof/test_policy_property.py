"""Property: after a public message the bot only invites, once per author and thread in the
cooldown, never into a thread an agent owns, never the brand, and never in private.

Two levels: the pure ``decide`` over random ``ThreadState``s, and the real ``PublicThreadPolicy``
on a real ``DialogueStateTracker`` with the project's ``Domain``, run in Rasa's prediction loop
over random conversations (public and private messages, external events, handoffs, time passing),
where whatever the other policies would do in private is random too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.context import Visibility
from bot.policy import HANDOFF_SLOT, PublicThreadPolicy
from bot.public_thread import (
    ACTION_LISTEN,
    CTA_ACTION,
    CTA_RESPONSE,
    CtaSent,
    PublicThreadRules,
    ThreadState,
    decide,
)
from tests.factories import X_ACCOUNT_ID, context_dict

ROOT = Path(__file__).resolve().parents[2]
COOLDOWN_HOURS = 24
RULES = PublicThreadRules(cta_cooldown=timedelta(hours=COOLDOWN_HOURS))
HOUR = 3600.0
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
CTA_STEPS = (CTA_ACTION, CTA_RESPONSE)
# What the other policies (rules, memoization, TED, forms) might run after a message.
OTHER_ACTIONS = (
    "utter_greet",
    "order_status_form",
    "action_order_status",
    "utter_order_shipped",
    "utter_anything_else",
    "utter_request_human",
    "action_continue_from_public",
    "utter_continue_from_public",
)

# --- the pure decision -----------------------------------------------------------------------

visibilities = st.sampled_from([None, Visibility.PUBLIC, Visibility.PRIVATE])
threads = st.sampled_from(["post-1", "post-2", None])
states = st.builds(
    ThreadState,
    latest_action=st.sampled_from([ACTION_LISTEN, *CTA_STEPS, *OTHER_ACTIONS, None]),
    visibility=visibilities,
    thread_id=threads,
    is_external=st.booleans(),
    remembered_visibility=visibilities,
    now=st.floats(min_value=0, max_value=200 * HOUR),
    ctas=st.lists(
        st.builds(CtaSent, thread_id=threads, timestamp=st.floats(0, 200 * HOUR)), max_size=4
    ).map(tuple),
    agent_owns_thread=st.booleans(),
    author_is_brand=st.booleans(),
)


@given(states)
def test_decide_forces_only_the_invitation_and_listening_and_only_in_public(
    state: ThreadState,
) -> None:
    decision = decide(state, RULES)

    public = state.visibility is Visibility.PUBLIC or (
        state.visibility is None
        and state.is_external
        and state.remembered_visibility is Visibility.PUBLIC
    )
    if not public:
        assert decision.action is None
        return
    assert decision.action in (*CTA_STEPS, ACTION_LISTEN)
    if decision.action in CTA_STEPS:
        assert not state.agent_owns_thread
        assert not state.author_is_brand
    if decision.action == CTA_ACTION:
        assert state.latest_action == ACTION_LISTEN
        window = RULES.cta_cooldown.total_seconds()
        assert all(
            cta.thread_id != state.thread_id or state.now - cta.timestamp >= window
            for cta in state.ctas
        )
    if decision.action == CTA_RESPONSE:
        assert state.latest_action == CTA_ACTION


# --- the policy in Rasa's prediction loop -----------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One user message of a random conversation with the brand's X account.

    Attributes:
        kind: ``public`` (a mention), ``private`` (a DM), ``brand`` (the brand's own tweet in the
            conversation's thread), ``external`` (a reminder or ``/trigger_intent``).
        thread: which of three public threads a mention belongs to.
        minutes: time since the previous message.
        handoff: set (True) or clear (False) the handoff slot before the message; None: as is.
        others: what the other policies would run after it, before listening.
    """

    kind: str
    thread: int
    minutes: int
    handoff: bool | None
    others: tuple[str, ...]


messages = st.builds(
    Message,
    kind=st.sampled_from(["public", "public", "private", "brand", "external"]),
    thread=st.integers(0, 2),
    minutes=st.one_of(st.integers(0, 90), st.integers(0, 3 * COOLDOWN_HOURS * 60)),
    handoff=st.one_of(st.none(), st.none(), st.booleans()),
    others=st.lists(st.sampled_from(OTHER_ACTIONS), max_size=3).map(tuple),
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    domain = Domain.load(ROOT / "domain.yml")
    assert HANDOFF_SLOT in {slot.name for slot in domain.slots}
    return domain


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> PublicThreadPolicy:
    config = {**PublicThreadPolicy.get_default_config(), "cta_cooldown_hours": COOLDOWN_HOURS}
    return PublicThreadPolicy.create(
        config,
        LocalModelStorage(tmp_path_factory.mktemp("policy")),
        Resource("public_thread_policy"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def metadata_of(message: Message, number: int) -> dict[str, Any]:
    if message.kind == "external":
        return {"is_external": True}
    if message.kind == "private":
        return {"social": context_dict("twitter_dm", event_id=f"dm-{number}")}
    fields: dict[str, Any] = {
        "event_id": f"tweet-{number}",
        "thread_id": f"thread-{message.thread}",
    }
    if message.kind == "brand":
        fields["author"] = {"id": X_ACCOUNT_ID, "name": "Brightcart", "handle": "brightcart"}
    return {"social": context_dict("tweet", **fields)}


def run_turn(
    policy: PublicThreadPolicy,
    domain: Domain,
    tracker: DialogueStateTracker,
    others: tuple[str, ...],
    now: float,
) -> list[tuple[str, bool]]:
    """Rasa's loop after one user message: ``(action, forced by the policy)`` until listening."""
    ran: list[tuple[str, bool]] = []
    pending = iter(others)
    for _ in range(10):
        prediction = policy.predict_action_probabilities(tracker, domain)
        for event in prediction.events:  # applied whichever policy wins
            tracker.update(event)
        forced = prediction.is_no_user_prediction and prediction.max_confidence == 1.0
        if forced:
            action = domain.action_names_or_texts[prediction.max_confidence_index]
        else:
            action = next(pending, ACTION_LISTEN)
        tracker.update(ActionExecuted(action, timestamp=now))
        ran.append((action, forced))
        if action == ACTION_LISTEN:
            return ran
    raise AssertionError(f"the loop never listened: {ran}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversation=st.lists(messages, min_size=1, max_size=14))
def test_in_rasa_s_loop_public_messages_get_one_invitation_per_thread_and_nothing_else(
    policy: PublicThreadPolicy, domain: Domain, conversation: list[Message]
) -> None:
    tracker = DialogueStateTracker.from_events(
        f"twitter:{X_ACCOUNT_ID}:1205290247124217856",
        [ActionExecuted(ACTION_LISTEN, timestamp=START)],
        slots=domain.slots,
    )
    now = START
    visibility: str | None = None  # what the model remembers across external events
    thread: str | None = None
    owned = False
    last_invited: dict[str | None, float] = {}
    for number, message in enumerate(conversation):
        now += message.minutes * 60
        if message.handoff is not None:
            owned = message.handoff
            tracker.update(SlotSet(HANDOFF_SLOT, "assigned" if owned else None, timestamp=now))
        tracker.update(
            UserUttered(
                "where is my order BC-104233",
                {"name": "order_status", "confidence": 0.97},
                metadata=metadata_of(message, number),
                timestamp=now,
            )
        )
        if message.kind != "external":
            visibility = "private" if message.kind == "private" else "public"
            thread = f"thread-{message.thread}" if visibility == "public" else None

        ran = run_turn(policy, domain, tracker, message.others, now)

        actions = [action for action, _ in ran]
        if visibility != "public":
            assert not any(forced for _, forced in ran), ran
            assert not set(actions) & set(CTA_STEPS), ran
            continue
        assert all(forced for _, forced in ran), ran
        last = last_invited.get(thread)
        invites = (
            not owned
            and message.kind != "brand"
            and (last is None or now - last >= COOLDOWN_HOURS * HOUR)
        )
        if invites:
            assert actions == [CTA_ACTION, CTA_RESPONSE, ACTION_LISTEN], (message, ran)
            last_invited[thread] = now
        else:
            assert actions == [ACTION_LISTEN], (message, ran)
