"""The bot's own thread: the inbox workers, and through them Rasa, run on an event loop apart from
the web server's.

Rasa's inference (the NLU pipeline, the policies) is synchronous Python and holds the event loop
it runs on for tens of milliseconds at a time. On the server's loop, a webhook delivery would wait
behind every conversation being answered; on its own thread, the server's loop does nothing but
HTTP, and a delivery is stored and answered in a few milliseconds while the bot thinks (the
interpreter hands the other thread its turn every few milliseconds, and TensorFlow lets go of it
while it computes).

One bot thread per process, shared by every social channel (``BOT_THREAD``): the first channel
to start starts it, the last to stop stops it. What the bot thread and the server's loop share
is made safe for two threads at start (``share_agent``): Rasa's in-memory lock store (the
workspace locks conversations from the server's loop) and an event broker bound to the server's
loop (Pika's). Everything else the bot touches is already safe: the tracker stores and the
social store are synchronous, the action server is called with a session per request, and each
loop has its own HTTP clients (``PlatformClient``).

Two interpreter settings keep the server's loop prompt while the bot computes (measured with
``benchmarks/channels.py``; see the README):

- The switch interval: a thread that wants the interpreter waits at most this long for a thread
  running Python to let go of it. Python's 5 ms made every step of a webhook (its request, its
  store write, its answer) wait up to 5 ms behind the bot's inference; 0.2 ms while the bot
  thread runs (restored when it stops).
- The collector's oldest generation: a full collection walked the whole loaded model (hundreds of
  thousands of objects) and held every thread for 300-400 ms under load. What exists when the
  bot thread first starts (the model, Rasa, the libraries) is frozen out of collections
  (``gc.freeze``); a full collection then takes a few milliseconds.

Webhooks first (``BotThread.delivery()``): even so, the two threads took turns on the interpreter,
and under a burst each delivery waited behind the bot's inference (a burst of 300 at 20 at once:
webhook p50 46 ms). While signed deliveries are being stored, the bot's loop pauses at its next
step, for at most ``MAX_PAUSE``, and then runs at least ``MIN_RUN`` before it pauses again: a
burst is stored at the pace of the webhooks alone, and a steady stream of deliveries slows the bot
down without stopping it. What a pause delays is in the inbox, answered when the bot goes on.
Each time the bot goes on it runs to the end of its step (tens of milliseconds) beside the
webhooks: with pauses of at most 0.25 s, that was a fifth of the time of a burst of 1000
deliveries (bot thread CPU per delivery stored 0.1-0.4 ms, webhook p99 80-135 ms); with 1 s it is
next to nothing. Requests not yet verified never pause it: a client that sends its body slowly,
or sends bodies nobody signed, cannot hold the bot up.

The bot's store calls pause too: the bot hands the social store's reads and writes to its loop's
executor (``asyncio.to_thread``), whose threads went on while the bot's loop paused, and
competed with the deliveries for the interpreter and for SQLite's writer (answers going out
together, and their echoes coming in together). Each call now waits like a step of the bot
before it starts (``before_store_call``); a call already running finishes. With the writers of
the social store taking turns (``bot/sqlite_writers.py``), Facebook's webhook p99 in three short
runs at 100 ms went from 44-55 ms to 35-43 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore

__all__ = [
    "BOT_THREAD",
    "MAX_PAUSE",
    "MIN_RUN",
    "SWITCH_INTERVAL",
    "BotThread",
    "LoopBroker",
    "ThreadSafeLockStore",
    "share_agent",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

SWITCH_INTERVAL = 0.0002  # seconds; see the module's docstring
MAX_PAUSE = 1.0  # seconds the bot waits at most for the deliveries being stored
MIN_RUN = 0.01  # seconds the bot runs at least between two pauses

_frozen = False  # the objects of the process at the first start are frozen, once


def _freeze_loaded_objects() -> None:
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()
    logger.debug("%d objects frozen out of garbage collection", gc.get_freeze_count())


class _FastSwitching:
    """``SWITCH_INTERVAL`` while at least one bot thread runs; the interval before, after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._before = sys.getswitchinterval()

    def enter(self) -> None:
        with self._lock:
            if self._users == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL)
            self._users += 1

    def leave(self) -> None:
        with self._lock:
            if self._users == 0:
                return
            self._users -= 1
            if self._users == 0:
                sys.setswitchinterval(self._before)


_FAST_SWITCHING = _FastSwitching()


