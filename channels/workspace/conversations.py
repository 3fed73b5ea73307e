"""``RasaConversations``: the workspace's one door into Rasa's conversations.

Reads trackers from Rasa's tracker store, appends events under Rasa's per-conversation lock (so an
agent's message never interleaves with a consumer's turn, on one replica or several with Redis),
pushes an agent's message through the conversation's own output channel where it has one, and
lets the bot say one response (the closing question) after a handoff. It reaches Rasa through the
Sanic app Rasa runs: ``app.ctx.agent`` (tracker store, lock store, domain, NLG) and
``app.ctx.input_channels``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.shared.core.events import ActionExecuted, BotUttered, Event
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.errors import HandoffNotFound

__all__ = ["RasaConversations"]

logger = logging.getLogger(__name__)


class RasaConversations:
    """Rasa's trackers as the workspace needs them.

    Args:
        app: the Sanic app of ``rasa run`` (``app.ctx.agent`` is set once the model loaded).
    """

    def __init__(self, app: Sanic) -> None:
        self._app = app

    @property
    def _agent(self) -> Any:
        agent = getattr(self._app.ctx, "agent", None)
        if agent is None:
            raise HandoffNotFound("the Rasa agent is not loaded yet: try again in a moment")
        return agent

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every event of the conversation, across sessions, as JSON dicts (none if unknown)."""
        tracker = await self._agent.tracker_store.retrieve_full_tracker(conversation_id)
        if tracker is None:
            return []
        return [event.as_dict() for event in tracker.events]

    async def slots(self, conversation_id: str) -> dict[str, Any]:
        """The conversation's current slot values (none if unknown)."""
        tracker = await self._agent.tracker_store.retrieve(conversation_id)
        return {} if tracker is None else dict(tracker.current_slot_values())

    async def append(self, conversation_id: str, events: Sequence[Event]) -> None:
        """Appends events to the conversation, under its lock."""
        agent = self._agent
        async with agent.lock_store.lock(conversation_id):
            tracker = await self._tracker(conversation_id)
            tracker.update_with_events(list(events), agent.domain)
            await agent.tracker_store.save(tracker)

    async def push(self, conversation_id: str, message: dict[str, Any]) -> bool:
        """Sends ``message`` through the conversation's output channel, where it has one.

        Returns:
            False when the channel cannot push (Rasa's REST channel answers only requests):
            the consumer sees the message in the conversation's tracker.
        """
        tracker = await self._agent.tracker_store.retrieve(conversation_id)
        output = self._output_channel(tracker)
        if output is None:
            return False
        await output.send_response(conversation_id, message)
        return True

    async def say(self, conversation_id: str, response: str) -> str | None:
        """The bot says ``response`` (a domain response), as if it had predicted it.

        Returns:
            The text said, or None when the domain has no such response.
        """
        agent = self._agent
        async with agent.lock_store.lock(conversation_id):
            tracker = await self._tracker(conversation_id)
            output = self._output_channel(tracker)
            channel_name = output.name() if output is not None else "collector"
            message = await agent.nlg.generate(response, tracker, channel_name)
            if not message:
                logger.warning("the domain has no response %s to say", response)
                return None
            said = [
                ActionExecuted(response, policy="workspace", confidence=1.0),
                BotUttered(
                    message.get("text"),
                    data={key: value for key, value in message.items() if key != "text"},
                    metadata={"utter_action": response},
                ),
                ActionExecuted("action_listen"),
            ]
            tracker.update_with_events(said, agent.domain)
            await agent.tracker_store.save(tracker)
        if output is not None:
            await output.send_response(conversation_id, {**message, "utter_action": response})
        text = message.get("text")
        return str(text) if text is not None else None

    async def _tracker(self, conversation_id: str) -> DialogueStateTracker:
        return await self._agent.tracker_store.get_or_create_tracker(
            conversation_id, append_action_listen=False
        )

    def _output_channel(self, tracker: DialogueStateTracker | None) -> OutputChannel | None:
        name = tracker.get_latest_input_channel() if tracker is not None else None
        for channel in getattr(self._app.ctx, "input_channels", None) or []:
            if name is not None and channel.name() == name:
                output: OutputChannel | None = channel.get_output_channel()
                if output is not None:
                    return output
        return None
