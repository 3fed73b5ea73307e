"""``WorkspaceInput``: the agents' workspace and its JSON API, served by the Rasa server.

Keyed in ``credentials.yml`` like any custom channel; its routes live under
``/webhooks/workspace/``::

    channels.workspace.WorkspaceInput:
      closing_response: utter_anything_else  # what the bot may ask after a close ("" : never)
      session_hours: 12                       # how long a browser session lasts
      sign_in_failures_per_agent: 5           # failed sign-ins allowed per agent name...
      sign_in_failures_per_address: 20        # ...and per client address...
      sign_in_window_minutes: 5               # ...in this window; beyond: 429 with Retry-After

The page (``/``) and its static files are public; every ``/api/...`` route needs a session cookie
(from ``POST /api/session``) or an ``Authorization: Bearer <token>`` header (``python -m bot
agents token NAME``): 401 without, 403 for another skill's queue or handoff, 400 naming what is
wrong with a request, never a stack trace. Live updates come as server-sent events from
``/api/events``, polled from the shared stores, so they work with several replicas.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.errors import (
    AccessDenied,
    ConfigurationError,
    HandoffConflict,
    HandoffNotFound,
    InvalidInput,
    NotAuthenticated,
    OutboundRefused,
    PermanentPlatformError,
    SignInThrottled,
    SocialCareError,
    StoreError,
    TransientPlatformError,
)
from bot.handoff.agents import AgentDirectory, AgentRecord, AgentStatus
from bot.handoff.clock import Clock, utcnow
from bot.handoff.delivery import DeliveryRegistry, default_registry
from bot.handoff.handoffs import HandoffStore
from bot.handoff.sign_in_limit import SignInLimit, SignInLimiter
from bot.identities import IdentityLinks
from bot.outbound import OutboundLog
from bot.routing import RoutingFile
from bot.runtime import shared_routing, shared_store
from bot.settings import process_environment
from bot.store import SocialStore
from channels.workspace.conversations import RasaConversations
from channels.workspace.live import stream_updates
from channels.workspace.requests import (
    CloseRequest,
    CtaRequest,
    LikeRequest,
    ReplyRequest,
    SignInRequest,
    StatusRequest,
    TransferRequest,
    parse_body,
)
from channels.workspace.rest_delivery import REST, RestChannelDelivery
from channels.workspace.service import Workspace

__all__ = ["COOKIE", "STATUS", "WorkspaceInput", "status_of"]

logger = logging.getLogger(__name__)

COOKIE = "workspace_session"
STATIC = Path(__file__).resolve().parent / "static"
_CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css"}

# Our errors as HTTP statuses, most specific first: the one place they become codes.
STATUS: tuple[tuple[type[SocialCareError], int], ...] = (
    (SignInThrottled, 429),
    (NotAuthenticated, 401),
    (AccessDenied, 403),
    (InvalidInput, 400),
    (HandoffNotFound, 404),
    (HandoffConflict, 409),
    (PermanentPlatformError, 422),  # the platform refuses; the message says why
    (OutboundRefused, 422),  # the rules refuse it (too long for X...); the message says why
    (TransientPlatformError, 502),  # the platform failed for now: try again
    (StoreError, 503),
)

Action = Callable[[Workspace, AgentRecord], Awaitable[Any]]
Body = TypeVar("Body", bound=BaseModel)


def status_of(error: SocialCareError) -> int:
    """The HTTP status that answers ``error``."""
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 500


def _error(error: SocialCareError) -> HTTPResponse:
    body: dict[str, Any] = {"error": str(error)}
    if isinstance(error, InvalidInput) and error.field:
        body["field"] = error.field
    if isinstance(error, HandoffConflict) and error.holder:
        body["holder"] = error.holder
    headers = {}
    if isinstance(error, SignInThrottled):
        body["retry_after"] = error.retry_after
        headers["Retry-After"] = str(error.retry_after)
    return response.json(body, status=status_of(error), headers=headers)


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    cookie: str | None = request.cookies.get(COOKIE)
    return cookie


def _cookie_path(request: Request) -> str:
    """The workspace's own path (``/webhooks/workspace``): the cookie goes nowhere else."""
    return request.path.rsplit("/api/session", 1)[0] or "/"


