"""The Facebook webhook through a real Sanic app, a real store and a fake Graph API."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.utils.common import class_from_module_path
from sanic import Sanic

from bot.errors import ConfigurationError
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.origins import PublicOrigin, PublicOrigins
from bot.outbound import OutboundLog, OutboundStatus
from bot.settings import read_env_file
from bot.store import SocialStore
from bot.yamlconfig import load_yaml
from channels.facebook import FacebookInput, FacebookOutput, FacebookSender
from channels.facebook.config import FacebookConfig
from channels.facebook.verify import sign
from tests.channels.facebook.factories import (
    APP_SECRET,
    COMMENT_ID,
    COMMENTER_ID,
    NOW,
    PSID,
    VERIFY_TOKEN,
    comment,
    delivery,
    echo,
    encode,
    entry,
    make_config,
    make_input,
    quick_reply,
    reference,
    referral,
    settings,
    signal,
    signed,
    text_message,
    visitor_post,
)
from tests.channels.facebook.fake_graph import FakeGraph
from tests.factories import PAGE_ID, make_context, make_event, webhook_app

ROOT = Path(__file__).resolve().parents[3]
WEBHOOK = "/webhooks/facebook/webhook"


@pytest.fixture
def channel(store: SocialStore, graph: FakeGraph) -> FacebookInput:
    return make_input(store, graph.transport)


@pytest.fixture
def received() -> list[UserMessage]:
    return []


@pytest.fixture
def app(channel: FacebookInput, received: list[UserMessage]) -> Sanic:
    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    return webhook_app(channel, on_new_message)


async def post(app: Sanic, body: bytes, headers: dict[str, str] | None = None) -> Any:
    _, result = await app.asgi_client.post(
        WEBHOOK, content=body, headers=signed(body) if headers is None else headers
    )
    return result


# --- configuration -------------------------------------------------------------------------


def test_rasa_finds_the_channel_by_its_credentials_key() -> None:
    channel_class = class_from_module_path("channels.facebook.FacebookInput")

    channel = channel_class.from_credentials(settings())

    assert isinstance(channel, FacebookInput)
    assert channel.name() == "facebook"
    assert channel.max_body_bytes == 1024 * 1024


def test_a_wrong_credentials_entry_stops_the_start_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match=r"FacebookInput\.pages\[0\]\.access_token"):
        FacebookInput.from_credentials(settings(pages=[{"id": PAGE_ID}]))


def test_the_committed_credentials_configure_the_sandbox_page() -> None:
    env = read_env_file(ROOT / ".env.example")
    section = load_yaml(ROOT / "credentials.yml", env)["channels.facebook.FacebookInput"]

    config = FacebookConfig.from_credentials(section)

    assert config.graph_url == f"http://{env['BIND_HOST']}:{env['SANDBOX_PORT']}/graph"
    assert config.app_secret == env["FACEBOOK_APP_SECRET"]
    [page] = config.pages
    assert (page.id, page.username, page.access_token) == (
        PAGE_ID,
        "brightcart",
        env["FACEBOOK_PAGE_ACCESS_TOKEN"],
    )


def test_the_package_exports_the_channel_classes() -> None:
    import channels.facebook as package

    assert sorted(package.__all__) == ["FacebookInput", "FacebookOutput", "FacebookSender"]


# --- handshake and refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        (
            f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=1158201444",
            200,
            "1158201444",
        ),
        ("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444", 403, "verify_token"),
        (f"hub.verify_token={VERIFY_TOKEN}&hub.challenge=1", 403, "hub.mode"),
        (f"hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}", 400, "hub.challenge is missing"),
    ],
)
async def test_the_subscription_handshake_echoes_the_challenge_or_refuses(
    app: Sanic, query: str, status: int, text: str
) -> None:
    _, result = await app.asgi_client.get(f"{WEBHOOK}?{query}")

    assert result.status == status
    assert text in result.text
    if status == 200:
        assert result.text == text
        assert result.content_type.startswith("text/plain")


BODY = reference("facebook-messenger-text")


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (BODY, {}, 403, "X-Hub-Signature-256 is missing"),
        (BODY, {"X-Hub-Signature-256": sign("not-the-secret", BODY)}, 403, "does not match"),
        (BODY, {"X-Hub-Signature-256": sign(APP_SECRET, BODY + b"\n")}, 403, "does not match"),
        (BODY, {"X-Hub-Signature": sign(APP_SECRET, BODY, "sha1")}, 403, "accept_sha1_only"),
        (b"{" + b" " * 20_000 + b"}", None, 413, "the body has 20002 bytes; at most 20000"),
        (b"{not json", None, 400, "the body is not JSON"),
        (
            json.dumps({"object": "user", "entry": []}).encode(),
            None,
            400,
            "object: expected 'page'",
        ),
        (json.dumps({"object": "page"}).encode(), None, 400, "entry: field required"),
    ],
)
async def test_a_refused_delivery_says_why_and_stores_nothing(
    app: Sanic,
    store: SocialStore,
    body: bytes,
    headers: dict[str, str] | None,
    status: int,
    message: str,
) -> None:
    result = await post(app, body, headers)

    assert result.status == status
    assert message in result.json["error"]
    assert sum(Inbox(store).counts().values()) == 0


async def test_a_delivery_signed_only_with_sha1_is_accepted_when_opted_in(
    store: SocialStore, graph: FakeGraph
) -> None:
    channel = make_input(store, graph.transport, make_config(accept_sha1_only=True))

    accepted = await channel.accept(BODY, {"X-Hub-Signature": sign(APP_SECRET, BODY, "sha1")})

    assert accepted.stored == 1


# --- storing deliveries --------------------------------------------------------------------


async def test_every_event_of_a_batched_delivery_is_stored(app: Sanic, store: SocialStore) -> None:
    body = encode(
        delivery(
            entry(
                messaging=(
                    text_message(mid="m_1"),
                    signal("read"),
                    quick_reply("Yes", "/affirm", mid="m_2"),
                )
            ),
            entry(
                standby=(text_message("still there?", mid="m_3"),),
                changes=(comment(), visitor_post()),
            ),
            entry(messaging=(echo(), text_message("bye", mid="m_4"))),
        )
    )

    result = await post(app, body)

    assert result.status == 200
    assert result.json == {"stored": 6, "duplicates": 0, "skipped": 2}
    inbox = Inbox(store)
    for key in (
        "facebook:mid:m_1",
        "facebook:mid:m_2",
        "facebook:mid:m_3",
        "facebook:mid:m_4",
        f"facebook:feed:{COMMENT_ID}:add",
        f"facebook:feed:{PAGE_ID}_122100000000000099:add",
    ):
        assert inbox.get(key) is not None, key


async def test_a_redelivered_batch_is_answered_200_and_stored_once(
    app: Sanic, store: SocialStore
) -> None:
    body = encode(delivery(entry(messaging=(text_message(mid="m_1"), text_message(mid="m_2")))))

    await post(app, body)
    again = await post(app, body)

    assert again.status == 200
    assert again.json == {"stored": 0, "duplicates": 2, "skipped": 0}
    assert sum(Inbox(store).counts().values()) == 2


@pytest.mark.parametrize(
    "name",
    [
        "facebook-messenger-text",
        "facebook-messenger-postback",
        "facebook-feed-comment",
        "facebook-feed-visitor-post",
    ],
)
async def test_each_reference_delivery_is_stored(app: Sanic, name: str) -> None:
    result = await post(app, reference(name))

    assert result.json == {"stored": 1, "duplicates": 0, "skipped": 0}


def answered(outbound: OutboundLog, kind: str) -> None:
    outbound.record(
        sender_id=f"facebook:{PAGE_ID}:{COMMENTER_ID}",
        platform="facebook",
        account_id=PAGE_ID,
        origin="cta",
        visibility="public",
        kind=kind,
        target_id=COMMENT_ID,
        text="Hi Jane",
        status=OutboundStatus.SENT,
    )


@pytest.mark.parametrize(
    ("edits", "answered_with", "stored"),
    [
        ("new_if_unanswered", None, 1),
        ("new_if_unanswered", "private_reply", 0),
        ("new_if_unanswered", "comment", 0),
        ("always_new", "private_reply", 1),
        ("ignore", None, 0),
    ],
)
async def test_an_edited_comment_is_new_text_per_the_edits_option(
    store: SocialStore, graph: FakeGraph, edits: str, answered_with: str | None, stored: int
) -> None:
    channel = make_input(store, graph.transport, make_config(edits=edits))
    if answered_with is not None:
        answered(OutboundLog(store), answered_with)
    body = encode(delivery(entry(changes=(comment("Actually, in red?", verb="edited"),))))

    accepted = await channel.accept(body, signed(body))

    assert (accepted.stored, accepted.skipped) == (stored, 1 - stored)


async def test_an_m_me_referral_from_the_call_to_action_links_the_commenter_to_their_psid(
    channel: FacebookInput, store: SocialStore
) -> None:
    public = make_context("facebook_comment")
    PublicOrigins(store).record(PublicOrigin.of(public, "Is this available in blue?"))
    body = encode(delivery(entry(messaging=(referral(f"pub-{COMMENT_ID}"),))))

    accepted = await channel.accept(body, signed(body))

    assert accepted.stored == 1
    link = IdentityLinks(store).private_for("facebook", PAGE_ID, COMMENTER_ID)
    assert link is not None
    assert (link.private_user_id, link.via, link.origin_event_id, link.ref) == (
        PSID,
        "referral",
        COMMENT_ID,
        f"pub-{COMMENT_ID}",
    )


async def test_a_reference_nobody_recorded_links_nothing(
    channel: FacebookInput, store: SocialStore
) -> None:
    body = encode(delivery(entry(messaging=(referral("pub-999_999"),))))

    accepted = await channel.accept(body, signed(body))

    assert accepted.stored == 1
    assert IdentityLinks(store).public_for("facebook", PAGE_ID, PSID) is None


async def test_the_first_messenger_message_after_a_private_reply_arrives_from_the_comment(
    channel: FacebookInput, store: SocialStore
) -> None:
    IdentityLinks(store).link(
        platform="facebook",
        account_id=PAGE_ID,
        public_user_id=COMMENTER_ID,
        private_user_id=PSID,
        via="private_reply",
        origin_event_id=COMMENT_ID,
    )
    first = encode(delivery(entry(messaging=(text_message("yes, it's BC-104233", mid="m_1"),))))
    second = encode(delivery(entry(messaging=(text_message("hello?", mid="m_2"),))))

    await channel.accept(first, signed(first))
    await channel.accept(second, signed(second))

    inbox = Inbox(store)
    arrived = inbox.get(f"facebook:{PAGE_ID}:arrival:{PSID}:pub-{COMMENT_ID}")
    message = inbox.get("facebook:mid:m_1")
    assert arrived is not None
    assert message is not None
    assert arrived.id < message.id  # the bot picks the comment up, then reads the message
    assert (arrived.event.text, arrived.event.context.referral) == (
        "/continue_from_public",
        f"pub-{COMMENT_ID}",
    )
    assert sum(inbox.counts().values()) == 3  # one arrival, then both messages


def _on_its_way(outbound: OutboundLog, turn_seq: int) -> int:
    """A message of the turn answering m_1, recorded ``sending``; its row."""
    return outbound.record(
        sender_id=f"facebook:{PAGE_ID}:{PSID}",
        platform="facebook",
        account_id=PAGE_ID,
        origin="bot",
        visibility="private",
        kind="message",
        target_id=PSID,
        text="Your order ships today.",
        status=OutboundStatus.SENDING,
        inbox_event="facebook:mid:m_1",
        turn_seq=turn_seq,
    )


async def test_the_echo_of_a_message_a_crash_left_on_its_way_confirms_it_was_sent(
    channel: FacebookInput, store: SocialStore
) -> None:
    outbound = OutboundLog(store)  # the process that crashed
    _on_its_way(outbound, 2)
    body = encode(delivery(entry(messaging=(echo(metadata="turn:facebook:mid:m_1#2"),))))

    accepted = await channel.accept(body, signed(body))

    assert accepted.skipped == 1  # an echo is never a message for the bot
    assert outbound.turn_outcomes("facebook:mid:m_1") == {2: OutboundStatus.SENT}


def _sent_here(channel: FacebookInput, turn_seq: int, *, finished: bool) -> None:
    """A message of the turn answering m_1, sent by this very channel (finished or not)."""
    outbound = channel.sender.outbound
    assert outbound is not None
    row = _on_its_way(outbound, turn_seq)
    if finished:
        outbound.finish(row, status=OutboundStatus.SENT, platform_message_id=f"m_{turn_seq}")


async def test_echoes_of_messages_this_process_finished_are_skipped_without_the_store(
    channel: FacebookInput,
) -> None:
    _sent_here(channel, 1, finished=True)
    ours = echo(metadata="turn:facebook:mid:m_1#1")
    from_meta_s_inbox = echo("We're on it", mid="m_echo2")  # a person at the page: no key
    body = encode(delivery(entry(messaging=(ours, from_meta_s_inbox))))

    skipped = channel.skipped_at_once(body)
    accepted = await channel.accept(body, signed(body))

    assert skipped is not None
    assert [item.reason for item in skipped] == ["echo of the page's own message"] * 2
    assert (accepted.stored, accepted.skipped) == (0, 2)


async def test_the_echo_of_a_message_still_on_its_way_here_is_confirmed_in_the_store(
    channel: FacebookInput,
) -> None:
    _sent_here(channel, 1, finished=False)  # Graph answered, the bot has not recorded it yet
    body = encode(delivery(entry(messaging=(echo(metadata="turn:facebook:mid:m_1#1"),))))

    assert channel.skipped_at_once(body) is None
    accepted = await channel.accept(body, signed(body))

    assert accepted.skipped == 1
    outbound = channel.sender.outbound
    assert outbound is not None
    assert outbound.turn_outcomes("facebook:mid:m_1") == {1: OutboundStatus.SENT}


@pytest.mark.parametrize("finished", [True, False])
async def test_a_send_key_written_with_escapes_is_read_as_any_other(
    channel: FacebookInput, finished: bool
) -> None:
    # JSON may escape any character ("#" as \u0023): the raw body's quick look misses such a
    # key, and the parsed delivery decides.
    _sent_here(channel, 1, finished=finished)
    body = encode(delivery(entry(messaging=(echo(metadata="turn:facebook:mid:m_1#1"),))))
    body = body.replace(b"m_1#1", b"m_1\\u00231")
    assert b"\\u0023" in body

    skipped = channel.skipped_at_once(body)
    accepted = await channel.accept(body, signed(body))

    assert (skipped is not None) is finished
    assert accepted.skipped == 1
    outbound = channel.sender.outbound
    assert outbound is not None
    assert outbound.turn_outcomes("facebook:mid:m_1") == {1: OutboundStatus.SENT}


async def test_an_echo_batched_with_a_consumer_s_message_goes_the_usual_way(
    channel: FacebookInput, store: SocialStore
) -> None:
    _sent_here(channel, 1, finished=True)
    body = encode(
        delivery(
            entry(messaging=(echo(metadata="turn:facebook:mid:m_1#1"), text_message(mid="m_2")))
        )
    )

    assert channel.skipped_at_once(body) is None
    accepted = await channel.accept(body, signed(body))

    assert (accepted.stored, accepted.skipped) == (1, 1)
    assert Inbox(store).get("facebook:mid:m_2") is not None


# --- processing ------------------------------------------------------------------------------


async def test_the_worker_hands_each_event_to_rasa_with_its_context_and_answer_path(
    channel: FacebookInput, store: SocialStore, graph: FakeGraph
) -> None:
    body = reference("facebook-messenger-text")
    await channel.accept(body, signed(body))
    received: list[UserMessage] = []

    async def bot(message: UserMessage) -> None:
        received.append(message)
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": "Sorry to hear that! Which order?",
                "quick_replies": [{"title": "#1234", "payload": "/inform"}],
            },
        )

    assert await channel.make_worker(bot).run_once() == 1

    [message] = received
    assert message.text == "Hi, my order #1234 hasn't arrived"
    assert message.sender_id == f"facebook:{PAGE_ID}:{PSID}"
    assert message.input_channel == "facebook"
    assert message.metadata["social"]["source"] == "messenger"
    assert isinstance(message.output_channel, FacebookOutput)
    [answer] = graph.of("/messages")  # a quick answer: no typing indicator needed
    assert answer.body is not None
    assert answer.body["messaging_type"] == "RESPONSE"
    assert answer.body["message"]["quick_replies"][0]["payload"] == "/inform"


async def test_a_bot_answer_to_a_comment_is_refused_while_the_call_to_action_passes(
    channel: FacebookInput, store: SocialStore, graph: FakeGraph
) -> None:
    body = reference("facebook-feed-comment")
    await channel.accept(body, signed(body))

    async def bot(message: UserMessage) -> None:
        await message.output_channel.send_response(
            message.sender_id, {"text": "It ships in blue!", "utter_action": "utter_product_answer"}
        )
        await message.output_channel.send_response(
            message.sender_id,
            {"text": "Hi Jane, let's talk in Messenger", "utter_action": "utter_public_to_private"},
        )

    await channel.make_worker(bot).run_once()

    [private_reply] = graph.calls
    assert private_reply.body is not None
    assert private_reply.body["recipient"] == {"comment_id": COMMENT_ID}
    assert private_reply.body["message"] == {"text": "Hi Jane, let's talk in Messenger"}
    log = OutboundLog(store).for_conversation(f"facebook:{PAGE_ID}:{COMMENTER_ID}")
    assert [(r.origin, r.status) for r in log] == [
        ("bot", OutboundStatus.REFUSED),
        ("cta", OutboundStatus.SENT),
    ]
    assert channel.guard.refusals[("facebook", "bot")] == 1


async def test_the_rest_api_output_channel_answers_the_latest_conversation_place(
    channel: FacebookInput, store: SocialStore, graph: FakeGraph
) -> None:
    Inbox(store).add(make_event("messenger", occurred_at=NOW - timedelta(minutes=1)))

    output = channel.get_output_channel()
    await output.send_response(
        f"facebook:{PAGE_ID}:{PSID}", {"text": "A reminder about your order"}
    )

    assert output.target is None
    [body] = graph.sent_messages()
    assert body["recipient"] == {"id": PSID}


async def test_one_graph_client_serves_the_app_and_closes_when_the_server_stops(
    app: Sanic, channel: FacebookInput
) -> None:
    sender: FacebookSender = channel.sender
    assert channel.get_output_channel().sender is sender
    await sender.graph.like(PAGE_ID, "123_456")  # opens the client
    assert sender.graph.is_open

    await post(app, BODY)

    assert not sender.graph.is_open
