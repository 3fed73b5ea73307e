"""``HandoffStore``: handoffs, their queues and their audit trail; all their SQL lives here.

A handoff is ``queued`` in one skill's queue, ``assigned`` to the agent who accepted it, then
``closed`` by an agent or ``cancelled`` by the consumer while it waited. Every change is one
conditional ``UPDATE`` whose ``WHERE`` holds the state it starts from: when two agents accept
at once, the database lets exactly one of them change the row; the other is told who was faster.
Each change also writes a ``handoff_events`` row in the same transaction (the audit trail), and
adds to the metrics of ``bot.handoff.tallies`` (outcomes per skill, queue waits).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.errors import HandoffConflict, HandoffNotFound, StoreError
from bot.handoff.agents import AgentRecord, AgentStatus
from bot.handoff.availability import DEFAULT_HANDLE_TIME, SkillLoad
from bot.handoff.clock import Clock, aware, utcnow
from bot.handoff.records import (
    OPEN,
    HandoffEvent,
    HandoffRecord,
    HandoffStatus,
    NewHandoff,
    handoff_record,
)
from bot.handoff.tallies import (
    HandoffOutcome,
    HandoffTallies,
    count,
    observe_wait,
    queue_entry,
    read_tallies,
)
from bot.schema import agent_skills, agents, handoff_events, handoffs
from bot.store import SocialStore

# Adds to the metrics in a change's transaction, given the handoff's skill before the change.
Tally = Callable[[Connection, str], None]

__all__ = [
    "OPEN",
    "HandoffEvent",
    "HandoffRecord",
    "HandoffStatus",
    "HandoffStore",
    "NewHandoff",
]


_SELECT = select(handoffs, agents.c.name.label("agent_name")).select_from(
    handoffs.outerjoin(agents, handoffs.c.agent_id == agents.c.id)
)
_QUEUE_ORDER = (handoffs.c.priority, handoffs.c.queued_at, handoffs.c.id)


class HandoffStore:
    """The handoffs of the social store.

    Args:
        store: the social store.
        clock: the current time (tests pass a fixed one).
    """

    def __init__(self, store: SocialStore, clock: Clock = utcnow) -> None:
        self._engine = store.engine
        self._clock = clock

    # --- reading --------------------------------------------------------------------------

    def get(self, handoff_id: int) -> HandoffRecord:
        """The handoff with this id.

        Raises:
            HandoffNotFound: no such handoff.
        """
        found = self._select(_SELECT.where(handoffs.c.id == handoff_id), f"handoff {handoff_id}")
        if not found:
            raise HandoffNotFound(f"no handoff with id {handoff_id}")
        return found[0]

    def open_for(self, conversation_id: str) -> HandoffRecord | None:
        """The conversation's queued or assigned handoff, or None."""
        query = _SELECT.where(handoffs.c.open_conversation == conversation_id)
        found = self._select(query, f"the open handoff of {conversation_id}")
        return found[0] if found else None

    def for_conversation(self, conversation_id: str, limit: int = 20) -> list[HandoffRecord]:
        """The conversation's handoffs, newest first."""
        query = (
            _SELECT.where(handoffs.c.conversation_id == conversation_id)
            .order_by(handoffs.c.id.desc())
            .limit(limit)
        )
        return self._select(query, f"the handoffs of {conversation_id}")

    def queue(self, skills: Collection[str] | None = None) -> list[HandoffRecord]:
        """Queued handoffs (of ``skills``; all when None), most urgent and longest waiting first."""
        query = _SELECT.where(handoffs.c.status == HandoffStatus.QUEUED.value)
        if skills is not None:
            query = query.where(handoffs.c.skill.in_(list(skills)))
        return self._select(query.order_by(*_QUEUE_ORDER), "the queue")

    def assigned_to(self, agent_id: int) -> list[HandoffRecord]:
        """The handoffs an agent holds, oldest first."""
        query = _SELECT.where(
            handoffs.c.agent_id == agent_id, handoffs.c.status == HandoffStatus.ASSIGNED.value
        ).order_by(handoffs.c.assigned_at, handoffs.c.id)
        return self._select(query, f"the handoffs of agent {agent_id}")

    def position(self, record: HandoffRecord) -> int | None:
        """1 for the next in its queue; None when it is not queued."""
        if record.status is not HandoffStatus.QUEUED:
            return None
        ahead = or_(
            handoffs.c.priority < record.priority,
            and_(
                handoffs.c.priority == record.priority,
                or_(
                    handoffs.c.queued_at < record.queued_at,
                    and_(handoffs.c.queued_at == record.queued_at, handoffs.c.id < record.id),
                ),
            ),
        )
        query = select(func.count()).where(
            handoffs.c.status == HandoffStatus.QUEUED.value,
            handoffs.c.skill == record.skill,
            ahead,
        )
        try:
            with self._engine.connect() as connection:
                return int(connection.execute(query).scalar_one()) + 1
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the position of handoff {record.id} failed: {exc}") from exc

    def events(self, handoff_id: int) -> list[HandoffEvent]:
        """The handoff's audit trail, oldest first."""
        query = (
            select(handoff_events, agents.c.name.label("agent_name"))
            .select_from(handoff_events.outerjoin(agents, handoff_events.c.agent_id == agents.c.id))
            .where(handoff_events.c.handoff_id == handoff_id)
            .order_by(handoff_events.c.id)
        )
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the events of handoff {handoff_id} failed: {exc}") from exc
        return [
            HandoffEvent(
                id=row["id"],
                handoff_id=row["handoff_id"],
                kind=row["kind"],
                agent_name=row["agent_name"],
                detail=dict(row["detail"] or {}),
                created_at=aware(row["created_at"]),
            )
            for row in rows
        ]

    def loads(self, capacities: Mapping[str, int], recent: int = 20) -> dict[str, SkillLoad]:
        """How busy each skill is: agents online, their free slots, its queue, handle time.

        Args:
            capacities: each skill's ``capacity_per_agent``.
            recent: how many recently closed handoffs give the average handle time.
        """
        names = list(capacities)
        try:
            with self._engine.connect() as connection:
                online = connection.execute(
                    select(agent_skills.c.skill, agent_skills.c.agent_id)
                    .join(agents, agents.c.id == agent_skills.c.agent_id)
                    .where(
                        agents.c.status == AgentStatus.ONLINE.value,
                        agent_skills.c.skill.in_(names),
                    )
                ).all()
                held = dict(
                    connection.execute(
                        select(handoffs.c.agent_id, func.count())
                        .where(handoffs.c.status == HandoffStatus.ASSIGNED.value)
                        .group_by(handoffs.c.agent_id)
                    ).all()
                )
                queued = dict(
                    connection.execute(
                        select(handoffs.c.skill, func.count())
                        .where(handoffs.c.status == HandoffStatus.QUEUED.value)
                        .group_by(handoffs.c.skill)
                    ).all()
                )
                handle = {name: _handle_time(connection, name, recent) for name in names}
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the load of the skills failed: {exc}") from exc
        result: dict[str, SkillLoad] = {}
        for name, capacity in capacities.items():
            members = [agent_id for skill, agent_id in online if skill == name]
            result[name] = SkillLoad(
                agents_online=len(members),
                free_slots=sum(max(0, capacity - held.get(agent_id, 0)) for agent_id in members),
                queued=queued.get(name, 0),
                handle_time=handle[name],
            )
        return result

    def tallies(self) -> HandoffTallies:
        """The handoff metrics: outcomes per skill, queue waits, the queues now."""
        try:
            with self._engine.connect() as connection:
                return read_tallies(connection)
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the handoff metrics failed: {exc}") from exc

    # --- changing -------------------------------------------------------------------------

    def create(self, new: NewHandoff) -> tuple[HandoffRecord, bool]:
        """Queues a handoff; the conversation's open handoff instead, if it has one.

        Returns:
            The handoff, and True when it was created now.
        """
        now = self._clock()
        row = {
            "conversation_id": new.conversation_id,
            "open_conversation": new.conversation_id,
            "platform": new.platform,
            "account_id": new.account_id,
            "visibility": new.visibility,
            "source": new.source,
            "skill": new.skill,
            "priority": new.priority,
            "rule": new.rule,
            "reason": new.reason,
            "summary": new.summary,
            "status": HandoffStatus.QUEUED.value,
            "created_at": now,
            "queued_at": now,
            "updated_at": now,
        }
        for _attempt in range(3):
            try:
                with self._engine.begin() as connection:
                    handoff_id = connection.execute(
                        insert(handoffs).values(**row)
                    ).inserted_primary_key[0]
                    _log(
                        connection, handoff_id, "created", None, now, skill=new.skill, rule=new.rule
                    )
                    count(connection, new.skill, HandoffOutcome.QUEUED)
            except IntegrityError:
                existing = self.open_for(new.conversation_id)
                if existing is not None:
                    return existing, False
                continue  # it was closed in between: insert again
            except SQLAlchemyError as exc:
                raise StoreError(
                    f"creating a handoff for {new.conversation_id} failed: {exc}"
                ) from exc
            return self.get(handoff_id), True
        raise StoreError(f"creating a handoff for {new.conversation_id} kept conflicting")

    def accept(
        self, handoff_id: int, agent: AgentRecord, capacity: int | None = None
    ) -> HandoffRecord:
        """Assigns a queued handoff to ``agent``, atomically: of two agents, one wins.

        Args:
            capacity: the most conversations the agent may hold (the skill's
                ``capacity_per_agent``); None: no limit.

        Raises:
            HandoffConflict: someone else was faster, the handoff is not queued, or the agent
                holds ``capacity`` conversations already.
            HandoffNotFound: no such handoff.
        """
        now = self._clock()
        conditions = [handoffs.c.id == handoff_id, handoffs.c.status == HandoffStatus.QUEUED.value]
        if capacity is not None:
            held = (
                select(func.count())
                .select_from(handoffs)
                .where(
                    handoffs.c.agent_id == agent.id,
                    handoffs.c.status == HandoffStatus.ASSIGNED.value,
                )
                .scalar_subquery()
            )
            conditions.append(held < capacity)
        changed = self._change(
            handoff_id,
            conditions,
            {"status": HandoffStatus.ASSIGNED.value, "agent_id": agent.id, "assigned_at": now},
            ("accepted", agent.id, {}),
            now,
            tally=lambda connection, skill: _accepted(connection, handoff_id, skill, now),
        )
        if changed:
            return self.get(handoff_id)
        current = self.get(handoff_id)
        if current.status is HandoffStatus.ASSIGNED:
            if current.agent_id == agent.id:
                return current  # a double click: it is yours already
            raise HandoffConflict(
                f"already taken by {current.agent_name}", holder=current.agent_name
            )
        if current.status is HandoffStatus.QUEUED and capacity is not None:
            raise HandoffConflict(
                f"you hold {capacity} conversations already, the most the {current.skill} "
                "skill allows: close one first"
            )
        raise HandoffConflict(f"the handoff is {current.status.value}")

    def transfer(
        self, handoff_id: int, agent: AgentRecord, skill: str, note: str | None
    ) -> HandoffRecord:
        """Puts the handoff back in a queue, of ``skill``, with a note for the next agent.

        The consumer keeps their place in line (``queued_at`` is kept).

        Raises:
            HandoffConflict: the handoff is closed, or assigned to another agent.
        """
        return self._release(
            handoff_id,
            agent,
            {
                "status": HandoffStatus.QUEUED.value,
                "skill": skill,
                "agent_id": None,
                "assigned_at": None,
                "transfer_note": note,
            },
            "transferred",
            {"to_skill": skill, "note": note},
            allow_queued=True,
            tally=lambda connection, left: _transferred(connection, left, skill),
        )

    def close(self, handoff_id: int, agent: AgentRecord) -> HandoffRecord:
        """Ends the handoff; the bot takes the conversation back.

        Raises:
            HandoffConflict: the handoff is closed already, or assigned to another agent.
        """
        now = self._clock()
        return self._release(
            handoff_id,
            agent,
            {
                "status": HandoffStatus.CLOSED.value,
                "open_conversation": None,
                "closed_at": now,
            },
            "closed",
            {},
            allow_queued=agent.is_admin,
            tally=lambda connection, skill: count(connection, skill, HandoffOutcome.CLOSED),
        )

    def cancel_queued(self, conversation_id: str) -> HandoffRecord | None:
        """The consumer leaves the queue; None when nothing was queued for the conversation.

        Raises:
            HandoffConflict: an agent accepted it already (``holder`` names them).
        """
        current = self.open_for(conversation_id)
        if current is None:
            return None
        now = self._clock()
        changed = self._change(
            current.id,
            [handoffs.c.id == current.id, handoffs.c.status == HandoffStatus.QUEUED.value],
            {"status": HandoffStatus.CANCELLED.value, "open_conversation": None, "closed_at": now},
            ("cancelled", None, {"by": "consumer"}),
            now,
            tally=lambda connection, skill: count(connection, skill, HandoffOutcome.CANCELLED),
        )
        if changed:
            return self.get(current.id)
        again = self.get(current.id)
        if again.status is HandoffStatus.ASSIGNED:
            raise HandoffConflict(f"already taken by {again.agent_name}", holder=again.agent_name)
        return None

    def record(self, handoff_id: int, kind: str, agent: AgentRecord | None, **detail: Any) -> None:
        """Adds a line to the audit trail (a reply, a like, a failed send...)."""
        try:
            with self._engine.begin() as connection:
                _log(
                    connection,
                    handoff_id,
                    kind,
                    agent.id if agent else None,
                    self._clock(),
                    **detail,
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"recording {kind} of handoff {handoff_id} failed: {exc}") from exc

    # --- helpers --------------------------------------------------------------------------

    def _release(
        self,
        handoff_id: int,
        agent: AgentRecord,
        values: dict[str, Any],
        kind: str,
        detail: dict[str, Any],
        *,
        allow_queued: bool,
        tally: Tally,
    ) -> HandoffRecord:
        now = self._clock()
        states = [HandoffStatus.ASSIGNED.value] + (
            [HandoffStatus.QUEUED.value] if allow_queued else []
        )
        conditions = [handoffs.c.id == handoff_id, handoffs.c.status.in_(states)]
        if not agent.is_admin:
            # The holder may release an assigned handoff; a queued one has no holder.
            conditions.append(
                or_(
                    handoffs.c.agent_id == agent.id, handoffs.c.status == HandoffStatus.QUEUED.value
                )
            )
        if self._change(handoff_id, conditions, values, (kind, agent.id, detail), now, tally=tally):
            return self.get(handoff_id)
        current = self.get(handoff_id)
        if current.status is HandoffStatus.ASSIGNED:
            raise HandoffConflict(
                f"the handoff is assigned to {current.agent_name}", holder=current.agent_name
            )
        if current.status is HandoffStatus.QUEUED:
            raise HandoffConflict("the handoff is waiting in the queue: accept it first")
        raise HandoffConflict(f"the handoff is {current.status.value} already")

    def _change(
        self,
        handoff_id: int,
        conditions: list[Any],
        values: dict[str, Any],
        event: tuple[str, int | None, dict[str, Any]],
        now: datetime,
        *,
        tally: Tally,
    ) -> bool:
        kind, agent_id, detail = event
        try:
            with self._engine.begin() as connection:
                skill = connection.execute(
                    select(handoffs.c.skill).where(handoffs.c.id == handoff_id)
                ).scalar_one_or_none()
                changed = connection.execute(
                    update(handoffs).where(*conditions).values(**values, updated_at=now)
                ).rowcount
                if changed:
                    _log(connection, handoff_id, kind, agent_id, now, **detail)
                    tally(connection, skill or "")
        except SQLAlchemyError as exc:
            raise StoreError(f"{kind} of handoff {handoff_id} failed: {exc}") from exc
        return bool(changed)

    def _select(self, query: Any, what: str) -> list[HandoffRecord]:
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading {what} failed: {exc}") from exc
        return [handoff_record(row) for row in rows]


