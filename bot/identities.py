"""``IdentityLinks``: one consumer's public and private identities with one brand account.

On Facebook a commenter's id and their Messenger PSID differ; the link is learnt from the answer
to a Private Reply (its ``recipient_id`` is the PSID) or from an m.me ``ref`` that names the public
thread. On X the user id is the same in public and in private, so no link is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.errors import StoreError
from bot.schema import identity_links
from bot.store import SocialStore

__all__ = ["IdentityLink", "IdentityLinks"]


@dataclass(frozen=True)
class IdentityLink:
    """A public identity linked to a private one, and how we learnt it."""

    platform: str
    account_id: str
    public_user_id: str
    private_user_id: str
    via: str
    origin_event_id: str | None
    ref: str | None
    created_at: datetime


def _newest_link(side: str) -> Any:
    """The newest link of one identity (``public`` or ``private``), built once: building a
    statement costs far more than running it (the Messenger webhook asks for each message)."""
    table = identity_links
    return (
        select(table)
        .where(
            table.c.platform == bindparam("b_platform"),
            table.c.account_id == bindparam("b_account"),
            table.c[f"{side}_user_id"] == bindparam("b_user"),
        )
        .order_by(table.c.id.desc())
        .limit(1)
    )


_NEWEST_OF_PUBLIC = _newest_link("public")
_NEWEST_OF_PRIVATE = _newest_link("private")


def _link(row: RowMapping) -> IdentityLink:
    created = row["created_at"]
    return IdentityLink(
        platform=row["platform"],
        account_id=row["account_id"],
        public_user_id=row["public_user_id"],
        private_user_id=row["private_user_id"],
        via=row["via"],
        origin_event_id=row["origin_event_id"],
        ref=row["ref"],
        created_at=created if created.tzinfo else created.replace(tzinfo=timezone.utc),
    )


class IdentityLinks:
    """The ``identity_links`` table of the social store; all its SQL lives here."""

    def __init__(self, store: SocialStore) -> None:
        self._engine = store.engine

    def link(
        self,
        *,
        platform: str,
        account_id: str,
        public_user_id: str,
        private_user_id: str,
        via: str,
        origin_event_id: str | None = None,
        ref: str | None = None,
    ) -> bool:
        """Records that both ids are one consumer; False when that link was known already.

        Raises:
            StoreError: the store failed.
        """
        row = {
            "platform": platform,
            "account_id": account_id,
            "public_user_id": public_user_id,
            "private_user_id": private_user_id,
            "via": via,
            "origin_event_id": origin_event_id,
            "ref": ref,
            "created_at": datetime.now(timezone.utc),
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(identity_links).values(**row))
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise StoreError(
                f"linking {public_user_id} to {private_user_id} failed: {exc}"
            ) from exc
        return True

    def private_for(
        self, platform: str, account_id: str, public_user_id: str
    ) -> IdentityLink | None:
        """The newest link of a public identity, or None."""
        return self._newest(_NEWEST_OF_PUBLIC, platform, account_id, public_user_id)

    def public_for(
        self, platform: str, account_id: str, private_user_id: str
    ) -> IdentityLink | None:
        """The newest link of a private identity, or None."""
        return self._newest(_NEWEST_OF_PRIVATE, platform, account_id, private_user_id)

    def _newest(
        self, query: Any, platform: str, account_id: str, user_id: str
    ) -> IdentityLink | None:
        parameters = {"b_platform": platform, "b_account": account_id, "b_user": user_id}
        try:
            with self._engine.connect() as connection:
                row = connection.execute(query, parameters).mappings().first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading identity links failed: {exc}") from exc
        return None if row is None else _link(row)
