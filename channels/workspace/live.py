"""Live updates of the workspace: server-sent events polled from the shared stores.

Polling the social store and Rasa's tracker store (not an in-process signal) keeps the updates
right with several ``rasa run`` replicas: whichever replica changed a queue, every agent's stream
sees it within a poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

from bot.errors import SocialCareError
from bot.handoff.agents import AgentRecord
from channels.workspace.service import Workspace

__all__ = ["EventStream", "queue_key", "sse", "stream_updates"]

logger = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0


class EventStream(Protocol):
    """Sanic's streaming response, as far as the updates use it."""

    async def send(self, data: str) -> None:
        """Writes a chunk."""
        ...


def sse(event: str, data: Any) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def queue_key(queues: dict[str, Any]) -> str:
    """What changes in the queues, without the waiting times that change every second."""
    fields = ("id", "status", "skill", "priority", "agent", "position")
    skills = [
        [
            skill["name"],
            skill["open"],
            skill["agents_online"],
            [[entry[name] for name in fields] for entry in skill["queued"]],
        ]
        for skill in queues["skills"]
    ]
    mine = [[entry[name] for name in fields[:5]] for entry in queues["mine"]]
    return json.dumps([skills, mine])


async def stream_updates(
    stream: EventStream,
    workspace: Workspace,
    agent: AgentRecord,
    *,
    handoff_id: int | None,
    limit: int,
    poll_seconds: float,
    status_of: Callable[[SocialCareError], int],
) -> None:
    """Sends ``queues`` when the agent's queues change and ``conversation`` (id and version)
    when the handoff ``handoff_id`` changes, until the client leaves or ``limit`` events went
    (0: no limit); ``problem`` when access is lost on the way."""
    sent, last_queues, last_version, quiet = 0, "", "", 0.0
    try:
        while not limit or sent < limit:
            queues = await workspace.queues(agent)
            if (key := queue_key(queues)) != last_queues:
                await stream.send(sse("queues", queues))
                sent, last_queues, quiet = sent + 1, key, 0.0
            if handoff_id is not None and (not limit or sent < limit):
                version = await workspace.version(agent, handoff_id)
                if version != last_version:
                    await stream.send(sse("conversation", {"id": handoff_id, "version": version}))
                    sent, last_version, quiet = sent + 1, version, 0.0
            if limit and sent >= limit:
                return
            if quiet >= KEEPALIVE_SECONDS:
                await stream.send(": still here\n\n")  # keeps proxies from closing the stream
                quiet = 0.0
            await asyncio.sleep(poll_seconds)
            quiet += poll_seconds
    except SocialCareError as error:
        await stream.send(sse("problem", {"error": str(error), "status": status_of(error)}))
    except (ConnectionError, asyncio.CancelledError):
        logger.debug("workspace: %s left the live updates", agent.name)
        raise
