"""The sandbox's clock: real time plus an offset that tests advance (24 h and 7 day windows)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["Clock", "iso_millis", "twitter_date"]


class Clock:
    """Epoch seconds as the sandbox sees them."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """The current sandbox time, epoch seconds."""
        return time.time() + self.offset

    def now_ms(self) -> int:
        """The current sandbox time, epoch milliseconds."""
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> None:
        """Moves the clock forward (or back, with a negative value)."""
        self.offset += seconds

    def reset(self) -> None:
        """Back to real time."""
        self.offset = 0.0


def iso_millis(epoch: float) -> str:
    """``2026-01-01T00:10:00.000Z``: the v2 X API's ``created_at``."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def twitter_date(epoch: float) -> str:
    """``Thu Jan 01 00:10:00 +0000 2026``: the v1.1 ``created_at``."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%a %b %d %H:%M:%S +0000 %Y")
