"""The registry of agents' deliveries per platform."""

from __future__ import annotations

import pytest

from bot.errors import DeliveryUnsupported
from bot.handoff.delivery import AgentDelivery, Delivered, DeliveryRegistry


class Recorder:
    def __init__(self, name: str) -> None:
        self.name = name

    async def reply_private(self, conversation_id: str, text: str) -> Delivered:
        return Delivered("message", conversation_id, text=f"{self.name}:{text}")

    async def reply_public(
        self, conversation_id: str, in_reply_to: str, text: str, mention: bool
    ) -> Delivered:
        return Delivered("comment", in_reply_to, text=text)

    async def like(self, conversation_id: str, object_id: str) -> Delivered:
        return Delivered("like", object_id)

    async def send_cta(self, conversation_id: str, in_reply_to: str) -> Delivered:
        return Delivered("comment", in_reply_to)


async def test_a_registered_delivery_serves_its_platform() -> None:
    registry = DeliveryRegistry()
    delivery: AgentDelivery = Recorder("fb")
    registry.register("facebook", delivery)

    sent = await registry.get("facebook").reply_private("facebook:1:2", "hello")

    assert sent == Delivered("message", "facebook:1:2", text="fb:hello")
    assert registry.platforms() == ["facebook"]


def test_a_fallback_does_not_replace_a_delivery_registered_first() -> None:
    registry = DeliveryRegistry()
    real, fallback = Recorder("real"), Recorder("fallback")
    registry.register("rest", real)

    registry.register("rest", fallback, replace=False)

    assert registry.get("rest") is real


def test_an_unknown_platform_says_which_ones_are_there() -> None:
    registry = DeliveryRegistry()
    registry.register("rest", Recorder("rest"))

    with pytest.raises(
        DeliveryUnsupported, match=r"no delivery is registered for 'twitter' \(registered: rest\)"
    ):
        registry.get("twitter")
