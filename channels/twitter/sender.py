"""``XSender``: what the brand does on X, with or without Rasa.

The output channel delivers the bot's messages through it; the agents' workspace can call it
directly. It applies X's rules: DMs render buttons as numbered lines (remembered, so the answer
``2`` becomes the option's payload) and hold at most 10000 characters; a public reply starts with
the consumer's @handle and counts at most 280 (URLs 23), else it is refused with the reason; a
consumer found with closed DMs is flagged on the conversation, and the call to action then offers
the account's alternative instead of the DM link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from bot.consumers import DMS_CLOSED, ConsumerFlags
from bot.context import Platform, Visibility
from bot.errors import MessageTooLong, OutboundRefused, RecipientUnavailable, StoreError
from bot.events import conversation_id
from bot.guard import Origin
from channels.social_output import SentMessage
from channels.twitter.api import XClient
from channels.twitter.config import TwitterAccount, TwitterConfig
from channels.twitter.links import (
    MAX_DM_LENGTH,
    MAX_TWEET_LENGTH,
    addressed_to,
    replace_dm_links,
    tweet_length,
)
from channels.twitter.options import OFFERED_OPTIONS, dump_options, render_options

__all__ = ["XSender"]

logger = logging.getLogger(__name__)

PLATFORM = Platform.TWITTER.value


class XSender:
    """The brand accounts' X operations.

    Args:
        client: the app's X API client.
        config: the channel's configuration (the accounts and their tokens).
        flags: the conversation flags (DMs closed, options offered); None remembers nothing.
    """

    def __init__(
        self, client: XClient, config: TwitterConfig, *, flags: ConsumerFlags | None = None
    ) -> None:
        self.client = client
        self.config = config
        self.flags = flags

    def account(self, account_id: str, *, origin: Origin, visibility: Visibility) -> TwitterAccount:
        """The configured account that acts.

        Raises:
            OutboundRefused: the account is unknown, disabled, or (in public) has public off.
        """
        account = self.config.account(account_id)
        problem = None
        if account is None:
            problem = f"account {account_id} is not configured"
        elif not account.enabled:
            problem = f"account {account_id} is disabled"
        elif visibility is Visibility.PUBLIC and not account.public:
            problem = f"public answers are off for account {account_id}"
        if account is None or problem is not None:
            raise OutboundRefused(
                f"not sent: {problem}", origin=origin.value, target=visibility.value
            )
        return account

    async def send_dm(
        self,
        account_id: str,
        user_id: str,
        text: str,
        *,
        choices: Iterable[Mapping[str, Any]] = (),
        origin: Origin = Origin.BOT,
        keep_offered: bool = False,
    ) -> SentMessage:
        """Sends a DM from the account to the consumer, with ``choices`` as numbered lines.

        The numbered options are remembered on the conversation; with ``keep_offered`` a DM
        without options leaves the earlier ones (a later message of the same bot turn).

        Raises:
            MessageTooLong: more than 10000 characters.
            RecipientUnavailable: the consumer's DMs are closed (flagged on the conversation).
            PlatformError: any other failure of the call.
        """
        account = self.account(account_id, origin=origin, visibility=Visibility.PRIVATE)
        body, options = render_options(text, choices)
        if len(body) > MAX_DM_LENGTH:
            raise MessageTooLong(
                f"the DM has {len(body)} characters; X accepts at most {MAX_DM_LENGTH}",
                length=len(body),
                limit=MAX_DM_LENGTH,
                origin=origin.value,
                target=Visibility.PRIVATE.value,
            )
        sender_id = conversation_id(PLATFORM, account_id, user_id)
        if options or not keep_offered:
            # Before sending: the consumer may answer as soon as the DM arrives.
            offered = dump_options(options) if options else None
            await self._set_flag(sender_id, OFFERED_OPTIONS, offered)
        try:
            dm_event_id = await self.client.send_dm(account.access_token, user_id, body)
        except RecipientUnavailable:
            await self._set_flag(sender_id, DMS_CLOSED, "1")
            raise
        return SentMessage("dm", user_id, dm_event_id, body)

    async def reply_public(
        self,
        account_id: str,
        tweet_id: str,
        text: str,
        *,
        handle: str | None = None,
        origin: Origin = Origin.AGENT,
    ) -> SentMessage:
        """Replies under the consumer's tweet, starting with their ``@handle``.

        Raises:
            MessageTooLong: the reply counts more than 280 (URLs count 23); nothing is cut.
            PlatformError: the call failed (``DuplicateContent``, not summoned...).
        """
        account = self.account(account_id, origin=origin, visibility=Visibility.PUBLIC)
        body = addressed_to(text, handle)
        length = tweet_length(body)
        if length > MAX_TWEET_LENGTH:
            raise MessageTooLong(
                f"the reply counts {length} characters (a URL counts 23); X accepts at most "
                f"{MAX_TWEET_LENGTH}",
                length=length,
                limit=MAX_TWEET_LENGTH,
                origin=origin.value,
                target=Visibility.PUBLIC.value,
            )
        new_id = await self.client.create_tweet(account.access_token, body, in_reply_to=tweet_id)
        return SentMessage("tweet", tweet_id, new_id, body)

    async def call_to_action(self, account_id: str, user_id: str, text: str) -> str:
        """The call to action's text: the DM link gives way to the account's alternative when the
        consumer's DMs are known to be closed (and an alternative is configured)."""
        account = self.config.account(account_id)
        alternative = account.dms_closed_alternative if account else None
        if alternative and await self.dms_closed(conversation_id(PLATFORM, account_id, user_id)):
            return replace_dm_links(text, alternative)
        return text

    async def dms_closed(self, sender_id: str) -> bool:
        """True when X said the consumer of ``sender_id`` does not accept the brand's DMs."""
        if self.flags is None:
            return False
        try:
            flags = await asyncio.to_thread(self.flags.get, sender_id)
        except StoreError:
            logger.exception("reading the flags of %s failed; assuming DMs open", sender_id)
            return False
        return bool(flags.get(DMS_CLOSED))

    async def _set_flag(self, sender_id: str, flag: str, value: str | None) -> None:
        if self.flags is None:
            return
        try:
            await asyncio.to_thread(self.flags.set, sender_id, flag, value)
        except StoreError:
            # Sending matters more than remembering: log and go on.
            logger.exception("setting %s of %s failed", flag, sender_id)
