"""Where a handoff goes and how long the consumer waits: tables with fixed clocks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff.availability import (
    Outcome,
    Placement,
    SkillLoad,
    expected_wait,
    place,
    say_wait,
)
from tests.factories import make_routing

# Wednesday 7 January 2026, 12:00 in London (UTC in winter).
NOON_WEDNESDAY = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)
NIGHT_WEDNESDAY = datetime(2026, 1, 7, 23, 30, tzinfo=timezone.utc)
OFFICE_HOURS = {"hours": {"mon-fri": "08:00-20:00"}, "time_zone": "Europe/London"}

ONLINE = SkillLoad(agents_online=1, free_slots=2)
NOBODY = SkillLoad()
FULL_QUEUE = SkillLoad(agents_online=1, free_slots=0, queued=5)


@pytest.mark.parametrize(
    ("situation", "overrides", "loads", "now", "expected"),
    [
        (
            "open with an agent online: queued",
            {},
            {"care_private": ONLINE},
            NOON_WEDNESDAY,
            Placement(Outcome.QUEUED, "care_private"),
        ),
        (
            "open but nobody online: closed, the bot keeps it",
            {},
            {},
            NOON_WEDNESDAY,
            Placement(Outcome.UNAVAILABLE, None, path=("care_private: closed (no agent online)",)),
        ),
        (
            "outside its hours: the message, and queued for the morning",
            {"care_private": {**OFFICE_HOURS, "when_closed": {"message": "Back at 8."}}},
            {"care_private": ONLINE},
            NIGHT_WEDNESDAY,
            Placement(
                Outcome.OUT_OF_HOURS,
                "care_private",
                "Back at 8.",
                ("care_private: closed (outside its hours, Europe/London)",),
            ),
        ),
        (
            "full: when_full bot, the bot keeps it",
            {},
            {"care_private": FULL_QUEUE},
            NOON_WEDNESDAY,
            Placement(
                Outcome.UNAVAILABLE,
                None,
                path=("care_private: full (5 waiting, max_queue 5)",),
            ),
        ),
        (
            "full with a message: the message, not queued",
            {"care_private": {"when_full": {"message": "Busy, try later."}}},
            {"care_private": FULL_QUEUE},
            NOON_WEDNESDAY,
            Placement(
                Outcome.UNAVAILABLE,
                None,
                "Busy, try later.",
                ("care_private: full (5 waiting, max_queue 5)",),
            ),
        ),
    ],
)
def test_place_in_one_skill(
    situation: str,
    overrides: dict[str, dict[str, object]],
    loads: dict[str, SkillLoad],
    now: datetime,
    expected: Placement,
) -> None:
    routing = make_routing(**overrides)  # type: ignore[arg-type]

    assert place(routing, "care_private", now, loads) == expected, situation


def test_a_closed_skill_falls_back_to_another_skill() -> None:
    routing = make_routing(deliveries=OFFICE_HOURS)

    placed = place(routing, "deliveries", NIGHT_WEDNESDAY, {"care_private": ONLINE})

    assert placed.outcome is Outcome.QUEUED
    assert placed.skill == "care_private"
    assert placed.path == ("deliveries: closed (outside its hours, Europe/London)",)


def test_a_loop_of_fallbacks_ends_with_the_bot() -> None:
    routing = make_routing(
        care_private={"when_closed": {"skill": "deliveries"}},
        deliveries={"when_closed": {"skill": "care_private"}},
    )

    placed = place(routing, "deliveries", NOON_WEDNESDAY, {})

    assert placed.outcome is Outcome.UNAVAILABLE
    assert placed.path[-1] == "deliveries: tried already (a loop of fallbacks)"


@pytest.mark.parametrize(
    ("position", "load", "capacity", "wait"),
    [
        (1, SkillLoad(agents_online=1, free_slots=1), 2, timedelta(0)),
        (3, SkillLoad(agents_online=2, free_slots=3), 2, timedelta(0)),
        # nobody free: the first waits for one of 4 slots to free (6 min / 4)
        (1, SkillLoad(agents_online=2, free_slots=0), 2, timedelta(minutes=1.5)),
        (5, SkillLoad(agents_online=2, free_slots=0), 2, timedelta(minutes=7.5)),
        (
            3,
            SkillLoad(agents_online=1, free_slots=1, handle_time=timedelta(minutes=10)),
            2,
            timedelta(minutes=10),
        ),
        (1, SkillLoad(), 2, None),
    ],
)
def test_expected_wait(
    position: int, load: SkillLoad, capacity: int, wait: timedelta | None
) -> None:
    assert expected_wait(position, load, capacity) == wait


@pytest.mark.parametrize(
    ("wait", "said"),
    [
        (timedelta(0), "less than a minute"),
        (timedelta(seconds=50), "about a minute"),
        (timedelta(minutes=1.5), "about 2 minutes"),
        (timedelta(minutes=59), "about 59 minutes"),
        (timedelta(minutes=60), "about 1 hour"),
        (timedelta(minutes=83), "about 1 hour 25 minutes"),
        (timedelta(minutes=178), "about 3 hours"),
        (None, "a little while"),
    ],
)
def test_say_wait(wait: timedelta | None, said: str) -> None:
    assert say_wait(wait) == said
