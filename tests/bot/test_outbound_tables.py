"""The outbound log, identity links and conversation flags, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot import outbound
from bot.consumers import DMS_CLOSED, ConsumerFlags
from bot.errors import OutboundRefused, OutsideMessagingWindow
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundStatus
from bot.store import SocialStore
from tests.factories import PAGE_ID, make_event

SENDER = f"facebook:{PAGE_ID}:7788990011223344"
TURN = "facebook:mid:m_1"


def _record(log: OutboundLog, **overrides: object) -> int:
    values: dict[str, object] = {
        "sender_id": SENDER,
        "platform": "facebook",
        "account_id": PAGE_ID,
        "origin": "cta",
        "visibility": "public",
        "kind": "private_reply",
        "target_id": "122100000000000001_1234567890123456",
        "text": "Hi Jane, please message us",
        "status": OutboundStatus.SENT,
        **overrides,
    }
    return log.record(**values)  # type: ignore[arg-type]


def _sending(log: OutboundLog, turn_seq: int) -> int:
    return _record(
        log,
        origin="bot",
        visibility="private",
        kind="message",
        target_id="7788990011223344",
        text="Your order ships today.",
        status=OutboundStatus.SENDING,
        inbox_event=TURN,
        turn_seq=turn_seq,
    )


@pytest.mark.parametrize("status", [OutboundStatus.SENT, OutboundStatus.FAILED])
def test_a_turn_s_message_this_process_finished_is_known_here_and_in_the_store(
    store: SocialStore, status: OutboundStatus
) -> None:
    log, replica = OutboundLog(store), OutboundLog(store)
    row = _sending(log, 1)
    assert not log.finished_here(TURN, 1)

    log.finish(row, status=status)

    assert log.finished_here(TURN, 1)
    assert not log.finished_here(TURN, 2)
    assert not replica.finished_here(TURN, 1)  # another replica asks the store
    assert log.turn_outcomes(TURN) == {1: status}
    assert not log.confirm(TURN, 1)  # nothing in doubt
    assert not replica.confirm(TURN, 1)


def test_only_the_newest_finishes_are_remembered(
    store: SocialStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound, "_REMEMBERED_FINISHES", 2)
    log = OutboundLog(store)

    for turn_seq in (1, 2, 3):
        log.finish(_sending(log, turn_seq), status=OutboundStatus.SENT)

    assert [log.finished_here(TURN, turn_seq) for turn_seq in (1, 2, 3)] == [False, True, True]


def test_a_sent_private_reply_is_known_by_its_comment(store: SocialStore) -> None:
    log = OutboundLog(store)
    assert not log.has_sent("facebook", "private_reply", "122100000000000001_1234567890123456")

    _record(log, platform_message_id="m_1")

    assert log.has_sent("facebook", "private_reply", "122100000000000001_1234567890123456")
    assert not log.has_sent("facebook", "private_reply", "another_comment")
    assert not log.has_sent("twitter", "private_reply", "122100000000000001_1234567890123456")


def test_failed_and_refused_sends_do_not_count_as_sent_and_keep_their_reason(
    store: SocialStore,
) -> None:
    log = OutboundLog(store)
    window = OutsideMessagingWindow(
        "outside the allowed window", platform="facebook", status=400, code=10, subcode=2018278
    )
    _record(log, status=OutboundStatus.FAILED, error=window)
    _record(
        log,
        origin="bot",
        kind="message",
        status=OutboundStatus.REFUSED,
        error=OutboundRefused("automated", origin="bot", target="public"),
    )

    assert not log.has_sent("facebook", "private_reply", "122100000000000001_1234567890123456")
    failures = log.failures(SENDER)
    assert [(f.status, f.error_type, f.error_code) for f in failures] == [
        (OutboundStatus.FAILED, "OutsideMessagingWindow", 10),
        (OutboundStatus.REFUSED, "OutboundRefused", None),
    ]
    assert failures[0].error_message == "outside the allowed window"


def test_the_conversation_log_is_oldest_first_and_limited_to_the_newest(
    store: SocialStore,
) -> None:
    log = OutboundLog(store)
    for number in range(5):
        _record(log, text=f"message {number}")
    _record(log, sender_id="facebook:other:1", text="someone else")

    texts = [record.text for record in log.for_conversation(SENDER, limit=3)]

    assert texts == ["message 2", "message 3", "message 4"]


def test_identity_links_are_found_both_ways_and_recorded_once(store: SocialStore) -> None:
    links = IdentityLinks(store)
    first = links.link(
        platform="facebook",
        account_id=PAGE_ID,
        public_user_id="7788990011223344",
        private_user_id="6543210987654321",
        via="private_reply",
        origin_event_id="122100000000000001_1234567890123456",
    )
    again = links.link(
        platform="facebook",
        account_id=PAGE_ID,
        public_user_id="7788990011223344",
        private_user_id="6543210987654321",
        via="referral",
        ref="pub-x",
    )

    assert (first, again) == (True, False)
    private = links.private_for("facebook", PAGE_ID, "7788990011223344")
    public = links.public_for("facebook", PAGE_ID, "6543210987654321")
    assert private is not None
    assert private.private_user_id == "6543210987654321"
    assert public is not None
    assert public.public_user_id == "7788990011223344"
    assert public.via == "private_reply"
    assert links.private_for("facebook", "another-page", "7788990011223344") is None


def test_flags_are_set_overwritten_and_cleared(store: SocialStore) -> None:
    flags = ConsumerFlags(store)

    flags.set(SENDER, DMS_CLOSED, "1")
    flags.set(SENDER, DMS_CLOSED, "2")
    flags.set(SENDER, "unreachable", "1")
    assert flags.get(SENDER) == {DMS_CLOSED: "2", "unreachable": "1"}

    flags.set(SENDER, DMS_CLOSED, None)
    assert flags.get(SENDER) == {"unreachable": "1"}
    assert flags.get("twitter:1:2") == {}


def test_the_inbox_finds_a_conversations_latest_event_and_an_event_by_its_platform_id(
    store: SocialStore,
) -> None:
    inbox = Inbox(store)
    comment = make_event("facebook_comment", dedupe_key="c1")
    later = make_event(
        "facebook_comment",
        dedupe_key="c2",
        context=make_event("facebook_comment").context.copy(update={"event_id": "post_2"}),
    )
    inbox.add(comment)
    inbox.add(later)
    inbox.add(make_event("messenger", dedupe_key="m1"))

    latest = inbox.latest_for(comment.sender_id)
    assert latest is not None
    assert latest.dedupe_key == "c2"
    assert inbox.latest_for(comment.sender_id, visibility="private") is None
    found = inbox.find_event("facebook", PAGE_ID, comment.context.event_id)
    assert found is not None
    assert found.dedupe_key == "c1"
    assert inbox.find_event("twitter", PAGE_ID, comment.context.event_id) is None
