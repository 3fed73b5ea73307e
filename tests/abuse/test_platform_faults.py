"""The Graph and X APIs failing for a while, through the real clients over fake APIs.

Transient faults (5xx, 429 with ``x-rate-limit-reset``, Graph 613 with
``x-business-use-case-usage``, timeouts, refused connections) are retried with backoff, a rate
limit no sooner than it asked, and the message is delivered once the fake recovers, exactly
once. Permanent errors are not retried; the outbound log keeps each with its type and code,
where agents see it, and the consumer is flagged where the channels do it. (The outbound log
and the flags are plain inserts, tested on both databases in their own modules: SQLite here.)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.consumers import DMS_CLOSED, UNREACHABLE, ConsumerFlags
from bot.errors import RateLimited, TransientPlatformError
from bot.guard import OutboundGuard, Target
from bot.identities import IdentityLinks
from bot.inbox import Inbox
from bot.outbound import OutboundLog, OutboundStatus
from bot.store import SocialStore
from channels.facebook.graph import GraphClient
from channels.facebook.output import FacebookOutput
from channels.platform_client import CallRetry
from channels.social_output import SocialOutputChannel
from channels.twitter.api import XClient
from channels.twitter.output import TwitterOutput
from channels.twitter.sender import XSender
from tests.abuse.strategies import FUZZ, ON_SQLITE
from tests.channels.facebook.conftest import NOW, make_sender
from tests.channels.facebook.factories import PAGE_TOKEN, PSID, make_config
from tests.channels.facebook.fake_graph import FakeGraph, graph_error
from tests.channels.twitter.builders import PAT, config
from tests.channels.twitter.fake_x import FakeX
from tests.factories import PAGE_ID, make_context, make_event

RETRY = CallRetry(attempts=4, first_delay=0.5, max_delay=30.0, max_wait=60.0)
EPOCH = 1_767_226_200.0  # the X client's clock: x-rate-limit-reset is in epoch seconds


class Waits(list[float]):
    """A fake ``sleep``: records what the client waited instead of waiting."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@dataclass(frozen=True)
class Fault:
    """A transient fault: the answer (or exception) and the least wait it asks for."""

    name: str
    answer: Callable[[], httpx.Response | Exception]
    asks: float = 0.0


def _usage(minutes: int) -> str:
    return json.dumps(
        {PAGE_ID: [{"type": "messenger", "estimated_time_to_regain_access": minutes}]}
    )


COMMON = [
    Fault("read timeout", lambda: httpx.ReadTimeout("no answer")),
    Fault("connect timeout", lambda: httpx.ConnectTimeout("no route")),
    Fault("refused", lambda: httpx.ConnectError("connection refused")),
    Fault("502 html", lambda: httpx.Response(502, text="<html>Bad Gateway</html>")),
]
GRAPH_FAULTS = [
    *COMMON,
    Fault("500 code 1", lambda: graph_error(1, status=500)),
    Fault("503 code 2", lambda: graph_error(2, status=503)),
    Fault(
        "613 for a minute",
        lambda: graph_error(613, headers={"x-business-use-case-usage": _usage(1)}),
        asks=60.0,
    ),
    Fault("613 without usage", lambda: graph_error(613), asks=30.0),
    Fault("429 code 4", lambda: graph_error(4, status=429), asks=30.0),
]
X_FAULTS = [
    *COMMON,
    Fault("503 problem", lambda: httpx.Response(503, json={"title": "Service Unavailable"})),
    Fault("408", lambda: httpx.Response(408)),
    Fault(
        "429 reset in 42 s",
        lambda: httpx.Response(429, headers={"x-rate-limit-reset": str(int(EPOCH) + 42)}),
        asks=42.0,
    ),
    Fault(
        "429 reset passed",
        lambda: httpx.Response(429, headers={"x-rate-limit-reset": str(int(EPOCH) - 5)}),
    ),
]


def expected_waits(faults: list[Fault]) -> list[float]:
    """What ``RETRY`` waits after each fault: its backoff, or longer when the fault asks."""
    return [
        max(min(RETRY.max_delay, RETRY.first_delay * 2.0**attempt), fault.asks)
        for attempt, fault in enumerate(faults)
    ]


# --- the clients -------------------------------------------------------------------------


async def graph_send(faults: list[Fault], waits: Waits) -> tuple[Any, FakeGraph]:
    graph = FakeGraph()
    graph.fail_next("/messages", *(fault.answer() for fault in faults))
    client = GraphClient(
        "http://graph.test", "v19.0", transport=graph.transport, retry=RETRY, sleep=waits
    )
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Hi"}}
    try:
        return await client.send(PAGE_ID, PAGE_TOKEN, body, kind="message"), graph
    finally:
        await client.aclose()


