"""``SocialOutputChannel``: every message the bot sends passes the output guard, then the platform.

Rasa calls ``send_response`` with the rendered response (``utter_action`` names it). Here it
becomes an ``OutboundMessage`` with its origin (the call to action, or any other automated
message) and its target (the public thread or the private conversation the consumer wrote in);
the guard refuses automated messages to public targets and trims what public threads cannot show,
the call to action's limiter refuses one beyond its limits (``bot.cta_limits``); the platform
subclass delivers what is left. Every outcome is written to the outbound log, where
agents see failures. A platform failure is logged and recorded, not raised: raising would make the
inbox replay the whole turn and send its earlier messages twice.
"""

from __future__ import annotations

import abc
import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.cta_limits import CtaLimiter
from bot.errors import OutboundRefused, PlatformError, StoreError
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target
from bot.metrics import CTA_SENT
from bot.outbound import OutboundLog, OutboundStatus
from bot.runtime import call_to_action
from channels.bot_thread import BOT_THREAD

__all__ = [
    "SEND_KEY_PREFIX",
    "SentMessage",
    "SocialOutputChannel",
    "outbound_message",
    "send_key_of",
]

SEND_KEY_PREFIX = "turn:"


def send_key_of(key: str) -> tuple[str, int] | None:
    """``turn:<inbox event>#<place>`` back to (inbox event, place); None for other texts."""
    if not key.startswith(SEND_KEY_PREFIX) or "#" not in key:
        return None
    event, _, place = key[len(SEND_KEY_PREFIX) :].rpartition("#")
    return (event, int(place)) if event and place.isdigit() else None


logger = logging.getLogger(__name__)

_PARTS = ("text", "buttons", "quick_replies", "attachment", "image", "elements", "custom")


@dataclass(frozen=True)
class SentMessage:
    """One platform call that succeeded.

    Attributes:
        kind: what was sent (``message``, ``private_reply``, ``comment``, ``tweet``, ``dm``...).
        target_id: where it went (PSID, comment id, tweet id...).
        platform_message_id: the id the platform gave it, if any.
        text: the text as sent.
    """

    kind: str
    target_id: str | None
    platform_message_id: str | None = None
    text: str | None = None


def outbound_message(message: dict[str, Any]) -> OutboundMessage:
    """Rasa's response dict as an ``OutboundMessage``; unknown keys go to ``extras``."""
    extras = {
        key: value
        for key, value in message.items()
        if key not in _PARTS and key not in ("utter_action", "recipient_id")
    }
    return OutboundMessage(
        text=str(message.get("text") or ""),
        buttons=tuple(message.get("buttons") or ()),
        quick_replies=tuple(message.get("quick_replies") or ()),
        attachment=message.get("attachment") or None,
        image=message.get("image") or None,
        elements=tuple(message.get("elements") or ()),
        custom=message.get("custom") or None,
        response_name=message.get("utter_action"),
        extras=extras,
    )


def _is_empty(message: OutboundMessage) -> bool:
    return not any(getattr(message, part) for part in _PARTS)


