"""Fresh platform ids that never repeat, even across resets and restarts.

Ids grow with real time so that an inbox that outlives a sandbox reset does not mistake a new
message for a duplicate of an old one.
"""

from __future__ import annotations

import secrets
import string
import time
import uuid

__all__ = ["IdSource"]

_TWITTER_EPOCH_MS = 1288834974657
_ALPHANUMERIC = string.ascii_letters + string.digits


class IdSource:
    """Makes the ids of Facebook objects, Messenger messages, tweets and DM events."""

    def __init__(self) -> None:
        self._last_micros = 0
        self._last_snowflake = 0

    def _micros(self) -> int:
        self._last_micros = max(self._last_micros + 1, time.time_ns() // 1000)
        return self._last_micros

    def facebook_comment(self) -> str:
        """A 16-digit comment id (the part after the post's id in ``comment_id``)."""
        return str(self._micros())

    def facebook_post(self) -> str:
        """An 18-digit post id (the part after the page's id in ``post_id``)."""
        return "1221" + str(self._micros())[-14:]

    def mid(self) -> str:
        """A Messenger message id: ``m_`` and 40 URL-safe characters."""
        return "m_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(40))

    def snowflake(self) -> str:
        """An X id (tweets, DM events): milliseconds since X's epoch, shifted, plus a sequence."""
        candidate = (int(time.time() * 1000) - _TWITTER_EPOCH_MS) << 22
        self._last_snowflake = max(self._last_snowflake + 1, candidate)
        return str(self._last_snowflake)

    def fbtrace(self) -> str:
        """A Graph ``fbtrace_id``."""
        return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(11))

    def uuid(self) -> str:
        """A random UUID (XAA ``event_uuid``, delivery ids)."""
        return str(uuid.uuid4())
