"""``TwitterOutput``: Rasa's output channel on X, a thin adapter over ``XSender``.

The shared ``SocialOutputChannel`` applies the guard (in public only the call to action passes)
and logs every outcome; this class turns what is left into a DM or a reply tweet. Bound to the
conversation's current message by the input channel, or unbound for Rasa's REST API
(``output_channel=latest``), where the conversation's latest inbox event says where to answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence

from bot.context import Visibility
from bot.cta_limits import CtaLimiter
from bot.errors import OutboundRefused
from bot.guard import Origin, OutboundGuard, OutboundMessage, Target
from bot.inbox import Inbox
from bot.outbound import OutboundLog
from channels.social_output import SentMessage, SocialOutputChannel
from channels.twitter.sender import XSender

__all__ = ["TwitterOutput", "dm_text"]

logger = logging.getLogger(__name__)


def dm_text(message: OutboundMessage) -> str:
    """The text of a DM: v2 DMs carry no media or cards, so image and file links go as lines."""
    lines = [part for part in (message.text, message.image, message.attachment) if part]
    dropped = [part for part in ("elements", "custom") if getattr(message, part)]
    if dropped:
        logger.info("twitter DM: dropped %s (X DMs show text only)", ", ".join(dropped))
    return "\n".join(lines)


class TwitterOutput(SocialOutputChannel):
    """Sends the bot's and the call to action's messages on X.

    Args:
        sender: the X operations of the app.
        target: the conversation's current message; None: found with ``resolve_target``.
        guard: the process's output guard.
        inbox: where an unbound channel finds the conversation's latest message.
        outbound: the outbound log.
        cta_responses, cta_limiter: as for ``SocialOutputChannel``.
    """

    def __init__(
        self,
        sender: XSender,
        *,
        target: Target | None,
        guard: OutboundGuard,
        inbox: Inbox | None = None,
        outbound: OutboundLog | None = None,
        cta_responses: Collection[str] | None = None,
        cta_limiter: CtaLimiter | None = None,
    ) -> None:
        super().__init__(
            target=target,
            guard=guard,
            cta_responses=cta_responses,
            outbound=outbound,
            cta_limiter=cta_limiter,
        )
        self.sender = sender
        self._inbox = inbox
        self._dm_sent = False  # the first DM of a turn replaces the options offered before

    @classmethod
    def name(cls) -> str:
        return "twitter"

    async def resolve_target(self, recipient_id: str) -> Target:
        """Where the conversation's latest stored message was written."""
        record = None
        if self._inbox is not None:
            record = await asyncio.to_thread(self._inbox.latest_for, recipient_id)
        if record is None:
            return await super().resolve_target(recipient_id)
        return Target.from_context(record.event.context)

    async def deliver(
        self, target: Target, origin: Origin, message: OutboundMessage
    ) -> Sequence[SentMessage]:
        if target.visibility is Visibility.PRIVATE:
            text = dm_text(message)
            choices = (*message.buttons, *message.quick_replies)
            if not text and not choices:
                return []  # only parts X DMs cannot show: nothing to send
            sent = await self.sender.send_dm(
                target.account_id,
                target.user_id,
                text,
                choices=choices,
                origin=origin,
                keep_offered=self._dm_sent,
            )
            self._dm_sent = True
            return [sent]
        if not message.text.strip():
            # Only parts public threads cannot show (dropped by the guard): no bare @handle reply.
            logger.info("twitter: nothing left to say in public to %s", target.event_id)
            return []
        if target.event_id is None:
            raise OutboundRefused(
                "a public reply needs the tweet it answers",
                origin=origin.value,
                target=target.visibility.value,
            )
        text = message.text
        if origin is Origin.CTA:
            text = await self.sender.call_to_action(target.account_id, target.user_id, text)
        reply = await self.sender.reply_public(
            target.account_id, target.event_id, text, handle=target.author_handle, origin=origin
        )
        return [reply]
