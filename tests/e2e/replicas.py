"""Two ``rasa run`` replicas on the production endpoints, as a test starts them.

``endpoints.production.yml`` as it is committed: Rasa's SQL tracker store and our social store on
one fresh PostgreSQL database, Rasa's Redis lock store. One action server, and a sandbox whose
webhooks take turns between the replicas (a load balancer), so the events of one conversation
reach both. Every process starts at once; the model is the cached one of the session.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.future import create_engine

from bot.settings import Settings
from channels.social_output import send_key_of
from launcher import environment
from launcher.cli import child_environment
from launcher.environment import free_ports
from launcher.stack import Stack, actions_spec, rasa_spec, sandbox_spec
from sandbox.client import SandboxClient
from tests.e2e.conftest import ROOT, fetch_tracker, stack_environment
from tests.services import POSTGRES_ADMIN_URL

__all__ = ["LEASE_SECONDS", "REPLICAS", "Replicas", "messenger_turns", "running_replicas"]

REPLICAS = ("rasa-a", "rasa-b")
# Short, so that the test of a killed replica does not wait a minute for its claims (inbox
# leases) and its Redis tickets (Rasa's TICKET_LOCK_LIFETIME) to expire.
LEASE_SECONDS = 3
TICKET_LOCK_LIFETIME = 10
CHANNELS = ("channels.facebook.FacebookInput", "channels.twitter.TwitterInput")


def production_environment(var: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The variables ``endpoints.production.yml`` reads, for ``database_url`` and ``redis_url``,
    over the development settings on free ports."""
    env = environment.production_environment(
        stack_environment(var), database_url, redis_url, POSTGRES_ADMIN_URL
    )
    return {**env, "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_LIFETIME)}


def credentials_with_lease(var: Path, seconds: float) -> Path:
    """The project's ``credentials.yml`` with ``inbox_lease_seconds`` set on both channels."""
    yaml = YAML()
    document = yaml.load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    for channel in CHANNELS:
        document[channel]["inbox_lease_seconds"] = seconds
    path = var / "credentials.yml"
    with path.open("w", encoding="utf-8") as file:
        yaml.dump(document, file)
    return path


@dataclass
class Replicas:
    """The running replicas, their shared database and the sandbox in front of them."""

    stack: Stack
    settings: Settings
    urls: dict[str, str]
    database_url: str
    sandbox: SandboxClient

    def kill(self, name: str) -> None:
        """``kill -9`` of the replica's process group: no goodbye, claims and locks left."""
        [service] = [service for service in self.stack.services if service.spec.name == name]
        os.killpg(service.process.pid, signal.SIGKILL)
        service.process.wait()

    def claims_of(self, name: str) -> int:
        """How many inbox events the replica's worker holds right now (claimed, processing)."""
        [service] = [service for service in self.stack.services if service.spec.name == name]
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                held = connection.execute(
                    text(
                        "SELECT count(*) FROM inbox_events "
                        "WHERE status = 'processing' AND claimed_by LIKE :claimant"
                    ),
                    {"claimant": f"%:{service.process.pid}:%"},
                ).scalar_one()
        finally:
            engine.dispose()
        return int(held)

    def drop_database_connections(self) -> int:
        """Ends every server process connected to the replicas' database (as a failover or a
        restarted PgBouncer would); returns how many."""
        database = make_url(self.database_url).database
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                ended = connection.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = :database AND pid <> pg_backend_pid()"
                    ),
                    {"database": database},
                ).scalar_one()
        finally:
            admin.dispose()
        return int(ended)

    def wait_until_inbox_done(self, timeout: float = 60) -> None:
        """Waits until no inbox event is pending or in process (retries included).

        Raises:
            TimeoutError: some are still unfinished after ``timeout`` seconds.
        """
        engine = create_engine(self.database_url)
        query = text("SELECT count(*) FROM inbox_events WHERE status IN ('pending', 'processing')")
        deadline = time.monotonic() + timeout
        try:
            while True:
                with engine.connect() as connection:
                    unfinished = int(connection.execute(query).scalar_one())
                if unfinished == 0:
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{unfinished} inbox events unfinished after {timeout} s")
                time.sleep(0.3)
        finally:
            engine.dispose()

    def user_message_ids(self, sender: str) -> list[str]:
        """The ``message_id`` of every user message in the shared tracker, in order."""
        tracker = fetch_tracker(self.urls[REPLICAS[0]], self.settings.rasa_token, sender)
        return [event["message_id"] for event in tracker["events"] if event["event"] == "user"]


@contextlib.contextmanager
def running_replicas(
    model: Path, var: Path, database_url: str, redis_url: str
) -> Iterator[Replicas]:
    """Starts the sandbox, the action server and both replicas at once; stops them all after."""
    env = production_environment(var, database_url, redis_url)
    settings = Settings.from_env(env)
    credentials = str(credentials_with_lease(var, LEASE_SECONDS))
    ports = dict(zip(REPLICAS, [settings.rasa_port, *free_ports(1)], strict=True))
    urls = {name: f"http://{settings.bind_host}:{port}" for name, port in ports.items()}
    replicas = [
        rasa_spec(
            settings,
            model,
            port=port,
            credentials=credentials,
            endpoints="endpoints.production.yml",
            name=name,
        )
        for name, port in ports.items()
    ]
    sandbox = sandbox_spec(
        settings, webhooks_of=list(urls.values()), extra=("--retry-scale", "0.01")
    )
    stack = Stack(
        ROOT,
        [sandbox, actions_spec(settings), *replicas],
        child_environment(ROOT, env, settings),
        log_dir=var / "log",
    )
    stack.start()
    try:
        with SandboxClient(sandbox.url.rstrip("/")) as client:
            yield Replicas(stack, settings, urls, database_url, client)
    finally:
        stack.stop()


def messenger_turns(sandbox: SandboxClient, psids: list[str]) -> dict[str, list[tuple[str, int]]]:
    """Per consumer, (inbox event, place in the bot's turn) of every Messenger message the bot
    sent them, in the order the Send API got them."""
    turns: dict[str, list[tuple[str, int]]] = defaultdict(list)
    wanted = set(psids)
    for call in sandbox.calls(endpoint="facebook.messages"):
        psid = call.body.get("recipient", {}).get("id")
        if psid not in wanted or "message" not in call.body:
            continue
        key = send_key_of(str(call.body["message"].get("metadata", "")))
        if key is not None:
            turns[psid].append(key)
    return turns
