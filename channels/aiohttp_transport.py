"""``AiohttpTransport``: httpx's client API over aiohttp's connections.

The platform clients speak httpx (one ``httpx.AsyncClient`` per app, tests inject
``httpx.MockTransport``). Under it, httpx's own transport parses HTTP in pure Python (h11): about
1.2 ms of CPU per Graph call on this project's machines, against 0.6 ms through aiohttp's C
parser, which Rasa already ships. Same requests, same responses (bodies are handed to httpx as
received, and it decodes them), same timeouts, and aiohttp's failures raised as httpx's:

    aiohttp / asyncio                          → httpx
    connection refused, DNS, TLS               → ConnectError
    no connection within the connect timeout   → ConnectTimeout
    no answer within the read timeout          → ReadTimeout
    connection dropped, truncated answer       → RemoteProtocolError / ReadError
    any other client failure                   → TransportError
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx

__all__ = ["AiohttpTransport"]

# Headers aiohttp computes from the request itself.
_COMPUTED = frozenset({b"host", b"content-length", b"transfer-encoding"})


def _timeout(extensions: Mapping[str, Any]) -> aiohttp.ClientTimeout:
    timeout = extensions.get("timeout") or {}
    connect = timeout.get("connect")
    pool = timeout.get("pool")
    return aiohttp.ClientTimeout(
        total=None,
        connect=None if connect is None and pool is None else (connect or 0) + (pool or 0),
        sock_connect=connect,
        sock_read=timeout.get("read"),
    )


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport whose connections are aiohttp's (one pool per transport).

    Create it, and use it, on one event loop (the pool belongs to the loop that opened it).

    Args:
        max_connections: connections open at once, as httpx's default limits.
        trust_env: use the ``HTTP(S)_PROXY`` variables, as httpx's default transport does.
    """

    def __init__(self, *, max_connections: int = 100, trust_env: bool = True) -> None:
        self._max_connections = max_connections
        self._trust_env = trust_env
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                auto_decompress=False,  # httpx decodes the body by its Content-Encoding
                trust_env=self._trust_env,
                skip_auto_headers=("User-Agent", "Accept-Encoding"),  # httpx sets its own
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Sends ``request`` and reads the whole answer."""
        session = self._open()
        headers = [
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in request.headers.raw
            if name.lower() not in _COMPUTED
        ]
        body = await request.aread()
        try:
            async with session.request(
                request.method,
                str(request.url),
                data=body or None,
                headers=headers,
                allow_redirects=False,
                timeout=_timeout(request.extensions),
            ) as answer:
                content = await answer.read()
                return httpx.Response(
                    answer.status,
                    headers=[
                        (name.decode("latin-1"), value.decode("latin-1"))
                        for name, value in answer.raw_headers
                    ],
                    content=content,
                    request=request,
                    extensions={"http_version": b"HTTP/1.1"},
                )
        except aiohttp.ServerTimeoutError as exc:
            if str(exc).startswith("Connection timeout"):
                raise httpx.ConnectTimeout(str(exc), request=request) from exc
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except asyncio.TimeoutError as exc:
            raise httpx.ReadTimeout("no answer within the timeout", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ServerDisconnectedError as exc:
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
            raise httpx.ReadError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(str(exc), request=request) from exc

    async def aclose(self) -> None:
        """Closes the pool's connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None