async def x_send(faults: list[Fault], waits: Waits) -> tuple[Any, FakeX]:
    fake = FakeX()
    fake.answer_next(*(fault.answer() for fault in faults))
    client = XClient(
        "https://api.x.test",
        transport=fake.transport,
        retry=RETRY,
        sleep=waits,
        clock=lambda: EPOCH,
    )
    try:
        return await client.send_dm("token", PAT["id"], "Hi"), fake
    finally:
        await client.aclose()


@settings(FUZZ, max_examples=40)
@given(faults=st.lists(st.sampled_from(GRAPH_FAULTS), max_size=RETRY.attempts - 1))
async def test_graph_faults_are_retried_until_the_message_is_delivered_once(
    faults: list[Fault],
) -> None:
    waits = Waits()

    result, graph = await graph_send(faults, waits)

    assert result.message_id is not None
    assert len(graph.of("/messages")) == len(faults) + 1  # the last one delivered it
    assert waits == expected_waits(faults)


@settings(FUZZ, max_examples=40)
@given(faults=st.lists(st.sampled_from(X_FAULTS), max_size=RETRY.attempts - 1))
async def test_x_faults_are_retried_until_the_dm_is_delivered_once(faults: list[Fault]) -> None:
    waits = Waits()

    dm_event_id, fake = await x_send(faults, waits)

    assert dm_event_id is not None
    assert len(fake.calls) == len(faults) + 1
    assert waits == expected_waits(faults)


@pytest.mark.parametrize(
    ("send", "faults"),
    [(graph_send, GRAPH_FAULTS), (x_send, X_FAULTS)],
    ids=["graph", "x"],
)
async def test_faults_that_outlast_the_retries_raise_the_last_one(
    send: Callable[[list[Fault], Waits], Awaitable[Any]], faults: list[Fault]
) -> None:
    waits = Waits()
    unending = [faults[0]] * (RETRY.attempts + 2)

    with pytest.raises(TransientPlatformError):
        await send(unending, waits)

    assert len(waits) == RETRY.attempts - 1


@pytest.mark.parametrize(
    ("send", "fault"),
    [
        (
            graph_send,
            Fault(
                "613 for an hour",
                lambda: graph_error(613, headers={"x-business-use-case-usage": _usage(60)}),
            ),
        ),
        (
            x_send,
            Fault(
                "429 for an hour",
                lambda: httpx.Response(429, headers={"x-rate-limit-reset": str(int(EPOCH) + 3600)}),
            ),
        ),
    ],
    ids=["graph", "x"],
)
async def test_a_rate_limit_longer_than_the_client_waits_is_raised_with_its_wait(
    send: Callable[[list[Fault], Waits], Awaitable[Any]], fault: Fault
) -> None:
    waits = Waits()

    with pytest.raises(RateLimited) as raised:
        await send([fault], waits)

    assert raised.value.retry_after == 3600
    assert waits == []


# --- what agents see ---------------------------------------------------------------------

PRIVATE = Target.from_context(make_context("messenger"))
X_DM = Target.from_context(make_context("twitter_dm"))
X_TWEET = Target.from_context(make_context("tweet"))
CTA = "utter_public_to_private"


@dataclass
class Outputs:
    """Both channels' output, over the fakes and one store, with the clients' retries."""

    store: SocialStore
    graph: FakeGraph
    x: FakeX
    waits: Waits

    @property
    def log(self) -> OutboundLog:
        return OutboundLog(self.store)

    @property
    def flags(self) -> ConsumerFlags:
        return ConsumerFlags(self.store)

    def facebook(self, target: Target) -> FacebookOutput:
        inbox = Inbox(self.store)
        sender = make_sender(
            make_config(),
            self.graph,
            inbox,
            outbound=self.log,
            links=IdentityLinks(self.store),
            flags=self.flags,
            retry=RETRY,
            sleep=self.waits,
        )
        return FacebookOutput(sender, target=target, guard=OutboundGuard(), outbound=self.log)

    def twitter(self, target: Target) -> TwitterOutput:
        client = XClient(
            "https://api.x.test",
            transport=self.x.transport,
            retry=RETRY,
            sleep=self.waits,
            clock=lambda: EPOCH,
        )
        sender = XSender(client, config(), flags=self.flags)
        return TwitterOutput(
            sender, target=target, guard=OutboundGuard(), inbox=Inbox(self.store), outbound=self.log
        )


@pytest.fixture
def outputs(store: SocialStore) -> Outputs:
    # The consumer wrote in Messenger a minute ago: the 24-hour window is open.
    Inbox(store).add(make_event("messenger", occurred_at=NOW - timedelta(minutes=1)))
    return Outputs(store, FakeGraph(), FakeX(), Waits())


async def send(output: SocialOutputChannel, target: Target, **message: Any) -> None:
    await output.send_response(
        target.conversation_id, {"text": "Your parcel ships today", **message}
    )


