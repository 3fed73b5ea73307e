"""What every social input channel does the same way, whatever the platform.

The webhook path of one delivery: size limit (applied while the body streams in) → signature →
parse and normalise (the platform's pure functions) → every event stored in the inbox under its
dedupe key → 200. The webhook never waits for the bot: an ``InboxWorker`` started with the
server feeds the stored events to Rasa, one conversation at a time, each with an output channel
bound to its reply target.

A platform channel subclasses ``SocialInputChannel`` and provides the platform parts:
``verify``, ``challenge``, ``normalise`` and ``output_channel_for``.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, response
from sanic.log import access_logger
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic_cors.core import SANIC_CORS_EVALUATED

from bot.errors import InboundError, PayloadTooLarge, SocialCareError
from bot.events import Skipped, SocialEvent
from bot.inbox import Inbox, InboxRecord
from bot.inbox_worker import DEFAULT_LEASE_SECONDS, InboxWorker, RetryPolicy
from bot.metrics import (
    DUPLICATE_EVENTS,
    INBOUND_EVENTS,
    MALFORMED_REASON,
    PRIVATE_ARRIVALS,
    REFUSED_DELIVERIES,
    SKIPPED_EVENTS,
    WEBHOOK_SECONDS,
    reason_label,
    since,
)
from bot.nlu import BatchParser
from bot.origins import CONTINUE_FROM_PUBLIC
from bot.runtime import shared_store
from bot.trackers import fail_loudly
from channels.bot_thread import BOT_THREAD, share_agent
from channels.social_output import SocialOutputChannel

__all__ = ["DEFAULT_WORKER_CONCURRENCY", "Accepted", "SocialInputChannel", "error_response"]

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Conversations a process runs at once: a turn keeps its place while its Graph or X calls are on
# their way (at 100 ms a call, with 32 places the bot idled a tenth of the time).
DEFAULT_WORKER_CONCURRENCY = 64

# Messages understood in one pass of the NLU at most. Per message, a pass of 8 costs a third of
# what one alone does (16: a quarter), and it holds the interpreter for 25-30 ms, which webhooks
# wait out: 8 keeps most of the saving.
PARSE_BATCH = 8


@dataclass(frozen=True)
class Accepted:
    """What became of the items of one delivery."""

    stored: int
    duplicates: int
    skipped: int

    def as_json(self) -> dict[str, int]:
        """The webhook's answer body."""
        return {"stored": self.stored, "duplicates": self.duplicates, "skipped": self.skipped}


def error_response(error: InboundError) -> HTTPResponse:
    """The HTTP answer to a refused request: its status and a message, never a trace."""
    return response.json({"error": str(error)}, status=error.status)


