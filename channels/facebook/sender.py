"""``FacebookSender``: what the brand can do on Facebook, with the platform's rules applied.

Usable without Rasa (the agents' workspace calls it directly); ``FacebookOutput`` is a thin
adapter from Rasa's responses to it. The rules applied here:

- private messages only inside Messenger's windows (``window.py``), rendered by ``render.py``;
- one Private Reply per comment or visitor post, within 7 days of it; its answer's
  ``recipient_id`` (the PSID) is linked to the commenter in the identity links;
- public replies and likes act as the page; a reply to a reply goes under its top-level comment
  (Facebook threads comments two levels deep);
- a consumer Meta reports unreachable (551) is flagged for agents.

The methods return ``SentMessage``s and raise ``PlatformError``s; recording them in the outbound
log is the caller's part (``SocialOutputChannel`` does it for Rasa's sends).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.consumers import UNREACHABLE, ConsumerFlags
from bot.context import Platform, Source, Visibility
from bot.errors import InvalidRequest, PlatformError, RecipientUnavailable
from bot.events import conversation_id
from bot.guard import Origin, OutboundMessage, Target
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog
from channels.facebook.config import FacebookConfig, PageConfig
from channels.facebook.graph import GraphClient, Profile
from channels.facebook.render import render_message, split_text
from channels.facebook.window import (
    RESPONSE_WINDOW,
    check_private_reply_window,
    messaging_type,
)
from channels.social_output import SentMessage

__all__ = [
    "PRIVATE_REPLY",
    "PUBLIC_REPLY",
    "TYPING_DELAY",
    "FacebookSender",
    "TypingIndicator",
    "reply_object",
]

logger = logging.getLogger(__name__)

PLATFORM = Platform.FACEBOOK.value
PRIVATE_REPLY = "private_reply"  # outbound log kinds
PUBLIC_REPLY = "comment"
MESSAGE = "message"
LIKE = "like"


TYPING_DELAY = 0.5  # seconds of the bot's work before the typing indicator is worth a call


@dataclass
class TypingIndicator:
    """A typing indicator on its way: ``started`` once its call is made (then it must arrive
    before the answer); before that, the answer cancels it."""

    task: asyncio.Task[None] | None = None
    started: bool = False


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def reply_object(target: Target) -> str:
    """The id a public reply to ``target`` is posted under.

    A top-level comment or a post: itself. A reply to a comment: the comment it replies to, as
    Facebook nests comments only two levels deep.
    """
    if target.event_id is None:
        raise InvalidRequest("a public reply needs the message to answer", platform=PLATFORM)
    is_reply_to_comment = target.parent_id not in (None, target.thread_id)
    return target.parent_id if is_reply_to_comment and target.parent_id else target.event_id


class FacebookSender:
    """The brand's Facebook operations over one ``GraphClient``.

    Args:
        config: the channel's pages (tokens, toggles).
        graph: the Graph API client.
        inbox: where the consumer's messages are (for the windows).
        outbound: the outbound log (one Private Reply per comment); None: not checked.
        links: identity links learnt from Private Replies; None: not recorded.
        flags: conversation flags (``unreachable``); None: not recorded.
        clock: the current UTC time (tests pass a fixed one).
    """

    def __init__(
        self,
        config: FacebookConfig,
        graph: GraphClient,
        *,
        inbox: Inbox,
        outbound: OutboundLog | None = None,
        links: IdentityLinks | None = None,
        flags: ConsumerFlags | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.config = config
        self.graph = graph
        self.inbox = inbox
        self.outbound = outbound
        self.links = links
        self.flags = flags
        self.clock = clock
        self._background: set[asyncio.Task[None]] = set()

    def page(self, page_id: str) -> PageConfig:
        """The enabled, configured page ``page_id``.

        Raises:
            InvalidRequest: the page is not configured or is disabled.
        """
        page = self.config.page(page_id)
        if page is None or not page.enabled:
            state = "not configured" if page is None else "disabled"
            raise InvalidRequest(f"page {page_id} is {state}", platform=PLATFORM)
        return page

    # --- private ---------------------------------------------------------------------------

    async def send_private(
        self,
        page_id: str,
        psid: str,
        message: OutboundMessage,
        origin: Origin,
        *,
        metadata: str | None = None,
        answering: datetime | None = None,
    ) -> list[SentMessage]:
        """Sends ``message`` to the consumer in Messenger, inside the window ``origin`` has.

        ``metadata`` rides along (Meta echoes it back): the bot's turn and place of the message.
        ``answering``: when the consumer's private message being answered was written; while
        it opens the 24-hour window, the inbox is not asked for a later one.

        Raises:
            OutsideMessagingWindow: before any call, when no window is open for ``origin``.
            PlatformError: the Graph API refused a message (the earlier ones were sent).
        """
        page = self.page(page_id)
        sender_id = conversation_id(PLATFORM, page.id, psid)
        now = self.clock()
        written = answering
        if written is None or now - written > RESPONSE_WINDOW:
            latest = await asyncio.to_thread(
                self.inbox.latest_for, sender_id, visibility=Visibility.PRIVATE.value
            )
            written = latest.event.occurred_at if latest else None
        window = messaging_type(origin, written, now)
        sent = []
        try:
            for body in render_message(message):
                if metadata is not None:
                    body = {**body, "metadata": metadata}
                request = {"recipient": {"id": psid}, **window, "message": body}
                result = await self.graph.send(page.id, page.access_token, request, kind=MESSAGE)
                sent.append(SentMessage(MESSAGE, psid, result.message_id, body.get("text")))
        except RecipientUnavailable:
            if self.flags is not None:
                await asyncio.to_thread(self.flags.set, sender_id, UNREACHABLE, "551")
            raise
        return sent

    async def typing_on(self, page_id: str, psid: str) -> None:
        """Shows the typing indicator; a failure is logged, never raised (it is cosmetic)."""
        try:
            page = self.page(page_id)
            request = {"recipient": {"id": psid}, "sender_action": "typing_on"}
            await self.graph.send(page.id, page.access_token, request, kind="typing")
        except PlatformError as error:
            logger.debug("typing indicator for page %s not shown: %s", page_id, error)

    def start_typing(
        self, page_id: str, psid: str, *, delay: float = TYPING_DELAY
    ) -> TypingIndicator | None:
        """``typing_on`` in the background after ``delay`` s, unless the bot answered first
        (most answers take less: no call for them); None outside an event loop."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        indicator = TypingIndicator()

        async def show() -> None:
            await asyncio.sleep(delay)
            indicator.started = True
            await self.typing_on(page_id, psid)

        indicator.task = loop.create_task(show())
        self._background.add(indicator.task)
        indicator.task.add_done_callback(self._background.discard)
        return indicator

    # --- public ----------------------------------------------------------------------------

    async def private_reply(
        self, target: Target, text: str, *, written_at: datetime | None = None
    ) -> SentMessage | None:
        """Answers a comment or visitor post in Messenger, once (a Private Reply).

        Args:
            target: the public comment or post (``event_id``) and its author (``user_id``).
            text: the message; cut at Messenger's limit.
            written_at: when the comment was written; looked up in the inbox when None.

        Returns:
            What was sent, or None when this comment already got its Private Reply.

        Raises:
            OutsideMessagingWindow: the comment is more than 7 days old.
            PlatformError: the Graph API refused it.
        """
        page = self.page(target.account_id)
        if not page.private_replies:
            raise InvalidRequest(
                f"no Private Reply: private_replies is off for page {page.id}", platform=PLATFORM
            )
        object_id = target.event_id
        if object_id is None:
            raise InvalidRequest(
                "no Private Reply: no comment or post to answer", platform=PLATFORM
            )
        if self.outbound is not None and await asyncio.to_thread(
            self.outbound.has_sent, PLATFORM, PRIVATE_REPLY, object_id
        ):
            logger.info("facebook: comment %s already has its Private Reply", object_id)
            return None
        if written_at is None:
            stored = await asyncio.to_thread(self.inbox.find_event, PLATFORM, page.id, object_id)
            written_at = stored.event.occurred_at if stored else None
        if written_at is not None:
            check_private_reply_window(written_at, self.clock())
        is_post = target.source is Source.FACEBOOK_POST
        request = {
            "recipient": {"post_id" if is_post else "comment_id": object_id},
            "messaging_type": "RESPONSE",
            "message": {"text": split_text(text)[0] if text.strip() else text},
        }
        result = await self.graph.send(page.id, page.access_token, request, kind=PRIVATE_REPLY)
        if result.recipient_id and self.links is not None:
            await asyncio.to_thread(
                self.links.link,
                platform=PLATFORM,
                account_id=page.id,
                public_user_id=target.user_id,
                private_user_id=result.recipient_id,
                via="private_reply",
                origin_event_id=object_id,
            )
        return SentMessage(PRIVATE_REPLY, object_id, result.message_id, text)

    async def reply_public(self, target: Target, text: str) -> SentMessage:
        """Replies under the comment or post of ``target``, as the page."""
        page = self.page(target.account_id)
        object_id = reply_object(target)
        comment_id = await self.graph.comment(object_id, page.access_token, text)
        return SentMessage(PUBLIC_REPLY, object_id, comment_id, text)

    async def like(self, page_id: str, object_id: str) -> SentMessage:
        """Likes a comment or post, as the page."""
        page = self.page(page_id)
        await self.graph.like(object_id, page.access_token)
        return SentMessage(LIKE, object_id)

    async def profile(self, page_id: str, psid: str) -> Profile | None:
        """The consumer's Messenger profile (cached), or None where Meta gives none."""
        page = self.page(page_id)
        return await self.graph.profile(page.id, page.access_token, psid)
