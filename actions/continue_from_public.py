"""``action_continue_from_public``: the private conversation picks up where the public one stopped.

A consumer invited in public arrives in private: through the m.me link (its ``ref``), by
answering a Facebook Private Reply, or with an X DM whose prefill carries the reference. The
channel then hands the bot ``/continue_from_public`` with that reference as the message's
``referral``; a consumer may also say it in words ("I'm here about my comment"). The action finds
the public message (kept by ``action_public_to_private``) and fills the ``public_origin_*`` slots;
the ``utter_continue_from_public`` response that follows (a rule) says what it is about, worded
by bot designers with ``{public_origin_text}`` and ``{public_origin_place}``, or greets when
``public_origin_found`` is false.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.context import Platform, SocialContext
from bot.errors import InvalidSocialContext, StoreError
from bot.identities import IdentityLinks
from bot.origins import REF_PREFIX, PublicOrigin, PublicOrigins
from bot.runtime import identity_links, public_origins

__all__ = ["ActionContinueFromPublic", "place_of"]

logger = logging.getLogger(__name__)

_PLACES = {
    "facebook_comment": "your comment on our post",
    "facebook_post": "your post on our page",
    "tweet": "your tweet",
}


def place_of(origin: PublicOrigin) -> str:
    """Where the consumer wrote in public, in the words of the response."""
    return _PLACES.get(origin.source, "your public message")


class ActionContinueFromPublic(Action):
    """Finds the public origin of a private conversation for the response that follows.

    Args:
        origins: public origins (default: the social store of endpoints.yml).
        links: identity links (default: the same store).
    """

    def __init__(
        self, origins: PublicOrigins | None = None, links: IdentityLinks | None = None
    ) -> None:
        self._origins = origins
        self._links = links

    def name(self) -> str:
        return "action_continue_from_public"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The ``public_origin_*`` slots; ``public_origin_found`` false when none is known."""
        metadata: dict[str, Any] = (tracker.latest_message or {}).get("metadata") or {}
        try:
            context = SocialContext.from_metadata(metadata)
        except InvalidSocialContext as exc:
            logger.warning("no public origin: the social context is invalid (%s)", exc)
            context = None
        try:
            origin = await asyncio.to_thread(self._find, context)
        except StoreError:
            logger.exception("the public origin of %s could not be read", tracker.sender_id)
            origin = None
        if origin is None:
            return [SlotSet("public_origin_found", False)]
        return [
            SlotSet("public_origin_found", True),
            SlotSet("public_origin_place", place_of(origin)),
            SlotSet("public_origin_ref", origin.ref),
            SlotSet("public_origin_text", origin.text),
            SlotSet("public_origin_source", origin.source),
            SlotSet("public_origin_intent", origin.intent),
        ]

    def _find(self, context: SocialContext | None) -> PublicOrigin | None:
        if context is None:
            return None
        origins = self._origins or public_origins(Path("endpoints.yml"))
        if context.referral and context.referral.startswith(REF_PREFIX):
            found = origins.get(context.referral)
            if found is not None:
                return found
        author = context.author.id
        if context.platform is Platform.FACEBOOK:
            # A commenter's id is not their PSID: follow the link learnt by the channel.
            links = self._links or identity_links(Path("endpoints.yml"))
            link = links.public_for(context.platform.value, context.account_id, author)
            if link is None:
                return None
            author = link.public_user_id
        return origins.latest_of_author(context.platform.value, context.account_id, author)
