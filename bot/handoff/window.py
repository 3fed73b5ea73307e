"""Messenger's messaging window, as an agent needs to know it: a pure function.

A page may answer a consumer in Messenger within 24 hours of their last message (messaging type
``RESPONSE``); a human agent may answer up to 7 days after it with the ``HUMAN_AGENT`` tag; after
that nothing can be sent until the consumer writes again. X DMs and the REST channel have no such
window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

__all__ = [
    "HUMAN_AGENT_WINDOW",
    "STANDARD_WINDOW",
    "MessagingWindow",
    "WindowKind",
    "messaging_window",
]

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


class WindowKind(str, Enum):
    """How an agent's private reply may be sent now."""

    STANDARD = "standard"  # RESPONSE: within 24 hours
    HUMAN_AGENT = "human_agent"  # MESSAGE_TAG HUMAN_AGENT: within 7 days
    CLOSED = "closed"  # cannot be sent until the consumer writes again
    UNLIMITED = "unlimited"  # the channel has no window


@dataclass(frozen=True)
class MessagingWindow:
    """Whether and how a private reply can be sent, and until when.

    Attributes:
        kind: standard, human agent, closed or unlimited.
        closes_at: when the current window closes; None when it is closed or unlimited.
        explanation: a sentence for the agent.
    """

    kind: WindowKind
    closes_at: datetime | None
    explanation: str

    @property
    def is_open(self) -> bool:
        """True when a private reply can be sent now."""
        return self.kind is not WindowKind.CLOSED

    def as_json(self) -> dict[str, Any]:
        """The window as the workspace API shows it."""
        return {
            "kind": self.kind.value,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
            "explanation": self.explanation,
        }


def _ago(span: timedelta) -> str:
    hours = int(span.total_seconds() // 3600)
    if hours < 48:
        return f"{hours} hours ago"
    return f"{hours // 24} days ago"


def messaging_window(
    platform: str, last_consumer_message_at: datetime | None, now: datetime
) -> MessagingWindow:
    """The private-reply window of a conversation on ``platform`` at ``now``.

    Args:
        platform: ``facebook``, ``twitter`` or ``rest``.
        last_consumer_message_at: when the consumer last wrote in private (Messenger), if ever.
        now: an aware datetime.
    """
    if platform != "facebook":
        return MessagingWindow(WindowKind.UNLIMITED, None, "no messaging window on this channel")
    if last_consumer_message_at is None:
        return MessagingWindow(
            WindowKind.CLOSED,
            None,
            "The consumer has not written to the page in Messenger, so no private message can "
            "be sent; send the invitation to continue in private under their public message.",
        )
    since = now - last_consumer_message_at
    if since < STANDARD_WINDOW:
        closes = last_consumer_message_at + STANDARD_WINDOW
        return MessagingWindow(
            WindowKind.STANDARD,
            closes,
            f"Messenger's standard 24-hour window is open (the consumer wrote {_ago(since)}).",
        )
    if since < HUMAN_AGENT_WINDOW:
        closes = last_consumer_message_at + HUMAN_AGENT_WINDOW
        return MessagingWindow(
            WindowKind.HUMAN_AGENT,
            closes,
            f"The consumer wrote {_ago(since)}: past Messenger's 24 hours, replies go with the "
            "HUMAN_AGENT tag, allowed up to 7 days after their last message.",
        )
    return MessagingWindow(
        WindowKind.CLOSED,
        None,
        f"The consumer's last Messenger message was {_ago(since)}. Messenger lets a page "
        "answer within 24 hours and a human agent within 7 days (HUMAN_AGENT tag); after that "
        "nothing can be sent until the consumer writes again.",
    )
