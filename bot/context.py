"""The social context: the one contract between channels, policy, actions and workspace.

Every ``UserMessage`` from a social channel carries ``metadata["social"]``, written by
``SocialContext.to_metadata()`` and read back everywhere by ``SocialContext.from_metadata()``.
Field names and values are fixed by ARCHITECTURE.md; fields may be added, never renamed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, root_validator

from bot.errors import InvalidSocialContext

__all__ = [
    "CONTEXT_VERSION",
    "METADATA_KEY",
    "Author",
    "Platform",
    "SocialContext",
    "Source",
    "Visibility",
]

METADATA_KEY = "social"
CONTEXT_VERSION = 1


class Platform(str, Enum):
    """The social network a message came from."""

    FACEBOOK = "facebook"
    TWITTER = "twitter"


class Visibility(str, Enum):
    """Whether anyone can read the message (public) or only the brand (private)."""

    PUBLIC = "public"
    PRIVATE = "private"


class Source(str, Enum):
    """Where on the platform the message was written."""

    MESSENGER = "messenger"
    FACEBOOK_COMMENT = "facebook_comment"
    FACEBOOK_POST = "facebook_post"
    TWITTER_DM = "twitter_dm"
    TWEET = "tweet"


_SOURCES: dict[Source, tuple[Platform, Visibility]] = {
    Source.MESSENGER: (Platform.FACEBOOK, Visibility.PRIVATE),
    Source.FACEBOOK_COMMENT: (Platform.FACEBOOK, Visibility.PUBLIC),
    Source.FACEBOOK_POST: (Platform.FACEBOOK, Visibility.PUBLIC),
    Source.TWITTER_DM: (Platform.TWITTER, Visibility.PRIVATE),
    Source.TWEET: (Platform.TWITTER, Visibility.PUBLIC),
}


class _Frozen(BaseModel):
    class Config:
        allow_mutation = False
        extra = "ignore"  # fields added by newer writers are ignored, never fatal
        use_enum_values = False


class Author(_Frozen):
    """The consumer who wrote the message."""

    id: str = Field(..., min_length=1)
    name: str | None = None
    handle: str | None = None  # the X screen name; None on Facebook


class SocialContext(_Frozen):
    """Where a message came from and where an answer would go."""

    version: int = CONTEXT_VERSION
    platform: Platform
    visibility: Visibility
    source: Source
    account_id: str = Field(..., min_length=1)
    event_id: str = Field(..., min_length=1)
    thread_id: str = Field(..., min_length=1)
    parent_id: str | None = None
    author: Author
    referral: str | None = None

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values: dict[str, Any]) -> dict[str, Any]:
        if values["version"] != CONTEXT_VERSION:
            raise ValueError(f"version: expected {CONTEXT_VERSION}, got {values['version']}")
        platform, visibility = _SOURCES[values["source"]]
        if values["platform"] != platform:
            raise ValueError(
                f"platform: source {values['source'].value!r} belongs to {platform.value!r}, "
                f"not {values['platform'].value!r}"
            )
        if values["visibility"] != visibility:
            raise ValueError(
                f"visibility: source {values['source'].value!r} is {visibility.value}, "
                f"not {values['visibility'].value}"
            )
        if visibility is Visibility.PRIVATE and values["parent_id"] is not None:
            raise ValueError("parent_id: must be null for a private message")
        return values

    @property
    def is_public(self) -> bool:
        """True when anyone can read the thread."""
        return self.visibility is Visibility.PUBLIC

    def to_metadata(self) -> dict[str, Any]:
        """The ``UserMessage.metadata`` mapping carrying this context under ``"social"``."""
        return {METADATA_KEY: self.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        """This context as plain JSON types.

        Written out rather than ``self.dict()``: every stored event and every message to Rasa
        asks for it, and pydantic's walk over the fields cost a tenth of a webhook delivery.
        """
        author = self.author
        return {
            "version": self.version,
            "platform": self.platform.value,
            "visibility": self.visibility.value,
            "source": self.source.value,
            "account_id": self.account_id,
            "event_id": self.event_id,
            "thread_id": self.thread_id,
            "parent_id": self.parent_id,
            "author": {"id": author.id, "name": author.name, "handle": author.handle},
            "referral": self.referral,
        }

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any] | None) -> SocialContext | None:
        """Reads the context back from message metadata.

        Returns:
            The context, or None when the message carries none (REST, shell, external events).

        Raises:
            InvalidSocialContext: the context is present but wrong; the message names each field.
        """
        if not metadata or metadata.get(METADATA_KEY) is None:
            return None
        raw = metadata[METADATA_KEY]
        if not isinstance(raw, Mapping):
            raise InvalidSocialContext(
                f"metadata.social: expected an object, got {type(raw).__name__}", ("social",)
            )
        try:
            return cls.parse_obj(raw)
        except ValidationError as exc:
            fields = []
            messages = []
            for error in exc.errors():
                location = ".".join(str(part) for part in error["loc"])
                if location == "__root__":
                    location = str(error["msg"]).split(":", 1)[0]
                    message = str(error["msg"]).split(":", 1)[-1].strip()
                else:
                    message = str(error["msg"])
                fields.append(location)
                messages.append(f"social.{location}: {message}")
            raise InvalidSocialContext("; ".join(messages), tuple(fields)) from exc
