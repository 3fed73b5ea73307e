"""Handoffs as the store holds them: their states, what creates one, one row, one audit line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.engine import RowMapping

from bot.handoff.clock import aware

__all__ = [
    "OPEN",
    "HandoffEvent",
    "HandoffRecord",
    "HandoffStatus",
    "NewHandoff",
    "handoff_record",
]


class HandoffStatus(str, Enum):
    """Where a handoff stands."""

    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN = (HandoffStatus.QUEUED.value, HandoffStatus.ASSIGNED.value)


@dataclass(frozen=True)
class NewHandoff:
    """What ``action_handoff`` knows when it hands a conversation over."""

    conversation_id: str
    platform: str  # facebook, twitter, rest
    visibility: str  # public, private
    skill: str
    priority: int
    reason: str  # request_human, bot_failed, ...
    summary: dict[str, Any] = field(default_factory=dict)
    rule: str | None = None  # the routing rule that matched; None: the default
    account_id: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class HandoffRecord:
    """One handoff as the store holds it (``agent_name``: who holds it, if assigned)."""

    id: int
    conversation_id: str
    platform: str
    account_id: str | None
    visibility: str
    source: str | None
    skill: str
    priority: int
    rule: str | None
    reason: str
    summary: dict[str, Any]
    status: HandoffStatus
    agent_id: int | None
    agent_name: str | None
    transfer_note: str | None
    created_at: datetime
    queued_at: datetime
    assigned_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        """Queued or assigned: a human owns (or will own) the conversation."""
        return self.status.value in OPEN

    def as_json(self, now: datetime) -> dict[str, Any]:
        """The handoff as the workspace API shows it, with its waiting time at ``now``."""
        end = self.assigned_at or self.closed_at or now
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "platform": self.platform,
            "account_id": self.account_id,
            "visibility": self.visibility,
            "source": self.source,
            "skill": self.skill,
            "priority": self.priority,
            "rule": self.rule,
            "reason": self.reason,
            "status": self.status.value,
            "agent": self.agent_name,
            "transfer_note": self.transfer_note,
            "consumer": self.summary.get("consumer") or {},
            "created_at": self.created_at.isoformat(),
            "queued_at": self.queued_at.isoformat(),
            "assigned_at": self.assigned_at.isoformat() if self.assigned_at else None,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "waiting_seconds": max(0, int((end - self.queued_at).total_seconds())),
        }


@dataclass(frozen=True)
class HandoffEvent:
    """One line of a handoff's audit trail."""

    id: int
    handoff_id: int
    kind: str
    agent_name: str | None
    detail: dict[str, Any]
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        """The event as the workspace API shows it."""
        return {
            "kind": self.kind,
            "agent": self.agent_name,
            "detail": self.detail,
            "at": self.created_at.isoformat(),
        }


def _optional(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None


def handoff_record(row: RowMapping) -> HandoffRecord:
    """A ``handoffs`` row (joined with the holder's name as ``agent_name``) as a record."""
    return HandoffRecord(
        id=row["id"],
        conversation_id=row["conversation_id"],
        platform=row["platform"],
        account_id=row["account_id"],
        visibility=row["visibility"],
        source=row["source"],
        skill=row["skill"],
        priority=row["priority"],
        rule=row["rule"],
        reason=row["reason"],
        summary=dict(row["summary"] or {}),
        status=HandoffStatus(row["status"]),
        agent_id=row["agent_id"],
        agent_name=row["agent_name"],
        transfer_note=row["transfer_note"],
        created_at=aware(row["created_at"]),
        queued_at=aware(row["queued_at"]),
        assigned_at=_optional(row["assigned_at"]),
        closed_at=_optional(row["closed_at"]),
        updated_at=aware(row["updated_at"]),
    )
