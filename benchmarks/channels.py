"""Our Facebook and X channels against Rasa's built-in Facebook channel and its REST channel.

One trained model, one machine, one run. The sandbox's Graph / X API answers after 0 ms and
after 100 ms. For each channel: N deliveries (one message each, each from its own consumer) at C
concurrent deliveries, then deliveries of 3 events. Printed: events answered per second, the
webhook's answer time p50 / p99, events answered out of events sent, and the Rasa server's
CPU-seconds per answered event.

The load costs the machine as little as it can, so that the figures are the server's: the
sandbox is given each burst in one request and delivers it ``concurrency`` webhooks at a time
(as a platform does), and REST's messages go out from one asyncio client. Every channel is
measured ``--rounds`` times, the channels taking turns, because a shared machine's speed drifts
by 10-20 % within minutes: the table gives the median rate of the rounds, the webhook's
percentiles over all rounds' deliveries, and the median of each round's rate over REST's.

Run: .venv/bin/python -m benchmarks.channels [--deliveries 500] [--concurrency 20] [--rounds 3]
     (prints a table; writes benchmarks/results/channels.md)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.context import Author, Platform, SocialContext, Source, Visibility
from bot.settings import Settings
from launcher.cli import child_environment
from launcher.environment import free_ports, stack_environment
from launcher.model import ensure_model
from launcher.stack import ServiceSpec, Stack, actions_spec, rasa_spec, sandbox_spec
from sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "channels.md"
QUESTION = "what are your opening hours?"
BATCHES = 30  # deliveries of 3 events
PAGE_ID = "100200300400500"

OUR_CREDENTIALS = """
rest:
channels.facebook.FacebookInput:
  app_secret: ${{FACEBOOK_APP_SECRET}}
  verify_token: ${{FACEBOOK_VERIFY_TOKEN}}
  graph_url: {graph_url}
  pages:
    - id: "{page_id}"
      username: brightcart
      access_token: ${{FACEBOOK_PAGE_ACCESS_TOKEN}}
channels.twitter.TwitterInput:
  consumer_secret: ${{X_CONSUMER_SECRET}}
  api_url: {x_url}
  accounts:
    - id: "2244994945"
      screen_name: Brightcart
      access_token: ${{X_ACCESS_TOKEN}}
"""
CREDENTIALS = (
    OUR_CREDENTIALS
    + """benchmarks.peers.BuiltinFacebookInput:
  verify: ${{FACEBOOK_VERIFY_TOKEN}}
  secret: ${{FACEBOOK_APP_SECRET}}
  page-access-token: ${{FACEBOOK_PAGE_ACCESS_TOKEN}}
