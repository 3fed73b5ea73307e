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
# offered) and X's sender sets or clears them for each DM it sends; building a statement costs
# more than SQLite takes to run it.
_FLAGS_OF = select(consumer_flags.c.flag, consumer_flags.c.value).where(
    consumer_flags.c.sender_id == bindparam("b_sender")
)
_ONE_FLAG = (
    consumer_flags.c.sender_id == bindparam("b_sender"),
    consumer_flags.c.flag == bindparam("b_flag"),
)
_CLEAR = delete(consumer_flags).where(*_ONE_FLAG)
_UPDATE = (
    update(consumer_flags)
    .where(*_ONE_FLAG)
    .values(value=bindparam("b_value"), updated_at=bindparam("b_at"))
)
_INSERT = insert(consumer_flags).values(
    sender_id=bindparam("b_sender"),
    flag=bindparam("b_flag"),
    value=bindparam("b_value"),
    updated_at=bindparam("b_at"),
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
        key = {"b_sender": sender_id, "b_flag": flag}
        try:
            with self._engine.begin() as connection:
                if value is None:
                    connection.execute(_CLEAR, key)
                    return
                row = {**key, "b_value": value, "b_at": datetime.now(timezone.utc)}
                if not connection.execute(_UPDATE, row).rowcount:
                    connection.execute(_INSERT, row)
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