def _log(
    connection: Connection,
    handoff_id: int,
    kind: str,
    agent_id: int | None,
    now: datetime,
    **detail: Any,
) -> None:
    connection.execute(
        insert(handoff_events).values(
            handoff_id=handoff_id,
            kind=kind,
            agent_id=agent_id,
            detail={key: value for key, value in detail.items() if value is not None},
            created_at=now,
        )
    )


def _accepted(connection: Connection, handoff_id: int, skill: str, now: datetime) -> None:
    count(connection, skill, HandoffOutcome.ACCEPTED)
    entered = queue_entry(connection, handoff_id)
    if entered is not None:
        observe_wait(connection, skill, (now - entered).total_seconds())


def _transferred(connection: Connection, left: str, skill: str) -> None:
    count(connection, left, HandoffOutcome.TRANSFERRED)
    count(connection, skill, HandoffOutcome.QUEUED)


def _handle_time(connection: Connection, skill: str, recent: int) -> timedelta:
    rows = connection.execute(
        select(handoffs.c.assigned_at, handoffs.c.closed_at)
        .where(
            handoffs.c.skill == skill,
            handoffs.c.status == HandoffStatus.CLOSED.value,
            handoffs.c.assigned_at.is_not(None),
        )
        .order_by(handoffs.c.closed_at.desc())
        .limit(recent)
    ).all()
    if not rows:
        return DEFAULT_HANDLE_TIME
    spans = [aware(closed) - aware(assigned) for assigned, closed in rows]
    return sum(spans, timedelta()) / len(spans)
