from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from bot.inbox import Inbox, InboxStatus
from bot.store import SocialStore
from tests.factories import make_event

LEASE = timedelta(seconds=30)


def test_an_event_is_stored_pending_and_read_back_whole(store: SocialStore) -> None:
    inbox = Inbox(store)
    event = make_event("facebook_comment", text="Is this available in blue?", extra={"k": [1]})

    assert inbox.add(event) is True
    record = inbox.get(event.dedupe_key)

    assert record is not None
    assert (record.status, record.attempts) == (InboxStatus.PENDING, 0)
    assert record.sender_id == event.sender_id
    assert record.event == event


def test_a_second_delivery_of_one_event_is_recognised_as_duplicate(store: SocialStore) -> None:
    inbox = Inbox(store)
    event = make_event("tweet")

    assert inbox.add(event) is True
    assert inbox.add(event) is False
    with store.engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM inbox_events")).scalar_one()
    assert count == 1


def test_an_unknown_event_reads_as_none(store: SocialStore) -> None:
    assert Inbox(store).get("facebook:mid:nope") is None


def test_a_claim_takes_the_oldest_event_of_each_conversation_only(store: SocialStore) -> None:
    inbox = Inbox(store)
    for n, author in enumerate(["111", "111", "222", "111", "333"]):
        inbox.add(make_event("messenger", dedupe_key=f"k{n}", author_id=author))

    claimed = inbox.claim("w1", lease=LEASE, limit=10)

    assert [record.dedupe_key for record in claimed] == ["k0", "k2", "k4"]
    assert all(record.status is InboxStatus.PENDING for record in claimed)  # as read
    assert inbox.get("k0").status is InboxStatus.PROCESSING  # type: ignore[union-attr]
    assert inbox.claim("w2", lease=LEASE) == []  # the next of "111" waits for k0


def test_completing_an_event_releases_the_next_of_its_conversation(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="first", author_id="111"))
    inbox.add(make_event("messenger", dedupe_key="second", author_id="111"))
    [first] = inbox.claim("w1", lease=LEASE)

    assert inbox.complete(first, "w1") is True
    [second] = inbox.claim("w1", lease=LEASE)

    assert second.dedupe_key == "second"
    assert inbox.get("first").status is InboxStatus.DONE  # type: ignore[union-attr]


def test_a_claim_can_be_limited_to_one_platform(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="fb"))
    inbox.add(make_event("twitter_dm", dedupe_key="x"))

    claimed = inbox.claim("w1", lease=LEASE, platform="twitter")

    assert [record.dedupe_key for record in claimed] == ["x"]


def test_a_failed_event_waits_for_its_retry_time_and_blocks_its_conversation(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="first", author_id="111"))
    inbox.add(make_event("messenger", dedupe_key="second", author_id="111"))
    now = datetime.now(timezone.utc)
    [first] = inbox.claim("w1", lease=LEASE, now=now)

    inbox.fail(first, "w1", "boom", retry_at=now + timedelta(seconds=60))

    assert inbox.claim("w1", lease=LEASE, now=now + timedelta(seconds=59)) == []
    [again] = inbox.claim("w1", lease=LEASE, now=now + timedelta(seconds=61))
    assert (again.dedupe_key, again.attempts, again.last_error) == ("first", 1, "boom")


def test_a_crashed_workers_events_are_claimed_again_after_the_lease(store: SocialStore) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="k"))
    now = datetime.now(timezone.utc)
    [taken] = inbox.claim("crashed", lease=LEASE, now=now)

    assert inbox.claim("w2", lease=LEASE, now=now + LEASE - timedelta(seconds=1)) == []
    [retaken] = inbox.claim("w2", lease=LEASE, now=now + LEASE + timedelta(seconds=1))

    assert retaken.dedupe_key == "k"
    assert inbox.complete(taken, "crashed") is False  # the late worker lost its claim
    assert inbox.complete(retaken, "w2") is True


def test_parked_events_do_not_block_their_conversation_and_can_be_replayed(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    inbox.add(make_event("messenger", dedupe_key="bad", author_id="111"))
    inbox.add(make_event("messenger", dedupe_key="good", author_id="111"))
    [bad] = inbox.claim("w1", lease=LEASE)
    inbox.fail(bad, "w1", "InvalidRequest: (#100) bad", retry_at=None)

    [good] = inbox.claim("w1", lease=LEASE)
    inbox.complete(good, "w1")

    assert [record.dedupe_key for record in inbox.parked()] == ["bad"]
    assert inbox.counts()[InboxStatus.PARKED] == 1
    assert inbox.replay(["bad"]) == 1
    [replayed] = inbox.claim("w1", lease=LEASE)
    assert (replayed.dedupe_key, replayed.attempts) == ("bad", 0)


def test_counts_and_age_describe_the_backlog(store: SocialStore) -> None:
    inbox = Inbox(store)
    assert inbox.oldest_unfinished_at() is None
    inbox.add(make_event("messenger", dedupe_key="a", author_id="1"))
    inbox.add(make_event("messenger", dedupe_key="b", author_id="2"))
    [first, _] = inbox.claim("w1", lease=LEASE)
    inbox.complete(first, "w1")

    counts = inbox.counts()

    assert counts[InboxStatus.DONE] == 1
    assert counts[InboxStatus.PROCESSING] == 1
    assert counts[InboxStatus.PENDING] == 0
    oldest = inbox.oldest_unfinished_at()
    assert oldest is not None
    assert datetime.now(timezone.utc) - oldest < timedelta(minutes=1)


def test_two_workers_racing_never_claim_one_event_twice(store_url: str) -> None:
    # Separate engines: two replicas. Whoever claims second finds nothing left to take.
    stores = [SocialStore.from_url(store_url) for _ in range(2)]
    stores[0].upgrade()
    inboxes = [Inbox(each) for each in stores]
    for n in range(40):
        inboxes[0].add(make_event("messenger", dedupe_key=f"k{n}", author_id=f"user{n}"))

    taken: list[str] = []
    while batch := [
        r for i, inbox in enumerate(inboxes) for r in inbox.claim(f"w{i}", lease=LEASE, limit=7)
    ]:
        taken.extend(record.dedupe_key for record in batch)

    assert sorted(taken) == sorted(f"k{n}" for n in range(40))
    for each in stores:
        each.dispose()
