"""The time ``PublicThreadPolicy`` adds to each prediction, on conversations of realistic lengths.

Real ``DialogueStateTracker``s of 10, 100 and 1,000 events (consumer messages with their social
context, bot actions, slots; a third of the messages public, calls to action after them), the
project's ``Domain`` from domain.yml, the latest message public or private. The policy reads the
messages within its cooldown (24 hours): conversations spread over days (a message every 20 s to
4 h) and bursts (every 5 to 30 s, all within the cooldown: the worst case). Target: under 1 ms
at p99.

Run: .venv/bin/python -m benchmarks.policy   (prints a table; writes benchmarks/results/policy.md)
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from benchmarks.report import p99, publish
from bot.policy import VISIBILITY_SLOT, PublicThreadPolicy
from bot.public_thread import ACTION_LISTEN, CTA_ACTION, CTA_RESPONSE

ROOT = Path(__file__).resolve().parents[1]
LENGTHS = (10, 100, 1_000)
ROUNDS = 5
PREDICTIONS = 1_000  # per round; p99 is the median of the rounds' p99 (the machine is shared)
PACES = {"spread over days": (20.0, 4 * 3600.0), "burst (all in the cooldown)": (5.0, 30.0)}
TARGET_P99_US = 1_000.0
PAGE_ID = "100200300400500"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
PRIVATE_ANSWERS = [
    ["utter_greet"],
    ["order_status_form"],
    ["action_order_status", "utter_order_shipped", "utter_anything_else"],
    ["utter_store_hours"],
]


def social(visibility: str, number: int, author: str) -> dict[str, Any]:
    """``metadata["social"]`` of a Facebook comment (public) or Messenger message (private)."""
    public = visibility == "public"
    post = f"{PAGE_ID}_1221000000000000{number % 3:02d}"
    return {
        "social": {
            "version": 1,
            "platform": "facebook",
            "visibility": visibility,
            "source": "facebook_comment" if public else "messenger",
            "account_id": PAGE_ID,
            "event_id": f"1221_{number}" if public else f"m_{number}",
            "thread_id": post if public else author,
            "parent_id": post if public else None,
            "author": {"id": author, "name": "Jane Doe", "handle": None},
            "referral": None,
        }
    }


def conversation(
    length: int, latest: str, pace: tuple[float, float], rng: random.Random
) -> list[Event]:
    """About ``length`` events of one consumer, a message every ``pace`` seconds (from, to),
    ending with a ``latest`` message."""
    author = "7788990011223344"
    events: list[Event] = [ActionExecuted(ACTION_LISTEN, timestamp=START)]
    now, number = START, 0
    while len(events) < length - 1:
        number += 1
        now += rng.uniform(*pace)
        visibility = "public" if rng.random() < 1 / 3 else "private"
        events.append(
            UserUttered(
                "where is my order BC-104233",
                {"name": "order_status", "confidence": 0.97},
                metadata=social(visibility, number, author),
                timestamp=now,
            )
        )
        events.append(SlotSet(VISIBILITY_SLOT, visibility, timestamp=now))
        answer = (
            [CTA_ACTION, CTA_RESPONSE] if visibility == "public" else rng.choice(PRIVATE_ANSWERS)
        )
        events += [ActionExecuted(action, timestamp=now) for action in [*answer, ACTION_LISTEN]]
    events.append(
        UserUttered(
            "hello?",
            {"name": "greet", "confidence": 0.9},
            metadata=social(latest, number + 1, author),
            timestamp=now + 60,
        )
    )
    return events


def policy(directory: Path) -> PublicThreadPolicy:
    return PublicThreadPolicy.create(
        PublicThreadPolicy.get_default_config(),
        LocalModelStorage(directory),
        Resource("public_thread_policy"),
        ExecutionContext(GraphSchema({}), "benchmark"),
    )


@dataclass(frozen=True)
class Timings:
    """The µs of each prediction, per round: CPU time of the thread, and wall-clock time."""

    cpu: list[list[float]]
    wall: list[list[float]]

    @staticmethod
    def p50(rounds: list[list[float]]) -> float:
        return statistics.median(sample for samples in rounds for sample in samples)

    @staticmethod
    def p99(rounds: list[list[float]]) -> float:
        return statistics.median(p99(samples) for samples in rounds)


def timed(subject: PublicThreadPolicy, tracker: DialogueStateTracker, domain: Domain) -> Timings:
    """``ROUNDS`` rounds of ``PREDICTIONS`` predictions."""
    timings = Timings([], [])
    for _ in range(ROUNDS):
        cpu, wall = [], []
        for _ in range(PREDICTIONS):
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            subject.predict_action_probabilities(tracker, domain)
            cpu.append((time.thread_time_ns() - started_cpu) / 1000)
            wall.append((time.perf_counter_ns() - started) / 1000)
        timings.cpu.append(cpu)
        timings.wall.append(wall)
    return timings


def main() -> None:
    domain = Domain.load(ROOT / "domain.yml")
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as directory:
        subject = policy(Path(directory))
        rows = []
        for pace_name, pace in PACES.items():
            for length in LENGTHS:
                for latest in ("public", "private"):
                    tracker = DialogueStateTracker.from_events(
                        f"facebook:{PAGE_ID}:7788990011223344",
                        conversation(length, latest, pace, rng),
                        slots=domain.slots,
                    )
                    samples = timed(subject, tracker, domain)
                    rows.append((len(tracker.events), pace_name, latest, samples))
    lines = [
        f"PublicThreadPolicy.predict_action_probabilities: {ROUNDS} rounds of {PREDICTIONS:,} "
        "predictions per row; p50 of all, p99 the median of the rounds' p99 "
        f"(target < {TARGET_P99_US:,.0f} µs).",
        "CPU: the thread's CPU time, what the policy costs; wall: elapsed time, which on a shared "
        f"machine includes waiting for a core (load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores).",
        "",
        "| tracker events | conversation | latest message | CPU p50 µs | CPU p99 µs "
        "| wall p50 µs | wall p99 µs |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for events, pace_name, latest, timings in rows:
        figures = (
            Timings.p50(timings.cpu),
            Timings.p99(timings.cpu),
            Timings.p50(timings.wall),
            Timings.p99(timings.wall),
        )
        lines.append(
            f"| {events:,} | {pace_name} | {latest} | "
            + " | ".join(f"{figure:.0f}" for figure in figures)
            + " |"
        )
    publish("policy", lines)


if __name__ == "__main__":
    main()
