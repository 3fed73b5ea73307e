"""Two ``rasa run`` replicas behind a load balancer, on PostgreSQL and Redis, as in production.

The sandbox's deliveries take turns between the replicas, so the events of one conversation land
on both. Every event is answered once, in order; dropped database connections lose nothing; a
replica killed mid-burst leaves nothing unanswered: the other takes its events back after their
lease. The kill comes last: the tests share one set of processes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.future import create_engine

from sandbox.client import SandboxClient
from tests.e2e.replicas import REPLICAS, Replicas, messenger_turns, running_replicas
from tests.services import fresh_postgres_database, redis_url_if_up

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PAGE_ID = "100200300400500"
X_ACCOUNT_ID = "2244994945"
HOURS = "what are your opening hours?"
ORDER_CONVERSATION = ("what are your opening hours?", "where is my order?", "it's bc 104233")


@pytest.fixture(scope="module")
def replicas(model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    redis_url = redis_url_if_up()
    with fresh_postgres_database("replicas") as database_url:
        var = tmp_path_factory.mktemp("replicas")
        with running_replicas(model, var, database_url, redis_url) as running:
            yield running


def messenger_consumers(sandbox: SandboxClient, count: int) -> list[str]:
    keys = [uuid.uuid4().hex[:8] for _ in range(count)]
    return [sandbox.add_persona("facebook", f"Rep {key}", key=key)["psid"] for key in keys]


def wait_until_answered(
    replicas: Replicas, psids: list[str], turns_each: int, timeout: float = 90
) -> dict[str, list[tuple[str, int]]]:
    """Waits until every consumer got the first message of ``turns_each`` turns and the inbox
    has nothing left to do (retries included), then a little longer, time enough for a second
    answer were one coming; returns what each got."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        turns = messenger_turns(replicas.sandbox, psids)
        firsts = [len({event for event, _ in turns.get(psid, [])}) for psid in psids]
        if all(count >= turns_each for count in firsts):
            break
        time.sleep(0.3)
    replicas.wait_until_inbox_done(max(1.0, deadline - time.monotonic()))
    time.sleep(2)
    return messenger_turns(replicas.sandbox, psids)


def assert_each_turn_once(turns: dict[str, list[tuple[str, int]]], psids: list[str]) -> None:
    for psid in psids:
        sent = turns.get(psid, [])
        assert sent, f"{psid} got no answer"
        repeated = [key for key, count in Counter(sent).items() if count > 1]
        assert repeated == [], f"{psid} got messages twice: {repeated}"


def test_every_messenger_message_is_answered_once_in_order_by_either_replica(
    replicas: Replicas,
) -> None:
    psids = messenger_consumers(replicas.sandbox, 6)
    mids: dict[str, list[str]] = {psid: [] for psid in psids}

    def converse(psid: str) -> None:
        for text_ in ORDER_CONVERSATION:
            # wait: the next message leaves once this one reached a replica, as a person types.
            mids[psid].append(replicas.sandbox.messenger(psid, text_, wait=True).mid)

    with ThreadPoolExecutor(len(psids)) as pool:
        list(pool.map(converse, psids))
    turns = wait_until_answered(replicas, psids, len(ORDER_CONVERSATION))

    assert_each_turn_once(turns, psids)
    for psid in psids:
        expected = [f"facebook:mid:{mid}" for mid in mids[psid]]
        answered_in_order = list(dict.fromkeys(event for event, _ in turns[psid]))
        assert answered_in_order == expected
        assert replicas.user_message_ids(f"facebook:{PAGE_ID}:{psid}") == expected
    shipped = [
        call.body["message"].get("text", "")
        for call in replicas.sandbox.calls(endpoint="facebook.messages")
        if call.body.get("recipient", {}).get("id") in mids and "message" in call.body
    ]
    # The form's state came through the shared tracker, whichever replica asked for the number.
    assert sum(text_.startswith("Good news: order BC-104233") for text_ in shipped) == len(psids)
    for name in REPLICAS:
        log = (replicas.stack.log_dir / f"{name}.log").read_text(encoding="utf-8")
        assert "processed: sender=facebook:" in log, f"{name} answered nothing"


