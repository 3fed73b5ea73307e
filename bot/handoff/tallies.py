"""Handoff metrics kept in the social store: outcomes per skill and the queue wait histogram.

A handoff changes state in two processes: ``action_handoff`` queues it in the action server, and
agents accept, transfer and close it in a Rasa server's workspace, on any replica. Counters in
each process's memory would leave the Rasa server's ``/metrics`` without the handoffs created, and
would split the rest across replicas. So ``HandoffStore`` adds to these tallies in the transaction
of each change, whichever process makes it, and ``/metrics`` reads them back (``read_tallies``):
complete, store-wide and kept across restarts. Every replica reports the same totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.schema import Table

from bot.handoff.clock import aware
from bot.schema import handoff_counts, handoff_events, handoff_waits, handoffs

__all__ = [
    "WAIT_BUCKETS",
    "HandoffOutcome",
    "HandoffTallies",
    "WaitHistogram",
    "count",
    "observe_wait",
    "queue_entry",
    "read_tallies",
]

# Seconds: 10 s, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 4, 8, 24 h; beyond: +Inf.
WAIT_BUCKETS = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
_BOUNDS = [repr(float(bound)) for bound in WAIT_BUCKETS] + ["+Inf"]  # as Prometheus writes them


class HandoffOutcome(str, Enum):
    """What happened to a handoff in a skill."""

    QUEUED = "queued"  # entered the skill's queue: created there, or transferred there
    ACCEPTED = "accepted"  # an agent of the skill took it
    TRANSFERRED = "transferred"  # an agent gave it back to a queue (this skill's or another's)
    CLOSED = "closed"  # an agent ended it: the bot has the conversation back
    CANCELLED = "cancelled"  # the consumer left the queue before an agent took it


@dataclass(frozen=True)
class WaitHistogram:
    """One skill's queue waits: cumulative counts per upper bound (``+Inf`` last), their sum."""

    buckets: list[tuple[str, int]]
    total_seconds: float

    @property
    def count(self) -> int:
        """How many waits were observed."""
        return self.buckets[-1][1]


@dataclass(frozen=True)
class HandoffTallies:
    """Everything the store counted: ``counts[(skill, outcome)]`` and ``waits[skill]``."""

    counts: Mapping[tuple[str, str], int] = field(default_factory=dict)
    waits: Mapping[str, WaitHistogram] = field(default_factory=dict)
    waiting: Mapping[str, tuple[int, datetime]] = field(default_factory=dict)


def count(connection: Connection, skill: str, outcome: HandoffOutcome) -> None:
    """Adds one ``outcome`` in ``skill``, in the caller's transaction."""
    _add(connection, handoff_counts, {"skill": skill, "outcome": outcome.value}, {"count": 1})


def observe_wait(connection: Connection, skill: str, seconds: float) -> None:
    """Adds one queue wait of ``skill`` to its bucket, in the caller's transaction."""
    seconds = max(0.0, seconds)
    le = next(
        (_BOUNDS[index] for index, limit in enumerate(WAIT_BUCKETS) if seconds <= limit),
        _BOUNDS[-1],
    )
    _add(connection, handoff_waits, {"skill": skill, "le": le}, {"count": 1, "seconds": seconds})


def queue_entry(connection: Connection, handoff_id: int) -> datetime | None:
    """When the handoff last entered a queue: its creation, or a transfer since."""
    entered = connection.execute(
        select(func.max(handoff_events.c.created_at)).where(
            handoff_events.c.handoff_id == handoff_id,
            handoff_events.c.kind.in_(["created", "transferred"]),
        )
    ).scalar_one_or_none()
    return aware(entered) if entered is not None else None


def read_tallies(connection: Connection) -> HandoffTallies:
    """The counts, the wait histograms and the queues now (size, oldest entry) per skill."""
    counts = {
        (skill, outcome): int(total)
        for skill, outcome, total in connection.execute(
            select(handoff_counts.c.skill, handoff_counts.c.outcome, handoff_counts.c.count)
        )
    }
    rows: dict[str, dict[str, tuple[int, float]]] = {}
    for skill, le, total, seconds in connection.execute(
        select(
            handoff_waits.c.skill,
            handoff_waits.c.le,
            handoff_waits.c.count,
            handoff_waits.c.seconds,
        )
    ):
        rows.setdefault(skill, {})[le] = (int(total), float(seconds))
    waits = {}
    for skill, by_bound in rows.items():
        running, buckets = 0, []
        for bound in _BOUNDS:
            running += by_bound.get(bound, (0, 0.0))[0]
            buckets.append((bound, running))
        waits[skill] = WaitHistogram(buckets, sum(seconds for _, seconds in by_bound.values()))
    waiting = {
        skill: (int(size), aware(oldest))
        for skill, size, oldest in connection.execute(
            select(handoffs.c.skill, func.count(), func.min(handoffs.c.queued_at))
            .where(handoffs.c.status == "queued")
            .group_by(handoffs.c.skill)
        )
    }
    return HandoffTallies(counts, waits, waiting)


def _add(
    connection: Connection, table: Table, key: dict[str, str], amounts: dict[str, float]
) -> None:
    """``table[key] += amounts``, creating the row: one statement where the database has upsert."""
    dialect = connection.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert_into = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        statement = insert_into.values(**key, **amounts).on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + insert_into.excluded[name] for name in amounts},
        )
        connection.execute(statement)
        return
    changed = connection.execute(
        update(table)
        .where(*(table.c[name] == value for name, value in key.items()))
        .values({name: table.c[name] + amount for name, amount in amounts.items()})
    ).rowcount
    if not changed:
        connection.execute(insert(table).values(**key, **amounts))
