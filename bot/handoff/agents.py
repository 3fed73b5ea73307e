"""``AgentDirectory``: the human agents, their skills, secrets and availability.

All SQL of the ``agents``, ``agent_skills`` and ``agent_tokens`` tables lives here. Passwords are
kept as scrypt hashes, session cookies and API tokens as SHA-256 digests (``passwords``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.errors import HandoffNotFound, InvalidInput, StoreError
from bot.handoff.clock import Clock, aware, utcnow
from bot.handoff.passwords import hash_password, new_token, token_digest, verify_password
from bot.schema import agent_skills, agent_tokens, agents
from bot.store import SocialStore

__all__ = ["AgentDirectory", "AgentRecord", "AgentStatus", "TokenKind"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SKILL = re.compile(r"^[a-z][a-z0-9_]*$")
# Compared against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


class AgentStatus(str, Enum):
    """Whether an agent takes new conversations."""

    ONLINE = "online"
    OFFLINE = "offline"


class TokenKind(str, Enum):
    """A browser session (expires) or an API token for integrations (until revoked)."""

    SESSION = "session"
    API = "api"


@dataclass(frozen=True)
class AgentRecord:
    """One agent as the directory holds it."""

    id: int
    name: str
    is_admin: bool
    status: AgentStatus
    skills: tuple[str, ...]
    has_password: bool

    def works(self, skill: str) -> bool:
        """True when the agent may see and take conversations of ``skill``."""
        return self.is_admin or skill in self.skills

    def as_json(self) -> dict[str, Any]:
        """The agent as the workspace API shows it (no secrets)."""
        return {
            "id": self.id,
            "name": self.name,
            "is_admin": self.is_admin,
            "status": self.status.value,
            "skills": list(self.skills),
        }


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise InvalidInput(
            f"expected 1 to 64 letters, digits, '_', '.' or '-', got {name!r}", field="name"
        )


def _check_skills(skills: Iterable[str], *, is_admin: bool) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(skills))
    for skill in unique:
        if not _SKILL.match(skill):
            raise InvalidInput(
                f"expected a skill name like care_private, got {skill!r}", field="skills"
            )
    if not unique and not is_admin:
        raise InvalidInput("expected at least one skill (or an admin)", field="skills")
    return unique


class AgentDirectory:
    """The agents of the social store.

    Args:
        store: the social store.
        clock: the current time (tests pass a fixed one).
    """

    def __init__(self, store: SocialStore, clock: Clock = utcnow) -> None:
        self._engine = store.engine
        self._clock = clock

    def add(
        self,
        name: str,
        skills: Iterable[str],
        *,
        password: str | None = None,
        is_admin: bool = False,
    ) -> AgentRecord:
        """Creates an agent (offline).

        Raises:
            InvalidInput: a bad name, skill or password, or the name is taken.
            StoreError: the store failed.
        """
        _check_name(name)
        unique = _check_skills(skills, is_admin=is_admin)
        try:
            hashed = hash_password(password) if password is not None else None
        except ValueError as exc:
            raise InvalidInput(str(exc), field="password") from exc
        now = self._clock()
        try:
            with self._engine.begin() as connection:
                agent_id = connection.execute(
                    insert(agents).values(
                        name=name,
                        password_hash=hashed,
                        is_admin=is_admin,
                        status=AgentStatus.OFFLINE.value,
                        created_at=now,
                        status_changed_at=now,
                    )
                ).inserted_primary_key[0]
                if unique:
                    connection.execute(
                        insert(agent_skills),
                        [{"agent_id": agent_id, "skill": skill} for skill in unique],
                    )
        except IntegrityError as exc:
            raise InvalidInput(f"an agent named {name!r} exists already", field="name") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"adding agent {name} failed: {exc}") from exc
        return self._require(agent_id)

    def get(self, agent_id: int) -> AgentRecord | None:
        """The agent with this id, or None."""
        return self._one(agents.c.id == agent_id)

    def by_name(self, name: str) -> AgentRecord | None:
        """The agent with this name, or None."""
        return self._one(agents.c.name == name)

    def all(self) -> list[AgentRecord]:
        """Every agent, by name."""
        return self._many(None)

    def authenticate(self, name: str, password: str) -> AgentRecord | None:
        """The agent when the name and password match, else None (in about the same time)."""
        try:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(agents.c.id, agents.c.password_hash).where(agents.c.name == name)
                ).first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading agent {name} failed: {exc}") from exc
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, row.password_hash):
            return None
        return self.get(row.id)

    def issue_token(self, agent_id: int, kind: TokenKind, ttl: timedelta | None = None) -> str:
        """A new secret for the agent (a session or an API token); only its digest is kept.

        Raises:
            HandoffNotFound: no such agent.
        """
        token = new_token()
        now = self._clock()
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(agent_tokens).values(
                        agent_id=agent_id,
                        digest=token_digest(token),
                        kind=kind.value,
                        created_at=now,
                        expires_at=now + ttl if ttl is not None else None,
                    )
                )
        except IntegrityError as exc:
            raise HandoffNotFound(f"no agent with id {agent_id}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"issuing a token for agent {agent_id} failed: {exc}") from exc
        return token

    def agent_for_token(self, token: str) -> AgentRecord | None:
        """The agent a session cookie or API token belongs to, unless it expired or is unknown."""
        query = select(agent_tokens.c.agent_id, agent_tokens.c.expires_at).where(
            agent_tokens.c.digest == token_digest(token)
        )
        try:
            with self._engine.connect() as connection:
                row = connection.execute(query).first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading a token failed: {exc}") from exc
        if row is None:
            return None
        if row.expires_at is not None and aware(row.expires_at) <= self._clock():
            return None
        return self.get(row.agent_id)

    def revoke_token(self, token: str) -> None:
        """Forgets a session cookie or API token."""
        self._write(
            delete(agent_tokens).where(agent_tokens.c.digest == token_digest(token)),
            "revoking a token",
        )

    def set_status(self, agent_id: int, status: AgentStatus) -> AgentRecord:
        """Marks the agent online (takes new conversations) or offline.

        Raises:
            HandoffNotFound: no such agent.
        """
        self._write(
            update(agents)
            .where(agents.c.id == agent_id)
            .values(status=status.value, status_changed_at=self._clock()),
            f"setting the status of agent {agent_id}",
        )
        return self._require(agent_id)

    def _require(self, agent_id: int) -> AgentRecord:
        agent = self.get(agent_id)
        if agent is None:
            raise HandoffNotFound(f"no agent with id {agent_id}")
        return agent

    def _write(self, statement: Any, what: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(statement)
        except SQLAlchemyError as exc:
            raise StoreError(f"{what} failed: {exc}") from exc

    def _one(self, condition: Any) -> AgentRecord | None:
        found = self._many(condition)
        return found[0] if found else None

    def _many(self, condition: Any) -> list[AgentRecord]:
        query = select(agents).order_by(agents.c.name)
        if condition is not None:
            query = query.where(condition)
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
                skills = _skills_of(connection, [row["id"] for row in rows])
        except SQLAlchemyError as exc:
            raise StoreError(f"reading agents failed: {exc}") from exc
        return [
            AgentRecord(
                id=row["id"],
                name=row["name"],
                is_admin=bool(row["is_admin"]),
                status=AgentStatus(row["status"]),
                skills=skills.get(row["id"], ()),
                has_password=row["password_hash"] is not None,
            )
            for row in rows
        ]


def _skills_of(connection: Connection, agent_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not agent_ids:
        return {}
    rows = connection.execute(
        select(agent_skills.c.agent_id, agent_skills.c.skill)
        .where(agent_skills.c.agent_id.in_(agent_ids))
        .order_by(agent_skills.c.skill)
    ).all()
    found: dict[int, list[str]] = {}
    for agent_id, skill in rows:
        found.setdefault(agent_id, []).append(skill)
    return {agent_id: tuple(names) for agent_id, names in found.items()}