class WorkspaceInput(InputChannel):
    """The agents' workspace: a web page and a JSON API on the Rasa server.

    Args:
        endpoints: the endpoints file whose ``social_store.url`` names the social store.
        routing_file: the routing file (default: ``ROUTING_FILE``, else ``routing.yml``).
        closing_response: what the bot may ask after a close; None never asks.
        session_hours: how long a browser session lasts.
        sign_in_limit: failed sign-ins allowed per agent name and client address, and when.
        poll_seconds: how often live updates look for changes.
        store, routing, deliveries, clock: to use instead of the defaults (tests).
    """

    @classmethod
    def name(cls) -> str:
        return "workspace"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WorkspaceInput:
        """The channel of ``credentials.yml``'s ``channels.workspace.WorkspaceInput:`` section."""
        options = credentials or {}
        routing = options.get("routing")
        defaults = SignInLimit()
        limit = SignInLimit(
            per_agent=int(_number(options, "sign_in_failures_per_agent", defaults.per_agent)),
            per_address=int(_number(options, "sign_in_failures_per_address", defaults.per_address)),
            window=timedelta(
                minutes=_number(
                    options, "sign_in_window_minutes", defaults.window.total_seconds() / 60
                )
            ),
        )
        return cls(
            endpoints=Path(options.get("endpoints", "endpoints.yml")),
            routing_file=Path(routing) if routing else None,
            closing_response=options.get("closing_response", "utter_anything_else") or None,
            session_hours=_number(options, "session_hours", 12),
            sign_in_limit=limit,
        )

    def __init__(
        self,
        *,
        endpoints: Path = Path("endpoints.yml"),
        routing_file: Path | None = None,
        closing_response: str | None = "utter_anything_else",
        session_hours: float = 12.0,
        sign_in_limit: SignInLimit | None = None,
        poll_seconds: float = 1.0,
        store: SocialStore | None = None,
        routing: RoutingFile | None = None,
        deliveries: DeliveryRegistry | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._endpoints = endpoints
        self._routing_file = routing_file or Path(
            process_environment().get("ROUTING_FILE") or "routing.yml"
        )
        self._closing_response = closing_response
        self.session_ttl = timedelta(hours=session_hours)
        self.sign_in_limit = sign_in_limit or SignInLimit()
        self.poll_seconds = poll_seconds
        self._store = store
        self._routing = routing
        self.deliveries = deliveries or default_registry
        self._clock = clock
        self._workspaces: dict[int, Workspace] = {}

    def workspace(self, app: Sanic) -> Workspace:
        """The workspace of ``app`` (built on first use: the store, the routing file)."""
        built = self._workspaces.get(id(app))
        if built is not None:
            return built
        store = self._store or shared_store(self._endpoints)
        routing = self._routing or shared_routing(self._routing_file)
        conversations = RasaConversations(app)
        self.deliveries.register(REST, RestChannelDelivery(conversations), replace=False)
        built = Workspace(
            handoffs=HandoffStore(store, self._clock),
            agents=AgentDirectory(store, self._clock),
            routing=routing,
            conversations=conversations,
            deliveries=self.deliveries,
            outbound=OutboundLog(store),
            links=IdentityLinks(store),
            closing_response=self._closing_response,
            session_ttl=self.session_ttl,
            sign_in_limiter=SignInLimiter(store, self.sign_in_limit, self._clock),
            clock=self._clock,
        )
        self._workspaces[id(app)] = built
        return built

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The page, its static files, the JSON API and the live updates."""
        channel = self
        workspace_bp = Blueprint("workspace", __name__)

        async def answer(request: Request, action: Action, *, status: int = 200) -> HTTPResponse:
            started = time.perf_counter()
            try:
                workspace = channel.workspace(request.app)
                agent = await workspace.agent_for(_token(request))
                body = await action(workspace, agent)
            except SocialCareError as error:
                logger.info(
                    "workspace %s %s -> %d: %s",
                    request.method,
                    request.path,
                    status_of(error),
                    error,
                )
                return _error(error)
            except Exception:  # the outermost layer: log the traceback, show none
                logger.exception("workspace %s %s failed", request.method, request.path)
                return response.json({"error": "internal error; see the server log"}, status=500)
            logger.info(
                "workspace %s %s -> %d in %.1f ms",
                request.method,
                request.path,
                status,
                (time.perf_counter() - started) * 1000,
            )
            return response.json(body, status=status)

        @workspace_bp.route("/", methods=["GET"])
        async def page(_request: Request) -> HTTPResponse:
            return await response.file(STATIC / "index.html", mime_type=_CONTENT_TYPES[".html"])

        @workspace_bp.route("/static/<name:str>", methods=["GET"])
        async def static(_request: Request, name: str) -> HTTPResponse:
            path = STATIC / name
            if path.parent != STATIC or path.suffix not in _CONTENT_TYPES or not path.is_file():
                return response.json({"error": f"no static file {name!r}"}, status=404)
            return await response.file(path, mime_type=_CONTENT_TYPES[path.suffix])

        @workspace_bp.route("/api/session", methods=["POST"])
        async def sign_in(request: Request) -> HTTPResponse:
            try:
                workspace = channel.workspace(request.app)
                credentials = parse_body(SignInRequest, request.body)
                agent, token = await workspace.sign_in(
                    credentials.name, credentials.password, _client_address(request)
                )
                body = {"agent": await workspace.me(agent), "token": token}
            except SignInThrottled as error:
                logger.warning(
                    "workspace sign-in from %s throttled: %s",
                    _client_address(request) or "-",
                    error,
                )
                return _error(error)
            except SocialCareError as error:
                logger.info("workspace sign-in refused: %s", error)
                return _error(error)
            answered = response.json(body)
            answered.cookies[COOKIE] = token
            cookie = answered.cookies[COOKIE]
            cookie["httponly"] = True
            cookie["samesite"] = "Strict"
            cookie["path"] = _cookie_path(request)
            cookie["max-age"] = int(channel.session_ttl.total_seconds())
            if request.scheme == "https":
                cookie["secure"] = True
            return answered

        @workspace_bp.route("/api/session", methods=["DELETE"])
        async def sign_out(request: Request) -> HTTPResponse:
            async def end(workspace: Workspace, agent: AgentRecord) -> dict[str, Any]:
                await workspace.sign_out(_token(request) or "")
                return {"signed_out": agent.name}

            answered = await answer(request, end)
            if answered.status == 200:
                answered.cookies[COOKIE] = ""
                answered.cookies[COOKIE]["path"] = _cookie_path(request)
                answered.cookies[COOKIE]["max-age"] = 0
            return answered

        @workspace_bp.route("/api/me", methods=["GET"])
        async def me(request: Request) -> HTTPResponse:
            return await answer(request, lambda workspace, agent: workspace.me(agent))

        @workspace_bp.route("/api/me/status", methods=["PUT"])
        async def status(request: Request) -> HTTPResponse:
            async def change(workspace: Workspace, agent: AgentRecord) -> dict[str, Any]:
                wanted = parse_body(StatusRequest, request.body)
                return await workspace.set_status(agent, AgentStatus(wanted.status))

            return await answer(request, change)

        @workspace_bp.route("/api/queues", methods=["GET"])
        async def queues(request: Request) -> HTTPResponse:
            skill = request.args.get("skill") or None
            return await answer(request, lambda workspace, agent: workspace.queues(agent, skill))

        @workspace_bp.route("/api/handoffs/<handoff_id:int>", methods=["GET"])
        async def conversation(request: Request, handoff_id: int) -> HTTPResponse:
            return await answer(
                request, lambda workspace, agent: workspace.conversation(agent, handoff_id)
            )

        @workspace_bp.route("/api/handoffs/<handoff_id:int>/accept", methods=["POST"])
        async def accept(request: Request, handoff_id: int) -> HTTPResponse:
            return await answer(
                request, lambda workspace, agent: workspace.accept(agent, handoff_id)
            )

        def handoff_action(
            model: type[Body],
            operation: Callable[[Workspace, AgentRecord, int, Body], Awaitable[dict[str, Any]]],
            *,
            optional: bool = False,
        ) -> Callable[[Request, int], Coroutine[Any, Any, HTTPResponse]]:
            async def handle(request: Request, handoff_id: int) -> HTTPResponse:
                async def act(workspace: Workspace, agent: AgentRecord) -> dict[str, Any]:
                    body = parse_body(model, request.body, optional=optional)
                    return await operation(workspace, agent, handoff_id, body)

                return await answer(request, act)

            return handle

        for path, handler in (
            ("reply", handoff_action(ReplyRequest, Workspace.reply)),
            ("cta", handoff_action(CtaRequest, Workspace.send_cta)),
            ("like", handoff_action(LikeRequest, Workspace.like)),
            ("transfer", handoff_action(TransferRequest, Workspace.transfer)),
            ("close", handoff_action(CloseRequest, Workspace.close, optional=True)),
        ):
            workspace_bp.add_route(
                handler, f"/api/handoffs/<handoff_id:int>/{path}", methods=["POST"], name=path
            )

        @workspace_bp.route("/api/events", methods=["GET"])
        async def events(request: Request) -> HTTPResponse | None:
            return await channel._stream(request)

        return workspace_bp

    async def _stream(self, request: Request) -> HTTPResponse | None:
        """Server-sent events: ``queues`` when the queues change, ``conversation`` (id and
        version) when the conversation ``?handoff=ID`` changes, ``problem`` when the stream
        must end (access lost). ``?limit=N`` ends the stream after N events."""
        try:
            workspace = self.workspace(request.app)
            agent = await workspace.agent_for(_token(request))
            handoff_id = _int_arg(request, "handoff")
            limit = _int_arg(request, "limit") or 0
            if handoff_id is not None:
                await workspace.version(agent, handoff_id)  # 403 / 404 before streaming
        except SocialCareError as error:
            return _error(error)
        stream = await request.respond(
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        await stream_updates(
            stream,
            workspace,
            agent,
            handoff_id=handoff_id,
            limit=limit,
            poll_seconds=self.poll_seconds,
            status_of=status_of,
        )
        await stream.eof()
        return None


def _number(options: dict[str, Any], key: str, default: float) -> float:
    """A number above 0 of ``credentials.yml``'s workspace section."""
    try:
        value = float(options.get(key, default))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            "expected a number",
            file="credentials.yml",
            key=f"channels.workspace.WorkspaceInput.{key}",
        ) from exc
    if value <= 0:
        raise ConfigurationError(
            f"expected a number above 0, got {value:g}",
            file="credentials.yml",
            key=f"channels.workspace.WorkspaceInput.{key}",
        )
    return value


def _client_address(request: Request) -> str | None:
    """The client's address: from a trusted proxy's headers where Sanic is told to trust them
    (``SANIC_PROXIES_COUNT`` / ``SANIC_FORWARDED_SECRET``), else the peer of the connection."""
    address: str | None = request.remote_addr or request.ip or None
    return address


def _int_arg(request: Request, name: str) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInput(f"expected a whole number, got {value!r}", field=name) from exc
