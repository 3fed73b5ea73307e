"""Where a handoff can go now, and how long the consumer will wait: pure functions.

A skill takes a conversation when it is open (within its hours, in its time zone, and with at
least one agent online) and its queue is below ``max_queue``. Otherwise its ``when_closed`` or
``when_full`` fallback applies, as the bot designer wrote it in ``routing.yml``:

- ``skill: other``: try that skill the same way (a loop of fallbacks ends with the bot);
- ``message: ...``: when closed, queue here anyway and tell the consumer the message (agents
  take it when they are back); when full, tell the message and let the bot keep the conversation;
- ``bot: true``: the bot keeps the conversation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.routing.model import Fallback, RoutingFile, Skill

__all__ = [
    "DEFAULT_HANDLE_TIME",
    "Outcome",
    "Placement",
    "SkillLoad",
    "expected_wait",
    "place",
    "say_wait",
]

DEFAULT_HANDLE_TIME = timedelta(minutes=6)


@dataclass(frozen=True)
class SkillLoad:
    """How busy a skill is right now.

    Attributes:
        agents_online: agents of the skill who are online.
        free_slots: conversations those agents can still take (capacity less what they hold).
        queued: handoffs waiting in the skill's queue.
        handle_time: how long an agent takes on one conversation, on average.
    """

    agents_online: int = 0
    free_slots: int = 0
    queued: int = 0
    handle_time: timedelta = DEFAULT_HANDLE_TIME


class Outcome(str, Enum):
    """What the consumer is told (the ``handoff_outcome`` slot picks the response)."""

    QUEUED = "queued"  # in an open skill's queue: position and expected wait
    OUT_OF_HOURS = "out_of_hours"  # queued in a closed skill: the skill's message
    UNAVAILABLE = "unavailable"  # nobody can take it: the bot keeps the conversation


@dataclass(frozen=True)
class Placement:
    """Where a handoff goes.

    Attributes:
        outcome: queued, queued out of hours, or the bot keeps it.
        skill: the skill whose queue it joins; None when the bot keeps it.
        message: the designer's message for the consumer (``message:`` fallbacks), if any.
        path: each skill tried and why it was passed over, for logs and the workspace.
    """

    outcome: Outcome
    skill: str | None
    message: str | None = None
    path: tuple[str, ...] = ()


def _state(skill: Skill, load: SkillLoad, now: datetime) -> str | None:
    """Why ``skill`` cannot take a conversation now (``closed``/``full``), or None."""
    if not skill.is_open(now) or load.agents_online == 0:
        return "closed"
    if load.queued >= skill.max_queue:
        return "full"
    return None


def _why(skill: Skill, load: SkillLoad, now: datetime, state: str) -> str:
    if state == "full":
        return f"{skill.name}: full ({load.queued} waiting, max_queue {skill.max_queue})"
    if not skill.is_open(now):
        return f"{skill.name}: closed (outside its hours, {skill.time_zone})"
    return f"{skill.name}: closed (no agent online)"


def place(
    routing: RoutingFile, skill_name: str, now: datetime, loads: Mapping[str, SkillLoad]
) -> Placement:
    """Where a conversation routed to ``skill_name`` goes at ``now`` (an aware datetime)."""
    skills = {skill.name: skill for skill in routing.skills}
    path: list[str] = []
    tried: set[str] = set()
    current = skill_name
    while True:
        tried.add(current)
        skill = skills[current]
        load = loads.get(current, SkillLoad())
        state = _state(skill, load, now)
        if state is None:
            return Placement(Outcome.QUEUED, current, path=tuple(path))
        path.append(_why(skill, load, now, state))
        fallback: Fallback = skill.when_closed if state == "closed" else skill.when_full
        if fallback.skill is not None:
            if fallback.skill in tried:
                path.append(f"{fallback.skill}: tried already (a loop of fallbacks)")
                return Placement(Outcome.UNAVAILABLE, None, path=tuple(path))
            current = fallback.skill
            continue
        if fallback.message is not None:
            if state == "closed" and load.queued < skill.max_queue:
                return Placement(Outcome.OUT_OF_HOURS, current, fallback.message, path=tuple(path))
            return Placement(Outcome.UNAVAILABLE, None, fallback.message, path=tuple(path))
        return Placement(Outcome.UNAVAILABLE, None, path=tuple(path))


def expected_wait(position: int, load: SkillLoad, capacity_per_agent: int) -> timedelta | None:
    """How long the consumer at ``position`` (1: next) will wait; None when nobody is online.

    Those ahead first take the free slots; after that a slot frees every ``handle_time``
    divided by the skill's slots, on average.
    """
    ahead = max(0, position - 1)
    if load.free_slots > ahead:
        return timedelta(0)
    slots = load.agents_online * capacity_per_agent
    if slots <= 0:
        return None
    return load.handle_time * (ahead - load.free_slots + 1) / slots


def say_wait(wait: timedelta | None) -> str:
    """The wait as a person says it: "less than a minute", "about 5 minutes", "about 1 hour"."""
    if wait is None:
        return "a little while"
    minutes = math.ceil(wait.total_seconds() / 60)
    if minutes <= 1:
        return "less than a minute" if wait < timedelta(seconds=30) else "about a minute"
    if minutes < 60:
        return f"about {minutes} minutes"
    hours, rest = divmod(minutes, 60)
    rest = 5 * round(rest / 5)
    if rest == 60:
        hours, rest = hours + 1, 0
    text = f"about {hours} hour" + ("s" if hours > 1 else "")
    return text + (f" {rest} minutes" if rest else "")
