"""``action_public_to_private``: prepares the invitation to continue a public thread in private.

``PublicThreadPolicy`` runs it after a public message, then ``utter_public_to_private``, the
response bot designers word in domain.yml with ``{cta_name}`` and ``{cta_link}``. The link opens
a private conversation with the brand and carries a reference to the public thread; the public
message, and what the bot understood of it, is kept under that reference (``bot.origins``), so
the private conversation starts knowing where it came from.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.context import Platform, SocialContext
from bot.errors import InvalidSocialContext, StoreError
from bot.origins import PublicOrigin, PublicOrigins, thread_reference
from bot.runtime import public_origins
from channels.twitter.links import dm_link, dm_prefill

__all__ = [
    "ActionPublicToPrivate",
    "first_name",
    "messenger_link",
    "origin_of",
    "shorten",
    "x_dm_link",
]

logger = logging.getLogger(__name__)

MESSENGER_BASE = "https://m.me"


def messenger_link(context: SocialContext, username: str | None = None) -> str:
    """``https://m.me/<page>?ref=...``: opens Messenger with the page, carrying the reference."""
    page = username or context.account_id
    return f"{MESSENGER_BASE}/{page}?{urlencode({'ref': thread_reference(context)})}"


def x_dm_link(context: SocialContext) -> str:
    """The X DM deep link to the brand account, with a prefilled text naming the tweet."""
    return dm_link(context.account_id, dm_prefill(thread_reference(context)))


def first_name(context: SocialContext) -> str:
    """How the invitation addresses the consumer: @handle on X, the first name on Facebook."""
    if context.platform is Platform.TWITTER and context.author.handle:
        return f"@{context.author.handle}"
    if context.author.name:
        return context.author.name.split()[0]
    return "there"


CTA_MODES = ("private_reply", "public_link", "both")
COMMENT_CHARS = 80


def shorten(text: str, limit: int = COMMENT_CHARS) -> str:
    """``text`` on one line, cut at a word boundary with an ellipsis beyond ``limit``."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] or flat[: limit - 1]
    return cut.rstrip(",.;:") + "…"


def origin_of(tracker: Tracker, context: SocialContext) -> PublicOrigin:
    """The public message of ``tracker`` and what the bot understood of it."""
    latest: dict[str, Any] = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    return PublicOrigin.of(
        context,
        str(latest.get("text") or ""),
        intent=intent.get("name"),
        confidence=intent.get("confidence"),
        entities=[
            {"entity": entity.get("entity"), "value": entity.get("value")}
            for entity in latest.get("entities") or []
        ],
    )


class ActionPublicToPrivate(Action):
    """Sets ``cta_name`` and ``cta_link`` and keeps the public message under the link's ``ref``.

    Args:
        origins: where public origins are kept (default: the social store of endpoints.yml).
    """

    def __init__(self, origins: PublicOrigins | None = None) -> None:
        self._origins = origins

    def name(self) -> str:
        return "action_public_to_private"

    @property
    def origins(self) -> PublicOrigins:
        """The store of public origins (opened on first use)."""
        if self._origins is None:
            self._origins = public_origins(Path("endpoints.yml"))
        return self._origins

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The slots the invitation needs; nothing when the message has no social context."""
        metadata: dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
        try:
            context = SocialContext.from_metadata(metadata)
        except InvalidSocialContext as exc:
            logger.warning("no call to action: the social context is invalid (%s)", exc)
            return []
        if context is None:
            logger.warning("no call to action: the latest message has no social context")
            return []
        try:
            await asyncio.to_thread(self.origins.record, origin_of(tracker, context))
        except StoreError:
            # The invitation matters more than its context: send it, and say what is missing.
            logger.exception("the public origin of %s was not kept", tracker.sender_id)
        if context.platform is Platform.TWITTER:
            link = x_dm_link(context)
        else:
            link = messenger_link(context)
        mode = metadata.get("cta_mode")
        return [
            SlotSet("cta_name", first_name(context)),
            SlotSet("cta_link", link),
            SlotSet("cta_mode", mode if mode in CTA_MODES else "public_link"),
            SlotSet("cta_comment", shorten(str((tracker.latest_message or {}).get("text") or ""))),
        ]
