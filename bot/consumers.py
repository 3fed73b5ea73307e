"""``ConsumerFlags``: facts about one conversation that every replica must know.

Flags in use: ``dms_closed`` (X answered 349: the consumer does not accept DMs from the brand),
``unreachable`` (Facebook answered 551). A flag with the value None is cleared.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.errors import StoreError
from bot.schema import consumer_flags
from bot.store import SocialStore

__all__ = ["DMS_CLOSED", "UNREACHABLE", "ConsumerFlags"]

DMS_CLOSED = "dms_closed"
UNREACHABLE = "unreachable"

# Built once: the X webhook reads a conversation's flags for each DM (the options it was
# offered), and building a statement costs more than SQLite takes to run it.
_FLAGS_OF = select(consumer_flags.c.flag, consumer_flags.c.value).where(
    consumer_flags.c.sender_id == bindparam("b_sender")
)


class ConsumerFlags:
    """The ``consumer_flags`` table of the social store; all its SQL lives here."""

    def __init__(self, store: SocialStore) -> None:
        self._engine = store.engine

    def set(self, sender_id: str, flag: str, value: str | None) -> None:
        """Sets (or, with None, clears) one flag of a conversation.

        Raises:
            StoreError: the store failed.
        """
        table = consumer_flags
        key = (table.c.sender_id == sender_id, table.c.flag == flag)
        now = datetime.now(timezone.utc)
        try:
            with self._engine.begin() as connection:
                if value is None:
                    connection.execute(delete(table).where(*key))
                    return
                changed = connection.execute(
                    update(table).where(*key).values(value=value, updated_at=now)
                ).rowcount
                if not changed:
                    connection.execute(
                        insert(table).values(
                            sender_id=sender_id, flag=flag, value=value, updated_at=now
                        )
                    )
        except IntegrityError:
            # Another replica inserted the flag between our update and insert: update it now.
            self.set(sender_id, flag, value)
        except SQLAlchemyError as exc:
            raise StoreError(f"setting {flag} of {sender_id} failed: {exc}") from exc

    def get(self, sender_id: str) -> dict[str, str]:
        """Every flag of a conversation."""
        try:
            with self._engine.connect() as connection:
                rows = connection.execute(_FLAGS_OF, {"b_sender": sender_id}).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the flags of {sender_id} failed: {exc}") from exc
        return {flag: value for flag, value in rows if value is not None}
