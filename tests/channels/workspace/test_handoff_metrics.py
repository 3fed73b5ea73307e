"""Handoff metrics at ``/metrics``: queued by ``action_handoff`` (the action server's code),
accepted and closed through the workspace's HTTP API, scraped from the Rasa server's app."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from bot.handoff.agents import AgentDirectory, AgentStatus
from bot.handoff.handoffs import HandoffStore
from bot.handoff.service import HandoffService
from bot.inbox import Inbox
from channels.metrics import MetricsInput
from tests.channels.workspace.conftest import Workbench
from tests.factories import make_routing, user_event

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def asks_for_a_human(sender: str) -> Tracker:
    latest = user_event("I want to talk to a person", "request_human", source=None)
    return Tracker(
        sender_id=sender,
        slots={"handoff_active": None},
        latest_message={**latest["parse_data"], "text": latest["text"], "metadata": {}},
        events=[latest],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def scrape(bench: Workbench) -> Samples:
    _, answer = await bench.app.asgi_client.get("/metrics")
    assert answer.status == 200
    return samples(answer.text)


async def test_handoffs_by_skill_and_outcome_and_the_queue_wait_are_scraped(
    bench: Workbench,
) -> None:
    metrics = MetricsInput(
        inbox=lambda: Inbox(bench.store), handoffs=lambda: HandoffStore(bench.store)
    )

    async def on_new_message(_message: Any) -> None:
        return None

    bench.app.blueprint(metrics.blueprint(on_new_message), url_prefix="/")
    AgentDirectory(bench.store).set_status(bench.agents["sam"].id, AgentStatus.ONLINE)
    action = ActionHandoff(
        HandoffService(make_routing(), HandoffStore(bench.store, bench.clock), bench.clock)
    )
    for sender in ("rest-a", "rest-b"):
        action.run(CollectingDispatcher(), asks_for_a_human(sender), {})
    [first, second] = bench.handoffs.queue(["care_private"])
    bench.clock.shift(minutes=4)

    accepted = await bench.request("post", f"/api/handoffs/{first.id}/accept", "sam")
    closed = await bench.request(
        "post", f"/api/handoffs/{first.id}/close", "sam", json={"closing_question": False}
    )
    found = await scrape(bench)

    assert (accepted.status, closed.status) == (200, 200)
    skill = (("skill", "care_private"),)

    def handoffs(outcome: str) -> float:
        return found[("social_handoffs_total", (("outcome", outcome), *skill))]

    assert (handoffs("queued"), handoffs("accepted"), handoffs("closed")) == (2, 1, 1)
    assert found[("social_handoff_queue_wait_seconds_count", skill)] == 1
    assert 240 <= found[("social_handoff_queue_wait_seconds_sum", skill)] < 250
    assert found[("social_handoff_queue_wait_seconds_bucket", (("le", "120.0"), *skill))] == 0
    assert found[("social_handoff_queue_wait_seconds_bucket", (("le", "300.0"), *skill))] == 1
    assert found[("social_handoffs_waiting", skill)] == 1
    assert second.status.value == "queued"
