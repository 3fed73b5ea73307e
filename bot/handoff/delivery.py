"""``AgentDelivery``: how an agent's actions in the workspace reach the consumer's platform.

One delivery per platform (``facebook``, ``twitter``; ``rest`` for Rasa's REST channel) is
registered at start-up with ``register_delivery``; the workspace finds it with ``delivery_for``.
A delivery only delivers: the workspace checks the agent's rights and the messaging window
before, and after it appends the message to the conversation's tracker (origin ``agent``) and
records the outcome, sent or failed, in the outbound log.

Errors are ours (``bot.errors``): a ``PlatformError`` subclass says why the platform refused
(``OutsideMessagingWindow``, ``RecipientUnavailable``...), ``DeliveryUnsupported`` that the
channel cannot do it at all (a like on the REST channel). The workspace shows the message.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from bot.errors import DeliveryUnsupported

__all__ = [
    "AgentDelivery",
    "Delivered",
    "DeliveryRegistry",
    "default_registry",
    "delivery_for",
    "register_delivery",
]


@dataclass(frozen=True)
class Delivered:
    """What a delivery did.

    Attributes:
        kind: ``message``, ``dm``, ``comment``, ``tweet``, ``private_reply``, ``like``...
        target_id: where it went (PSID, comment id, tweet id, the conversation...).
        platform_message_id: the id the platform gave it, if any.
        text: the text as sent (a mention or a link may have been added), if any.
    """

    kind: str
    target_id: str | None = None
    platform_message_id: str | None = None
    text: str | None = None


class AgentDelivery(Protocol):
    """An agent's replies and actions on one platform.

    ``conversation_id`` is the Rasa sender id (``facebook:<page>:<user>``, ``twitter:<account>:
    <user>``, or the REST sender). Every method raises a ``bot.errors.PlatformError`` subclass
    when the platform refuses, e.g. ``OutsideMessagingWindow`` for a Messenger reply later than 7
    days after the consumer's last message (``HUMAN_AGENT`` tag), or ``DeliveryUnsupported``.
    """

    async def reply_private(self, conversation_id: str, text: str) -> Delivered:
        """Sends ``text`` to the consumer in private (Messenger, X DM, the REST conversation)."""
        ...

    async def reply_public(
        self, conversation_id: str, in_reply_to: str, text: str, mention: bool
    ) -> Delivered:
        """Answers the public message ``in_reply_to`` (a comment, post or tweet id) in public,
        naming the consumer first when ``mention`` is set."""
        ...

    async def like(self, conversation_id: str, object_id: str) -> Delivered:
        """Likes a public message of the consumer, as the brand."""
        ...

    async def send_cta(self, conversation_id: str, in_reply_to: str) -> Delivered:
        """Invites the consumer to continue in private, under their public message
        ``in_reply_to`` (the call to action, as the channel words it)."""
        ...


class DeliveryRegistry:
    """Which delivery serves which platform; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deliveries: dict[str, AgentDelivery] = {}

    def register(self, platform: str, delivery: AgentDelivery, *, replace: bool = True) -> None:
        """Makes ``delivery`` serve ``platform`` (unless one does and ``replace`` is False)."""
        with self._lock:
            if replace or platform not in self._deliveries:
                self._deliveries[platform] = delivery

    def get(self, platform: str) -> AgentDelivery:
        """The delivery of ``platform``.

        Raises:
            DeliveryUnsupported: none is registered for it.
        """
        with self._lock:
            delivery = self._deliveries.get(platform)
            known = sorted(self._deliveries)
        if delivery is None:
            raise DeliveryUnsupported(
                f"agents cannot reach {platform} conversations: no delivery is registered for "
                f"{platform!r} (registered: {', '.join(known) or 'none'})",
                platform=platform,
            )
        return delivery

    def platforms(self) -> list[str]:
        """The platforms with a delivery."""
        with self._lock:
            return sorted(self._deliveries)


default_registry = DeliveryRegistry()


def register_delivery(platform: str, delivery: AgentDelivery) -> None:
    """Registers the delivery of ``platform`` in the process's registry (at start-up)."""
    default_registry.register(platform, delivery)


def delivery_for(platform: str) -> AgentDelivery:
    """The process's delivery for ``platform``.

    Raises:
        DeliveryUnsupported: none is registered for it.
    """
    return default_registry.get(platform)
