"""``TwitterInput``: the X webhook of ``rasa run``, keyed ``channels.twitter.TwitterInput``.

A thin adapter: the shared ``SocialInputChannel`` runs size → signature → normalise → inbox → 200
and the inbox worker; this class supplies X's parts (``verify``, the CRC ``challenge``, one
``normalise`` for both delivery formats) and what only the social store knows about a delivery
(the thread of a tweet seen before, the options offered in the last DM).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from sanic import response
from sanic.response import HTTPResponse

from bot.context import Platform
from bot.events import Skipped, SocialEvent
from channels.social import SocialInputChannel
from channels.twitter.config import TwitterConfig
from channels.twitter.normalise import Known, normalise_delivery
from channels.twitter.verify import crc_response, verify_signature

__all__ = ["TwitterInput"]

logger = logging.getLogger(__name__)


class TwitterInput(SocialInputChannel):
    """Mentions, replies and DMs of the configured X accounts, from either webhook format.

    Args:
        config: the validated ``credentials.yml`` section.
        **kwargs: the shared channel's options (``inbox``, ``endpoints``, ``retry``...).
    """

    platform = Platform.TWITTER.value

    def __init__(self, config: TwitterConfig, **kwargs: Any) -> None:
        kwargs.setdefault("max_body_bytes", config.max_body_bytes)
        super().__init__(**kwargs)
        self.config = config

    @classmethod
    def name(cls) -> str:
        return "twitter"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TwitterInput:
        """The channel of its ``credentials.yml`` section; raises ``ConfigurationError``."""
        return cls(TwitterConfig.from_credentials(credentials))

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        verify_signature(
            body,
            headers,
            consumer_secret=self.config.consumer_secret,
            oauth2_client_secret=self.config.oauth2_client_secret,
        )

    def challenge(self, query: Mapping[str, str]) -> HTTPResponse:
        return response.json(crc_response(self.config.consumer_secret, query))

    def normalise(self, body: bytes) -> Sequence[SocialEvent | Skipped]:
        return normalise_delivery(body, self.config, self.known())

    def known(self) -> Known:
        """What the social store knows that deliveries do not say."""
        return Known()

    def output_channel_for(self, event: SocialEvent) -> OutputChannel:
        return CollectingOutputChannel()
