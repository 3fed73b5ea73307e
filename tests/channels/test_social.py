"""The shared webhook path, through a real Sanic app, with a small example platform."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from rasa.server import configure_cors
from sanic import Sanic, response
from sanic.log import access_logger
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import BadSignature, MalformedPayload
from bot.events import Skipped, SocialEvent
from bot.inbox import Inbox, InboxStatus
from bot.store import SocialStore
from channels.social import SocialInputChannel
from tests.factories import make_event

SECRET = b"example-secret"


def sign(body: bytes) -> dict[str, str]:
    return {"x-example-signature": hmac.new(SECRET, body, hashlib.sha256).hexdigest()}


class ExampleInput(SocialInputChannel):
    """A platform whose deliveries are JSON lists of ``{"id", "user", "text"}``."""

    platform = "facebook"

    @classmethod
    def name(cls) -> str:
        return "example"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outputs: list[CollectingOutputChannel] = []

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-example-signature", ""), expected):
            raise BadSignature("x-example-signature does not match the body")

    def challenge(self, query: Mapping[str, str]) -> HTTPResponse:
        if query.get("token") != "ok":
            raise BadSignature("wrong token")
        return response.text(query.get("echo", ""))

    def normalise(self, body: bytes) -> Sequence[SocialEvent | Skipped]:
        try:
            items = json.loads(body)
        except ValueError as exc:
            raise MalformedPayload(f"body is not JSON: {exc}") from exc
        if not isinstance(items, list):
            raise MalformedPayload("expected a list of items")
        return [
            Skipped("echo", item["id"])
            if item.get("echo")
            else make_event(
                "messenger", text=item["text"], dedupe_key=item["id"], author_id=item["user"]
            )
            for item in items
        ]

    def output_channel_for(self, event: SocialEvent) -> OutputChannel:
        output = CollectingOutputChannel()
        self.outputs.append(output)
        return output


@pytest.fixture
def inbox(store: SocialStore) -> Inbox:
    return Inbox(store)


@pytest.fixture
def channel(inbox: Inbox) -> ExampleInput:
    return ExampleInput(inbox=inbox, max_body_bytes=2000)


@pytest.fixture
def app(channel: ExampleInput) -> Sanic:
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    sanic_app = Sanic(f"social_test_{id(channel)}")
    sanic_app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/example")
    sanic_app.ctx.received = received
    return sanic_app


async def post(app: Sanic, body: bytes, headers: dict[str, str]) -> Any:
    _, result = await app.asgi_client.post(
        "/webhooks/example/webhook", content=body, headers=headers
    )
    return result


async def test_a_signed_batch_is_stored_whole_and_answered_with_counts(
    app: Sanic, inbox: Inbox
) -> None:
    body = json.dumps(
        [
            {"id": "a", "user": "1", "text": "where is my order?"},
            {"id": "b", "user": "2", "text": "hello"},
            {"id": "c", "echo": True},
        ]
    ).encode()

    result = await post(app, body, sign(body))

    assert result.status == 200
    assert result.json == {"stored": 2, "duplicates": 0, "skipped": 1}
    assert inbox.get("a") is not None
    assert inbox.get("b") is not None


async def test_deliveries_skip_the_servers_cors_headers(channel: ExampleInput) -> None:
    # Rasa's server adds CORS headers to every answer; a platform's servers need none.
    async def on_new_message(_message: UserMessage) -> None:
        return None

    sanic_app = Sanic(f"social_cors_{id(channel)}")
    configure_cors(sanic_app, "*")
    sanic_app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/example")

    @sanic_app.get("/other")
    async def other(_request: Request) -> HTTPResponse:
        return response.json({})

    body = json.dumps([{"id": "a", "user": "1", "text": "hi"}]).encode()
    origin = {"Origin": "https://example.com"}

    _, delivered = await sanic_app.asgi_client.post(
        "/webhooks/example/webhook", content=body, headers={**sign(body), **origin}
    )
    _, elsewhere = await sanic_app.asgi_client.get("/other", headers=origin)

    assert delivered.status == 200
    assert "access-control-allow-origin" not in delivered.headers
    assert elsewhere.headers["access-control-allow-origin"] == "https://example.com"


@pytest.mark.parametrize(("level", "built"), [(logging.ERROR, False), (logging.INFO, True)])
async def test_access_log_entries_are_built_only_where_they_are_written(
    app: Sanic, level: int, built: bool
) -> None:
    # Rasa leaves Sanic's access logger at ERROR (LOG_LEVEL_LIBRARIES): entries built for it are
    # dropped, so the server is told not to build them; at INFO they are written, and built.
    before = access_logger.level
    access_logger.setLevel(level)
    try:
        _, health = await app.asgi_client.get("/webhooks/example/")
    finally:
        access_logger.setLevel(before)

    assert health.status == 200
    assert app.config.ACCESS_LOG is built


async def test_a_redelivery_is_answered_200_and_stored_once(app: Sanic, inbox: Inbox) -> None:
    body = json.dumps([{"id": "a", "user": "1", "text": "hi"}]).encode()

    await post(app, body, sign(body))
    again = await post(app, body, sign(body))

    assert again.status == 200
    assert again.json == {"stored": 0, "duplicates": 1, "skipped": 0}
    assert sum(inbox.counts().values()) == 1


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"[]", {"x-example-signature": "0" * 64}, 403, "does not match"),
        (b"[]", {}, 403, "does not match"),
        (b"x" * 2001, {}, 413, "the body has 2001 bytes; at most 2000 are accepted"),
        (b"{not json", None, 400, "body is not JSON"),
        (b'{"a": 1}', None, 400, "expected a list of items"),
    ],
)
async def test_a_refused_delivery_says_why_and_stores_nothing(
    app: Sanic,
    inbox: Inbox,
    body: bytes,
    headers: dict[str, str] | None,
    status: int,
    message: str,
) -> None:
    result = await post(app, body, sign(body) if headers is None else headers)

    assert result.status == status
    assert message in result.json["error"]
    assert sum(inbox.counts().values()) == 0


async def test_the_platform_check_answers_or_refuses(app: Sanic) -> None:
    _, ok = await app.asgi_client.get("/webhooks/example/webhook?token=ok&echo=12345")
    _, refused = await app.asgi_client.get("/webhooks/example/webhook?token=no&echo=12345")

    assert (ok.status, ok.text) == (200, "12345")
    assert refused.status == 403


async def test_the_worker_hands_stored_events_to_rasa_with_the_social_context(
    channel: ExampleInput, inbox: Inbox
) -> None:
    event = make_event("messenger", text="where is my order?", dedupe_key="k1", author_id="77")
    inbox.add(event)
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    worker = channel.make_worker(on_new_message)
    assert await worker.run_once() == 1

    [message] = received
    assert message.text == "where is my order?"
    assert message.sender_id == event.sender_id
    assert message.input_channel == "example"
    assert message.metadata == event.metadata()
    assert message.output_channel is channel.outputs[0]
    assert inbox.get("k1").status is InboxStatus.DONE  # type: ignore[union-attr]


async def test_a_bot_failure_leaves_the_event_for_a_retry(
    channel: ExampleInput, inbox: Inbox
) -> None:
    inbox.add(make_event("messenger", dedupe_key="k1"))

    async def failing(_message: UserMessage) -> None:
        raise RuntimeError("the model is not loaded yet")

    await channel.make_worker(failing).run_once()

    record = inbox.get("k1")
    assert record is not None
    assert record.status is InboxStatus.PENDING
    assert record.last_error == "RuntimeError: the model is not loaded yet"
    assert inbox.claim("w", lease=timedelta(seconds=1)) == []  # waits for its retry time


async def test_an_event_whose_turn_rasa_saved_before_a_crash_is_not_handed_over_again(
    channel: ExampleInput, inbox: Inbox
) -> None:
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    saved = make_event("messenger", dedupe_key="k-saved", author_id="77")
    lost = make_event("messenger", dedupe_key="k-lost", author_id="88")
    tracker_store = InMemoryTrackerStore(Domain.empty())
    tracker = DialogueStateTracker(saved.sender_id, slots=[])
    tracker.update(UserUttered("hi", message_id="k-saved"))
    await tracker_store.save(tracker)
    channel._tracker_store = tracker_store
    inbox.add(saved)
    inbox.add(lost)
    # The first try's claims, by a worker that died: both events are replayed.
    assert len(inbox.claim("dead-worker", lease=timedelta(hours=1))) == 2
    assert inbox.release_claims(["dead-worker"]) == 2
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    worker = channel.make_worker(on_new_message)
    assert await worker.run_once() == 2

    assert [message.message_id for message in received] == ["k-lost"]
    assert inbox.get("k-saved").status is InboxStatus.DONE  # type: ignore[union-attr]


class FakeParser:
    """Stands in for Rasa's NLU: the parse data of each message, and the batches it was given."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def parse(self, messages: Sequence[UserMessage]) -> list[dict[str, Any]]:
        self.batches.append([message.text or "" for message in messages])
        return [
            {"text": message.text, "intent": {"name": f"understood {message.text}"}}
            for message in messages
        ]


