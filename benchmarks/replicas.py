"""One and two ``rasa run`` replicas in production set-up: our Facebook and X channels, Rasa's
built-in Facebook channel and its REST channel, on the same model and machine.

Each set-up: a fresh PostgreSQL database (Rasa's trackers and the social store), the local Redis
(Rasa's lock store), one action server and the sandbox, whose webhooks take turns between the
replicas as a load balancer's would (REST messages too). The sandbox's API answers after
``--latency`` ms. Printed: events answered per second, the webhook's answer time p50 / p99,
answered out of sent, and the replicas' CPU-seconds per answered event (all replicas summed).

Run: .venv/bin/python -m benchmarks.replicas [--deliveries 300] [--concurrency 20] [--latency 100]
     (prints a table; writes benchmarks/results/replicas.md)
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.channels import Bench, Result, parts, rest_channel, social_channel
from benchmarks.inbox import DEFAULT_POSTGRES, fresh_database
from benchmarks.report import publish
from launcher.environment import free_ports, production_environment, stack_environment
from launcher.stack import Stack, actions_spec, rasa_spec

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def replicas(var: Path, count: int, database_url: str, concurrency: int) -> Iterator[Bench]:
    """``count`` replicas on ``endpoints.production.yml``, the action server and the sandbox."""
    development = stack_environment(ROOT, var)
    builtin_port, *more_ports = free_ports(count)
    rasa_ports = [int(development["RASA_PORT"]), *more_ports]
    env = production_environment(development, database_url, REDIS_URL, DEFAULT_POSTGRES)
    made = parts(var, env, rasa_ports, builtin_port, concurrency)
    settings, child_env = made.settings, made.child_env
    specs = [
        *made.sandboxes,
        actions_spec(settings),
        *(
            rasa_spec(
                settings,
                made.model,
                port=port,
                credentials=str(made.credentials),
                endpoints="endpoints.production.yml",
                name=f"rasa-{index}",
            )
            for index, port in enumerate(rasa_ports)
        ),
    ]
    stack = Stack(ROOT, specs, child_env, var / "log")
    stack.start()
    try:
        bench = Bench(stack, settings, builtin_port)
        bench.rasa_urls = made.urls
        yield bench
    finally:
        stack.stop()


def measure(count: int, deliveries: int, concurrency: int, latency: int) -> list[Result]:
    """The three channels on ``count`` replicas."""
    results: list[Result] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-replicas-") as folder,
        fresh_database(DEFAULT_POSTGRES, "bench_replicas") as database,
    ):
        if database is None:
            raise SystemExit("the replicas benchmark needs PostgreSQL (and Redis)")
        with replicas(Path(folder), count, database, concurrency) as bench:
            bench.set_latency(latency)
            label = f"{count} replica{'s' if count > 1 else ''}"
            runs = (
                (bench.ours, "facebook", "our Facebook channel", "fb"),
                (bench.peer, "facebook", "Rasa's built-in facebook", "peer"),
                (bench.ours, "x", "our X channel", "x"),
            )
            for client, platform, name, prefix in runs:
                if client is None:
                    continue
                print(f"{name}, {label}...", flush=True)
                result = social_channel(
                    bench,
                    f"{name}, {label}",
                    client,
                    platform,
                    latency,
                    deliveries,
                    concurrency,
                    f"{prefix}{count}r",
                    batch=False,
                )
                results.append(result)
                print(result.row(), flush=True)
            print(f"Rasa REST channel, {label}...", flush=True)
            rest = rest_channel(bench, latency, deliveries, concurrency)
            rest.channel = f"Rasa REST channel, {label}"
            results.append(rest)
            print(rest.row(), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replicas", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency", type=int, default=100, help="API latency in ms")
    parser.add_argument("--replicas", default="1,2", help="replica counts to measure")
    args = parser.parse_args(argv)
    results: list[Result] = []
    for count in (int(value) for value in args.replicas.split(",")):
        results.extend(measure(count, args.deliveries, args.concurrency, args.latency))
    publish(
        "replicas",
        [
            "# Replicas benchmark",
            "",
            f"{args.deliveries} messages, each from its own consumer, {args.concurrency} at a "
            f"time; API latency {args.latency} ms; PostgreSQL trackers and social store, Redis "
            "locks; the webhooks (and REST messages) take turns between the replicas.",
            f"Command: `.venv/bin/python -m benchmarks.replicas --deliveries {args.deliveries} "
            f"--concurrency {args.concurrency} --latency {args.latency}`",
            "",
            "| channel | API latency (ms) | answered/s | webhook p50 (ms) | webhook p99 (ms) "
            "| answered/sent | batches of 3: answered/sent | CPU ms per answer (all replicas) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *(result.row() for result in results),
        ],
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
