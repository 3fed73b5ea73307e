"""``SocialEvent``: one inbound message from any platform, after parsing and normalisation.

The channels turn each webhook item into a ``SocialEvent`` (or skip it with a reason); the inbox
persists it under its ``dedupe_key``; the inbox worker hands it to Rasa as a ``UserMessage`` whose
sender id is ``sender_id`` and whose metadata is ``metadata()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError, root_validator, validator

from bot.context import SocialContext

__all__ = [
    "MAX_ID_LENGTH",
    "Skipped",
    "SocialEvent",
    "conversation_id",
    "event_or_skip",
    "skips_only",
]

# The longest id the social store holds (its ``String(255)`` id columns): a sender id, an
# event id, a dedupe key. Platform ids are far shorter; a longer one is not a platform's.
MAX_ID_LENGTH = 255


def conversation_id(platform: str, account_id: str, user_id: str) -> str:
    """The Rasa sender id of one consumer with one brand account.

    ``facebook:<page id>:<PSID or commenter id>`` or ``twitter:<account id>:<user id>``.
    """
    for part, name in ((platform, "platform"), (account_id, "account_id"), (user_id, "user_id")):
        if not part or ":" in part:
            raise ValueError(f"{name}: expected a non-empty id without ':', got {part!r}")
    return f"{platform}:{account_id}:{user_id}"


class SocialEvent(BaseModel):
    """A consumer's message, platform-neutral.

    Attributes:
        context: the social context carried to Rasa as ``metadata["social"]``.
        text: what Rasa sees as the user's text (a quick-reply payload, a neutralised command...).
        dedupe_key: unique per platform delivery item; a second delivery with it is a duplicate.
        occurred_at: when the consumer wrote it, per the platform (UTC).
        extra: more metadata for Rasa beside ``social`` (attachments, quick-reply payload...).
    """

    context: SocialContext
    text: str
    dedupe_key: str = Field(..., min_length=1, max_length=MAX_ID_LENGTH)
    occurred_at: datetime
    extra: dict[str, Any] = Field(default_factory=dict)

    class Config:
        allow_mutation = False

    @validator("occurred_at")
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    @root_validator(skip_on_failure=True)
    def _storable(cls, values: dict[str, Any]) -> dict[str, Any]:
        # Checked here, not by the store: an event that cannot be stored or named as a Rasa
        # conversation is a skipped item of its delivery, never a failed delivery.
        context: SocialContext = values["context"]
        sender_id = conversation_id(context.platform.value, context.account_id, context.author.id)
        for name, value in (("sender id", sender_id), ("event_id", context.event_id)):
            if len(value) > MAX_ID_LENGTH:
                raise ValueError(
                    f"{name}: {len(value)} characters; at most {MAX_ID_LENGTH} are stored"
                )
        return values

    @property
    def sender_id(self) -> str:
        """The Rasa sender id: one consumer with one brand account."""
        return conversation_id(
            self.context.platform.value, self.context.account_id, self.context.author.id
        )

    def metadata(self) -> dict[str, Any]:
        """The ``UserMessage.metadata``: ``extra`` plus the social context under ``"social"``."""
        return {**self.extra, **self.context.to_metadata()}


@dataclass(frozen=True)
class Skipped:
    """A delivery item that is not a consumer's message for the bot, and why.

    Logged at DEBUG; a malformed item (wrong types, values that cannot be stored) at WARNING: it
    may have been a consumer's message that is lost.

    Attributes:
        reason: why it is skipped ("echo of our own message", "page disabled", ...).
        key: the platform id of the item, where it has one.
        malformed: the item could not be read; the rest of its delivery was.
    """

    reason: str
    key: str | None = None
    malformed: bool = False


_Result = TypeVar("_Result")


def event_or_skip(build: Callable[[], _Result], key: str | None) -> _Result | Skipped:
    """What ``build`` makes of one delivery item, or the item skipped when its values cannot
    make an event (an id with ``:``, longer than the store holds...): one odd item never costs
    the rest of its delivery."""
    try:
        return build()
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            reason = "; ".join(str(error["msg"]) for error in exc.errors())
        else:
            reason = str(exc)
        return Skipped(f"unusable item: {reason}", key, malformed=True)


def skips_only(items: Sequence[SocialEvent | Skipped]) -> list[Skipped] | None:
    """``items`` when every one is a skip; None when one is an event."""
    skipped = [item for item in items if isinstance(item, Skipped)]
    return skipped if len(skipped) == len(items) else None