"""
)


@dataclass
class Result:
    """The figures of one channel at one API latency."""

    channel: str
    latency_ms: int
    sent: int
    answered: int
    seconds: float
    webhook_ms: list[float]
    cpu_seconds: float
    batch_sent: int = 0
    batch_answered: int = 0
    round: int = 0

    @property
    def rate(self) -> float:
        """Events answered per second."""
        return self.answered / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        p50 = statistics.median(self.webhook_ms) if self.webhook_ms else float("nan")
        p99 = _percentile(self.webhook_ms, 99)
        rate = self.answered / self.seconds if self.seconds else 0.0
        cpu = self.cpu_seconds / self.answered if self.answered else float("nan")
        batch = f"{self.batch_answered}/{self.batch_sent}" if self.batch_sent else "-"
        return (
            f"| {self.channel} | {self.latency_ms} | {rate:.1f} | {p50:.1f} | {p99:.1f} | "
            f"{self.answered}/{self.sent} | {batch} | {cpu * 1000:.1f} |"
        )


def _percentile(values: list[float], percent: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))
    return ordered[index]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class Bench:
    """The running stack: one Rasa server with every channel, two sandboxes, the action server."""

    def __init__(self, stack: Stack, settings: Settings, builtin_port: int | None) -> None:
        self.stack = stack
        self.settings = settings
        host = settings.bind_host
        self.ours = SandboxClient(f"http://{host}:{settings.sandbox_port}", timeout=120)
        # The sandbox of Rasa's built-in channel, when it runs.
        self.peer = (
            SandboxClient(f"http://{host}:{builtin_port}", timeout=120) if builtin_port else None
        )
        self.rasa_urls = [f"http://{host}:{settings.rasa_port}"]

    def cpu_seconds(self) -> float:
        """User + system CPU time of every Rasa server (replica) so far."""
        return sum(
            _cpu_seconds(service.process.pid)
            for service in self.stack.services
            if service.spec.name.startswith("rasa")
        )

    def set_latency(self, latency_ms: int) -> None:
        for client in (self.ours, self.peer):
            if client is None:
                continue
            client.clear_faults()
            if latency_ms:
                for endpoint in ("facebook.messages", "x.dm", "x.tweets"):
                    client.inject(endpoint, delay_ms=latency_ms)

    def personas(self, client: SandboxClient, platform: str, prefix: str, count: int) -> list[str]:
        ids = []
        for index in range(count):
            key = f"{prefix}{index}"
            persona = client.add_persona(platform, f"Bench {key}", key=key, handle=key)
            ids.append(str(persona["psid"] if platform == "facebook" else persona["id"]))
        return ids


def _wait_answers(
    client: SandboxClient, endpoint: str, recipients: set[str], since: int, timeout: float
) -> tuple[int, float]:
    """How many of ``recipients`` got an answer, and when the last one did (epoch s)."""
    deadline = time.monotonic() + timeout
    answered: dict[str, float] = {}
    while time.monotonic() < deadline:
        for call in client.calls(endpoint=endpoint, since=since):
            recipient = _recipient(call.body, call.path)
            if recipient in recipients and recipient not in answered and _is_message(call.body):
                answered[recipient] = call.at
        if len(answered) == len(recipients):
            break
        time.sleep(0.5)
    return len(answered), max(answered.values(), default=time.time())


def _recipient(body: Any, path: str) -> str | None:
    if "/dm_conversations/with/" in path:
        return path.split("/with/", 1)[1].split("/", 1)[0]
    recipient = body.get("recipient") or {}
    return recipient.get("id")


def _is_message(body: Any) -> bool:
    return "message" in body or "text" in body


def _delivery_ms(client: SandboxClient, since: int) -> list[float]:
    return [
        delivery.attempts[0].elapsed_ms
        for delivery in client.deliveries(since=since)
        if delivery.attempts
    ]


def social_channel(
    bench: Bench,
    name: str,
    client: SandboxClient,
    platform: str,
    latency: int,
    deliveries: int,
    concurrency: int,
    prefix: str,
    batch: bool = True,
) -> Result:
    """N one-message deliveries through the sandbox to one of the social channels (then, on
    Facebook, deliveries of 3 events unless ``batch`` is false)."""
    consumers = bench.personas(client, platform, f"{prefix}{latency}x", deliveries)
    endpoint = "facebook.messages" if platform == "facebook" else "x.dm"
    calls_since = _last_seq(client.calls())
    deliveries_since = _last_seq(client.deliveries())
    if platform == "facebook":
        events = [{"kind": "messenger", "persona": psid, "text": QUESTION} for psid in consumers]
    else:
        events = [{"kind": "dm", "user": user, "text": QUESTION} for user in consumers]
    cpu = bench.cpu_seconds()
    started = time.time()
    # One request queues them all; the sandbox's senders deliver them `concurrency` at a time.
    client.burst("facebook" if platform == "facebook" else "x", events)
    answered, last = _wait_answers(client, endpoint, set(consumers), calls_since, timeout=600)
    result = Result(
        channel=name,
        latency_ms=latency,
        sent=deliveries,
        answered=answered,
        seconds=max(last - started, 1e-3),
        webhook_ms=_delivery_ms(client, deliveries_since),
        cpu_seconds=bench.cpu_seconds() - cpu,
    )
    if platform == "facebook" and batch:
        result.batch_sent, result.batch_answered = batches(bench, client, f"{prefix}{latency}b")
    return result


def batches(bench: Bench, client: SandboxClient, prefix: str) -> tuple[int, int]:
    """Deliveries of 3 Messenger events (2 entries): how many events got an answer."""
    consumers = bench.personas(client, "facebook", prefix, BATCHES * 3)
    since = _last_seq(client.calls())
    for index in range(BATCHES):
        group = consumers[index * 3 : index * 3 + 3]
        events = [
            {"kind": "messenger", "entry": position % 2, "persona": psid, "text": QUESTION}
            for position, psid in enumerate(group)
        ]
        client.batch(events, wait=True)
    answered, _ = _wait_answers(client, "facebook.messages", set(consumers), since, timeout=120)
    return len(consumers), answered


def messenger_metadata(sender: str, index: int) -> dict[str, Any]:
    """The metadata our Facebook channel gives a Messenger message (the social context)."""
    context = SocialContext(
        platform=Platform.FACEBOOK,
        visibility=Visibility.PRIVATE,
        source=Source.MESSENGER,
        account_id=PAGE_ID,
        event_id=f"m_bench_{sender}_{index}",
        thread_id=sender,
        author=Author(id=sender),
    )
    return context.to_metadata()


async def _post_all(
    requests: Sequence[tuple[str, dict[str, Any]]], concurrency: int
) -> list[tuple[bool, float]]:
    """POSTs every (url, JSON body), ``concurrency`` at a time, from one asyncio client: whether
    each got a non-empty 200 answer, and in how many ms."""
    gate = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def post(url: str, body: dict[str, Any]) -> tuple[bool, float]:
            async with gate:
                began = time.perf_counter()
                async with session.post(url, json=body) as reply:
                    answer = await reply.json() if reply.status == 200 else None
                return bool(answer), (time.perf_counter() - began) * 1000

        return await asyncio.gather(*(post(url, body) for url, body in requests))


def rest_channel(
    bench: Bench, latency: int, deliveries: int, concurrency: int, *, social: bool = False
) -> Result:
    """N messages to Rasa's REST channel (its answers come back in the HTTP response); with
    several replicas, the messages take turns between them. ``social``: each message carries
    the metadata our Facebook channel gives a Messenger message, which Rasa keeps in the tracker
    (what that contract costs Rasa, apart from the channel's own work)."""
    kind = "social" if social else "plain"
    requests = []
    for index in range(deliveries):
        sender = f"rest-{kind}-{latency}-{index}-{time.time_ns()}"
        body: dict[str, Any] = {"sender": sender, "message": QUESTION}
        if social:
            body["metadata"] = messenger_metadata(sender, index)
        url = f"{bench.rasa_urls[index % len(bench.rasa_urls)]}/webhooks/rest/webhook"
        requests.append((url, body))
    cpu = bench.cpu_seconds()
    started = time.time()
    outcomes = asyncio.run(_post_all(requests, concurrency))
    return Result(
        channel="Rasa REST channel" + (", with the social metadata" if social else ""),
        latency_ms=latency,
        sent=deliveries,
        answered=sum(1 for answered, _ in outcomes if answered),
        seconds=time.time() - started,
        webhook_ms=[elapsed for _, elapsed in outcomes],
        cpu_seconds=bench.cpu_seconds() - cpu,
    )


def _last_seq(items: list[Any]) -> int:
    return max((item.seq for item in items), default=0)


@dataclass
class Parts:
    """What every benchmark stack is made of, before the Rasa servers: the settings, the
    children's environment, the model, the credentials, and the two sandboxes (ours, and the
    built-in channel's), whose webhooks take turns between ``urls``."""

    settings: Settings
    child_env: dict[str, str]
    model: Path
    credentials: Path
    urls: list[str]
    sandboxes: list[ServiceSpec]


def parts(
    var: Path, env: dict[str, str], rasa_ports: list[int], builtin_port: int, concurrency: int
) -> Parts:
    """The shared parts of a benchmark stack for Rasa servers on ``rasa_ports``."""
    settings = Settings.from_env(env)
    host = settings.bind_host
    child_env = child_environment(ROOT, env, settings)
    child_env["BENCH_BUILTIN_GRAPH_URL"] = f"http://{host}:{builtin_port}/graph/v19.0"
    model = ensure_model(ROOT, child_env)
    credentials = var / "credentials.yml"
    credentials.write_text(
        CREDENTIALS.format(
            graph_url=f"http://{host}:{settings.sandbox_port}/graph",
            x_url=f"http://{host}:{settings.sandbox_port}/x",
            page_id=PAGE_ID,
        )
    )
    urls = [f"http://{host}:{port}" for port in rasa_ports]
    # Webhooks answered up to 2 min late are not retried (the peer's can be that slow), and
    # deliveries go out `concurrency` at a time, as the platforms send them.
    long_wait = (
        *("--facebook-timeout", "120", "--x-timeout", "120"),
        *("--delivery-concurrency", str(concurrency)),
    )
    peer = sandbox_spec(settings, port=builtin_port, webhooks_of=urls, extra=long_wait)
    peer.argv[peer.argv.index("--facebook-webhook") + 1] = ",".join(
        f"{url}/webhooks/facebook_builtin/webhook" for url in urls
    )
    ours = sandbox_spec(settings, webhooks_of=urls, extra=long_wait)
    return Parts(settings, child_env, model, credentials, urls, [ours, peer])


def start(var: Path, concurrency: int) -> tuple[Stack, Settings, int]:
    """The model, two sandboxes, the action server and one Rasa server with every channel."""
    env = stack_environment(ROOT, var)
    [builtin_port] = free_ports(1)
    made = parts(var, env, [int(env["RASA_PORT"])], builtin_port, concurrency)
    settings, child_env = made.settings, made.child_env
    specs = [
        *made.sandboxes,
        actions_spec(settings),
        rasa_spec(settings, made.model, credentials=str(made.credentials)),
    ]
    stack = Stack(ROOT, specs, child_env, var / "log")
    stack.start()
    return stack, settings, builtin_port


@dataclass
class Summary:
    """One channel at one API latency, over every round."""

    channel: str
    latency_ms: int
    rounds: list[Result] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)  # each round's rate over REST's

    def row(self) -> str:
        samples = [ms for result in self.rounds for ms in result.webhook_ms]
        p50 = statistics.median(samples) if samples else float("nan")
        rate = statistics.median(result.rate for result in self.rounds)
        answered = sum(result.answered for result in self.rounds)
        sent = sum(result.sent for result in self.rounds)
        batch_sent = sum(result.batch_sent for result in self.rounds)
        batch = (
            f"{sum(result.batch_answered for result in self.rounds)}/{batch_sent}"
            if batch_sent
            else "-"
        )
        cpu = statistics.median(
            result.cpu_seconds / result.answered for result in self.rounds if result.answered
        )
        ratio = f"{statistics.median(self.ratios):.2f}" if self.ratios else "-"
        return (
            f"| {self.channel} | {self.latency_ms} | {rate:.1f} | {ratio} | {p50:.1f} | "
            f"{_percentile(samples, 99):.1f} | {answered}/{sent} | {batch} | {cpu * 1000:.1f} |"
        )


