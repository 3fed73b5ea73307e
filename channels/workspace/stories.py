"""``ConversationStories``: what an agent reads of a handed-over conversation.

The story of one handoff: its conversation and, on Facebook, the consumer's other side (a
commenter's public conversation and their Messenger one, linked in the social store), read from
Rasa's trackers; the sends that failed, from the outbound log; the handoff's audit trail. It also
knows the Messenger window and which conversation holds a given public message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

from rasa.shared.core.events import Event

from bot.errors import InvalidInput, OutsideMessagingWindow
from bot.handoff.clock import Clock
from bot.handoff.handoffs import HandoffRecord, HandoffStore
from bot.handoff.summary import visible_slots
from bot.handoff.transcript import last_private_message_at, timeline
from bot.handoff.window import MessagingWindow, messaging_window
from bot.identities import IdentityLinks
from bot.outbound import OutboundLog

__all__ = ["ConversationStories", "Conversations", "Story", "off_loop"]

T = TypeVar("T")


async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs a synchronous store call in a thread, off the event loop that serves every request."""
    return await asyncio.to_thread(function, *args, **kwargs)


class Conversations(Protocol):
    """Rasa's conversations as the workspace uses them (``RasaConversations``)."""

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every event, as JSON dicts."""
        ...

    async def slots(self, conversation_id: str) -> dict[str, Any]:
        """The current slot values."""
        ...

    async def append(self, conversation_id: str, events: Sequence[Event]) -> None:
        """Appends events under the conversation's lock."""
        ...

    async def say(self, conversation_id: str, response: str) -> str | None:
        """The bot says a domain response."""
        ...


@dataclass(frozen=True)
class Story:
    """A handoff's conversations (events per conversation id) and its failed sends."""

    events: dict[str, list[dict[str, Any]]]
    failed: list[dict[str, Any]]

    def version(self, record: HandoffRecord) -> str:
        """A marker that changes whenever the agent's view of the story would."""
        count = sum(len(events) for events in self.events.values())
        changed = record.updated_at.isoformat()
        return f"{record.status.value}:{record.agent_id}:{changed}:{count}:{len(self.failed)}"


class ConversationStories:
    """Reads the story of handoffs.

    Args:
        handoffs: the store's handoffs (audit trail, queue position).
        conversations: Rasa's conversations.
        outbound: the outbound log (failed sends); None shows none.
        links: identity links (a Facebook consumer's two sides); None shows one side.
        clock: the current time.
    """

    def __init__(
        self,
        handoffs: HandoffStore,
        conversations: Conversations,
        outbound: OutboundLog | None,
        links: IdentityLinks | None,
        clock: Clock,
    ) -> None:
        self._handoffs = handoffs
        self._conversations = conversations
        self._outbound = outbound
        self._links = links
        self._clock = clock

    def linked(self, record: HandoffRecord) -> list[str]:
        """The handoff's conversation, then the consumer's other side on Facebook, if linked."""
        ids = [record.conversation_id]
        parts = record.conversation_id.split(":")
        if self._links is None or len(parts) != 3 or parts[0] != "facebook":
            return ids
        platform, account, user = parts
        for link in (
            self._links.public_for(platform, account, user),
            self._links.private_for(platform, account, user),
        ):
            if link is None:
                continue
            other = link.public_user_id if link.private_user_id == user else link.private_user_id
            linked = f"{platform}:{account}:{other}"
            if linked not in ids:
                ids.append(linked)
        return ids

    async def gather(self, record: HandoffRecord) -> Story:
        """The events of every conversation of the handoff, and the sends that failed."""
        ids = await off_loop(self.linked, record)
        events = {
            conversation: await self._conversations.events(conversation) for conversation in ids
        }
        failed: list[dict[str, Any]] = []
        if self._outbound is not None:
            for conversation in ids:
                records = await off_loop(self._outbound.failures, conversation)
                failed += [asdict(item) for item in records]
        return Story(events, failed)

    async def version(self, record: HandoffRecord) -> str:
        """A marker that changes whenever ``view`` would."""
        return (await self.gather(record)).version(record)

    async def view(self, record: HandoffRecord, *, holds: bool) -> dict[str, Any]:
        """Who, why, what the bot understood, the messaging window and the whole story."""
        story = await self.gather(record)
        audit = await off_loop(self._handoffs.events, record.id)
        slots = await self._conversations.slots(record.conversation_id)
        position = await off_loop(self._handoffs.position, record)
        now = self._clock()
        steps = [
            {**asdict(entry), "agent": entry.agent_name, "at": entry.created_at} for entry in audit
        ]
        summary = record.summary
        return {
            "handoff": {**record.as_json(now), "position": position},
            "consumer": {
                **(summary.get("consumer") or {}),
                "platform": record.platform,
                "conversation_ids": list(story.events),
            },
            "reason": record.reason,
            "rule": record.rule,
            "routing": summary.get("routing") or {},
            "public_origin": summary.get("public_origin"),
            "understood": {
                "intents": summary.get("intents") or [],
                "entities": summary.get("entities") or {},
                "slots": visible_slots(slots),
            },
            "timeline": timeline(story.events, story.failed, steps),
            "window": self._window(record, story).as_json(),
            "version": story.version(record),
        }

    def _window(self, record: HandoffRecord, story: Story) -> MessagingWindow:
        events = [event for conversation in story.events.values() for event in conversation]
        last = last_private_message_at(events, record.platform)
        return messaging_window(record.platform, last, self._clock())

    async def check_window(self, record: HandoffRecord) -> None:
        """Raises ``OutsideMessagingWindow`` (saying why) when no private reply can go now."""
        if record.platform != "facebook":
            return
        window = self._window(record, await self.gather(record))
        if not window.is_open:
            raise OutsideMessagingWindow(window.explanation, platform=record.platform)

    async def public_message(
        self, record: HandoffRecord, event_id: str, field: str = "in_reply_to"
    ) -> str:
        """The conversation that holds the consumer's public message ``event_id``.

        Raises:
            InvalidInput: no conversation of the handoff has such a public message.
        """
        story = await self.gather(record)
        for item in timeline(story.events):
            if item.get("event_id") == event_id and item.get("visibility") == "public":
                return str(item["conversation_id"])
        raise InvalidInput(
            f"{event_id!r} is not a public message of this conversation", field=field
        )
