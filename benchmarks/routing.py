"""Routing decision time with 10,000 rules: the account index against a full scan.

Run: .venv/bin/python -m benchmarks.routing   (prints a table; writes benchmarks/results/routing.md)
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from benchmarks.report import p99, publish
from bot.routing import Router, RoutingContext
from bot.routing.engine import mismatch
from bot.routing.model import Route, RoutingFile, RoutingRule, RuleConditions, Skill

RULES = 10_000
ACCOUNTS = 2_500
GLOBAL_RULES = 20
DECISIONS = 20_000
INTENTS = ["complaint", "order_status", "delivery_problem", "refund_request", "greet"]


def build(seed: int = 7) -> RoutingFile:
    """10,000 rules: per-account rules spread over 2,500 accounts, and a few for any account."""
    rng = random.Random(seed)
    rules = []
    for index in range(RULES - GLOBAL_RULES):
        rules.append(
            RoutingRule(
                name=f"account rule {index}",
                when=RuleConditions(
                    accounts=[f"acct{rng.randrange(ACCOUNTS)}"],
                    visibility=rng.choice([None, "public", "private"]),
                    intents=[rng.choice(INTENTS)],
                    min_confidence=rng.choice([None, 0.5, 0.8]),
                ),
                then=Route(skill="care", priority=rng.randint(1, 5)),
            )
        )
    for index in range(GLOBAL_RULES):
        rules.insert(
            rng.randrange(len(rules)),
            RoutingRule(
                name=f"global rule {index}",
                when=RuleConditions(intents=[rng.choice(INTENTS)], visibility="public"),
                then=Route(skill="care"),
            ),
        )
    return RoutingFile(skills=[Skill(name="care")], rules=rules, default=Route(skill="care"))


def contexts(seed: int = 11) -> list[RoutingContext]:
    rng = random.Random(seed)
    return [
        RoutingContext(
            platform="facebook",
            account_id=f"acct{rng.randrange(ACCOUNTS)}",
            visibility=rng.choice(["public", "private"]),
            source="messenger",
            intent=rng.choice(INTENTS),
            confidence=rng.random(),
        )
        for _ in range(DECISIONS)
    ]


def full_scan(routing: RoutingFile, context: RoutingContext) -> int | None:
    return next(
        (i for i, rule in enumerate(routing.rules) if mismatch(rule.when, context) is None), None
    )


def timed(function: Callable[[RoutingContext], object], items: list[RoutingContext]) -> list[float]:
    samples = []
    for context in items:
        started = time.perf_counter_ns()
        function(context)
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


def main() -> None:
    routing = build()
    router = Router(routing)
    items = contexts()
    for context in items[:500]:  # the index decides exactly as a scan does
        assert router.decide(context).rule_index == full_scan(routing, context)
    indexed = timed(router.decide, items)
    scanned = timed(lambda context: full_scan(routing, context), items[:500])
    rows = [
        ("account index (Router.decide)", indexed),
        ("full scan of every rule", scanned),
    ]
    lines = [
        f"Routing decisions with {RULES:,} rules over {ACCOUNTS:,} accounts ({len(items):,} "
        "decisions; full scan: 500)",
        "",
        "| method | median µs | p99 µs |",
        "| --- | ---: | ---: |",
    ]
    for name, samples in rows:
        lines.append(f"| {name} | {statistics.median(samples):.1f} | {p99(samples):.1f} |")
    publish("routing", lines)


if __name__ == "__main__":
    main()
