"""``FacebookInput``: the Facebook webhook of ``rasa run`` (``/webhooks/facebook/webhook``).

The platform parts of ``SocialInputChannel``: Meta's handshake and signatures (``verify.py``),
the delivery parsed once (``wire.py``) and normalised (``normalise.py``), two decisions that
need the store (``admit``), and the output channel of each event. Configured under
``channels.facebook.FacebookInput`` in credentials.yml (``config.py``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.response import HTTPResponse

from bot.consumers import ConsumerFlags
from bot.context import Platform, SocialContext, Visibility
from bot.cta_limits import CtaLimiter
from bot.events import Skipped, SocialEvent, skips_only
from bot.guard import OutboundGuard, Target
from bot.handoff.delivery import register_delivery
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.inbox_worker import RetryPolicy
from bot.origins import CONTINUE_FROM_PUBLIC, REF_PREFIX, PublicOrigins, arrival
from bot.outbound import OutboundLog
from bot.runtime import shared_guard, shared_store
from bot.store import SocialStore
from channels.facebook.agents import FacebookAgentDelivery
from channels.facebook.config import EditPolicy, FacebookConfig
from channels.facebook.graph import GraphClient
from channels.facebook.normalise import (
    EDITED,
    STANDBY,
    from_call_to_action,
    normalise_delivery,
)
from channels.facebook.output import FacebookOutput
from channels.facebook.sender import PRIVATE_REPLY, PUBLIC_REPLY, FacebookSender
from channels.facebook.verify import check_signature, subscription_challenge
from channels.facebook.wire import Delivery, MessagingItem, parse_delivery
from channels.platform_client import CallRetry
from channels.social import DEFAULT_WORKER_CONCURRENCY, SocialInputChannel
from channels.social_output import SEND_KEY_PREFIX, send_key_of

__all__ = ["FacebookInput"]

logger = logging.getLogger(__name__)

# In every Messenger echo: a delivery without it holds none, and is not parsed twice.
_ECHO = b'"is_echo"'
# An echo's ``metadata`` when it is our send key written plainly (printable ASCII, no escapes).
_RAW_SEND_KEY = re.compile(
    rb'"metadata"\s*:\s*"(' + re.escape(SEND_KEY_PREFIX.encode()) + rb'[ !#-\[\]-~]*)"'
)

PLATFORM = Platform.FACEBOOK.value


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class FacebookInput(SocialInputChannel):
    """Messenger and Page feed webhooks of the configured pages.

    Args:
        config: the validated ``channels.facebook.FacebookInput`` settings.
        endpoints: the endpoints file naming the social store.
        store: a social store to use instead of the endpoints' one (tests).
        guard: the output guard (the process's by default).
        cta_limiter: the call to action's limits (over the store's outbound log by default).
        transport: an httpx transport for the Graph API (tests).
        graph_retry: how Graph calls are retried.
        clock: the current UTC time.
    """

    platform = PLATFORM

    def __init__(
        self,
        config: FacebookConfig,
        *,
        endpoints: Path = Path("endpoints.yml"),
        store: SocialStore | None = None,
        guard: OutboundGuard | None = None,
        cta_limiter: CtaLimiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        graph_retry: CallRetry | None = None,
        retry: RetryPolicy | None = None,
        worker_concurrency: int = DEFAULT_WORKER_CONCURRENCY,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__(
            endpoints=endpoints,
            max_body_bytes=config.max_body_bytes,
            worker_concurrency=worker_concurrency,
            lease_seconds=config.inbox_lease_seconds,
            retry=retry,
            inbox=Inbox(store) if store is not None else None,
        )
        self.config = config
        self.guard = guard or shared_guard()
        self.graph = GraphClient(
            config.graph_url, config.graph_version, transport=transport, retry=graph_retry
        )
        self._store = store
        self._clock = clock
        self._sender: FacebookSender | None = None
        self._origins: PublicOrigins | None = None
        self._cta_limiter = cta_limiter

    @classmethod
    def name(cls) -> str:
        """``facebook``: the webhook lives at ``/webhooks/facebook/webhook``."""
        return "facebook"

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> FacebookInput:
        """Builds the channel from its credentials.yml mapping (raises ``ConfigurationError``)."""
        return cls(FacebookConfig.from_credentials(credentials))

    @property
    def store(self) -> SocialStore:
        """The social store (the endpoints' one, opened on first use)."""
        if self._store is None:
            self._store = shared_store(self._endpoints)
        return self._store

    @property
    def sender(self) -> FacebookSender:
        """The brand's Facebook operations, over the social store."""
        if self._sender is None:
            store = self.store
            self._sender = FacebookSender(
                self.config,
                self.graph,
                inbox=self.inbox,
                outbound=OutboundLog(store, clock=self._clock),
                links=IdentityLinks(store),
                flags=ConsumerFlags(store),
                clock=self._clock,
            )
        return self._sender

    @property
    def cta_limiter(self) -> CtaLimiter:
        """The call to action's limits, over the outbound log."""
        if self._cta_limiter is None:
            outbound = self.sender.outbound or OutboundLog(self.store)
            self._cta_limiter = CtaLimiter(outbound)
        return self._cta_limiter

    # --- inbound ---------------------------------------------------------------------------

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """``X-Hub-Signature-256`` over the raw body (sha1 alone only when opted in)."""
        check_signature(
            body, headers, self.config.app_secret, accept_sha1_only=self.config.accept_sha1_only
        )

    def challenge(self, query: Mapping[str, str]) -> HTTPResponse:
        """Meta's subscription handshake: echoes ``hub.challenge`` for our verify token."""
        return response.text(subscription_challenge(query, self.config.verify_token))

    def normalise(self, body: bytes) -> Sequence[SocialEvent | Skipped]:
        """Every item of a delivery, as an event or a skip (raises ``MalformedPayload``)."""
        delivery = parse_delivery(body)
        self._warn_of_unknown_pages(delivery)
        self._confirm_echoes(delivery)
        return normalise_delivery(delivery, self.config, received_at=self._clock())

    def skipped_at_once(self, body: bytes) -> Sequence[Skipped] | None:
        """Echoes alone, of messages without a turn's key or that this process finished
        sending (nothing to confirm): skipped without the store."""
        if _ECHO not in body:
            return None
        outbound = self.sender.outbound
        if outbound is not None and any(
            key is not None and not outbound.finished_here(*key)
            for key in map(send_key_of, _raw_send_keys(body))
        ):
            # An echo of a message still on its way: the store must confirm it. Found in the
            # raw body, without parsing it on the server's loop (a key written otherwise, with
            # escapes, is not found here and is checked below, after parsing).
            return None
        delivery = parse_delivery(body)
        if outbound is not None and not all(
            outbound.finished_here(*key) for key in _echoed_sends(delivery)
        ):
            return None
        skipped = skips_only(normalise_delivery(delivery, self.config, received_at=self._clock()))
        if skipped is not None:
            self._warn_of_unknown_pages(delivery)
        return skipped

    def _warn_of_unknown_pages(self, delivery: Delivery) -> None:
        for entry in delivery.entry:
            if self.config.page(entry.id) is None:
                logger.warning(
                    "facebook: a delivery for page %s, which credentials.yml does not list, "
                    "was skipped",
                    entry.id,
                )

    def _confirm_echoes(self, delivery: Delivery) -> None:
        """Messenger echoes what the page sent, with our ``metadata``: a message a crash left
        ``sending`` is known to have gone out (so a replay does not send it twice)."""
        outbound = self.sender.outbound
        if outbound is None:
            return
        for key in _echoed_sends(delivery):
            outbound.confirm(*key)

    def admit(self, event: SocialEvent) -> Sequence[SocialEvent | Skipped]:
        """Drops edits of answered comments (``edits: new_if_unanswered``); links m.me refs; puts
        an arrival before the first Messenger message of a commenter who got a Private Reply."""
        unless_answered = self.config.edits is EditPolicy.NEW_IF_UNANSWERED
        context = event.context
        if event.extra.get(EDITED) and unless_answered and self._answered(context.event_id):
            return [Skipped("edit of a message the brand already answered", context.event_id)]
        if context.is_public:
            return [event]
        if from_call_to_action(context.referral):
            self._link_referral(context)
            return [event]
        ref = self._private_reply_answered(event)
        return [event] if ref is None else [arrival(event, ref), event]

    def _private_reply_answered(self, event: SocialEvent) -> str | None:
        """The reference of the comment a Private Reply answered, on the commenter's first
        Messenger message since (then the bot says what it is about); else None."""
        links = self.sender.links
        context = event.context
        if links is None or event.text == CONTINUE_FROM_PUBLIC:
            return None
        link = links.public_for(PLATFORM, context.account_id, context.author.id)
        if link is None or link.via != PRIVATE_REPLY or link.origin_event_id is None:
            return None
        ref = f"{REF_PREFIX}{link.origin_event_id}".replace(":", "-")
        if self.inbox.get(arrival(event, ref).dedupe_key) is not None:
            return None  # arrived already
        return ref

    def _answered(self, event_id: str) -> bool:
        outbound = self.sender.outbound
        return outbound is not None and any(
            outbound.has_sent(PLATFORM, kind, event_id) for kind in (PRIVATE_REPLY, PUBLIC_REPLY)
        )

    def _link_referral(self, context: SocialContext) -> None:
        if self._origins is None:
            self._origins = PublicOrigins(self.store)
        origin = self._origins.get(context.referral or "")
        links = self.sender.links
        ours = origin is not None and (origin.platform, origin.account_id) == (
            PLATFORM,
            context.account_id,
        )
        if origin is None or not ours or links is None:
            return
        if links.link(
            platform=PLATFORM,
            account_id=context.account_id,
            public_user_id=origin.author_id,
            private_user_id=context.author.id,
            via="referral",
            origin_event_id=origin.event_id,
            ref=context.referral,
        ):
            logger.info("facebook: an m.me referral linked a commenter to their Messenger id")

    # --- outbound --------------------------------------------------------------------------

    def output_channel_for(self, event: SocialEvent) -> FacebookOutput:
        """Answers ``event`` where it was written; in Messenger, typing shows as the bot works."""
        target = Target.from_context(event.context)
        typing = None
        if target.visibility is Visibility.PRIVATE and not event.extra.get(STANDBY):
            typing = self.sender.start_typing(target.account_id, target.user_id)
        return FacebookOutput(
            self.sender,
            target=target,
            guard=self.guard,
            outbound=self.sender.outbound,
            cta_limiter=self.cta_limiter,
            written_at=event.occurred_at,
            typing=typing,
        )

    def get_output_channel(self) -> FacebookOutput:
        """Unbound: each send goes where the recipient's latest message was written."""
        return FacebookOutput(
            self.sender,
            target=None,
            guard=self.guard,
            outbound=self.sender.outbound,
            cta_limiter=self.cta_limiter,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The shared webhook routes; the Graph client closes when the server stops."""
        webhook = super().blueprint(on_new_message)
        channel = self

        @webhook.listener("after_server_start")
        async def serve_agents(_app: Any, _loop: Any) -> None:
            # The workspace's agents act on Facebook through the same sender as the bot.
            sender = channel.sender
            register_delivery(PLATFORM, FacebookAgentDelivery(sender, channel.inbox, sender.links))

        @webhook.listener("before_server_stop")
        async def close_graph_client(_app: Any, _loop: Any) -> None:
            # Stop listeners run in reverse order: stop the worker here first (stopping it twice
            # is harmless), so events in flight still have the client for their answers.
            await channel.stop_worker()
            await channel.graph.aclose()

        return webhook


def _raw_send_keys(body: bytes) -> Iterator[str]:
    """The send keys (``metadata`` of echoes) written plainly in a delivery's raw JSON."""
    for match in _RAW_SEND_KEY.finditer(body):
        yield match.group(1).decode("ascii")


def _echoed_sends(delivery: Delivery) -> Iterator[tuple[str, int]]:
    """The turn's message (inbox event, place) of each echo that carries our send key."""
    for entry in delivery.entry:
        for item in entry.messaging:
            message = item.message if isinstance(item, MessagingItem) else None
            if message is not None and message.is_echo and message.metadata:
                key = send_key_of(message.metadata)
                if key is not None:
                    yield key
