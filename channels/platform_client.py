"""``PlatformClient``: the one place where a platform's HTTP answers become our exceptions.

One ``httpx.AsyncClient`` per platform app, explicit timeouts, an injectable transport (tests use
``httpx.MockTransport``; by default aiohttp's connections, ``channels.aiohttp_transport``).
``call()`` logs one INFO line per attempt (platform, kind, status, elapsed; never tokens or
bodies), retries transient failures with exponential backoff (a ``RateLimited`` waits at least
its ``retry_after``), and raises permanent ones at once. Each platform subclass provides
``error_for``, its table from (status, payload) to ``bot.errors``.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from bot.errors import PlatformError, RateLimited, TransientPlatformError
from bot.metrics import CALL_SECONDS, OUTBOUND_CALLS
from channels.aiohttp_transport import AiohttpTransport

__all__ = ["CallRetry", "PlatformClient"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallRetry:
    """How often and how long a call is retried after a transient failure.

    Attributes:
        attempts: tries in all.
        first_delay: seconds before the second try; doubled for each further try.
        max_delay: the longest backoff between two tries.
        max_wait: a rate limit asking to wait longer than this is raised, not waited out.
    """

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 60.0

    def delay(self, attempt: int, error: TransientPlatformError) -> float | None:
        """Seconds to wait after failed try number ``attempt`` (1-based), or None to give up."""
        if attempt >= self.attempts:
            return None
        backoff = min(self.max_delay, self.first_delay * 2.0 ** (attempt - 1))
        if isinstance(error, RateLimited):
            if error.retry_after > self.max_wait:
                return None
            return max(backoff, error.retry_after)
        return backoff


class PlatformClient(abc.ABC):
    """The HTTP client of one platform app.

    Args:
        base_url: the API root (the real platform, or the sandbox).
        timeout: seconds for each request (connect: at most 5).
        transport: an httpx transport to use instead of aiohttp's connections (tests).
        retry: how transient failures are retried.
        sleep: how to wait between tries (tests pass a fake clock).
    """

    platform: ClassVar[str] = ""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: CallRetry | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout, connect=min(5.0, timeout))
        self._transport = transport
        self.retry = retry or CallRetry()
        self._sleep = sleep
        # One client per event loop (the bot's thread and the server's), created on first use:
        # an httpx client's connections belong to the loop that opened them.
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    @property
    def is_open(self) -> bool:
        """True while a client of some loop holds connections (until ``aclose()``)."""
        return any(not client.is_closed for client in self._clients.values())

    @property
    def http(self) -> httpx.AsyncClient:
        """The client of the running event loop, created on first use."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=self._timeout,
                transport=self._transport or AiohttpTransport(),
            )
            self._clients[loop] = client
        return client

    @abc.abstractmethod
    def error_for(self, response: httpx.Response) -> PlatformError | None:
        """None when ``response`` is a success, else the typed error it means."""

    async def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Makes one API call, retrying transient failures.

        Args:
            kind: a short label for logs and metrics (``send``, ``comment``, ``tweet``, ``dm``...).

        Raises:
            PermanentPlatformError: at once, when retrying cannot help.
            TransientPlatformError: when every try failed.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(kind, method, path, json, params, headers)
            except TransientPlatformError as error:
                delay = self.retry.delay(attempt, error)
                if delay is None:
                    raise
                logger.warning(
                    "%s %s failed (attempt %d), retrying in %.1f s: %s",
                    self.platform,
                    kind,
                    attempt,
                    delay,
                    error,
                )
                await self._sleep(delay)

    async def _attempt(
        self,
        kind: str,
        method: str,
        path: str,
        json: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self.http.request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.TimeoutException as exc:
            self._log(kind, "timeout", started)
            raise TransientPlatformError(
                f"{kind}: no answer within the timeout", platform=self.platform
            ) from exc
        except httpx.TransportError as exc:
            self._log(kind, "unreachable", started)
            raise TransientPlatformError(
                f"{kind}: cannot reach {self.base_url} ({type(exc).__name__})",
                platform=self.platform,
            ) from exc
        self._log(kind, str(response.status_code), started)
        error = self.error_for(response)
        if error is not None:
            raise error
        return response

    def _log(self, kind: str, status: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        OUTBOUND_CALLS.labels(self.platform, kind, status).inc()
        CALL_SECONDS.labels(self.platform, kind).observe(elapsed)
        logger.info(
            "%s outbound: kind=%s status=%s elapsed_ms=%.0f",
            self.platform,
            kind,
            status,
            elapsed * 1000,
        )

    async def aclose(self) -> None:
        """Closes the HTTP clients (their connections), each on its own loop."""
        clients, self._clients = self._clients, {}
        current = asyncio.get_running_loop()
        for loop, client in clients.items():
            if loop is current:
                await client.aclose()
            elif loop.is_running():
                closing = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
                await asyncio.wrap_future(closing)
