"""``OutboundGuard``: the last line that keeps automated messages out of public threads.

Every send of every output channel passes ``OutboundGuard.check`` with its origin and its target.
The rule of the product: bots and automatic messages are only supported in private. In public the
only automated message is the call to action (origin ``cta``); agents may write in public too.
Public threads also lose what they cannot show (buttons, quick replies, attachments, rich
content), each with a logged reason.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from bot.context import Platform, SocialContext, Source, Visibility
from bot.errors import OutboundRefused
from bot.events import conversation_id
from bot.metrics import GUARD_REFUSALS

__all__ = ["Origin", "OutboundGuard", "OutboundMessage", "Target"]

logger = logging.getLogger(__name__)


class Origin(str, Enum):
    """Who produced an outbound message."""

    BOT = "bot"  # any automated message: policies, actions, followups, the REST API, reminders
    CTA = "cta"  # the public-to-private call to action
    AGENT = "agent"  # a human agent, from the workspace


@dataclass(frozen=True)
class Target:
    """Where a message would go.

    Attributes:
        platform: the social network.
        visibility: public thread or private conversation.
        conversation_id: the Rasa sender id.
        thread_id: public: the root post or tweet; private: the consumer's id.
        account_id: the brand's page or account.
        user_id: the consumer's id on the platform (PSID, commenter id, X user id).
        event_id: the consumer's message a public answer goes under (comment, post, tweet).
        parent_id: what that message replied to.
        source: where on the platform the consumer wrote.
        author_handle: the consumer's X screen name, if any.
    """

    platform: Platform
    visibility: Visibility
    conversation_id: str
    thread_id: str | None = None
    account_id: str = ""
    user_id: str = ""
    event_id: str | None = None
    parent_id: str | None = None
    source: Source | None = None
    author_handle: str | None = None

    @classmethod
    def from_context(cls, context: SocialContext) -> Target:
        """The target that answers the message ``context`` describes, where it was written."""
        return cls(
            platform=context.platform,
            visibility=context.visibility,
            conversation_id=conversation_id(
                context.platform.value, context.account_id, context.author.id
            ),
            thread_id=context.thread_id,
            account_id=context.account_id,
            user_id=context.author.id,
            event_id=context.event_id,
            parent_id=context.parent_id,
            source=context.source,
            author_handle=context.author.handle,
        )


@dataclass(frozen=True)
class OutboundMessage:
    """One message an output channel is about to send."""

    text: str = ""
    buttons: tuple[dict[str, Any], ...] = ()
    quick_replies: tuple[dict[str, Any], ...] = ()
    attachment: str | None = None
    image: str | None = None
    elements: tuple[dict[str, Any], ...] = ()
    custom: dict[str, Any] | None = None
    response_name: str | None = None  # the domain response it was rendered from, if known
    extras: dict[str, Any] = field(default_factory=dict)


_PUBLIC_UNSUPPORTED = ("buttons", "quick_replies", "attachment", "image", "elements", "custom")
_EMPTY: dict[str, Any] = {
    "buttons": (),
    "quick_replies": (),
    "attachment": None,
    "image": None,
    "elements": (),
    "custom": None,
}


class OutboundGuard:
    """Refuses automated messages to public targets and trims public messages; counts refusals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.refusals: Counter[tuple[str, str]] = Counter()  # (platform, origin) → count
        self.trimmed: Counter[tuple[str, str]] = Counter()  # (platform, part) → count

    def check(self, origin: Origin, target: Target, message: OutboundMessage) -> OutboundMessage:
        """The message as it may be sent to ``target``.

        Raises:
            OutboundRefused: an automated (``bot``) message aimed at a public target.
        """
        if target.visibility is Visibility.PRIVATE:
            return message
        if origin is Origin.BOT:
            raise self.refuse(
                origin,
                target,
                message,
                OutboundRefused(
                    "automated messages are not sent to public threads "
                    f"(thread {target.thread_id})",
                    origin=origin.value,
                    target=target.visibility.value,
                ),
            )
        dropped = [part for part in _PUBLIC_UNSUPPORTED if getattr(message, part)]
        if not dropped:
            return message
        with self._lock:
            for part in dropped:
                self.trimmed[(target.platform.value, part)] += 1
        logger.info(
            "public %s message to thread %s: dropped %s (public threads show text only)",
            origin.value,
            target.thread_id,
            ", ".join(dropped),
        )
        return replace(message, **{part: _EMPTY[part] for part in dropped})

    def refuse(
        self, origin: Origin, target: Target, message: OutboundMessage, refusal: OutboundRefused
    ) -> OutboundRefused:
        """Counts and logs ``refusal`` of ``message`` (at WARNING); returns it, to be raised.

        The guard's own refusals go through here, and so do those decided next to it with the
        store's help (the call to action's limits, ``bot.cta_limits``).
        """
        with self._lock:
            self.refusals[(target.platform.value, origin.value)] += 1
        GUARD_REFUSALS.labels(target.platform.value, origin.value).inc()
        logger.warning(
            "refused a %s message to a %s target: conversation=%s thread=%s response=%s: %s",
            origin.value,
            target.visibility.value,
            target.conversation_id,
            target.thread_id,
            message.response_name or "-",
            refusal,
        )
        return refusal
