"""``TwitterInput``: the X webhook of ``rasa run``, keyed ``channels.twitter.TwitterInput``.

A thin adapter: the shared ``SocialInputChannel`` runs size → signature → normalise → inbox → 200
and the inbox worker; this class supplies X's parts (``verify``, the CRC ``challenge``, one
``normalise`` for both delivery formats), what only the social store knows about a delivery (the
thread of a tweet seen before, the options offered in the last DM), and the output channels,
which share one ``XClient`` (one ``httpx.AsyncClient``, closed when the server stops).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.response import HTTPResponse

from bot.consumers import ConsumerFlags
from bot.context import Platform
from bot.cta_limits import CtaLimiter
from bot.events import Skipped, SocialEvent, conversation_id, skips_only
from bot.guard import OutboundGuard, Target
from bot.handoff.delivery import register_delivery
from bot.outbound import OutboundLog
from bot.runtime import consumer_flags, outbound_log, shared_guard
from channels.social import SocialInputChannel
from channels.twitter.agents import XAgentDelivery
from channels.twitter.api import XClient
from channels.twitter.config import TwitterConfig
from channels.twitter.normalise import Known, normalise_delivery
from channels.twitter.options import OFFERED_OPTIONS, NumberedOption, load_options
from channels.twitter.output import TwitterOutput
from channels.twitter.sender import XSender
from channels.twitter.verify import crc_response, verify_signature

__all__ = ["TwitterInput"]

logger = logging.getLogger(__name__)

# In a DM event sent through an app (ours, or another the brand uses): a delivery without it
# holds no echo of our DMs, and is not parsed twice.
_SENT_BY_AN_APP = b'"source_app_id"'

PLATFORM = Platform.TWITTER.value


class TwitterInput(SocialInputChannel):
    """Mentions, replies and DMs of the configured X accounts, from either webhook format.

    Args:
        config: the validated ``credentials.yml`` section.
        transport: an httpx transport for the X API instead of the network (tests).
        guard: the output guard (the process's by default).
        flags: the conversation flags (the endpoints' social store by default).
        outbound: the outbound log (the endpoints' social store by default).
        cta_limiter: the call to action's limits (over the outbound log by default).
        **kwargs: the shared channel's options (``inbox``, ``endpoints``, ``retry``...).
    """

    platform = PLATFORM

    def __init__(
        self,
        config: TwitterConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        guard: OutboundGuard | None = None,
        flags: ConsumerFlags | None = None,
        outbound: OutboundLog | None = None,
        cta_limiter: CtaLimiter | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("max_body_bytes", config.max_body_bytes)
        kwargs.setdefault("lease_seconds", config.inbox_lease_seconds)
        super().__init__(**kwargs)
        self.config = config
        self.client = XClient(config.api_url, timeout=config.timeout, transport=transport)
        self.guard = guard or shared_guard()
        self._flags = flags
        self._outbound = outbound
        self._cta_limiter = cta_limiter
        self._sender: XSender | None = None

    @classmethod
    def name(cls) -> str:
        return "twitter"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwitterInput:
        """The channel of its ``credentials.yml`` section; raises ``ConfigurationError``."""
        return cls(TwitterConfig.from_credentials(credentials))

    # --- the social store, opened on first use ---------------------------------------------

    @property
    def flags(self) -> ConsumerFlags:
        if self._flags is None:
            self._flags = consumer_flags(self._endpoints)
        return self._flags

    @property
    def outbound(self) -> OutboundLog:
        if self._outbound is None:
            self._outbound = outbound_log(self._endpoints)
        return self._outbound

    @property
    def cta_limiter(self) -> CtaLimiter:
        """The call to action's limits, over the outbound log."""
        if self._cta_limiter is None:
            self._cta_limiter = CtaLimiter(self.outbound)
        return self._cta_limiter

    @property
    def sender(self) -> XSender:
        """The X operations of this app (the workspace may use them too)."""
        if self._sender is None:
            self._sender = XSender(self.client, self.config, flags=self.flags)
        return self._sender

    # --- inbound -------------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_signature(
            body,
            headers,
            consumer_secret=self.config.consumer_secret,
            oauth2_client_secret=self.config.oauth2_client_secret,
        )

    def challenge(self, query: Mapping[str, str]) -> HTTPResponse:
        return response.json(crc_response(self.config.consumer_secret, query))

    def normalise(self, body: bytes) -> Sequence[SocialEvent | Skipped]:
        return normalise_delivery(body, self.config, Known(self.thread_of, self.options_for))

    def skipped_at_once(self, body: bytes) -> Sequence[Skipped] | None:
        """The echo of a DM our app sent (X marks it with ``source_app_id``): skipped without
        the store. Anything else the delivery holds, or any question to the store, and it
        goes the usual way."""
        if _SENT_BY_AN_APP not in body:
            return None
        asked = False

        def thread_of(_account_id: str, _user_id: str, _tweet_id: str) -> str | None:
            nonlocal asked
            asked = True
            return None

        def options_for(_sender_id: str) -> Sequence[NumberedOption]:
            nonlocal asked
            asked = True
            return ()

        skipped = skips_only(normalise_delivery(body, self.config, Known(thread_of, options_for)))
        return None if asked else skipped

    def thread_of(self, account_id: str, user_id: str, tweet_id: str) -> str | None:
        """The thread of a tweet seen before: a consumer's stored tweet, or a reply we sent."""
        stored = self.inbox.find_event(PLATFORM, account_id, tweet_id)
        if stored is not None:
            return stored.event.context.thread_id
        # A reply to our own reply: the consumer's conversation logged which tweet it answered.
        sender_id = conversation_id(PLATFORM, account_id, user_id)
        for sent in self.outbound.for_conversation(sender_id):
            if sent.kind == "tweet" and sent.platform_message_id == tweet_id and sent.target_id:
                answered = self.inbox.find_event(PLATFORM, account_id, sent.target_id)
                return answered.event.context.thread_id if answered else sent.target_id
        return None

    def options_for(self, sender_id: str) -> list[NumberedOption]:
        """The numbered options offered in the conversation's last DM that had any."""
        return load_options(self.flags.get(sender_id).get(OFFERED_OPTIONS))

    # --- outbound ------------------------------------------------------------------------

    def _output(self, target: Target | None) -> TwitterOutput:
        return TwitterOutput(
            self.sender,
            target=target,
            guard=self.guard,
            inbox=self.inbox,
            outbound=self.outbound,
            cta_limiter=self.cta_limiter,
        )

    def output_channel_for(self, event: SocialEvent) -> TwitterOutput:
        return self._output(Target.from_context(event.context))

    def get_output_channel(self) -> TwitterOutput:
        """For Rasa's REST API (``output_channel=latest``): the conversation's latest message
        decides where, and whether the guard lets a message through."""
        return self._output(None)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        client = self.client
        channel = self

        @webhook.listener("after_server_start")
        async def serve_agents(_app: Any, _loop: Any) -> None:
            # The workspace's agents act on X through the same sender as the bot.
            register_delivery(PLATFORM, XAgentDelivery(channel.sender, channel.inbox))

        @webhook.listener("before_server_stop")
        async def close_client(_app: Any, _loop: Any) -> None:
            # Stop listeners run in reverse order: the worker stops first, with the client open.
            await channel.stop_worker()
            await client.aclose()

        return webhook
