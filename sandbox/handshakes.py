"""The verification handshakes the platforms perform when a webhook is set.

Meta: ``GET webhook?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C`` must answer 200 with
body ``C``. X: ``GET webhook?crc_token=T`` must answer 200 with JSON
``{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, T))}``. The sandbox starts
before Rasa, so each handshake is retried in the background until the webhook answers correctly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import httpx

from sandbox.clock import Clock
from sandbox.config import SandboxConfig
from sandbox.records import HandshakeStatus
from sandbox.signing import crc_response_token

__all__ = ["Handshakes", "check_facebook", "check_x"]

logger = logging.getLogger(__name__)


async def check_facebook(http: httpx.AsyncClient, url: str, verify_token: str) -> str | None:
    """Performs Meta's verification GET once; returns what was wrong, or None when it passed."""
    challenge = str(secrets.randbelow(10**9))
    params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
    response = await http.get(url, params=params, timeout=10)
    if response.status_code != 200:
        return f"answered HTTP {response.status_code}, expected 200"
    if response.text != challenge:
        return f"answered {response.text[:60]!r}, expected the challenge {challenge!r}"
    return None


async def check_x(http: httpx.AsyncClient, url: str, consumer_secret: str) -> str | None:
    """Performs X's CRC check once; returns what was wrong, or None when it passed."""
    token = secrets.token_urlsafe(24)
    response = await http.get(url, params={"crc_token": token}, timeout=10)
    if response.status_code != 200:
        return f"answered HTTP {response.status_code}, expected 200"
    try:
        answered = response.json().get("response_token")
    except (ValueError, AttributeError):
        return f"answered {response.text[:60]!r}, expected JSON with response_token"
    if answered != crc_response_token(consumer_secret, token):
        return f"response_token {answered!r} is not the HMAC of the crc_token"
    return None


class Handshakes:
    """Runs both handshakes until they pass, and keeps their status."""

    def __init__(self, http: httpx.AsyncClient, config: SandboxConfig, clock: Clock) -> None:
        self.http = http
        self.config = config
        self.clock = clock
        self.status = {
            "facebook": HandshakeStatus("facebook", config.facebook_webhooks[0]),
            "x": HandshakeStatus("x", config.x_webhooks[0]),
        }
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """(Re)starts both handshakes in the background, from pending."""
        self.cancel()
        for platform in self.status:
            self.status[platform] = HandshakeStatus(platform, self.status[platform].url)
            self._tasks.append(asyncio.create_task(self._until_verified(platform)))

    def cancel(self) -> None:
        """Stops the handshakes still retrying."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def stop(self) -> None:
        """Stops the handshakes and waits for them to end."""
        tasks = list(self._tasks)
        self.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _once(self, platform: str) -> str | None:
        status = self.status[platform]
        try:
            if platform == "facebook":
                return await check_facebook(
                    self.http, status.url, self.config.facebook_verify_token
                )
            return await check_x(self.http, status.url, self.config.x_consumer_secret)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    async def _until_verified(self, platform: str) -> None:
        status = self.status[platform]
        while True:
            status.attempts += 1
            problem = await self._once(platform)
            if problem is None:
                status.state, status.last_error, status.verified_at = "ok", None, self.clock.now()
                logger.info("%s webhook %s verified", platform, status.url)
                return
            if status.attempts == 1 or status.last_error != problem:
                logger.info("%s webhook %s not verified yet: %s", platform, status.url, problem)
            status.state, status.last_error = "pending", problem
            await asyncio.sleep(self.config.handshake_interval_s)
