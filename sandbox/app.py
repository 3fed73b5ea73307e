"""The sandbox's web server: one Sanic app on one port for the APIs, the control API and the UI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, file

from sandbox.config import SandboxConfig
from sandbox.consumer_facebook import facebook_consumer_blueprint
from sandbox.consumer_x import x_consumer_blueprint
from sandbox.control import control_blueprint
from sandbox.core import Sandbox
from sandbox.graph_api import graph_blueprint
from sandbox.x_api import x_blueprint

__all__ = ["STATIC", "create_app"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"


def create_app(config: SandboxConfig, name: str = "sandbox") -> Sanic:
    """The app, with the sandbox started and stopped by the server's lifecycle."""
    sandbox = Sandbox(config)
    app = Sanic(name, configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.ctx.sandbox = sandbox
    for blueprint in (
        graph_blueprint(sandbox),
        x_blueprint(sandbox),
        control_blueprint(sandbox),
        facebook_consumer_blueprint(sandbox),
        x_consumer_blueprint(sandbox),
    ):
        app.blueprint(blueprint)
    app.static("/static", str(STATIC), name="static")

    @app.get("/")
    async def index(_request: Request) -> HTTPResponse:
        return await file(STATIC / "index.html", mime_type="text/html; charset=utf-8")

    async def start(_app: Sanic, _loop: Any) -> None:
        await sandbox.start()
        logger.info(
            "sandbox ready on http://%s:%d/ (Facebook webhook %s, X webhook %s)",
            config.host,
            config.port,
            config.facebook_webhook,
            config.x_webhook,
        )

    async def stop(_app: Sanic, _loop: Any) -> None:
        await sandbox.stop()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")

    return app
