"""The Facebook channel: Messenger and Page posts and comments, public or private."""

from __future__ import annotations

__all__: list[str] = []