class SocialInputChannel(InputChannel, abc.ABC):
    """The platform-neutral part of a social input channel.

    Args:
        endpoints: the endpoints file whose ``social_store.url`` names the social store.
        max_body_bytes: larger deliveries are refused with 413.
        worker_concurrency: conversations processed at once by this process.
        worker_batch: under load, events are claimed and understood this many at a time (see
            ``InboxWorker`` and ``bot.nlu``).
        lease_seconds: how long the inbox claims of a process that died hold (see ``InboxWorker``).
        inbox: an inbox to use instead of the endpoints' store (tests).
    """

    platform: str = ""

    def __init__(
        self,
        *,
        endpoints: Path = Path("endpoints.yml"),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        worker_concurrency: int = DEFAULT_WORKER_CONCURRENCY,
        worker_batch: int = 4,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        retry: RetryPolicy | None = None,
        inbox: Inbox | None = None,
    ) -> None:
        self._endpoints = endpoints
        self.max_body_bytes = max_body_bytes
        self._worker_concurrency = worker_concurrency
        self._worker_batch = worker_batch
        self._lease = timedelta(seconds=lease_seconds)
        self._retry = retry
        self._inbox = inbox
        self._tracker_store: Any = None  # Rasa's, once the server runs
        self._parser: BatchParser | None = None  # Rasa's NLU, once the server runs
        self._parsed: dict[int, dict[str, Any]] = {}  # inbox event id -> its parse data
        self._storing: ThreadPoolExecutor | None = None  # the deliveries' thread
        self.worker: InboxWorker | None = None

    # --- the platform's part ---------------------------------------------------------------

    @abc.abstractmethod
    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raises ``BadSignature`` unless the delivery is signed by the platform."""

    @abc.abstractmethod
    def challenge(self, query: Mapping[str, str]) -> HTTPResponse:
        """Answers the platform's GET check of the webhook (verify token, CRC)."""

    @abc.abstractmethod
    def normalise(self, body: bytes) -> Sequence[SocialEvent | Skipped]:
        """Every item of a delivery, as an event or a skip; raises ``MalformedPayload``."""

    @abc.abstractmethod
    def output_channel_for(self, event: SocialEvent) -> OutputChannel:
        """The output channel that answers ``event`` where it must be answered."""

    def skipped_at_once(self, body: bytes) -> Sequence[Skipped] | None:
        """Every item of a delivery that brings nothing to store and needs nothing from the
        social store (the platform's echoes of what the brand sent), each skipped; None for
        any other delivery, which goes to the webhook thread.

        Runs on the server's loop, for every verified delivery: a platform answers only from
        the body, cheaply, and None when in doubt. By default, None.
        """
        return None

    def admit(self, event: SocialEvent) -> Sequence[SocialEvent | Skipped]:
        """The platform's last look at an event before it is stored; by default it is kept.

        For decisions that need the store (an edit of a comment the brand already answered, a
        consumer arriving in private from a public thread, which puts an arrival before their
        message), which the pure ``normalise`` cannot make. It runs in the delivery's thread,
        with ``normalise``. Events are stored in the order returned.
        """
        return [event]

    # --- shared --------------------------------------------------------------------------

    @property
    def inbox(self) -> Inbox:
        """The inbox of the process's social store (opened on first use)."""
        if self._inbox is None:
            self._inbox = Inbox(shared_store(self._endpoints))
        return self._inbox

    def check_size(self, body: bytes) -> None:
        """Raises ``PayloadTooLarge`` above ``max_body_bytes``."""
        if len(body) > self.max_body_bytes:
            raise self._too_large(f"{len(body)} bytes")

    def _too_large(self, size: str) -> PayloadTooLarge:
        return PayloadTooLarge(f"the body has {size}; at most {self.max_body_bytes} are accepted")

    async def read_body(self, request: Request) -> bytes:
        """The body of a streamed request, read only while it stays within ``max_body_bytes``.

        A ``Content-Length`` above the limit is refused before a byte is read; a body that grows
        past the limit (chunked, or sent under a ``Content-Length`` that lies) is refused as soon
        as it does. Either way the server then closes the connection rather than read the rest.

        Raises:
            PayloadTooLarge: the body is, or says it is, larger than the limit.
        """
        stream = request.stream
        if stream is None:  # the request is over: nothing left to read
            return b""
        try:
            declared = int(request.headers.get("content-length", ""))
        except ValueError:
            declared = None  # chunked; a malformed length is Sanic's to refuse
        try:
            if declared is not None and declared > self.max_body_bytes:
                raise self._too_large(f"{declared} bytes")
            chunks: list[bytes] = []
            size = 0
            while (chunk := await stream.read()) is not None:
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise self._too_large(f"more than {self.max_body_bytes} bytes")
                chunks.append(chunk)
        except PayloadTooLarge:
            # Sanic drains an unread body up to its own limit (100 MB) to reuse the connection;
            # with ours, it stops at once and closes it.
            stream.request_max_size = self.max_body_bytes
            raise
        return b"".join(chunks)

    async def accept(self, body: bytes, headers: Mapping[str, str]) -> Accepted:
        """Verifies, normalises and stores one delivery (raises ``InboundError`` to refuse it)."""
        self.check_size(body)
        self.verify(body, headers)
        echoes = self.skipped_at_once(body)
        if echoes is not None:
            # Nothing to store, nothing to read: answered here, not behind a burst's messages.
            return self._keep(echoes)
        # All the blocking work of a delivery in one go: normalising and admitting may read the
        # social store (a tweet's thread, the options offered), storing writes it. One thread
        # does it for every delivery, in the order they came: with a pool, the deliveries of a
        # burst competed for the interpreter and for the database's writer, and the last waited
        # far longer than the first (webhook p99 at 20 deliveries at once: 115 -> 40 ms).
        if self._storing is None:
            self._storing = ThreadPoolExecutor(1, thread_name_prefix=f"{self.platform}-webhook")
        loop = asyncio.get_running_loop()
        # Webhooks first: the bot waits at its next step while this one is stored. Only a signed
        # delivery makes it wait: a client that sends its body slowly, or requests nobody
        # signed, cannot hold the bot up.
        with BOT_THREAD.delivery():
            accepted = await loop.run_in_executor(self._storing, self._store_delivery, body)
        if accepted.stored and self.worker is not None:
            self.worker.notify()
        return accepted

    def _store_delivery(self, body: bytes) -> Accepted:
        admitted: list[SocialEvent | Skipped] = []
        for normalised in self.normalise(body):
            if isinstance(normalised, SocialEvent):
                admitted.extend(self.admit(normalised))
            else:
                admitted.append(normalised)
        return self._keep(admitted)

    def _keep(self, admitted: Sequence[SocialEvent | Skipped]) -> Accepted:
        stored = duplicates = skipped = 0
        for item in admitted:
            if isinstance(item, Skipped):
                skipped += 1
                if item.malformed:
                    # The reason names fields and ids (no message text): detail for the log,
                    # one bounded label for the metric.
                    SKIPPED_EVENTS.labels(self.platform, MALFORMED_REASON).inc()
                    logger.warning(
                        "%s: skipped a malformed item %s: %s",
                        self.platform,
                        item.key or "-",
                        item.reason[:500],
                    )
                    continue
                SKIPPED_EVENTS.labels(self.platform, reason_label(item.reason)).inc()
                logger.debug("%s: skipped %s: %s", self.platform, item.key or "-", item.reason)
            elif self.inbox.add(item):
                stored += 1
                self._count_stored(item)
            else:
                duplicates += 1
                DUPLICATE_EVENTS.labels(self.platform).inc()
                logger.info("%s inbound: duplicate delivery of %s", self.platform, item.dedupe_key)
        return Accepted(stored=stored, duplicates=duplicates, skipped=skipped)

    def _count_stored(self, item: SocialEvent) -> None:
        context = item.context
        INBOUND_EVENTS.labels(self.platform, context.visibility.value, context.source.value).inc()
        if item.text == CONTINUE_FROM_PUBLIC:
            PRIVATE_ARRIVALS.labels(self.platform).inc()
        # DEBUG: at INFO, writing this line cost a tenth of a delivery's time; the counters above
        # have the figures, the worker's "processed" line each event.
        logger.debug(
            "%s inbound: source=%s visibility=%s stored",
            self.platform,
            context.source.value,
            context.visibility.value,
        )

    def user_message(self, record: InboxRecord) -> UserMessage:
        """The Rasa message of a stored event, answered through its own output channel.

        Its ``message_id`` is the event's dedupe key; a replayed event (tried before: a crash, a
        failure) does not send again what its turn sent the first time. When the event was
        understood with others of its batch (``prepare``), the message carries what Rasa's
        NLU made of it.
        """
        output = self.output_channel_for(record.event)
        if isinstance(output, SocialOutputChannel):
            output.bind_turn(record.dedupe_key, replay=record.attempts > 0)
        return self._rasa_message(record, output, self._parsed.pop(record.id, None))

    def _rasa_message(
        self,
        record: InboxRecord,
        output: OutputChannel | None = None,
        parse_data: dict[str, Any] | None = None,
    ) -> UserMessage:
        event = record.event
        return UserMessage(
            text=event.text,
            output_channel=output,
            sender_id=event.sender_id,
            input_channel=self.name(),
            message_id=record.dedupe_key,
            metadata=event.metadata(),
            parse_data=parse_data,
        )

    async def prepare(self, records: list[InboxRecord]) -> None:
        """Understands the texts of a batch of claimed events in passes of Rasa's NLU of at
        most ``PARSE_BATCH`` (each turn then uses its result); one event alone is left to Rasa."""
        firsts = [record for record in records if record.attempts == 0 and record.event.text]
        if self._parser is None or len(firsts) < 2:
            return
        for start in range(0, len(firsts), PARSE_BATCH):
            batch = firsts[start : start + PARSE_BATCH]
            if len(batch) < 2:
                break
            parsed = self._parser.parse([self._rasa_message(record) for record in batch])
            if parsed is None:
                return
            self._parsed.update(zip((record.id for record in batch), parsed, strict=True))
            logger.debug("%s: %d messages understood in one pass", self.platform, len(parsed))
            BOT_THREAD.checkpoint()  # a pass holds the interpreter: webhooks get their turn

    async def handled_before(self, record: InboxRecord) -> bool:
        """True when Rasa's tracker already holds this event's turn (the process died after
        saving it, before the inbox heard): it is not handed to the bot again."""
        if record.attempts == 0 or self._tracker_store is None:
            return False
        tracker = await self._tracker_store.retrieve(record.sender_id)
        if tracker is None:
            return False
        return any(
            isinstance(event, UserUttered) and event.message_id == record.dedupe_key
            for event in reversed(tracker.events)
        )

    def make_worker(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> InboxWorker:
        """The inbox worker that feeds this platform's stored events to Rasa."""

        async def handle(record: InboxRecord) -> None:
            BOT_THREAD.checkpoint()
            try:
                if await self.handled_before(record):
                    logger.info("inbox event %s was answered before a restart: done", record.id)
                    return
                await on_new_message(self.user_message(record))
            finally:
                self._parsed.pop(record.id, None)

        return InboxWorker(
            self.inbox,
            handle,
            platform=self.platform,
            concurrency=self._worker_concurrency,
            lease=self._lease,
            retry=self._retry,
            prepare=self.prepare,
            batch_size=self._worker_batch,
        )

    async def _start_worker(self) -> None:
        if self.worker is not None:
            self.worker.start()
            self.worker.notify()  # events left from before a restart

    async def stop_worker(self) -> None:
        """Stops the inbox worker (on the bot's thread) after the events in flight; idempotent."""
        worker, self.worker = self.worker, None
        if worker is not None:
            await BOT_THREAD.run(worker.stop())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` health, ``GET /webhook`` platform check, ``POST /webhook`` deliveries."""
        channel = self
        webhook = Blueprint(f"{self.name()}_webhook", __name__)

        @webhook.listener("after_server_start")
        async def skip_dropped_access_logs(app: Any, _loop: Any) -> None:
            # Sanic builds an access log entry for every request (its URL, its client) before
            # the logger drops it: Rasa leaves the access logger at ERROR unless
            # LOG_LEVEL_LIBRARIES says otherwise. Nothing would be written: nothing is built.
            if not access_logger.isEnabledFor(logging.INFO):
                app.config.ACCESS_LOG = False

        @webhook.listener("after_server_start")
        async def start_worker(app: Any, _loop: Any) -> None:
            # The worker, and Rasa through it, runs on the bot's thread (channels.bot_thread):
            # this loop stays free for the webhooks.
            agent = getattr(app.ctx, "agent", None)
            share_agent(agent, asyncio.get_running_loop())
            channel._tracker_store = getattr(agent, "tracker_store", None)
            channel._parser = BatchParser(agent) if agent is not None else None
            fail_loudly(channel._tracker_store)  # a failed read or save retries the event
            channel.worker = channel.make_worker(on_new_message)
            BOT_THREAD.acquire()
            await BOT_THREAD.run(channel._start_worker())

        @webhook.listener("before_server_stop")
        async def stop_worker(_app: Any, _loop: Any) -> None:
            await channel.stop_worker()
            BOT_THREAD.release()

        @webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def check(request: Request) -> HTTPResponse:
            query = {key: request.args.get(key) for key in request.args}
            try:
                return channel.challenge(query)
            except InboundError as error:
                logger.warning("%s webhook check refused: %s", channel.platform, error)
                return error_response(error)

        # Streamed: the size limit is applied while the body arrives, not once it is in memory.
        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            started = time.perf_counter()
            # A platform's servers call this, never a browser: Rasa's CORS middleware (a tenth
            # of the server loop's time per delivery) has nothing to add to the answer.
            setattr(request.ctx, SANIC_CORS_EVALUATED, "1")
            try:
                body = await channel.read_body(request)
                accepted = await channel.accept(body, request.headers)
            except InboundError as error:
                REFUSED_DELIVERIES.labels(channel.platform, str(error.status)).inc()
                logger.warning(
                    "%s delivery refused with %d: %s", channel.platform, error.status, error
                )
                return error_response(error)
            except SocialCareError:
                # The store is down: 503 makes the platform deliver again later; nothing is lost.
                logger.exception("%s delivery could not be stored", channel.platform)
                return response.json({"error": "temporarily unavailable"}, status=503)
            elapsed = since(started)
            WEBHOOK_SECONDS.labels(channel.platform).observe(elapsed)
            # Each stored event and each duplicate has its INFO line already; the timing is in
            # the social_webhook_seconds histogram.
            answer = accepted.as_json()
            logger.debug(
                "%s delivery: %s in %.1f ms", channel.platform, json.dumps(answer), elapsed * 1000
            )
            return response.json(answer)

        return webhook
