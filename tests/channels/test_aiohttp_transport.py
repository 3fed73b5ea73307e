"""httpx over aiohttp's connections, against a real local HTTP server."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from channels.aiohttp_transport import AiohttpTransport


class Recorder:
    """What the local server received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, object]] = []


async def _serve(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def server(recorder: Recorder) -> AsyncIterator[str]:
    async def echo(request: web.Request) -> web.Response:
        recorder.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        return web.json_response(
            {"recipient_id": "123", "message_id": "m_1"},
            status=200 if request.path != "/missing" else 404,
            headers={"x-app-usage": '{"call_count": 5}'},
        )

    async def zipped(_request: web.Request) -> web.Response:
        body = gzip.compress(json.dumps({"compressed": True}).encode())
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    async def dropped(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response(text="never sent")

    app = web.Application()
    app.router.add_get("/zipped", zipped)
    app.router.add_get("/slow", slow)
    app.router.add_get("/dropped", dropped)
    app.router.add_route("*", "/{tail:.*}", echo)
    async for url in _serve(app):
        yield url


async def test_a_request_and_its_answer_go_through_unchanged(
    server: str, recorder: Recorder
) -> None:
    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport()) as client:
        answer = await client.post(
            "/v19.0/me/messages",
            params={"access_token": "secret token"},
            json={"recipient": {"id": "123"}, "message": {"text": "héllo"}},
            headers={"X-Custom": "yes"},
        )

    assert answer.status_code == 200
    assert answer.json() == {"recipient_id": "123", "message_id": "m_1"}
    assert answer.headers["x-app-usage"] == '{"call_count": 5}'
    [seen] = recorder.requests
    assert (seen["method"], seen["path"]) == ("POST", "/v19.0/me/messages")
    assert seen["query"] == {"access_token": "secret token"}
    assert json.loads(seen["body"]) == {"recipient": {"id": "123"}, "message": {"text": "héllo"}}  # type: ignore[arg-type]
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["X-Custom"] == "yes"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("python-httpx/")


async def test_an_error_status_is_an_answer_not_an_exception(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport()) as client:
        answer = await client.get("/missing")

    assert answer.status_code == 404
    assert answer.json()["message_id"] == "m_1"


async def test_a_compressed_answer_is_decoded_by_httpx(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport()) as client:
        answer = await client.get("/zipped")

    assert answer.json() == {"compressed": True}


async def test_connections_are_reused(server: str, recorder: Recorder) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(base_url=server, transport=transport) as client:
        for _ in range(5):
            await client.get("/again")

    assert len(recorder.requests) == 5
    assert transport._session is None  # closed with the client


@pytest.mark.parametrize(
    ("path", "timeout", "error"),
    [
        ("/slow", httpx.Timeout(5.0, read=0.2), httpx.ReadTimeout),
        ("/dropped", httpx.Timeout(5.0), httpx.TransportError),
    ],
)
async def test_failures_are_httpx_s_own_errors(
    server: str, path: str, timeout: httpx.Timeout, error: type[Exception]
) -> None:
    async with httpx.AsyncClient(
        base_url=server, transport=AiohttpTransport(), timeout=timeout
    ) as client:
        with pytest.raises(error):
            await client.get(path)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nobody listens there once the probe closes


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport()) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{_closed_port()}/")


async def test_requests_go_through_the_environment_s_proxy_as_it_was_when_made(
    server: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.replace("http://", "http://relay:s3cret@"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    transport = AiohttpTransport()
    monkeypatch.delenv("HTTP_PROXY")  # read when the transport was made, as httpx does

    async with httpx.AsyncClient(transport=transport) as client:
        answer = await client.get("http://graph.invalid/v19.0/me")

    assert answer.status_code == 200
    [seen] = recorder.requests
    assert seen["path"] == "/v19.0/me"
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["Host"] == "graph.invalid"
    assert headers["Proxy-Authorization"] == "Basic cmVsYXk6czNjcmV0"  # relay:s3cret


async def test_no_proxy_hosts_are_reached_directly(
    server: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport()) as client:
        answer = await client.get("/direct")

    assert answer.status_code == 200
    assert [seen["path"] for seen in recorder.requests] == ["/direct"]


async def test_a_netrc_entry_does_not_replace_the_request_s_authorization(
    server: str, recorder: Recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password other\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport()) as client:
        await client.get("/2/users/me", headers={"Authorization": "Bearer app-token"})

    [seen] = recorder.requests
    headers = seen["headers"]
    assert isinstance(headers, dict)
    assert headers["Authorization"] == "Bearer app-token"
