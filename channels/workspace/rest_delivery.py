"""``RestChannelDelivery``: agents' replies to conversations without a social platform.

Rasa's REST channel answers each request and cannot push later: the agent's private reply reaches
the consumer as a bot message in the conversation's tracker (the workspace appends it for every
platform), and is pushed through the conversation's output channel where that can push (a custom
channel of the same name that gives one). There is nothing public on this channel.
"""

from __future__ import annotations

from bot.errors import DeliveryUnsupported
from bot.handoff.delivery import Delivered
from channels.workspace.conversations import RasaConversations

__all__ = ["REST", "RestChannelDelivery"]

REST = "rest"


class RestChannelDelivery:
    """The ``AgentDelivery`` of conversations without a social context."""

    def __init__(self, conversations: RasaConversations) -> None:
        self._conversations = conversations

    async def reply_private(self, conversation_id: str, text: str) -> Delivered:
        """Pushes the reply where the channel can; the tracker carries it in any case."""
        pushed = await self._conversations.push(conversation_id, {"text": text})
        return Delivered(
            kind="message" if pushed else "tracker", target_id=conversation_id, text=text
        )

    async def reply_public(
        self, conversation_id: str, in_reply_to: str, text: str, mention: bool
    ) -> Delivered:
        """Refused: the REST channel has no public messages."""
        raise self._unsupported("a public reply")

    async def like(self, conversation_id: str, object_id: str) -> Delivered:
        """Refused: the REST channel has no public messages."""
        raise self._unsupported("a like")

    async def send_cta(self, conversation_id: str, in_reply_to: str) -> Delivered:
        """Refused: the REST channel has no public messages."""
        raise self._unsupported("an invitation to continue in private")

    @staticmethod
    def _unsupported(what: str) -> DeliveryUnsupported:
        return DeliveryUnsupported(
            f"{what} is not possible here: the REST channel has no public messages",
            platform=REST,
        )
