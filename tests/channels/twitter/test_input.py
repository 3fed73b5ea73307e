"""The X webhook through a real Sanic app: CRC, signatures, limits, both formats, the inbox."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.inbox import Inbox
from bot.metrics import MALFORMED_REASON, REGISTRY
from bot.store import SocialStore
from channels.twitter import TwitterInput, TwitterOutput
from channels.twitter.verify import OAUTH2_SIGNATURE_HEADER, SIGNATURE_HEADER, sign
from tests.channels.twitter.builders import (
    BRAND,
    CONSUMER_SECRET,
    DM_ID,
    HELP_ACCOUNT,
    OAUTH2_SECRET,
    PAT,
    TWEET_ID,
    aaa,
    aaa_dm,
    aaa_tweet,
    credentials,
    encode,
    make_input,
    reference,
    signed,
    xaa,
    xaa_dm,
    xaa_post,
)
from tests.factories import webhook_app

WEBHOOK = "/webhooks/twitter/webhook"


@pytest.fixture
def channel(store: SocialStore) -> TwitterInput:
    return make_input(store)


@pytest.fixture
def inbox(channel: TwitterInput) -> Inbox:
    return channel.inbox


@pytest.fixture
def app(channel: TwitterInput) -> Sanic:
    return webhook_app(channel)


async def post(app: Sanic, body: bytes, headers: dict[str, str]) -> Any:
    _, result = await app.asgi_client.post(WEBHOOK, content=body, headers=headers)
    return result


def test_the_channel_is_built_from_its_credentials_section() -> None:
    channel = TwitterInput.from_credentials(credentials(max_body_bytes=512))

    assert TwitterInput.name() == "twitter"
    assert channel.max_body_bytes == 512
    assert channel.config.accounts[0].id == BRAND["id"]


async def test_the_crc_check_is_answered_with_the_response_token(app: Sanic) -> None:
    _, result = await app.asgi_client.get(f"{WEBHOOK}?crc_token=abc123")

    assert result.status == 200
    assert result.json == {"response_token": sign(CONSUMER_SECRET, b"abc123")}


async def test_a_crc_check_without_a_token_is_answered_400(app: Sanic) -> None:
    _, result = await app.asgi_client.get(WEBHOOK)

    assert result.status == 400
    assert result.json == {"error": "crc_token is missing from the query string"}


async def test_a_signed_mention_is_stored_and_answered_200(app: Sanic, inbox: Inbox) -> None:
    body = encode(reference("aaa-mention"))

    result = await post(app, body, signed(body))

    assert result.status == 200
    assert result.json == {"stored": 1, "duplicates": 0, "skipped": 0}
    record = inbox.get(f"twitter:{BRAND['id']}:tweet:{TWEET_ID}")
    assert record is not None
    assert record.sender_id == f"twitter:{BRAND['id']}:{PAT['id']}"
    assert record.event.context.is_public


BODY = encode(reference("aaa-mention"))


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (BODY, {}, 403, f"the {SIGNATURE_HEADER} header is missing"),
        (BODY, {SIGNATURE_HEADER: sign("wrong", BODY)}, 403, "does not match the body"),
        (
            BODY,
            {**signed(BODY), OAUTH2_SIGNATURE_HEADER: sign("wrong", BODY)},
            403,
            f"{OAUTH2_SIGNATURE_HEADER} does not match the body",
        ),
        (b"x" * 20_001, {}, 413, "the body has 20001 bytes; at most 20000 are accepted"),
        (b"{oops", None, 400, "the body is not JSON"),
        (
            encode({"for_user_id": BRAND["id"], "direct_message_events": {"type": "x"}}),
            None,
            400,
            "not an Account Activity delivery: direct_message_events: value is not a valid list",
        ),
    ],
    ids=["unsigned", "wrong signature", "wrong oauth2 signature", "too large", "not json", "bad"],
)
async def test_a_refused_delivery_says_why_and_stores_nothing(
    app: Sanic,
    inbox: Inbox,
    body: bytes,
    headers: dict[str, str] | None,
    status: int,
    message: str,
) -> None:
    result = await post(app, body, signed(body) if headers is None else headers)

    assert result.status == status
    assert message in result.json["error"]
    assert sum(inbox.counts().values()) == 0


@pytest.mark.parametrize(
    "payload",
    [
        aaa(tweets=({"id_str": "1874000000000000002"}, aaa_tweet()), dms=(aaa_dm(),)),
        aaa(
            tweets=(aaa_tweet(),),
            dms=(aaa_dm(), {**aaa_dm(dm_id="1874000000000000011"), "message_create": 7}),
        ),
    ],
    ids=["a tweet without its author", "a dm with wrong types"],
)
async def test_a_malformed_item_is_skipped_logged_and_counted_and_the_others_are_stored(
    app: Sanic, inbox: Inbox, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    body = encode(payload)
    label = {"platform": "twitter", "reason": MALFORMED_REASON}
    before = REGISTRY.get_sample_value("social_skipped_events_total", label) or 0.0

    with caplog.at_level(logging.WARNING, logger="channels.social"):
        result = await post(app, body, signed(body))

    assert result.status == 200
    assert result.json == {"stored": 2, "duplicates": 0, "skipped": 1}
    assert sum(inbox.counts().values()) == 2
    assert REGISTRY.get_sample_value("social_skipped_events_total", label) == before + 1
    [warning] = [r.getMessage() for r in caplog.records if r.name == "channels.social"]
    assert warning.startswith("twitter: skipped a malformed item 18740000000000000")
    assert "not a " in warning


async def test_the_oauth2_signature_is_accepted_beside_the_consumer_one(app: Sanic) -> None:
    headers = {**signed(BODY), OAUTH2_SIGNATURE_HEADER: sign(OAUTH2_SECRET, BODY)}

    result = await post(app, BODY, headers)

    assert result.status == 200


async def test_the_echo_of_a_dm_our_app_sent_is_skipped_without_the_store(
    app: Sanic, channel: TwitterInput, inbox: Inbox
) -> None:
    body = encode(
        aaa(dms=(aaa_dm("Thanks, it ships today.", sender=BRAND, recipient=PAT, app_id="7"),))
    )

    skipped = channel.skipped_at_once(body)
    result = await post(app, body, signed(body))

    assert skipped is not None
    assert [item.reason for item in skipped] == ["echo of our own DM"]
    assert result.status == 200
    assert result.json == {"stored": 0, "duplicates": 0, "skipped": 1}
    assert sum(inbox.counts().values()) == 0


@pytest.mark.parametrize(
    "dm",
    [
        pytest.param(aaa_dm("Order number is 1234"), id="a consumer's DM"),
        # Sent through some app: its options are looked up in the store, so it goes the usual way.
        pytest.param(aaa_dm("Order number is 1234", app_id="99"), id="a consumer's DM, by an app"),
    ],
)
async def test_a_consumer_s_dm_goes_to_the_webhook_thread_and_is_stored(
    app: Sanic, channel: TwitterInput, inbox: Inbox, dm: dict[str, Any]
) -> None:
    body = encode(aaa(dms=(dm,)))

    assert channel.skipped_at_once(body) is None
    result = await post(app, body, signed(body))

    assert result.json == {"stored": 1, "duplicates": 0, "skipped": 0}
    assert inbox.find_event("twitter", BRAND["id"], DM_ID) is not None


async def test_the_same_tweet_in_both_formats_is_stored_once(app: Sanic, inbox: Inbox) -> None:
    as_aaa = encode(reference("aaa-mention"))
    as_xaa = encode(xaa("post.mention.create", xaa_post()))

    first = await post(app, as_aaa, signed(as_aaa))
    again = await post(app, as_xaa, signed(as_xaa))

    assert first.json == {"stored": 1, "duplicates": 0, "skipped": 0}
    assert again.json == {"stored": 0, "duplicates": 1, "skipped": 0}
    assert sum(inbox.counts().values()) == 1


async def test_a_tweet_for_two_accounts_is_stored_once_per_account(
    app: Sanic, inbox: Inbox
) -> None:
    tweet = aaa_tweet("@BrandCo @BrandCoHelp hello", mentions=(BRAND, HELP_ACCOUNT))
    bodies = [encode(aaa(tweets=(tweet,))), encode(aaa(for_user=HELP_ACCOUNT, tweets=(tweet,)))]

    results = [await post(app, body, signed(body)) for body in bodies * 2]

    assert [result.json["stored"] for result in results] == [1, 1, 0, 0]
    assert inbox.get(f"twitter:{HELP_ACCOUNT['id']}:tweet:{TWEET_ID}") is not None
    assert sum(inbox.counts().values()) == 2


async def test_a_mention_then_a_dm_continue_one_conversation(app: Sanic, inbox: Inbox) -> None:
    mention = encode(xaa("post.mention.create", xaa_post()))
    dm = encode(xaa("dm.received", xaa_dm("my order is BC-104233")))

    await post(app, mention, signed(mention))
    await post(app, dm, signed(dm))

    public = inbox.get(f"twitter:{BRAND['id']}:tweet:{TWEET_ID}")
    private = inbox.get(f"twitter:{BRAND['id']}:dm:{DM_ID}")
    assert public is not None
    assert private is not None
    assert public.sender_id == private.sender_id
    assert private.event.text == "my order is BC-104233"


async def test_the_worker_hands_a_stored_tweet_to_rasa_answered_under_that_tweet(
    channel: TwitterInput,
) -> None:
    body = encode(reference("aaa-mention"))
    await channel.accept(body, signed(body))
    received: list[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    assert await channel.make_worker(on_new_message).run_once() == 1

    [message] = received
    assert (message.text, message.sender_id, message.input_channel) == (
        "my order #1234 never arrived",
        f"twitter:{BRAND['id']}:{PAT['id']}",
        "twitter",
    )
    assert message.metadata["social"]["source"] == "tweet"
    assert message.metadata["text_as_written"] == "@BrandCo my order #1234 never arrived"
    assert isinstance(message.output_channel, TwitterOutput)
    target = message.output_channel.target
    assert target is not None
    assert (target.visibility.value, target.event_id, target.author_handle) == (
        "public",
        TWEET_ID,
        "pat_example",
    )


async def test_the_x_api_client_is_closed_when_the_server_stops(
    app: Sanic, channel: TwitterInput
) -> None:
    http = channel.client.http

    _, health = await app.asgi_client.get("/webhooks/twitter/")

    assert health.status == 200
    assert http.is_closed
