"""Our Facebook and X channels against Rasa's built-in Facebook channel and its REST channel.

One trained model, one machine, one run. The sandbox's Graph / X API answers after 0 ms and
after 100 ms. For each channel: N deliveries (one message each, each from its own consumer) at C
concurrent deliveries, then deliveries of 3 events. Printed: events answered per second, the
webhook's answer time p50 / p99, events answered out of events sent, and the Rasa server's
CPU-seconds per answered event.

Run: .venv/bin/python -m benchmarks.channels [--deliveries 500] [--concurrency 20]
     (prints a table; writes benchmarks/results/channels.md)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

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


def _run_parallel(jobs: list[Callable[[], float | None]], concurrency: int) -> list[float]:
    with ThreadPoolExecutor(concurrency) as pool:
        return [value for value in pool.map(lambda job: job(), jobs) if value is not None]


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
    cpu = bench.cpu_seconds()
    started = time.time()

    def send(consumer: str) -> Callable[[], None]:
        if platform == "facebook":
            return lambda: client.messenger(consumer, QUESTION, wait=True) and None
        return lambda: client.dm(consumer, QUESTION, wait=True) and None

    _run_parallel([send(consumer) for consumer in consumers], concurrency)
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


def rest_channel(
    bench: Bench, latency: int, deliveries: int, concurrency: int, *, social: bool = False
) -> Result:
    """N messages to Rasa's REST channel (its answers come back in the HTTP response); with
    several replicas, the messages take turns between them. ``social``: each message carries
    the metadata our Facebook channel gives a Messenger message, which Rasa keeps in the tracker
    (what that contract costs Rasa, apart from the channel's own work)."""
    cpu = bench.cpu_seconds()
    started = time.time()
    answered = [0]
    kind = "social" if social else "plain"

    def send(index: int) -> Callable[[], float]:
        sender = f"rest-{kind}-{latency}-{index}"
        body: dict[str, Any] = {"sender": sender, "message": QUESTION}
        if social:
            body["metadata"] = messenger_metadata(sender, index)

        def post() -> float:
            began = time.perf_counter()
            reply = httpx.post(
                f"{bench.rasa_urls[index % len(bench.rasa_urls)]}/webhooks/rest/webhook",
                json=body,
                timeout=300,
            )
            if reply.status_code == 200 and reply.json():
                answered[0] += 1
            return (time.perf_counter() - began) * 1000

        return post

    times = _run_parallel([send(index) for index in range(deliveries)], concurrency)
    return Result(
        channel="Rasa REST channel" + (", with the social metadata" if social else ""),
        latency_ms=latency,
        sent=deliveries,
        answered=answered[0],
        seconds=time.time() - started,
        webhook_ms=times,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.channels", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latencies", default="0,100", help="API latencies in ms")
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
                runs = [
                    ("facebook", "our Facebook channel", bench.ours, "facebook", "fb"),
                    ("builtin", "Rasa's built-in facebook", bench.peer, "facebook", "peer"),
                    ("x", "our X channel", bench.ours, "x", "x"),
                ]
                for key, name, client, platform, prefix in runs:
                    if key not in chosen or client is None:
                        continue
                    print(f"{name}, {latency} ms API latency...", flush=True)
                    results.append(
                        social_channel(
                            bench,
                            name,
                            client,
                            platform,
                            latency,
                            args.deliveries,
                            args.concurrency,
                            prefix,
                        )
                    )
                    print(results[-1].row(), flush=True)
                for key, social in (("rest", False), ("rest-social", True)):
                    if key not in chosen:
                        continue
                    print(f"Rasa REST channel ({key}), {latency} ms...", flush=True)
                    results.append(
                        rest_channel(
                            bench, latency, args.deliveries, args.concurrency, social=social
                        )
                    )
                    print(results[-1].row(), flush=True)
        finally:
            stack.stop()
    table = "\n".join(
        [
            "| channel | API latency (ms) | answered/s | webhook p50 (ms) | webhook p99 (ms) "
            "| answered/sent | batches of 3: answered/sent | Rasa CPU ms per answer |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *(result.row() for result in results),
        ]
    )
    report = (
        f"# Channels benchmark\n\n{args.deliveries} deliveries of one message, each from its own "
        f"consumer, {args.concurrency} at a time; then {BATCHES} deliveries of 3 events. "
        "One Rasa server with every channel, the same model, the sandbox as Graph / X API.\n"
        f"Command: `.venv/bin/python -m benchmarks.channels --deliveries {args.deliveries} "
        f"--concurrency {args.concurrency}`\n\n{table}\n"
    )
    print("\n" + table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report)
    print(f"\nWritten to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
