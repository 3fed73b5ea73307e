"""``FacebookAgentDelivery``: what an agent does on Facebook from the workspace.

The workspace checks rights and windows, appends to the tracker and logs every send; this only
delivers, through the same ``FacebookSender`` the bot uses (so the same windows, the same
once-per-comment Private Reply, the same error mapping).
"""

from __future__ import annotations

import asyncio

from bot.context import SocialContext, Source
from bot.errors import InvalidRequest
from bot.guard import Origin, OutboundMessage, Target
from bot.handoff.delivery import Delivered
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.origins import thread_reference
from channels.facebook.output import refuse_a_bare_mention
from channels.facebook.sender import FacebookSender
from channels.social_output import SentMessage

__all__ = ["FacebookAgentDelivery", "split_conversation"]

PLATFORM = "facebook"
MESSENGER = "https://m.me"


def split_conversation(conversation_id: str) -> tuple[str, str]:
    """``facebook:<page>:<user>`` → (page id, user id).

    Raises:
        InvalidRequest: not a Facebook conversation id.
    """
    parts = conversation_id.split(":", 2)
    if len(parts) != 3 or parts[0] != PLATFORM or not parts[1] or not parts[2]:
        raise InvalidRequest(f"not a Facebook conversation: {conversation_id!r}", platform=PLATFORM)
    return parts[1], parts[2]


def _first_name(context: SocialContext) -> str | None:
    return context.author.name.split()[0] if context.author.name else None


def _delivered(sent: SentMessage) -> Delivered:
    return Delivered(
        kind=sent.kind,
        target_id=sent.target_id,
        platform_message_id=sent.platform_message_id,
        text=sent.text,
    )


class FacebookAgentDelivery:
    """An agent's replies, likes and calls to action on the Facebook pages of one app."""

    def __init__(self, sender: FacebookSender, inbox: Inbox, links: IdentityLinks | None) -> None:
        self.sender = sender
        self.inbox = inbox
        self.links = links

    async def reply_private(self, conversation_id: str, text: str) -> Delivered:
        """In Messenger; a commenter not yet met in Messenger gets a Private Reply instead.

        Raises:
            OutsideMessagingWindow: more than 7 days after the consumer's last message.
            InvalidRequest: a commenter whose comment already had its one Private Reply.
        """
        page_id, user_id = split_conversation(conversation_id)
        psid = await self._psid(page_id, user_id)
        if psid is not None:
            message = OutboundMessage(text=text)
            sent = await self.sender.send_private(page_id, psid, message, Origin.AGENT)
            return _delivered(sent[-1])
        target = await self._latest_public(conversation_id)
        reply = await self.sender.private_reply(target, text)
        if reply is None:
            raise InvalidRequest(
                "this commenter has not written in Messenger yet, and their comment already got "
                "its one Private Reply: answer in public, or wait for them in Messenger",
                platform=PLATFORM,
            )
        return _delivered(reply)

    async def reply_public(
        self, conversation_id: str, in_reply_to: str, text: str, mention: bool
    ) -> Delivered:
        """Under the consumer's comment or post, as the page (naming them when asked)."""
        context = await self._public(conversation_id, in_reply_to)
        name = _first_name(context)
        if mention and name and not text.startswith(name):
            text = f"{name}, {text}"
        refuse_a_bare_mention(text, Origin.AGENT)
        return _delivered(await self.sender.reply_public(Target.from_context(context), text))

    async def like(self, conversation_id: str, object_id: str) -> Delivered:
        """Likes the consumer's comment or post, as the page."""
        page_id, _user = split_conversation(conversation_id)
        return _delivered(await self.sender.like(page_id, object_id))

    async def send_cta(self, conversation_id: str, in_reply_to: str) -> Delivered:
        """The page's call to action under the comment: a Private Reply, or the m.me link."""
        context = await self._public(conversation_id, in_reply_to)
        target = Target.from_context(context)
        page = self.sender.page(target.account_id)
        name = _first_name(context) or "there"
        if page.cta_mode.sends_private_reply:
            reply = await self.sender.private_reply(
                target,
                f"Hi {name}, thanks for your comment. We'd like to help with this personally, "
                "here in private: just reply to this message and we'll pick it up from there.",
            )
            if reply is not None:
                return _delivered(reply)
        link = f"{MESSENGER}/{page.username or page.id}?ref={thread_reference(context)}"
        text = (
            f"Hi {name}, we'd like to help with this personally. Please send us a message: {link}"
        )
        return _delivered(await self.sender.reply_public(target, text))

    async def _psid(self, page_id: str, user_id: str) -> str | None:
        """The consumer's Messenger id: theirs when they wrote in Messenger, else a linked one."""
        sender_id = f"{PLATFORM}:{page_id}:{user_id}"
        private = await asyncio.to_thread(self.inbox.latest_for, sender_id, visibility="private")
        if private is not None:
            return user_id
        if self.links is None:
            return None
        link = await asyncio.to_thread(self.links.private_for, PLATFORM, page_id, user_id)
        return link.private_user_id if link else None

    async def _latest_public(self, conversation_id: str) -> Target:
        latest = await asyncio.to_thread(
            self.inbox.latest_for, conversation_id, visibility="public"
        )
        if latest is None:
            raise InvalidRequest(
                f"{conversation_id} has no Messenger conversation and no public message",
                platform=PLATFORM,
            )
        return Target.from_context(latest.event.context)

    async def _public(self, conversation_id: str, object_id: str) -> SocialContext:
        page_id, _user = split_conversation(conversation_id)
        stored = await asyncio.to_thread(self.inbox.find_event, PLATFORM, page_id, object_id)
        if stored is None or stored.event.context.source not in (
            Source.FACEBOOK_COMMENT,
            Source.FACEBOOK_POST,
        ):
            raise InvalidRequest(
                f"{object_id} is not a comment or post of this conversation", platform=PLATFORM
            )
        return stored.event.context