@ON_SQLITE
async def test_a_message_through_a_failing_graph_api_is_sent_once_it_recovers(
    outputs: Outputs,
) -> None:
    outputs.graph.fail_next("/messages", *(fault.answer() for fault in GRAPH_FAULTS[:3]))

    await send(outputs.facebook(PRIVATE), PRIVATE)

    assert len(outputs.graph.sent_messages()) == 4  # three faults, then delivered
    assert outputs.waits == expected_waits(GRAPH_FAULTS[:3])
    [record] = outputs.log.for_conversation(PRIVATE.conversation_id)
    assert (record.status, record.text) == (OutboundStatus.SENT, "Your parcel ships today")


@ON_SQLITE
async def test_a_dm_through_a_failing_x_api_is_sent_once_it_recovers(outputs: Outputs) -> None:
    outputs.x.answer_next(*(fault.answer() for fault in X_FAULTS[-3:]))

    await send(outputs.twitter(X_DM), X_DM)

    assert len(outputs.x.calls) == 4
    [record] = outputs.log.for_conversation(X_DM.conversation_id)
    assert record.status is OutboundStatus.SENT
    assert outputs.waits == expected_waits(X_FAULTS[-3:])


@ON_SQLITE
async def test_a_platform_that_stays_down_leaves_a_failure_agents_can_see(
    outputs: Outputs,
) -> None:
    outputs.graph.fail_next("/messages", *(graph_error(2, status=503) for _ in range(4)))

    await send(outputs.facebook(PRIVATE), PRIVATE)

    [failed] = outputs.log.failures(PRIVATE.conversation_id)
    assert (failed.status, failed.error_type, failed.error_code) == (
        OutboundStatus.FAILED,
        "TransientPlatformError",
        2,
    )


def _x_error(status: int, code: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]})


# (platform, target, the answer, error type, code, the flag set on the conversation)
PERMANENT = [
    pytest.param(
        "facebook",
        PRIVATE,
        graph_error(10, 2018278),
        "OutsideMessagingWindow",
        10,
        None,
        id="graph 10/2018278",
    ),
    pytest.param(
        "facebook",
        PRIVATE,
        graph_error(10, 2018300),
        "ThreadOwnedElsewhere",
        10,
        None,
        id="graph 10/2018300",
    ),
    pytest.param(
        "facebook",
        PRIVATE,
        graph_error(551, 1545041),
        "RecipientUnavailable",
        551,
        UNREACHABLE,
        id="graph 551",
    ),
    pytest.param(
        "facebook",
        PRIVATE,
        graph_error(190, status=401),
        "AuthenticationFailed",
        190,
        None,
        id="graph 190",
    ),
    pytest.param(
        "facebook", PRIVATE, graph_error(100), "InvalidRequest", 100, None, id="graph 100"
    ),
    pytest.param(
        "twitter",
        X_DM,
        _x_error(403, 349, "You cannot send messages to this user."),
        "RecipientUnavailable",
        349,
        DMS_CLOSED,
        id="x 349",
    ),
    pytest.param(
        "twitter",
        X_TWEET,
        _x_error(403, 187, "Status is a duplicate."),
        "DuplicateContent",
        187,
        None,
        id="x 187",
    ),
    pytest.param(
        "twitter",
        X_DM,
        httpx.Response(401, json={"title": "Unauthorized"}),
        "AuthenticationFailed",
        None,
        None,
        id="x 401",
    ),
]


@ON_SQLITE
@pytest.mark.parametrize(("platform", "target", "answer", "error", "code", "flag"), PERMANENT)
async def test_a_permanent_error_is_not_retried_and_agents_see_it_with_its_type(
    outputs: Outputs,
    platform: str,
    target: Target,
    answer: httpx.Response,
    error: str,
    code: int | None,
    flag: str | None,
) -> None:
    if platform == "facebook":
        outputs.graph.fail_next("/messages", answer)
        output: SocialOutputChannel = outputs.facebook(target)
    else:
        outputs.x.answer_next(answer)
        output = outputs.twitter(target)
    extra = {"utter_action": CTA} if target.visibility.value == "public" else {}

    await send(output, target, **extra)

    calls = outputs.graph.of("/messages") if platform == "facebook" else outputs.x.calls
    assert len(calls) == 1  # not retried
    assert outputs.waits == []
    [failed] = outputs.log.failures(target.conversation_id)
    assert (failed.status, failed.error_type, failed.error_code) == (
        OutboundStatus.FAILED,
        error,
        code,
    )
    assert failed.error_message
    flags = outputs.flags.get(target.conversation_id)
    assert set(flags) == ({flag} if flag else set())


@ON_SQLITE
async def test_every_platform_error_a_send_may_raise_is_recorded_not_raised(
    outputs: Outputs,
) -> None:
    # Raising would make the inbox replay the whole turn and send its earlier messages twice.
    outputs.graph.fail_next("/messages", graph_error(100), graph_error(190, status=401))
    output = outputs.facebook(PRIVATE)

    for _ in range(2):
        await send(output, PRIVATE)

    failures = outputs.log.failures(PRIVATE.conversation_id)
    assert [record.error_type for record in failures] == ["InvalidRequest", "AuthenticationFailed"]