TABLE_HEADER = [
    "| channel | API latency (ms) | answered/s | x REST | webhook p50 (ms) | webhook p99 (ms) "
    "| answered/sent | batches of 3: answered/sent | Rasa CPU ms per answer |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
]


def summarise(results: Sequence[Result]) -> list[Summary]:
    """The rounds of each channel and latency, with each round's ratio to REST's rate."""
    summaries: dict[tuple[str, int], Summary] = {}
    rest = {
        (result.round, result.latency_ms): result.rate
        for result in results
        if result.channel == "Rasa REST channel"
    }
    for result in results:
        key = (result.channel, result.latency_ms)
        summary = summaries.setdefault(key, Summary(result.channel, result.latency_ms))
        summary.rounds.append(result)
        reference = rest.get((result.round, result.latency_ms))
        if reference:
            summary.ratios.append(result.rate / reference)
    return list(summaries.values())


def measure_round(
    bench: Bench, chosen: set[str], latency: int, deliveries: int, concurrency: int, round_: int
) -> list[Result]:
    """Every chosen channel once, at one API latency."""
    results = []
    runs = [
        ("facebook", "our Facebook channel", bench.ours, "facebook", "fb"),
        ("builtin", "Rasa's built-in facebook", bench.peer, "facebook", "peer"),
        ("x", "our X channel", bench.ours, "x", "x"),
    ]
    for key, name, client, platform, prefix in runs:
        if key not in chosen or client is None:
            continue
        print(f"round {round_ + 1}: {name}, {latency} ms API latency...", flush=True)
        result = social_channel(
            bench,
            name,
            client,
            platform,
            latency,
            deliveries,
            concurrency,
            f"{prefix}r{round_}",
            batch=round_ == 0,
        )
        results.append(result)
    for key, social in (("rest", False), ("rest-social", True)):
        if key in chosen:
            print(f"round {round_ + 1}: Rasa REST channel ({key}), {latency} ms...", flush=True)
            results.append(rest_channel(bench, latency, deliveries, concurrency, social=social))
    for result in results:
        result.round = round_
        print(result.row(), flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.channels", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latencies", default="0,100", help="API latencies in ms")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each channel")
    parser.add_argument(
        "--channels",
        default="facebook,builtin,x,rest,rest-social",
        help="which channels to measure (facebook, builtin, x, rest, rest-social)",
    )
    args = parser.parse_args(argv)
    latencies = [int(value) for value in args.latencies.split(",")]
    chosen = set(args.channels.split(","))
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as temporary:
        stack, settings, builtin_port = start(Path(temporary), args.concurrency)
        try:
            bench = Bench(stack, settings, builtin_port)
            for latency in latencies:
                bench.set_latency(latency)
                for round_ in range(args.rounds):
                    results.extend(
                        measure_round(
                            bench, chosen, latency, args.deliveries, args.concurrency, round_
                        )
                    )
        finally:
            stack.stop()
    table = "\n".join([*TABLE_HEADER, *(summary.row() for summary in summarise(results))])
    command = (
        f".venv/bin/python -m benchmarks.channels --deliveries {args.deliveries} "
        f"--concurrency {args.concurrency} --latencies {args.latencies} --rounds {args.rounds}"
    )
    report = (
        f"# Channels benchmark\n\n{args.deliveries} deliveries of one message, each from its "
        f"own consumer, {args.concurrency} at a time, {args.rounds} rounds (the channels taking "
        f"turns); in the first round, then {BATCHES} deliveries of 3 events. One Rasa server with "
        "every channel, the same model, the sandbox as Graph / X API. answered/s: the median of "
        "the rounds; x REST: the median of each round's rate over REST's; webhook percentiles "
        f"over every round's deliveries.\nCommand: `{command}`\n\n{table}\n"
    )
    print("\n" + table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