class SocialOutputChannel(OutputChannel, abc.ABC):
    """Applies the guard to every send, delivers through the platform, logs every outcome.

    Args:
        target: where the conversation's current message was written; None for an unbound
            channel (Rasa's ``output_channel=latest``), which finds it with ``resolve_target``.
        guard: the process's output guard.
        cta_responses: the responses that are the call to action (origin ``cta``); by default
            the policy's (``bot.runtime.call_to_action``).
        outbound: the outbound log; None records nothing (tests of delivery alone).
        cta_limiter: the call to action's limits (once per author and thread in the cooldown,
            never to the brand); None: not checked here.
    """

    def __init__(
        self,
        *,
        target: Target | None,
        guard: OutboundGuard,
        cta_responses: Collection[str] | None = None,
        outbound: OutboundLog | None = None,
        cta_limiter: CtaLimiter | None = None,
    ) -> None:
        self.target = target
        self.guard = guard
        self.cta_responses = frozenset(
            cta_responses if cta_responses is not None else (call_to_action().response,)
        )
        self.outbound = outbound
        self.cta_limiter = cta_limiter
        self.inbox_event: str | None = None
        self._replay = False
        self._turn_seq = 0
        self._outcomes: dict[int, OutboundStatus] | None = None

    def bind_turn(self, inbox_event: str, *, replay: bool) -> None:
        """The turn answers ``inbox_event``; ``replay``: it was tried before (a crash, a retry),
        so the messages it sent then are not sent again."""
        self.inbox_event = inbox_event
        self._replay = replay

    @property
    def send_key(self) -> str | None:
        """``turn:<inbox event>#<place>`` of the message being sent, for platforms that echo a
        key back (Messenger's ``metadata``); None outside an inbox turn."""
        if self.inbox_event is None:
            return None
        return f"{SEND_KEY_PREFIX}{self.inbox_event}#{self._turn_seq}"

    async def sent_in_doubt(self, turn_seq: int) -> bool:
        """Whether a message left ``sending`` by a crash did go out; platforms that can tell
        (Messenger echoes) override it. By default it cannot be told: it is sent again."""
        return False

    async def _finished_before(self, turn_seq: int) -> bool:
        if not self._replay or self.outbound is None or self.inbox_event is None:
            return False
        if self._outcomes is None:
            try:
                self._outcomes = await asyncio.to_thread(
                    self.outbound.turn_outcomes, self.inbox_event
                )
            except StoreError:
                logger.exception("reading what %s sent before failed", self.inbox_event)
                self._outcomes = {}
        state = self._outcomes.get(turn_seq)
        if state is None:
            return False
        if state is not OutboundStatus.SENDING:
            return True
        if await self.sent_in_doubt(turn_seq):
            return True
        logger.warning(
            "%s: message %d of the turn of %s was on its way when the process died and nothing "
            "says it arrived: sending it again",
            self.name(),
            turn_seq,
            self.inbox_event,
        )
        return False

    @abc.abstractmethod
    async def deliver(
        self, target: Target, origin: Origin, message: OutboundMessage
    ) -> Sequence[SentMessage]:
        """Sends ``message`` (already checked by the guard).

        Raises:
            PlatformError: the platform failed or refused it (recorded as failed).
            OutboundRefused: the platform's rules forbid it, e.g. too long (recorded as refused).
        """

    async def resolve_target(self, recipient_id: str) -> Target:
        """The target of an unbound channel's conversation.

        Raises:
            OutboundRefused: nothing tells where the conversation is.
        """
        raise OutboundRefused(
            f"no known target for conversation {recipient_id}", origin="bot", target="unknown"
        )

    def origin_of(self, message: OutboundMessage) -> Origin:
        """``cta`` for the call to action's responses; every other message is ``bot``."""
        return Origin.CTA if message.response_name in self.cta_responses else Origin.BOT

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Checks one response with the guard and delivers it (never raises for a refusal)."""
        outbound = outbound_message(message)
        if _is_empty(outbound):
            return
        BOT_THREAD.checkpoint()  # between the steps of the bot's turn: webhooks first
        self._turn_seq += 1
        if await self._finished_before(self._turn_seq):
            logger.info(
                "%s: message %d of the turn of %s was sent before the replay: not sent again",
                self.name(),
                self._turn_seq,
                self.inbox_event,
            )
            return
        origin = self.origin_of(outbound)
        try:
            target = self.target or await self.resolve_target(recipient_id)
        except OutboundRefused as refused:
            logger.warning("%s: not sent: %s", self.name(), refused)
            return
        try:
            checked = await self.checked(origin, target, outbound)
        except OutboundRefused as refused:
            await self._record(target, origin, outbound, OutboundStatus.REFUSED, error=refused)
            return
        marker = await self._record(target, origin, checked, OutboundStatus.SENDING, marker=True)
        try:
            sent = await self.deliver(target, origin, checked)
        except OutboundRefused as refused:  # the platform's own rules, e.g. a text too long
            logger.warning(
                "%s: %s message to %s refused: %s",
                target.platform.value,
                origin.value,
                target.conversation_id,
                refused,
            )
            await self._outcome(marker, target, origin, checked, OutboundStatus.REFUSED, refused)
            return
        except PlatformError as error:
            logger.warning(
                "%s: %s message to %s not delivered: %s (%s)",
                target.platform.value,
                origin.value,
                target.conversation_id,
                error,
                type(error).__name__,
            )
            await self._outcome(marker, target, origin, checked, OutboundStatus.FAILED, error)
            return
        if sent and origin is Origin.CTA:
            CTA_SENT.labels(target.platform.value).inc()
        if not sent:
            await self._store_call("discard", marker)
            return
        first, *rest = sent
        await self._outcome(marker, target, origin, checked, OutboundStatus.SENT, sent=first)
        for item in rest:
            await self._record(target, origin, checked, OutboundStatus.SENT, sent=item)

    async def checked(
        self, origin: Origin, target: Target, message: OutboundMessage
    ) -> OutboundMessage:
        """``message`` as the guard and the call to action's limits let it go to ``target``.

        Raises:
            OutboundRefused: refused (counted and logged by the guard).
        """
        checked = self.guard.check(origin, target, message)
        if origin is Origin.CTA and self.cta_limiter is not None:
            refusal = await asyncio.to_thread(self.cta_limiter.refusal, target)
            if refusal is not None:
                raise self.guard.refuse(origin, target, message, refusal)
        return checked

    async def _outcome(
        self,
        marker: int | None,
        target: Target,
        origin: Origin,
        message: OutboundMessage,
        status: OutboundStatus,
        error: PlatformError | OutboundRefused | None = None,
        *,
        sent: SentMessage | None = None,
    ) -> None:
        """The outcome of a message: on its ``sending`` marker, or a row of its own."""
        if marker is None:
            await self._record(target, origin, message, status, sent=sent, error=error)
            return
        await self._store_call(
            "finish",
            marker,
            status=status,
            kind=sent.kind if sent else None,
            target_id=sent.target_id if sent else None,
            text=sent.text if sent and sent.text is not None else message.text,
            platform_message_id=sent.platform_message_id if sent else None,
            error=error,
        )

    async def _store_call(self, method: str, *args: Any, **kwargs: Any) -> None:
        if self.outbound is None or args[0] is None:
            return
        try:
            await asyncio.to_thread(getattr(self.outbound, method), *args, **kwargs)
        except StoreError:
            logger.exception("recording the outcome of an outbound message failed")

    async def _record(
        self,
        target: Target,
        origin: Origin,
        message: OutboundMessage,
        status: OutboundStatus,
        *,
        sent: SentMessage | None = None,
        error: PlatformError | OutboundRefused | None = None,
        marker: bool = False,
    ) -> int | None:
        """Records one message; a ``marker`` (``sending``) only inside an inbox turn."""
        if self.outbound is None or (marker and self.inbox_event is None):
            return None
        try:
            return await asyncio.to_thread(
                self.outbound.record,
                sender_id=target.conversation_id,
                platform=target.platform.value,
                account_id=target.account_id,
                origin=origin.value,
                visibility=target.visibility.value,
                kind=sent.kind if sent else "message",
                target_id=sent.target_id if sent else target.event_id or target.user_id,
                text=sent.text if sent and sent.text is not None else message.text,
                status=status,
                platform_message_id=sent.platform_message_id if sent else None,
                error=error,
                inbox_event=self.inbox_event,
                turn_seq=self._turn_seq if self.inbox_event else None,
                thread_id=target.thread_id,
            )
        except StoreError:
            logger.exception("recording an outbound message of %s failed", target.conversation_id)
            return None
