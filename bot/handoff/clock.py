"""Time for the handoff modules: one injectable clock, and stored datetimes read back as UTC."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

__all__ = ["Clock", "aware", "utcnow"]

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time in UTC (the default clock; tests pass a fixed one)."""
    return datetime.now(timezone.utc)


def aware(value: datetime) -> datetime:
    """A stored datetime as UTC: SQLite gives naive datetimes back, and all we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
