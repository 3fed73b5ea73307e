"""Messenger's messaging window for agents: standard 24 hours, HUMAN_AGENT 7 days, then closed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff.window import WindowKind, messaging_window

NOW = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("platform", "since", "kind", "closes_after", "says"),
    [
        ("facebook", timedelta(hours=2), WindowKind.STANDARD, timedelta(hours=22), "2 hours ago"),
        (
            "facebook",
            timedelta(hours=30),
            WindowKind.HUMAN_AGENT,
            timedelta(days=7) - timedelta(hours=30),
            "HUMAN_AGENT tag",
        ),
        ("facebook", timedelta(days=8), WindowKind.CLOSED, None, "was 8 days ago"),
        ("facebook", None, WindowKind.CLOSED, None, "has not written to the page in Messenger"),
        ("twitter", timedelta(days=30), WindowKind.UNLIMITED, None, "no messaging window"),
        ("rest", None, WindowKind.UNLIMITED, None, "no messaging window"),
    ],
)
def test_messaging_window(
    platform: str,
    since: timedelta | None,
    kind: WindowKind,
    closes_after: timedelta | None,
    says: str,
) -> None:
    window = messaging_window(platform, NOW - since if since is not None else None, NOW)

    assert window.kind is kind
    assert window.closes_at == (NOW + closes_after if closes_after is not None else None)
    assert says in window.explanation
    assert window.is_open is (kind is not WindowKind.CLOSED)
