"""Routing rules: which human skill gets which conversation (``routing.yml``)."""

from bot.routing.engine import Router, RoutingDecision
from bot.routing.loader import DomainNames, load_routing
from bot.routing.model import RoutingContext, RoutingFile, Skill

__all__ = [
    "DomainNames",
    "Router",
    "RoutingContext",
    "RoutingDecision",
    "RoutingFile",
    "Skill",
    "load_routing",
]
