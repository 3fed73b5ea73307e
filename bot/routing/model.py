"""The routing file's content: skills, rules and the context a decision is made on.

``routing.yml`` (edited by bot designers)::

    skills:
      - name: care_private
        time_zone: Europe/London
        hours: {mon-fri: "08:00-20:00", sat: "09:00-17:00"}
        capacity_per_agent: 3
        max_queue: 50
        when_closed: {message: "We're closed now; we answer from 8:00."}
        when_full: {skill: care_overflow}
    rules:
      - name: public complaints on the main page
        when: {platform: facebook, accounts: ["100200300400500"], visibility: public,
               intents: [complaint], min_confidence: 0.6}
        then: {skill: care_public, priority: 2}
    default: {skill: care_private}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, root_validator, validator

__all__ = [
    "DAYS",
    "Fallback",
    "Route",
    "RoutingContext",
    "RoutingFile",
    "RoutingRule",
    "RuleConditions",
    "Skill",
]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class _Strict(BaseModel):
    class Config:
        extra = "forbid"  # a misspelt key in the designer's file is an error, not silence
        allow_mutation = False


def _day_keys(key: str) -> list[str]:
    """``mon-fri`` → mon..fri; ``sat`` → sat; ``mon,wed`` → mon, wed."""
    days: list[str] = []
    for part in key.split(","):
        part = part.strip()
        if "-" in part:
            first, last = part.split("-", 1)
            if first not in DAYS or last not in DAYS:
                raise ValueError(f"unknown day range {part!r}: expected e.g. mon-fri")
            start, end = DAYS.index(first), DAYS.index(last)
            if end < start:
                raise ValueError(f"day range {part!r} runs backwards")
            days.extend(DAYS[start : end + 1])
        elif part in DAYS:
            days.append(part)
        else:
            raise ValueError(f"unknown day {part!r}: expected one of {', '.join(DAYS)}")
    return days


class Fallback(_Strict):
    """What happens when a skill is closed or full: exactly one of the three."""

    skill: str | None = None
    message: str | None = None
    bot: bool = False  # the bot keeps the conversation

    @root_validator(skip_on_failure=True)
    def _exactly_one(cls, values: dict[str, Any]) -> dict[str, Any]:
        chosen = [key for key in ("skill", "message") if values.get(key)] + (
            ["bot"] if values.get("bot") else []
        )
        if len(chosen) != 1:
            raise ValueError("expected exactly one of skill, message or bot: true")
        return values


class Skill(_Strict):
    """A queue of human agents."""

    name: str = Field(..., regex=r"^[a-z][a-z0-9_]*$")
    time_zone: str = "UTC"
    hours: dict[str, str] = Field(default_factory=lambda: {"mon-sun": "00:00-24:00"})
    capacity_per_agent: int = Field(3, ge=1)
    max_queue: int = Field(100, ge=0)
    when_closed: Fallback = Fallback(bot=True)
    when_full: Fallback = Fallback(bot=True)

    @validator("time_zone")
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: expected e.g. Europe/London") from exc
        return value

    @validator("hours")
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        for key, ranges in value.items():
            _day_keys(key)
            for span in str(ranges).split(","):
                match = _RANGE.match(span.strip())
                if not match or span.strip()[:5] >= span.strip()[6:]:
                    raise ValueError(
                        f"{key}: expected opening hours like 08:00-20:00, got {span.strip()!r}"
                    )
        return value

    def is_open(self, moment: datetime) -> bool:
        """Whether the skill answers at ``moment`` (an aware datetime), in its own time zone."""
        local = moment.astimezone(ZoneInfo(self.time_zone))
        day = DAYS[local.weekday()]
        now = local.time()
        for key, ranges in self.hours.items():
            if day not in _day_keys(key):
                continue
            for span in str(ranges).split(","):
                start, end = span.strip().split("-")
                opens = time.fromisoformat(start)
                closes = time.max if end == "24:00" else time.fromisoformat(end)
                if opens <= now < closes:
                    return True
        return False


class RuleConditions(_Strict):
    """What a context must show for a rule to match; an absent condition matches anything."""

    platform: str | None = Field(None, regex=r"^(facebook|twitter)$")
    accounts: list[str] | None = Field(None, min_items=1)
    visibility: str | None = Field(None, regex=r"^(public|private)$")
    sources: list[str] | None = Field(None, min_items=1)
    intents: list[str] | None = Field(None, min_items=1)
    min_confidence: float | None = Field(None, ge=0, le=1)
    entities: list[str] | None = Field(None, min_items=1)  # all of them present
    languages: list[str] | None = Field(None, min_items=1)
    referrals: list[str] | None = Field(None, min_items=1)  # exact, or a prefix ending in *
    slots: dict[str, Any] | None = None

    @validator("sources", each_item=True)
    def _source(cls, value: str) -> str:
        known = ("messenger", "facebook_comment", "facebook_post", "twitter_dm", "tweet")
        if value not in known:
            raise ValueError(f"unknown source {value!r}: expected one of {', '.join(known)}")
        return value


class Route(_Strict):
    """The result of a rule: a skill and a priority (1 is the most urgent)."""

    skill: str
    priority: int = Field(3, ge=1, le=5)


class RoutingRule(_Strict):
    """``when`` these conditions hold, ``then`` this route. First match wins."""

    name: str = Field(..., min_length=1)
    when: RuleConditions = RuleConditions()
    then: Route


class RoutingFile(_Strict):
    """The whole routing file."""

    skills: list[Skill] = Field(..., min_items=1)
    rules: list[RoutingRule] = Field(default_factory=list)
    default: Route


@dataclass(frozen=True)
class RoutingContext:
    """What routing decides on: the social context plus what the bot understood."""

    platform: str | None = None
    account_id: str | None = None
    visibility: str | None = None
    source: str | None = None
    intent: str | None = None
    confidence: float = 0.0
    entities: frozenset[str] = frozenset()
    language: str | None = None
    referral: str | None = None
    slots: Mapping[str, Any] = field(default_factory=dict)
