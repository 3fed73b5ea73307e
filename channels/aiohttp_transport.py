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

Proxies come from ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` and ``NO_PROXY``, read when
the transport is made, as httpx reads them when its client is. Not through aiohttp's
``trust_env``: that reads the environment and ``~/.netrc`` again for every request (a file,
opened on the event loop), and a ``.netrc`` entry for a platform's host would replace the
request's own ``Authorization`` header.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpTransport"]

logger = logging.getLogger(__name__)

Proxy = tuple[URL | None, aiohttp.BasicAuth | None]
_DIRECT: Proxy = (None, None)

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
        trust_env: use the environment's proxies, as httpx's default transport does.
    """

    def __init__(self, *, max_connections: int = 100, trust_env: bool = True) -> None:
        self._max_connections = max_connections
        self._proxies = _environment_proxies() if trust_env else {}
        self._proxy_of: dict[tuple[str, str], Proxy] = {}
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                auto_decompress=False,  # httpx decodes the body by its Content-Encoding
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
        proxy, proxy_auth = self._proxy(request.url)
        try:
            async with session.request(
                request.method,
                str(request.url),
                data=body or None,
                headers=headers,
                allow_redirects=False,
                timeout=_timeout(request.extensions),
                proxy=proxy,
                proxy_auth=proxy_auth,
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

    def _proxy(self, url: httpx.URL) -> Proxy:
        """The proxy for ``url``'s host (and its credentials), or none: ``NO_PROXY`` is asked
        once per host."""
        key = (url.scheme, url.host)
        found = self._proxy_of.get(key)
        if found is None:
            proxy = self._proxies.get(url.scheme)
            if proxy is None or urllib.request.proxy_bypass(url.host):
                found = _DIRECT
            else:
                auth = aiohttp.BasicAuth(proxy.user, proxy.password or "") if proxy.user else None
                found = (proxy.with_user(None), auth)
            self._proxy_of[key] = found
        return found

    async def aclose(self) -> None:
        """Closes the pool's connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _environment_proxies() -> dict[str, URL]:
    """The environment's proxy of each scheme (``ALL_PROXY`` where a scheme has none of its
    own); aiohttp speaks to HTTP proxies only, so another kind is left out, and said."""
    found = urllib.request.getproxies()
    proxies: dict[str, URL] = {}
    for scheme in ("http", "https"):
        value = found.get(scheme) or found.get("all")
        if not value:
            continue
        proxy = URL(value if "://" in value else f"http://{value}")
        if proxy.scheme != "http":
            logger.warning("the %s proxy %s is not an HTTP proxy: not used", scheme, proxy.host)
            continue
        proxies[scheme] = proxy
    return proxies