async def test_events_claimed_together_reach_rasa_already_understood(
    channel: ExampleInput, inbox: Inbox
) -> None:
    for n in range(3):
        inbox.add(make_event("messenger", text=f"text {n}", dedupe_key=f"k{n}", author_id=f"u{n}"))
    parser = FakeParser()
    channel._parser = parser  # type: ignore[assignment]
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    assert await channel.make_worker(on_new_message).run_once() == 3

    assert parser.batches == [["text 0", "text 1", "text 2"]]
    understood = {message.text: message.parse_data["intent"]["name"] for message in received}
    assert understood == {f"text {n}": f"understood text {n}" for n in range(3)}
    assert channel._parsed == {}  # nothing kept once the turns ran


async def test_an_event_alone_or_replayed_is_left_to_rasa_s_nlu(
    channel: ExampleInput, inbox: Inbox
) -> None:
    inbox.add(make_event("messenger", text="alone", dedupe_key="k1"))
    parser = FakeParser()
    channel._parser = parser  # type: ignore[assignment]
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    await channel.make_worker(on_new_message).run_once()
    for n in (2, 3):  # tried before by a worker that died: Rasa understands each again itself
        inbox.add(
            make_event("messenger", text=f"replay {n}", dedupe_key=f"k{n}", author_id=f"u{n}")
        )
    assert len(inbox.claim("dead-worker", lease=timedelta(hours=1))) == 2
    inbox.release_claims(["dead-worker"])
    await channel.make_worker(on_new_message).run_once()

    assert parser.batches == []
    assert [message.parse_data for message in received] == [None, None, None]


async def test_a_large_claim_is_understood_in_passes_of_at_most_parse_batch(
    inbox: Inbox,
) -> None:
    from channels.social import PARSE_BATCH

    channel = ExampleInput(inbox=inbox, worker_concurrency=PARSE_BATCH + 3)
    for n in range(PARSE_BATCH + 3):
        inbox.add(make_event("messenger", text=f"t{n}", dedupe_key=f"k{n}", author_id=f"u{n}"))
    parser = FakeParser()
    channel._parser = parser  # type: ignore[assignment]

    async def on_new_message(_message: UserMessage) -> None:
        return None

    assert await channel.make_worker(on_new_message).run_once() == PARSE_BATCH + 3

    assert [len(batch) for batch in parser.batches] == [PARSE_BATCH, 3]
