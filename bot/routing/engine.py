"""``Router``: first matching rule wins, without scanning every rule.

Rules that name accounts are indexed by each account id; a decision looks only at the rules of
the context's account and the rules for any account, merged in file order. Each rule's conditions
are checked cheapest first. ``explain`` says, rule by rule, why each candidate did or did not
match.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass

from bot.routing.model import Route, RoutingContext, RoutingFile, RoutingRule, RuleConditions

__all__ = ["Router", "RoutingDecision", "mismatch"]


@dataclass(frozen=True)
class RoutingDecision:
    """Where a conversation goes and which rule sent it there (``None``: the default)."""

    skill: str
    priority: int
    rule: str | None
    rule_index: int | None


def _referral_matches(patterns: list[str], referral: str | None) -> bool:
    if referral is None:
        return False
    return any(
        referral.startswith(pattern[:-1]) if pattern.endswith("*") else referral == pattern
        for pattern in patterns
    )


def mismatch(when: RuleConditions, context: RoutingContext) -> str | None:
    """Why ``context`` does not meet ``when`` (the first failing condition), or ``None``."""
    checks: list[tuple[bool, str]] = [
        (when.platform is None or when.platform == context.platform, "platform"),
        (when.visibility is None or when.visibility == context.visibility, "visibility"),
        (when.accounts is None or context.account_id in when.accounts, "account"),
        (when.sources is None or context.source in when.sources, "source"),
        (when.intents is None or context.intent in when.intents, "intent"),
        (
            when.min_confidence is None or context.confidence >= when.min_confidence,
            "confidence",
        ),
        (when.languages is None or context.language in when.languages, "language"),
        (
            when.entities is None or set(when.entities) <= context.entities,
            "entities",
        ),
        (
            when.referrals is None or _referral_matches(when.referrals, context.referral),
            "referral",
        ),
        (
            when.slots is None
            or all(context.slots.get(name) == value for name, value in when.slots.items()),
            "slots",
        ),
    ]
    for holds, name in checks:
        if not holds:
            return name
    return None


class Router:
    """Decides the skill of a conversation from a validated ``RoutingFile``."""

    def __init__(self, routing: RoutingFile) -> None:
        self.routing = routing
        self.skills = {skill.name: skill for skill in routing.skills}
        self._by_account: dict[str, list[int]] = defaultdict(list)
        self._any_account: list[int] = []
        for index, rule in enumerate(routing.rules):
            if rule.when.accounts is None:
                self._any_account.append(index)
            else:
                for account in rule.when.accounts:
                    self._by_account[account].append(index)

    def candidates(self, context: RoutingContext) -> list[int]:
        """Indexes of the rules that could match, in file order."""
        specific = self._by_account.get(context.account_id or "", [])
        if not specific:
            return self._any_account
        return list(heapq.merge(specific, self._any_account))

    def decide(self, context: RoutingContext) -> RoutingDecision:
        """The first matching rule's route, else the default."""
        rules = self.routing.rules
        for index in self.candidates(context):
            rule = rules[index]
            if mismatch(rule.when, context) is None:
                return self._decision(rule.then, rule, index)
        return self._decision(self.routing.default, None, None)

    def explain(self, context: RoutingContext) -> tuple[RoutingDecision, list[str]]:
        """The decision and, for every rule considered, why it matched or not."""
        lines: list[str] = []
        considered = set(self.candidates(context))
        for index, rule in enumerate(self.routing.rules):
            if index not in considered:
                lines.append(f"rule {index + 1} {rule.name!r}: skipped (other accounts)")
                continue
            failed = mismatch(rule.when, context)
            if failed is None:
                lines.append(f"rule {index + 1} {rule.name!r}: MATCH -> {rule.then.skill}")
                return self._decision(rule.then, rule, index), lines
            lines.append(f"rule {index + 1} {rule.name!r}: no ({failed} does not match)")
        lines.append(f"default -> {self.routing.default.skill}")
        return self._decision(self.routing.default, None, None), lines

    @staticmethod
    def _decision(route: Route, rule: RoutingRule | None, index: int | None) -> RoutingDecision:
        return RoutingDecision(
            skill=route.skill,
            priority=route.priority,
            rule=rule.name if rule else None,
            rule_index=index,
        )
