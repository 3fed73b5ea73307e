"""The bot's own thread: its loop, the worker woken from the server's loop, what both share."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import AwaitableTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain

from bot.inbox import Inbox, InboxRecord, InboxStatus
from bot.inbox_worker import InboxWorker
from bot.store import SocialStore
from channels.bot_thread import (
    SWITCH_INTERVAL,
    BotThread,
    LoopBroker,
    ThreadSafeLockStore,
    share_agent,
)
from channels.facebook.graph import GraphClient
from tests.factories import make_event


@pytest.fixture
def bot_thread() -> Any:
    thread = BotThread(name="bot-test")
    thread.acquire()
    yield thread
    thread.release()


async def test_coroutines_run_on_the_bot_thread_not_the_callers(bot_thread: BotThread) -> None:
    async def where() -> tuple[str, asyncio.AbstractEventLoop]:
        return threading.current_thread().name, asyncio.get_running_loop()

    name, loop = await bot_thread.run(where())

    assert name == "bot-test"
    assert loop is bot_thread.loop
    assert loop is not asyncio.get_running_loop()


async def test_the_thread_lives_while_someone_uses_it() -> None:
    thread = BotThread(name="bot-count")
    first = thread.acquire()
    assert thread.acquire() is first  # one loop for every channel of the process
    thread.release()
    assert first.is_running()
    thread.release()
    await asyncio.sleep(0.05)
    assert not first.is_running()
    with pytest.raises(RuntimeError, match="not running"):
        _ = thread.loop


async def test_while_it_runs_other_threads_wait_less_for_the_interpreter() -> None:
    before = sys.getswitchinterval()
    thread = BotThread(name="bot-switch")
    thread.acquire()
    try:
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        assert SWITCH_INTERVAL < 0.005  # Python's default
        other = BotThread(name="bot-switch-2")
        other.acquire()
        other.release()  # one of two bot threads stopped: the other still runs
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    finally:
        thread.release()
    assert sys.getswitchinterval() == pytest.approx(before)


async def test_what_the_process_loaded_before_it_started_is_left_out_of_collections(
    bot_thread: BotThread,
) -> None:
    # The first start in the process froze every object that existed then (the model, Rasa).
    assert gc.get_freeze_count() > 0


async def test_an_exception_reaches_the_caller(bot_thread: BotThread) -> None:
    async def fail() -> None:
        raise ValueError("from the bot thread")

    with pytest.raises(ValueError, match="from the bot thread"):
        await bot_thread.run(fail())


async def test_a_webhook_on_the_server_loop_wakes_the_worker_on_the_bot_thread(
    bot_thread: BotThread, store: SocialStore
) -> None:
    inbox = Inbox(store)
    handled: list[tuple[str, str]] = []

    async def handle(record: InboxRecord) -> None:
        handled.append((record.dedupe_key, threading.current_thread().name))

    # A poll interval far longer than the test: only notify() can wake the worker in time.
    worker = InboxWorker(inbox, handle, poll_interval=60)

    async def start() -> None:
        worker.start()

    await bot_thread.run(start())
    await asyncio.sleep(0.2)  # the worker found the inbox empty and waits
    event = make_event(dedupe_key="facebook:m1")
    await asyncio.to_thread(inbox.add, event)
    worker.notify()  # from this loop, as the webhook does

    for _ in range(100):
        if handled:
            break
        await asyncio.sleep(0.02)
    await bot_thread.run(worker.stop())

    assert handled == [("facebook:m1", "bot-test")]
    assert (await asyncio.to_thread(inbox.counts))[InboxStatus.DONE] == 1


async def test_each_loop_gets_its_own_http_client_and_all_close(bot_thread: BotThread) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"success": True}))
    graph = GraphClient("http://graph.test", "v19.0", transport=transport)

    async def client_id() -> int:
        return id(graph.http)

    here = await client_id()
    there = await bot_thread.run(client_id())
    assert here != there
    assert await client_id() == here  # one per loop, reused
    assert graph.is_open

    await graph.aclose()

    assert not graph.is_open


@pytest.mark.parametrize(
    ("step", "arguments"),
    [
        ("issue_ticket", ("c1",)),
        ("update_lock", ("c1",)),
        ("finish_serving", ("c1", 0)),
        ("cleanup", ("c1", 0)),
        ("get_lock", ("c1",)),
    ],
)
def test_each_step_of_the_shared_lock_store_is_atomic_between_threads(
    step: str, arguments: tuple[Any, ...]
) -> None:
    """Rasa's steps read a lock, change it and save it: another thread must not come between."""
    store = ThreadSafeLockStore()
    store.issue_ticket("c1")
    done = threading.Event()

    def run_step() -> None:
        getattr(store, step)(*arguments)
        done.set()

    with store._mutex:  # another thread is in the middle of a step
        other = threading.Thread(target=run_step)
        other.start()
        assert not done.wait(0.2)
    assert done.wait(5)
    other.join()


class RecordingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: list[tuple[dict[str, Any], asyncio.AbstractEventLoop | None]] = []

    def publish(self, event: dict[str, Any]) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self.published.append((event, loop))


async def test_an_event_broker_publishes_on_the_server_loop_whoever_calls(
    bot_thread: BotThread,
) -> None:
    inner = RecordingBroker()
    broker = LoopBroker(inner, asyncio.get_running_loop())

    async def publish() -> None:
        broker.publish({"event": "user"})

    await bot_thread.run(publish())
    await asyncio.sleep(0.05)

    assert inner.published == [({"event": "user"}, asyncio.get_running_loop())]


async def test_the_agent_is_made_safe_to_share_once() -> None:
    inner = RecordingBroker()
    tracker_store = AwaitableTrackerStore(InMemoryTrackerStore(Domain.empty(), inner))

    class Agent:
        lock_store: Any = InMemoryLockStore()
        tracker_store: Any = None

    agent = Agent()
    agent.tracker_store = tracker_store
    loop = asyncio.get_running_loop()

    share_agent(agent, loop)
    lock_store, wrapped = agent.lock_store, tracker_store._tracker_store.event_broker
    share_agent(agent, loop)  # a second channel of the same server

    assert isinstance(lock_store, ThreadSafeLockStore)
    assert agent.lock_store is lock_store
    assert isinstance(wrapped, LoopBroker)
    assert wrapped.broker is inner
    assert tracker_store._tracker_store.event_broker is wrapped


class Ticker:
    """Counts the steps of a coroutine that runs on the bot's loop, 1 ms apart."""

    def __init__(self) -> None:
        self.ticks = 0
        self.running = True

    async def run(self) -> None:
        while self.running:
            self.ticks += 1
            await asyncio.sleep(0.001)


async def _ticks_during(seconds: float, ticker: Ticker) -> int:
    before = ticker.ticks
    await asyncio.sleep(seconds)
    return ticker.ticks - before


async def test_the_bot_waits_while_a_delivery_is_being_received() -> None:
    thread = BotThread(name="bot-pause", max_pause=5.0, min_run=0.01)
    loop = thread.acquire()
    ticker = Ticker()
    try:
        asyncio.run_coroutine_threadsafe(ticker.run(), loop)
        assert await _ticks_during(0.1, ticker) > 10  # the bot works

        with thread.delivery():
            await asyncio.sleep(0.05)  # the pause reaches the bot's loop
            paused = await _ticks_during(0.2, ticker)

        assert paused == 0
        assert await _ticks_during(0.1, ticker) > 10  # and goes on once it is received
        assert thread.pauses == 1
    finally:
        ticker.running = False
        thread.release()


