"""``/metrics``: what the webhook, the guard and the inbox report, scraped through a real app."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.errors import OutboundRefused
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target
from bot.handoff.handoffs import HandoffStore
from bot.inbox import Inbox
from bot.metrics import InboxCollector, reason_label
from bot.store import SocialStore
from channels.metrics import MetricsInput
from tests.channels.test_social import ExampleInput, sign
from tests.factories import make_context, make_event


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by (name, sorted labels)."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def metrics_app(store: SocialStore) -> tuple[Sanic, ExampleInput]:
    async def on_new_message(_message: UserMessage) -> None:
        return None

    inbox = Inbox(store)
    channel = ExampleInput(inbox=inbox)
    app = Sanic(f"metrics_test_{id(store)}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/example")
    metrics = MetricsInput(inbox=lambda: inbox, handoffs=lambda: HandoffStore(store))
    app.blueprint(metrics.blueprint(on_new_message), url_prefix="/")
    return app, channel


async def scrape(app: Sanic) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    _, result = await app.asgi_client.get("/metrics")
    assert result.status == 200
    assert result.content_type.startswith("text/plain")
    return samples(result.text)


async def test_stored_skipped_duplicate_and_refused_deliveries_are_counted(
    store: SocialStore,
) -> None:
    app, _channel = metrics_app(store)
    before = await scrape(app)
    body = json.dumps([{"id": "m1", "user": "1", "text": "hi"}, {"id": "e", "echo": True}]).encode()

    for _ in range(2):
        await app.asgi_client.post("/webhooks/example/webhook", content=body, headers=sign(body))
    await app.asgi_client.post("/webhooks/example/webhook", content=b"[]", headers={})
    after = await scrape(app)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    inbound = {"platform": "facebook", "visibility": "private", "source": "messenger"}
    assert grew("social_inbound_events_total", **inbound) == 1
    assert grew("social_duplicate_events_total", platform="facebook") == 1
    assert grew("social_skipped_events_total", platform="facebook", reason="echo") == 2
    assert grew("social_refused_deliveries_total", platform="facebook", status="403") == 1
    assert grew("social_webhook_seconds_count", platform="facebook") == 2


async def test_guard_refusals_are_counted_by_platform_and_origin(store: SocialStore) -> None:
    app, _channel = metrics_app(store)
    key = ("social_guard_refusals_total", (("origin", "bot"), ("platform", "twitter")))
    before = (await scrape(app)).get(key, 0.0)
    target = Target.from_context(make_context("tweet"))

    with pytest.raises(OutboundRefused):
        OutboundGuard().check(Origin.BOT, target, OutboundMessage(text="hello"))

    assert (await scrape(app))[key] == before + 1


def test_the_inbox_collector_reports_each_state_and_the_oldest_age(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="a"))
    inbox.add(make_event("tweet", dedupe_key="b"))

    families = {family.name: family for family in InboxCollector(lambda: inbox).collect()}

    depth = {
        sample.labels["status"]: sample.value for sample in families["social_inbox_events"].samples
    }
    assert depth == {"pending": 2, "processing": 0, "done": 0, "parked": 0}
    [age] = families["social_inbox_oldest_age_seconds"].samples
    assert 0 <= age.value < 60


def test_skip_reasons_become_bounded_label_values() -> None:
    assert reason_label("page 100200300400500 is disabled") == "page N is disabled"
    assert len(reason_label("x" * 200)) == 60


async def test_a_consumer_arriving_from_a_call_to_action_is_counted(store: SocialStore) -> None:
    app, _channel = metrics_app(store)
    key = ("social_cta_private_arrivals_total", (("platform", "facebook"),))
    before = (await scrape(app)).get(key, 0.0)
    body = json.dumps([{"id": "a1", "user": "5", "text": "/continue_from_public"}]).encode()

    await app.asgi_client.post("/webhooks/example/webhook", content=body, headers=sign(body))

    assert (await scrape(app))[key] == before + 1
