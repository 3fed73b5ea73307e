"""``action_public_to_private``: prepares the invitation to continue a public thread in private.

``PublicThreadPolicy`` runs it after a public message, then ``utter_public_to_private``, the
response bot designers word in domain.yml with ``{cta_name}`` and ``{cta_link}``. The link opens
a private conversation with the brand and carries a reference to the public thread, so the
private conversation starts knowing where it came from.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.context import Platform, SocialContext
from bot.errors import InvalidSocialContext
from channels.twitter.links import dm_link, dm_prefill

__all__ = ["ActionPublicToPrivate", "first_name", "messenger_link", "thread_reference", "x_dm_link"]

logger = logging.getLogger(__name__)

MESSENGER_BASE = "https://m.me"


def thread_reference(context: SocialContext) -> str:
    """A reference to the public message, short and safe in an m.me ``ref`` (``[A-Za-z0-9_=-]``)."""
    return f"pub-{context.event_id}".replace(":", "-")


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


class ActionPublicToPrivate(Action):
    """Sets ``cta_name`` and ``cta_link`` from the latest message's social context."""

    def name(self) -> str:
        return "action_public_to_private"

    def run(
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
        if context.platform is Platform.TWITTER:
            link = x_dm_link(context)
        else:
            link = messenger_link(context)
        return [SlotSet("cta_name", first_name(context)), SlotSet("cta_link", link)]