class BotThread:
    """An event loop on a thread of its own, started and stopped by reference count."""

    def __init__(
        self, name: str = "bot", *, max_pause: float = MAX_PAUSE, min_run: float = MIN_RUN
    ) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._users = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._max_pause = max_pause
        self._min_run = min_run
        self._deliveries = 0  # being stored right now
        self._quiet = threading.Event()  # set while none is
        self._quiet.set()
        self._pausing = False  # a pause is scheduled on the bot's loop
        self._resumed = 0.0  # when the bot last went on after a pause (monotonic)
        self.pauses = 0  # how often the bot paused for deliveries (tests, diagnostics)
        self.store_call_pauses = 0  # how often a call of its executor did

    @contextlib.contextmanager
    def delivery(self) -> Iterator[None]:
        """Marks a signed webhook delivery being stored: the bot pauses at its next step
        meanwhile (see the module's docstring). Any thread; a no-op while the bot thread is not
        running."""
        with self._lock:
            self._deliveries += 1
            self._quiet.clear()
            if self._loop is not None and not self._pausing:
                self._pausing = True
                self._loop.call_soon_threadsafe(self._pause)
        try:
            yield
        finally:
            with self._lock:
                self._deliveries -= 1
                if self._deliveries == 0:
                    self._quiet.set()

    def checkpoint(self) -> None:
        """On the bot's thread, between two steps of its work: pauses here if deliveries are
        being received and the bot ran ``min_run`` since its last pause.

        The pause scheduled on the loop comes only after everything ready to run there (a step
        of each conversation in flight, tens of milliseconds); the bot's own steps (a turn
        starting, a message going out) check in between.
        """
        if (
            self._deliveries
            and threading.current_thread() is self._thread
            and time.monotonic() - self._resumed >= self._min_run
        ):
            self._wait_for_deliveries()

    def _wait_for_deliveries(self) -> None:
        self.pauses += 1
        self._quiet.wait(self._max_pause)
        self._resumed = time.monotonic()

    def before_store_call(self) -> None:
        """On a thread of the bot's executor, before a call the bot handed it (a store read or
        write): waits like ``checkpoint`` while deliveries are being stored."""
        if self._deliveries and time.monotonic() - self._resumed >= self._min_run:
            self.store_call_pauses += 1
            self._quiet.wait(self._max_pause)

    def _pause(self) -> None:
        """On the bot's loop: waits for the deliveries (at most ``max_pause``); pauses again
        after ``min_run`` if some are still being received."""
        self._wait_for_deliveries()
        with self._lock:
            if self._deliveries and self._loop is not None:
                self._loop.call_later(self._min_run, self._pause)
            else:
                self._pausing = False

    @property
    def name(self) -> str:
        """The thread's name (its executor's threads are named after it)."""
        return self._name

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The bot's loop (``acquire()`` first)."""
        if self._loop is None:
            raise RuntimeError("the bot thread is not running")
        return self._loop

    def acquire(self) -> asyncio.AbstractEventLoop:
        """Starts the thread if nobody uses it yet; returns its loop."""
        with self._lock:
            if self._loop is None:
                _freeze_loaded_objects()
                _FAST_SWITCHING.enter()
                loop = asyncio.new_event_loop()
                loop.set_default_executor(_StoreCalls(self))
                started = threading.Event()
                thread = threading.Thread(
                    target=self._serve, args=(loop, started), name=self._name, daemon=True
                )
                thread.start()
                started.wait()
                self._loop, self._thread = loop, thread
            self._users += 1
            return self._loop

    def release(self) -> None:
        """Stops the thread when its last user lets go of it (after what runs on it is done)."""
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users or self._loop is None:
                return
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._pausing = False
            _FAST_SWITCHING.leave()
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=10)

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Runs ``coroutine`` on the bot's loop and waits for it from the caller's loop."""
        loop = self.loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            return await coroutine
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

    @staticmethod
    def _serve(loop: asyncio.AbstractEventLoop, started: threading.Event) -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        try:
            loop.run_forever()
        finally:
            try:
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()


class _StoreCalls(ThreadPoolExecutor):
    """The bot loop's default executor (``asyncio.to_thread``: the social store's calls): each
    call waits for the deliveries being stored before it starts (``before_store_call``)."""

    def __init__(self, bot: BotThread) -> None:
        super().__init__(thread_name_prefix=f"{bot.name}-store")
        self._bot = bot

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return super().submit(self._after_deliveries, fn, *args, **kwargs)

    def _after_deliveries(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        self._bot.before_store_call()
        return fn(*args, **kwargs)


BOT_THREAD = BotThread()


class ThreadSafeLockStore(InMemoryLockStore):
    """Rasa's in-memory lock store, its read-modify-write steps made atomic for two threads."""

    def __init__(self) -> None:
        super().__init__()
        self._mutex = threading.RLock()

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = 60) -> int:
        with self._mutex:
            ticket: int = super().issue_ticket(conversation_id, lock_lifetime)
            return ticket

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex:
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex:
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex:
            super().cleanup(conversation_id, ticket_number)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        with self._mutex:
            return super().get_lock(conversation_id)


class LoopBroker(EventBroker):
    """An event broker that publishes on the loop it was made for, whichever thread calls it."""

    def __init__(self, broker: EventBroker, loop: asyncio.AbstractEventLoop) -> None:
        self.broker = broker
        self._loop = loop

    def publish(self, event: dict[str, Any]) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self.broker.publish(event)
        else:
            self._loop.call_soon_threadsafe(self.broker.publish, event)

    def is_ready(self) -> bool:
        ready: bool = self.broker.is_ready()
        return ready

    async def close(self) -> None:
        await self.broker.close()


def share_agent(agent: Any, server_loop: asyncio.AbstractEventLoop) -> None:
    """Makes what Rasa's agent shares between the server's loop and the bot thread safe to share
    (idempotent; an agent without these parts is left as it is)."""
    if agent is None:
        return
    if type(getattr(agent, "lock_store", None)) is InMemoryLockStore:
        agent.lock_store = ThreadSafeLockStore()
        logger.debug("the in-memory lock store is shared by the server and the bot thread")
    store = getattr(agent, "tracker_store", None)
    while store is not None:  # Rasa wraps its tracker store (AwaitableTrackerStore)
        broker = getattr(store, "event_broker", None)
        if broker is not None and not isinstance(broker, LoopBroker):
            store.event_broker = LoopBroker(broker, server_loop)
        store = getattr(store, "_tracker_store", None)
