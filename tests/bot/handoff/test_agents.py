"""Agents, their secrets and status, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.errors import InvalidInput
from bot.handoff.agents import AgentDirectory, AgentStatus, TokenKind
from bot.handoff.passwords import ScryptCost, hash_password, token_digest, verify_password
from bot.schema import agent_tokens, agents
from bot.store import SocialStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 7, 12, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def directory(store: SocialStore, clock: Clock) -> AgentDirectory:
    return AgentDirectory(store, clock)


def test_an_agent_signs_in_with_the_password_and_only_that(directory: AgentDirectory) -> None:
    sam = directory.add("sam", ["care_private", "deliveries"], password="correct horse")

    assert directory.authenticate("sam", "correct horse") == sam
    assert directory.authenticate("sam", "wrong horse!") is None
    assert directory.authenticate("nobody", "correct horse") is None
    assert sam.skills == ("care_private", "deliveries")
    assert sam.status is AgentStatus.OFFLINE


def test_passwords_and_tokens_are_stored_hashed(
    directory: AgentDirectory, store: SocialStore
) -> None:
    sam = directory.add("sam", ["care_private"], password="correct horse")
    token = directory.issue_token(sam.id, TokenKind.API)

    with store.engine.connect() as connection:
        stored_hash = connection.execute(select(agents.c.password_hash)).scalar_one()
        digests = connection.execute(select(agent_tokens.c.digest)).scalars().all()

    assert "correct horse" not in stored_hash
    assert stored_hash.startswith("scrypt$")
    assert digests == [token_digest(token)]
    assert token not in digests


def test_a_session_expires_and_an_api_token_lasts_until_revoked(
    directory: AgentDirectory, clock: Clock
) -> None:
    sam = directory.add("sam", ["care_private"])
    session = directory.issue_token(sam.id, TokenKind.SESSION, ttl=timedelta(hours=12))
    api = directory.issue_token(sam.id, TokenKind.API)

    clock.now += timedelta(hours=13)

    assert directory.agent_for_token(session) is None
    assert directory.agent_for_token(api) == sam
    directory.revoke_token(api)
    assert directory.agent_for_token(api) is None
    assert directory.agent_for_token("made-up") is None


def test_status_changes_are_kept(directory: AgentDirectory) -> None:
    sam = directory.add("sam", ["care_private"])

    online = directory.set_status(sam.id, AgentStatus.ONLINE)

    assert online.status is AgentStatus.ONLINE
    assert directory.by_name("sam") == online


@pytest.mark.parametrize(
    ("name", "skills", "password", "admin", "message"),
    [
        ("", ["care_private"], None, False, "name: expected 1 to 64 letters"),
        ("sam smith", ["care_private"], None, False, "name: expected 1 to 64 letters"),
        ("sam", [], None, False, "skills: expected at least one skill"),
        ("sam", ["Care Private"], None, False, "skills: expected a skill name like care_private"),
        ("sam", ["care_private"], "short", False, "password: expected a password of at least 8"),
    ],
)
def test_bad_agents_are_refused_naming_the_field(
    directory: AgentDirectory,
    name: str,
    skills: list[str],
    password: str | None,
    admin: bool,
    message: str,
) -> None:
    with pytest.raises(InvalidInput, match=message):
        directory.add(name, skills, password=password, is_admin=admin)


def test_names_are_unique_and_an_admin_needs_no_skill(directory: AgentDirectory) -> None:
    boss = directory.add("boss", [], is_admin=True)

    with pytest.raises(InvalidInput, match="name: an agent named 'boss' exists already"):
        directory.add("boss", ["care_private"])
    assert boss.works("any_skill")
    assert [agent.name for agent in directory.all()] == ["boss"]


def test_password_hashes_verify_with_their_own_salt_and_cost() -> None:
    cheap = ScryptCost(n=2**10)
    first, second = hash_password("a long password", cheap), hash_password("a long password", cheap)

    assert first != second  # fresh salt each time
    assert verify_password("a long password", first)
    assert not verify_password("a long passwore", first)
    assert not verify_password("a long password", "md5$nonsense")
    assert not verify_password("a long password", None)
