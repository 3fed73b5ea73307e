"""Both social webhooks under test: how to build each channel, sign for it, and what it accepts.

A ``Webhook`` is the platform-specific part of the abuse tests; every test is run for both.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.inbox_worker import RetryPolicy
from bot.store import SocialStore
from channels.facebook.verify import sign as facebook_sign
from channels.social import SocialInputChannel
from channels.twitter.verify import SIGNATURE_HEADER
from channels.twitter.verify import sign as x_sign
from tests.channels.facebook import factories as facebook
from tests.channels.facebook.fake_graph import FakeGraph
from tests.channels.twitter import builders as x

__all__ = ["LIMIT", "WEBHOOKS", "Webhook"]

LIMIT = 256_000  # the body limit of the channels under test
NO_RETRY = RetryPolicy(max_attempts=1)  # a failure parks at once: the tests see it


@dataclass(frozen=True)
class Webhook:
    """One platform's webhook, as the abuse tests drive it.

    Attributes:
        name: ``facebook`` or ``twitter``.
        build: a channel over the store, with ``LIMIT`` and options for ``SocialInputChannel``.
        signed: the headers of a correctly signed delivery.
        signature_header: where the platform puts its signature.
        wrong_secret_headers: the headers of a delivery signed with another secret.
        seeds: valid deliveries of every kind the channel handles.
        message: one consumer's private message ``key``, written at epoch milliseconds.
        batch: a delivery of such messages, in the order given.
        dedupe_key: the inbox key of message ``key``.
    """

    name: str
    build: Callable[..., SocialInputChannel]
    signed: Callable[[bytes], dict[str, str]]
    signature_header: str
    wrong_secret_headers: Callable[[bytes], dict[str, str]]
    seeds: tuple[dict[str, Any], ...]
    message: Callable[[str, int], dict[str, Any]]
    batch: Callable[[list[dict[str, Any]]], dict[str, Any]]
    dedupe_key: Callable[[str], str]

    @property
    def path(self) -> str:
        """The webhook's URL path."""
        return f"/webhooks/{self.name}/webhook"

    def __str__(self) -> str:
        return self.name


def _facebook_channel(store: SocialStore, **options: Any) -> SocialInputChannel:
    options.setdefault("retry", NO_RETRY)
    config = facebook.make_config(max_body_bytes=LIMIT)
    return facebook.make_input(store, FakeGraph().transport, config, **options)


def _x_channel(store: SocialStore, **options: Any) -> SocialInputChannel:
    options.setdefault("retry", NO_RETRY)
    settings = x.config(max_body_bytes=LIMIT, oauth2_client_secret=x.OAUTH2_SECRET)
    return x.make_input(store, settings=settings, **options)


def _facebook_seeds() -> tuple[dict[str, Any], ...]:
    references = (
        "facebook-messenger-text",
        "facebook-messenger-postback",
        "facebook-feed-comment",
        "facebook-feed-visitor-post",
    )
    built = facebook.delivery(
        facebook.entry(
            messaging=(
                facebook.text_message(mid="m_fuzz1"),
                facebook.quick_reply("Yes", "/affirm", mid="m_fuzz2"),
                facebook.attachments_message(facebook.attachment(), mid="m_fuzz3"),
                facebook.postback(mid=None),
                facebook.referral(),
                facebook.signal("read"),
                facebook.echo(),
            ),
            standby=(facebook.text_message("still there?", mid="m_fuzz4"),),
        ),
        facebook.entry(
            changes=(
                facebook.comment(),
                facebook.comment("edited", verb="edited"),
                facebook.visitor_post(),
            )
        ),
    )
    return (*(json.loads(facebook.reference(name)) for name in references), built)


def _x_seeds() -> tuple[dict[str, Any], ...]:
    return (
        x.reference("aaa-mention"),
        x.reference("aaa-dm"),
        x.aaa(
            tweets=(
                x.aaa_tweet(tweet_id="1874000000000000101"),
                x.aaa_tweet(
                    "@BrandCo and?", tweet_id="1874000000000000102", in_reply_to=x.TWEET_ID
                ),
            ),
            dms=(x.aaa_dm(dm_id="1874000000000000111", quick_reply="/affirm"),),
            favorite_events=[{"id": "f1"}],
        ),
        x.xaa("post.mention.create", x.xaa_post(post_id="1874000000000000201")),
        x.xaa("post.reply.create", x.xaa_post(post_id="1874000000000000202", replied_to="1")),
        x.xaa("dm.received", x.xaa_dm(dm_id="1874000000000000211")),
    )


def _facebook_message(key: str, written_ms: int) -> dict[str, Any]:
    return facebook.messaging_item(
        timestamp=written_ms, message={"mid": f"m_{key}", "text": f"message {key}"}
    )


def _x_dm_id(key: str) -> str:
    return f"1874{key:0>15}"


def _x_message(key: str, written_ms: int) -> dict[str, Any]:
    dm = x.aaa_dm(f"message {key}", dm_id=_x_dm_id(key))
    return {**dm, "created_timestamp": str(written_ms)}


WEBHOOKS = (
    Webhook(
        name="facebook",
        build=_facebook_channel,
        signed=facebook.signed,
        signature_header="X-Hub-Signature-256",
        wrong_secret_headers=lambda body: {
            "X-Hub-Signature-256": facebook_sign("not-the-app-secret", body)
        },
        seeds=_facebook_seeds(),
        message=_facebook_message,
        batch=lambda items: facebook.delivery(facebook.entry(messaging=tuple(items))),
        dedupe_key=lambda key: f"facebook:mid:m_{key}",
    ),
    Webhook(
        name="twitter",
        build=_x_channel,
        signed=x.signed,
        signature_header=SIGNATURE_HEADER,
        wrong_secret_headers=lambda body: {SIGNATURE_HEADER: x_sign("not-the-secret", body)},
        seeds=_x_seeds(),
        message=_x_message,
        batch=lambda items: x.aaa(dms=tuple(items)),
        dedupe_key=lambda key: f"twitter:{x.BRAND['id']}:dm:{_x_dm_id(key)}",
    ),
)
