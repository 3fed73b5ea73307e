"""``FacebookOutput``: Rasa's output channel for Facebook, a thin adapter over ``FacebookSender``.

``SocialOutputChannel`` applies the guard (an automated message never reaches a public thread)
and logs every outcome; here the checked message goes where its target and origin say:

| target            | origin | what is sent                                                 |
| ----------------- | ------ | ------------------------------------------------------------ |
| private           | any    | Send API, in the window the origin has                       |
| comment / post    | cta    | per the page's ``cta``: Private Reply, public reply, or both |
| comment / post    | agent  | a public reply under it                                      |
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from datetime import datetime

from bot.context import Visibility
from bot.cta_limits import CtaLimiter
from bot.errors import OutboundRefused, PlatformError
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target
from bot.outbound import OutboundLog, OutboundStatus
from channels.facebook.sender import FacebookSender, TypingIndicator
from channels.social_output import SentMessage, SocialOutputChannel

__all__ = ["TYPING_WAIT", "FacebookOutput", "refuse_a_bare_mention"]

logger = logging.getLogger(__name__)

TYPING_WAIT = 1.0  # seconds the first answer waits at most for the typing indicator
ECHO_WAIT = 15.0  # seconds a replay waits for the echo of a message a crash left in doubt
# (Meta delivers it again, with backoff, when the crash made the first delivery fail)


class FacebookOutput(SocialOutputChannel):
    """Sends Rasa's responses to one Facebook conversation (or, unbound, to the latest one).

    Args:
        sender: the brand's Facebook operations.
        target: where the message being answered was written; None to find it per recipient.
        written_at: when that message was written (the Private Reply window).
        typing: the typing indicator started for this turn; the first message waits for it
            (up to ``typing_wait`` seconds), so the indicator does not arrive after the answer.
        guard, outbound, cta_responses, cta_limiter: as for ``SocialOutputChannel``.
    """

    def __init__(
        self,
        sender: FacebookSender,
        *,
        target: Target | None,
        guard: OutboundGuard,
        outbound: OutboundLog | None = None,
        cta_responses: Collection[str] | None = None,
        cta_limiter: CtaLimiter | None = None,
        written_at: datetime | None = None,
        typing: TypingIndicator | None = None,
        typing_wait: float = TYPING_WAIT,
    ) -> None:
        super().__init__(
            target=target,
            guard=guard,
            cta_responses=cta_responses,
            outbound=outbound,
            cta_limiter=cta_limiter,
        )
        self.sender = sender
        self.written_at = written_at
        self._typing = typing
        self._typing_wait = typing_wait

    @classmethod
    def name(cls) -> str:
        """``facebook``: selects the ``channel: facebook`` variations of responses."""
        return "facebook"

    async def resolve_target(self, recipient_id: str) -> Target:
        """Where the latest message of the conversation was written (``output_channel=latest``)."""
        latest = await asyncio.to_thread(self.sender.inbox.latest_for, recipient_id)
        if latest is None:
            return await super().resolve_target(recipient_id)
        self.written_at = latest.event.occurred_at
        return Target.from_context(latest.event.context)

    async def sent_in_doubt(self, turn_seq: int) -> bool:
        """Messenger echoes every message the page sent, with our metadata: a message a crash
        left on its way is known to have arrived once its echo came (waits up to ``ECHO_WAIT``
        seconds)."""
        if self.outbound is None or self.inbox_event is None:
            return False
        deadline = asyncio.get_running_loop().time() + ECHO_WAIT
        while True:
            outcomes = await asyncio.to_thread(self.outbound.turn_outcomes, self.inbox_event)
            if outcomes.get(turn_seq) is OutboundStatus.SENT:
                return True
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.2)

    async def deliver(
        self, target: Target, origin: Origin, message: OutboundMessage
    ) -> Sequence[SentMessage]:
        """Sends a message the guard let through."""
        if target.visibility is Visibility.PRIVATE:
            await self._typing_shown()
            return await self.sender.send_private(
                target.account_id,
                target.user_id,
                message,
                origin,
                metadata=self.send_key,
                answering=self.written_at,
            )
        if not message.text.strip():
            logger.info("facebook: nothing left to say in public to %s", target.event_id)
            return []
        if origin is Origin.CTA:
            return await self._call_to_action(target, message.text)
        refuse_a_bare_mention(message.text, origin)
        return [await self.sender.reply_public(target, message.text)]

    async def _typing_shown(self) -> None:
        indicator, self._typing = self._typing, None
        if indicator is None or indicator.task is None:
            return
        typing = indicator.task
        if not indicator.started:
            typing.cancel()  # the answer is ready before the indicator was worth showing
            return
        # Usually done long before the bot answers; a slow or retried one never holds it long.
        done, _ = await asyncio.wait({typing}, timeout=self._typing_wait)
        if not done:
            typing.cancel()

    async def _call_to_action(self, target: Target, text: str) -> list[SentMessage]:
        mode = self.sender.page(target.account_id).cta_mode
        sent: list[SentMessage] = []
        if mode.sends_private_reply:
            try:
                reply = await self.sender.private_reply(target, text, written_at=self.written_at)
            except PlatformError as error:
                if not mode.sends_public_reply:
                    raise
                # cta: both: the public reply still invites the consumer.
                logger.warning(
                    "facebook: Private Reply to %s not sent (%s: %s); replying in public only",
                    target.event_id,
                    type(error).__name__,
                    error,
                )
                reply = None
            if reply is not None:
                sent.append(reply)
        if mode.sends_public_reply:
            sent.append(await self.sender.reply_public(target, text))
        return sent


def refuse_a_bare_mention(text: str, origin: Origin) -> None:
    """Raises ``OutboundRefused`` for a public reply that is one ``@word`` and nothing else: it
    would ping someone and say nothing."""
    words = text.split()
    if len(words) == 1 and words[0].startswith("@"):
        raise OutboundRefused(
            "a public reply that is only a mention says nothing: it was not posted",
            origin=origin.value,
            target=Visibility.PUBLIC.value,
        )