def test_every_x_dm_is_answered_once_in_order_by_either_replica(replicas: Replicas) -> None:
    sandbox = replicas.sandbox
    users = [
        sandbox.add_persona("x", f"Pat {key}", key=key, handle=key)["id"]
        for key in (f"rep{uuid.uuid4().hex[:8]}" for _ in range(4))
    ]
    dm_ids: dict[str, list[str]] = {user: [] for user in users}

    def converse(user: str) -> None:
        for _ in range(3):
            dm_ids[user].append(sandbox.dm(user, HOURS, wait=True).dm_event_id)

    with ThreadPoolExecutor(len(users)) as pool:
        list(pool.map(converse, users))

    def answers() -> Counter[str]:
        return Counter(
            user
            for call in sandbox.calls(endpoint="x.dm")
            for user in users
            if call.path.rstrip("/").endswith(f"/with/{user}/messages")
        )

    deadline = time.monotonic() + 60
    while sum(answers().values()) < 3 * len(users) and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(2)

    assert answers() == dict.fromkeys(users, 3)
    for user in users:
        expected = [f"twitter:{X_ACCOUNT_ID}:dm:{dm_id}" for dm_id in dm_ids[user]]
        assert replicas.user_message_ids(f"twitter:{X_ACCOUNT_ID}:{user}") == expected


def test_dropped_database_connections_lose_no_event(replicas: Replicas) -> None:
    psids = messenger_consumers(replicas.sandbox, 24)
    mids: dict[str, str] = {}
    dropped = 0

    def burst() -> None:
        for psid in psids:
            mids[psid] = replicas.sandbox.messenger(psid, HOURS).mid

    sending = threading.Thread(target=burst)
    sending.start()
    for _ in range(3):  # while the burst is delivered and answered
        time.sleep(1.0)
        dropped += replicas.drop_database_connections()
    sending.join()
    turns = wait_until_answered(replicas, psids, 1)

    assert dropped > 0
    assert_each_turn_once(turns, psids)
    assert sorted(turns) == sorted(psids)
    for psid in psids:  # every turn in the shared tracker, none forked into a replica's memory
        expected = [f"facebook:mid:{mids[psid]}"]
        assert replicas.user_message_ids(f"facebook:{PAGE_ID}:{psid}") == expected
    assert not replicas.stack.exited()


def test_a_replica_killed_mid_burst_leaves_no_event_unanswered(replicas: Replicas) -> None:
    # Twice the conversations a replica runs at once (64): a batch's turns answer together.
    psids = messenger_consumers(replicas.sandbox, 128)
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda psid: replicas.sandbox.messenger(psid, HOURS), psids))
    # Mid-burst: some answered, and the replica to kill holding claims (it answers fast, so
    # the moment is looked for rather than assumed).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        len(messenger_turns(replicas.sandbox, psids)) >= 3 and replicas.claims_of(REPLICAS[1])
    ):
        time.sleep(0.01)

    replicas.kill(REPLICAS[1])  # mid-burst: events claimed, turns half done, Redis tickets held
    answered_before = len(messenger_turns(replicas.sandbox, psids))
    turns = wait_until_answered(replicas, psids, 1, timeout=120)

    assert 0 < answered_before < len(psids)
    assert_each_turn_once(turns, psids)
    assert sorted(turns) == sorted(psids)
    # Some were claimed by the killed replica and taken back after their lease.
    senders = {f"{PAGE_ID}:{psid}" for psid in psids}
    engine = create_engine(replicas.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT sender_id, attempts FROM inbox_events")).all()
    finally:
        engine.dispose()
    assert any(attempts > 1 for sender, attempts in rows if sender.split(":", 1)[1] in senders)
