"""Messenger's messaging windows, as pure functions of times and the sender's origin.

- The 24-hour window: any message may answer (``messaging_type: RESPONSE``) within 24 hours of
  the consumer's last message.
- ``HUMAN_AGENT``: a human agent (never the bot) may answer up to 7 days after it, tagged.
- A Private Reply answers a comment or visitor post within 7 days of it.
Outside them Meta refuses the send (code 10 / 2018278); we refuse first, with a typed error.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.errors import OutsideMessagingWindow
from bot.guard import Origin

__all__ = [
    "HUMAN_AGENT_WINDOW",
    "PRIVATE_REPLY_WINDOW",
    "RESPONSE_WINDOW",
    "check_private_reply_window",
    "messaging_type",
]

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)


def _age(since: datetime, now: datetime) -> str:
    hours = (now - since).total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


def messaging_type(
    origin: Origin, last_message_at: datetime | None, now: datetime
) -> dict[str, str]:
    """The Send API fields that let ``origin`` write now.

    Args:
        origin: who writes.
        last_message_at: when the consumer last wrote in private (None: never).
        now: the current time.

    Raises:
        OutsideMessagingWindow: no window is open for ``origin``.
    """
    if last_message_at is None:
        raise OutsideMessagingWindow(
            "the consumer has not written in Messenger yet: nothing may be sent there",
            platform="facebook",
        )
    age = now - last_message_at
    if age <= RESPONSE_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if origin is Origin.AGENT and age <= HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    who = "a human agent" if origin is Origin.AGENT else f"an automated ({origin.value}) message"
    limit = "7 days" if origin is Origin.AGENT else "24 h"
    raise OutsideMessagingWindow(
        f"the consumer last wrote {_age(last_message_at, now)} ago; "
        f"{who} may answer within {limit}",
        platform="facebook",
    )


def check_private_reply_window(written_at: datetime, now: datetime) -> None:
    """Accepts a Private Reply to a comment or post written at ``written_at``.

    Raises:
        OutsideMessagingWindow: it was written more than 7 days ago.
    """
    if now - written_at > PRIVATE_REPLY_WINDOW:
        raise OutsideMessagingWindow(
            f"the comment was written {_age(written_at, now)} ago; a Private Reply must follow "
            "within 7 days",
            platform="facebook",
        )
