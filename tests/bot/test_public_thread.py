from __future__ import annotations

from datetime import timedelta

import pytest

from bot.context import Visibility
from bot.public_thread import (
    ACTION_LISTEN,
    CTA_ACTION,
    CTA_RESPONSE,
    CtaSent,
    Decision,
    PublicThreadRules,
    ThreadState,
    ctas_sent,
    decide,
)

RULES = PublicThreadRules(cta_cooldown=timedelta(hours=24))
HOUR = 3600.0
PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE


def state(**fields: object) -> ThreadState:
    defaults: dict[str, object] = {
        "latest_action": ACTION_LISTEN,
        "visibility": PUBLIC,
        "thread_id": "post-1",
        "remembered_visibility": PUBLIC,
        "now": 100 * HOUR,
    }
    return ThreadState(**{**defaults, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        (state(), Decision(CTA_ACTION)),
        (state(latest_action=CTA_ACTION), Decision(CTA_RESPONSE)),
        (state(latest_action=CTA_RESPONSE), Decision(ACTION_LISTEN)),
        (state(latest_action="utter_greet"), Decision(ACTION_LISTEN)),
        (state(latest_action="order_status_form"), Decision(ACTION_LISTEN)),
        (state(remembered_visibility=None), Decision(CTA_ACTION, remember=PUBLIC)),
        (state(remembered_visibility=PRIVATE), Decision(CTA_ACTION, remember=PUBLIC)),
        (state(visibility=PRIVATE), Decision(None, remember=PRIVATE)),
        (state(visibility=PRIVATE, remembered_visibility=PRIVATE), Decision(None)),
        # never public: nothing to remember (no slot event in a private conversation)
        (state(visibility=PRIVATE, remembered_visibility=None), Decision(None)),
        (state(visibility=None, remembered_visibility=None), Decision(None)),
        # REST or shell messages carry no social context: not public
        (state(visibility=None), Decision(None)),
        # an external event replaced the metadata: the remembered visibility governs
        (state(visibility=None, is_external=True), Decision(CTA_ACTION)),
        (
            state(visibility=None, is_external=True, remembered_visibility=PRIVATE),
            Decision(None),
        ),
        # a human agent owns the thread: no invitation, the policy listens
        (state(agent_owns_thread=True), Decision(ACTION_LISTEN)),
        (state(agent_owns_thread=True, latest_action=CTA_ACTION), Decision(ACTION_LISTEN)),
        (state(agent_owns_thread=True, visibility=PRIVATE), Decision(None, remember=PRIVATE)),
        # the brand's own comment or tweet is never invited
        (state(author_is_brand=True), Decision(ACTION_LISTEN)),
    ],
)
def test_decide(situation: ThreadState, expected: Decision) -> None:
    assert decide(situation, RULES) == expected


def test_one_call_to_action_per_thread_within_the_cooldown() -> None:
    earlier = (CtaSent("post-1", 90 * HOUR),)

    assert decide(state(ctas=earlier), RULES) == Decision(ACTION_LISTEN)
    assert decide(state(ctas=earlier, now=114.5 * HOUR), RULES) == Decision(CTA_ACTION)
    assert decide(state(ctas=earlier, thread_id="post-2"), RULES) == Decision(CTA_ACTION)


def test_ctas_belong_to_the_thread_of_the_message_before_them() -> None:
    turns = [
        ("user", "post-1", 1.0),
        ("action", CTA_ACTION, 2.0),
        ("action", CTA_RESPONSE, 3.0),
        ("user", None, 4.0),
        ("action", "utter_greet", 5.0),
        ("user", "post-2", 6.0),
        ("action", CTA_ACTION, 7.0),
    ]

    assert ctas_sent(turns) == (CtaSent("post-1", 2.0), CtaSent("post-2", 7.0))
