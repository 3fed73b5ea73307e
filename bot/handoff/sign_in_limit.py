"""``SignInLimiter``: failed workspace sign-ins, limited per agent name and per client address.

Each failure is a row of the social store, so the limit holds across replicas behind a load
balancer (a guesser cannot spread attempts over them) and across restarts. Once a name or an
address has ``max_failures`` failures within ``window``, its sign-ins are refused before the
password is checked (a right one too: else guessing would go on) until the oldest of them ages
out: ``SignInThrottled`` says after how many seconds. A successful sign-in clears the name's
failures, not the address's: one valid account must not reset guessing at the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from bot.errors import SignInThrottled, StoreError
from bot.handoff.clock import Clock, aware, utcnow
from bot.schema import sign_in_failures
from bot.store import SocialStore

__all__ = ["SignInLimit", "SignInLimiter"]

_KEY_LENGTH = 255


@dataclass(frozen=True)
class SignInLimit:
    """At most ``per_agent`` failures per agent name and ``per_address`` per client address
    within ``window``. An office behind one NAT shares its address: hence a higher limit."""

    per_agent: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=5)


class SignInLimiter:
    """Counts failed sign-ins in the social store and refuses once there are too many.

    Args:
        store: the social store.
        limit: how many failures, in which window.
        clock: the current time (tests pass their own).
    """

    def __init__(
        self, store: SocialStore, limit: SignInLimit | None = None, clock: Clock = utcnow
    ) -> None:
        self._engine = store.engine
        self.limit = limit or SignInLimit()
        self._clock = clock

    def check(self, name: str, address: str | None) -> None:
        """Refuses a sign-in of ``name`` from ``address`` while either has too many failures.

        Raises:
            SignInThrottled: too many failures; ``retry_after`` says when to try again.
            StoreError: the store failed.
        """
        now = self._clock()
        for key, allowed, what in self._subjects(name, address):
            failed = self._failures(key, now)
            if len(failed) >= allowed:
                # When enough of them have aged out to leave one attempt.
                free_at = failed[len(failed) - allowed] + self.limit.window
                wait = max(1, math.ceil((free_at - now).total_seconds()))
                raise SignInThrottled(
                    f"too many failed sign-ins for this {what}: try again in {wait} seconds",
                    retry_after=wait,
                )

    def failed(self, name: str, address: str | None) -> None:
        """Records a failed sign-in of ``name`` from ``address``; forgets expired failures."""
        now = self._clock()
        rows = [{"key": key, "failed_at": now} for key, _, _ in self._subjects(name, address)]
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(sign_in_failures), rows)
                connection.execute(
                    delete(sign_in_failures).where(
                        sign_in_failures.c.failed_at <= now - self.limit.window
                    )
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"recording a failed sign-in failed: {exc}") from exc

    def succeeded(self, name: str) -> None:
        """Clears the failures of ``name`` (those of its address stay)."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    delete(sign_in_failures).where(sign_in_failures.c.key == _agent_key(name))
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"clearing the failed sign-ins of {name!r} failed: {exc}") from exc

    def _subjects(self, name: str, address: str | None) -> list[tuple[str, int, str]]:
        subjects = [(_agent_key(name), self.limit.per_agent, "agent name")]
        if address:
            subjects.append((f"address:{address}"[:_KEY_LENGTH], self.limit.per_address, "address"))
        return subjects

    def _failures(self, key: str, now: datetime) -> list[datetime]:
        query = (
            select(sign_in_failures.c.failed_at)
            .where(
                sign_in_failures.c.key == key,
                sign_in_failures.c.failed_at > now - self.limit.window,
            )
            .order_by(sign_in_failures.c.failed_at)
        )
        try:
            with self._engine.connect() as connection:
                return [aware(found) for found in connection.execute(query).scalars()]
        except SQLAlchemyError as exc:
            raise StoreError(f"reading failed sign-ins failed: {exc}") from exc


def _agent_key(name: str) -> str:
    return f"agent:{name.strip().lower()}"[:_KEY_LENGTH]