async def test_a_stream_of_deliveries_slows_the_bot_down_without_stopping_it() -> None:
    thread = BotThread(name="bot-stream", max_pause=0.05, min_run=0.02)
    loop = thread.acquire()
    ticker = Ticker()
    try:
        asyncio.run_coroutine_threadsafe(ticker.run(), loop)
        await asyncio.sleep(0.05)
        free = await _ticks_during(0.5, ticker)
        with thread.delivery():  # one delivery that never ends
            during = await _ticks_during(0.5, ticker)
    finally:
        ticker.running = False
        thread.release()

    assert 0 < during < free / 2
    assert thread.pauses >= 5  # paused 50 ms, ran 20 ms, paused again...


async def test_a_delivery_without_a_running_bot_thread_is_no_op() -> None:
    thread = BotThread(name="bot-none")

    with thread.delivery():
        pass

    assert thread.pauses == 0


async def test_the_bot_s_own_steps_check_in_for_deliveries() -> None:
    thread = BotThread(name="bot-checkpoint", max_pause=5.0, min_run=0.0)
    loop = thread.acquire()
    receiving = threading.Event()
    stepping = threading.Event()
    try:

        async def step() -> float:
            # A step of the bot's work that holds its loop until a delivery comes in: the pause
            # queued on the loop cannot run, the step's own checkpoint must wait.
            stepping.set()
            receiving.wait(5)
            began = time.monotonic()
            thread.checkpoint()
            return time.monotonic() - began

        assert await thread.run(_quick_step(thread)) < 0.05  # nothing received: no wait
        thread.checkpoint()  # another thread's checkpoint never waits
        waiting = asyncio.run_coroutine_threadsafe(step(), loop)
        assert stepping.wait(5)
        with thread.delivery():
            receiving.set()
            await asyncio.sleep(0.2)
            assert not waiting.done()
        assert await asyncio.wrap_future(waiting) >= 0.15
    finally:
        thread.release()


async def _quick_step(thread: BotThread) -> float:
    began = time.monotonic()
    thread.checkpoint()
    return time.monotonic() - began


def _store_call_during_a_delivery(
    thread: BotThread, receiving: threading.Event
) -> asyncio.Future[tuple[float, float]]:
    """Starts a step of the bot that hands a store call to its executor once a delivery is being
    received (before the bot's loop pauses for it): when the call was asked for and when it ran
    (monotonic). Returns once the step holds the bot's loop."""
    stepping = threading.Event()

    async def step() -> tuple[float, float]:
        stepping.set()
        receiving.wait(5)
        asked = time.monotonic()
        ran = await asyncio.to_thread(time.monotonic)
        return asked, ran

    call = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(step(), thread.loop))
    assert stepping.wait(5)
    return call


async def test_the_bot_s_store_calls_wait_while_a_delivery_is_being_received() -> None:
    # The bot hands its store reads and writes to its loop's executor (asyncio.to_thread): they
    # wait for the deliveries too, or they compete with them for the interpreter and the
    # database's writer.
    thread = BotThread(name="bot-store-calls", max_pause=5.0, min_run=0.0)
    thread.acquire()
    receiving = threading.Event()
    try:
        idle = threading.Event()
        idle.set()
        await _store_call_during_a_delivery(thread, idle)  # nothing received: no wait
        assert thread.store_call_pauses == 0

        call = _store_call_during_a_delivery(thread, receiving)
        with thread.delivery():
            receiving.set()
            await asyncio.sleep(0.2)
            assert not call.done()
            received = time.monotonic()  # the delivery ends after this

        _, ran = await call
        assert ran >= received
        assert thread.store_call_pauses == 1
    finally:
        thread.release()


async def test_a_store_call_goes_on_after_the_longest_pause() -> None:
    thread = BotThread(name="bot-store-longest", max_pause=0.1, min_run=0.0)
    thread.acquire()
    receiving = threading.Event()
    try:
        call = _store_call_during_a_delivery(thread, receiving)
        with thread.delivery():  # a delivery that takes longer than the longest pause
            receiving.set()
            asked, ran = await asyncio.wait_for(call, 5)
            assert thread.store_call_pauses == 1
    finally:
        thread.release()

    assert ran - asked >= 0.09  # waited out the pause (0.1 s), then went on during the delivery
