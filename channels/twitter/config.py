"""The X channel's configuration: ``channels.twitter.TwitterInput:`` in ``credentials.yml``.

Validated once, when ``rasa run`` builds the channel; every error names the key, e.g.
``credentials.yml channels.twitter.TwitterInput.accounts[0].access_token: must not be empty``.
Secrets are ``${NAME}`` references that Rasa expands from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, ValidationError, validator

from bot.errors import ConfigurationError
from bot.inbox_worker import DEFAULT_LEASE_SECONDS

__all__ = ["CREDENTIALS_FILE", "CREDENTIALS_KEY", "TwitterAccount", "TwitterConfig"]

CREDENTIALS_FILE = "credentials.yml"
CREDENTIALS_KEY = "channels.twitter.TwitterInput"

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


class TwitterAccount(BaseModel):
    """One brand account on X.

    Attributes:
        id: the account's numeric user id (``for_user_id`` / ``filter.user_id``).
        screen_name: its handle without ``@``.
        access_token: the user-context token that acts as the account (``Authorization: Bearer``).
        enabled: a disconnected account is skipped; the others are unaffected.
        public: answer mentions and replies at all (off: public events are skipped).
        dms_closed_alternative: what the call to action offers instead of the DM link when the
            consumer's DMs are known to be closed (a text or a link); None keeps the DM link.
    """

    id: str = Field(..., regex=r"^[0-9]{1,20}$")
    screen_name: str = Field(..., regex=r"^[A-Za-z0-9_]{1,15}$")
    access_token: str
    enabled: bool = True
    public: bool = True
    dms_closed_alternative: str | None = None

    class Config:
        allow_mutation = False
        extra = "forbid"  # a misspelt key (`publc: false`) must not pass silently

    _token_not_blank = validator("access_token", allow_reuse=True)(_not_blank)


class TwitterConfig(BaseModel):
    """The whole ``channels.twitter.TwitterInput`` mapping."""

    consumer_secret: str
    oauth2_client_secret: str | None = None
    api_url: str = Field(..., regex=r"^https?://[^\s/]+(/\S*)?$")
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)
    # Seconds before another replica takes back the events of a replica that died mid-turn.
    inbox_lease_seconds: float = Field(DEFAULT_LEASE_SECONDS, gt=0)
    timeout: float = Field(10.0, gt=0)
    accounts: list[TwitterAccount] = Field(..., min_items=1)

    class Config:
        allow_mutation = False
        extra = "forbid"

    _secret_not_blank = validator("consumer_secret", allow_reuse=True)(_not_blank)

    @validator("api_url")
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @validator("accounts")
    def _unique_ids(cls, accounts: list[TwitterAccount]) -> list[TwitterAccount]:
        seen: set[str] = set()
        for account in accounts:
            if account.id in seen:
                raise ValueError(f"account id {account.id} is listed twice")
            seen.add(account.id)
        return accounts

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> TwitterConfig:
        """Validates the channel's credentials mapping.

        Raises:
            ConfigurationError: naming ``credentials.yml`` and the dotted key of each problem.
        """
        if not isinstance(credentials, Mapping):
            raise ConfigurationError(
                "expected a mapping with consumer_secret, api_url and accounts",
                file=CREDENTIALS_FILE,
                key=CREDENTIALS_KEY,
            )
        try:
            return cls.parse_obj(dict(credentials))
        except ValidationError as exc:
            first, *rest = exc.errors()
            message = str(first["msg"])
            if rest:
                message += f" (and {len(rest)} more: " + "; ".join(
                    f"{_dotted(error['loc'])}: {error['msg']}" for error in rest
                )
                message += ")"
            raise ConfigurationError(
                message, file=CREDENTIALS_FILE, key=_dotted(first["loc"])
            ) from exc

    def account(self, account_id: str) -> TwitterAccount | None:
        """The configured account with ``account_id``, or None."""
        return next((account for account in self.accounts if account.id == account_id), None)

    @property
    def brand_handles(self) -> frozenset[str]:
        """The lower-cased screen names of every configured account."""
        return frozenset(account.screen_name.lower() for account in self.accounts)


def _dotted(location: tuple[int | str, ...]) -> str:
    """``("accounts", 0, "access_token")`` → ``<CREDENTIALS_KEY>.accounts[0].access_token``."""
    key = CREDENTIALS_KEY
    for part in location:
        if part == "__root__":
            continue
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key
