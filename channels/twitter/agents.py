"""``XAgentDelivery``: what an agent does on X from the workspace.

The workspace checks rights, appends to the tracker and logs every send; this only delivers,
through the same ``XSender`` the bot uses (DMs, replies within 280, the DMs-closed flag).
"""

from __future__ import annotations

import asyncio

from bot.context import SocialContext, Source
from bot.errors import DeliveryUnsupported, InvalidRequest
from bot.guard import Origin
from bot.handoff.delivery import Delivered
from bot.inbox import Inbox
from bot.origins import thread_reference
from channels.social_output import SentMessage
from channels.twitter.links import dm_link, dm_prefill
from channels.twitter.sender import XSender

__all__ = ["XAgentDelivery"]

PLATFORM = "twitter"


def _split(conversation_id: str) -> tuple[str, str]:
    parts = conversation_id.split(":", 2)
    if len(parts) != 3 or parts[0] != PLATFORM or not parts[1] or not parts[2]:
        raise InvalidRequest(f"not an X conversation: {conversation_id!r}", platform=PLATFORM)
    return parts[1], parts[2]


def _delivered(sent: SentMessage) -> Delivered:
    return Delivered(
        kind=sent.kind,
        target_id=sent.target_id,
        platform_message_id=sent.platform_message_id,
        text=sent.text,
    )


class XAgentDelivery:
    """An agent's DMs, replies and calls to action on the X accounts of one app."""

    def __init__(self, sender: XSender, inbox: Inbox) -> None:
        self.sender = sender
        self.inbox = inbox

    async def reply_private(self, conversation_id: str, text: str) -> Delivered:
        """A DM (``RecipientUnavailable`` when the consumer's DMs are closed)."""
        account_id, user_id = _split(conversation_id)
        sent = await self.sender.send_dm(account_id, user_id, text, origin=Origin.AGENT)
        return _delivered(sent)

    async def reply_public(
        self, conversation_id: str, in_reply_to: str, text: str, mention: bool
    ) -> Delivered:
        """A reply under the consumer's tweet, starting with their @handle when asked."""
        context = await self._tweet(conversation_id, in_reply_to)
        sent = await self.sender.reply_public(
            context.account_id,
            in_reply_to,
            text,
            handle=context.author.handle if mention else None,
            origin=Origin.AGENT,
        )
        return _delivered(sent)

    async def like(self, conversation_id: str, object_id: str) -> Delivered:
        """Not offered on X."""
        raise DeliveryUnsupported("likes are offered on Facebook only", platform=PLATFORM)

    async def send_cta(self, conversation_id: str, in_reply_to: str) -> Delivered:
        """A reply with the DM link (or the account's alternative when DMs are closed)."""
        context = await self._tweet(conversation_id, in_reply_to)
        link = dm_link(context.account_id, dm_prefill(thread_reference(context)))
        text = await self.sender.call_to_action(
            context.account_id,
            context.author.id,
            f"We'd like to look into this with you. Please send us a DM: {link}",
        )
        sent = await self.sender.reply_public(
            context.account_id,
            in_reply_to,
            text,
            handle=context.author.handle,
            origin=Origin.CTA,
        )
        return _delivered(sent)

    async def _tweet(self, conversation_id: str, tweet_id: str) -> SocialContext:
        account_id, _user = _split(conversation_id)
        stored = await asyncio.to_thread(self.inbox.find_event, PLATFORM, account_id, tweet_id)
        if stored is None or stored.event.context.source is not Source.TWEET:
            raise InvalidRequest(
                f"{tweet_id} is not a tweet of this conversation", platform=PLATFORM
            )
        return stored.event.context
