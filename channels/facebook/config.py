"""The Facebook channel's settings: the ``channels.facebook.FacebookInput`` key of credentials.yml.

Validated once, when ``rasa run`` builds the channel; every error names the file and the dotted
key (``channels.facebook.FacebookInput.pages[0].access_token``) and what was expected. Unknown
keys are errors too: a misspelt ``privat_replies`` must not silently keep the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from pydantic import BaseModel, Extra, Field, ValidationError, validator

from bot.errors import ConfigurationError
from bot.inbox_worker import DEFAULT_LEASE_SECONDS

__all__ = [
    "CREDENTIALS_FILE",
    "CREDENTIALS_KEY",
    "DEFAULT_GRAPH_URL",
    "DEFAULT_GRAPH_VERSION",
    "CtaMode",
    "EditPolicy",
    "FacebookConfig",
    "PageConfig",
]

CREDENTIALS_FILE = "credentials.yml"
CREDENTIALS_KEY = "channels.facebook.FacebookInput"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v19.0"


class CtaMode(str, Enum):
    """How the public-to-private call to action reaches a commenter."""

    PRIVATE_REPLY = "private_reply"  # a Messenger message tied to the comment (Private Reply)
    PUBLIC_LINK = "public_link"  # a public reply under the comment, with the m.me link
    BOTH = "both"

    @property
    def sends_private_reply(self) -> bool:
        """True when the call to action goes as a Private Reply."""
        return self is not CtaMode.PUBLIC_LINK

    @property
    def sends_public_reply(self) -> bool:
        """True when the call to action goes as a public reply."""
        return self is not CtaMode.PRIVATE_REPLY


class EditPolicy(str, Enum):
    """What an edited comment or post becomes."""

    NEW_IF_UNANSWERED = "new_if_unanswered"  # new text for the bot until the brand has answered
    IGNORE = "ignore"
    ALWAYS_NEW = "always_new"


class _Settings(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False
        anystr_strip_whitespace = True


class PageConfig(_Settings):
    """One Facebook Page the channel answers for."""

    id: str = Field(..., regex=r"^[0-9]+$")
    access_token: str = Field(..., min_length=1)
    username: str | None = Field(None, regex=r"^[A-Za-z0-9.]+$")  # for m.me links
    enabled: bool = True
    public: bool = True
    private_replies: bool = True
    # Default: a Private Reply where private replies are on, else the public link.
    cta: CtaMode | None = None

    @validator("cta", always=True)
    def _cta_fits_private_replies(cls, cta: CtaMode | None, values: dict[str, Any]) -> CtaMode:
        private_replies = values.get("private_replies", True)
        if cta is None:
            return CtaMode.PRIVATE_REPLY if private_replies else CtaMode.PUBLIC_LINK
        if cta.sends_private_reply and not private_replies:
            raise ValueError(
                f"{cta.value!r} sends a Private Reply, but private_replies is false "
                "(use 'public_link' or turn private_replies on)"
            )
        return cta

    @property
    def cta_mode(self) -> CtaMode:
        """How the call to action reaches a commenter on this page (never None once validated)."""
        return self.cta or CtaMode.PRIVATE_REPLY


class FacebookConfig(_Settings):
    """The app, the Graph API and the pages of the Facebook channel."""

    app_secret: str = Field(..., min_length=1)
    verify_token: str = Field(..., min_length=1)
    graph_url: str = DEFAULT_GRAPH_URL
    graph_version: str = Field(DEFAULT_GRAPH_VERSION, regex=r"^v[0-9]+\.[0-9]+$")
    accept_sha1_only: bool = False  # opt-in: accept deliveries signed with X-Hub-Signature only
    max_body_bytes: int = Field(1024 * 1024, gt=0)
    # Seconds before another replica takes back the events of a replica that died mid-turn.
    inbox_lease_seconds: float = Field(DEFAULT_LEASE_SECONDS, gt=0)
    edits: EditPolicy = EditPolicy.NEW_IF_UNANSWERED
    # A referral alone (an m.me link opened on an existing thread) from a link other than our
    # call to action (a campaign) reaches Rasa as this intent, so the bot can greet; null: such
    # referrals are skipped. Our call to action's refs always become /continue_from_public.
    referral_intent: str | None = Field("greet", regex=r"^[A-Za-z0-9_]+$")
    pages: list[PageConfig] = Field(..., min_items=1)

    @validator("graph_url")
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL such as {DEFAULT_GRAPH_URL}, got {value!r}")
        return value.rstrip("/")

    @validator("pages")
    def _unique_ids(cls, pages: list[PageConfig]) -> list[PageConfig]:
        seen: set[str] = set()
        for page in pages:
            if page.id in seen:
                raise ValueError(f"page {page.id} is listed twice")
            seen.add(page.id)
        return pages

    def page(self, page_id: str) -> PageConfig | None:
        """The configured page with ``page_id``, or None."""
        return next((page for page in self.pages if page.id == page_id), None)

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any] | None) -> FacebookConfig:
        """Validates the channel's mapping of credentials.yml.

        Raises:
            ConfigurationError: naming the key of the first problem (the others in the message).
        """
        if not isinstance(credentials, Mapping):
            raise ConfigurationError(
                "expected a mapping with app_secret, verify_token and pages",
                file=CREDENTIALS_FILE,
                key=CREDENTIALS_KEY,
            )
        try:
            return cls.parse_obj(dict(credentials))
        except ValidationError as exc:
            problems = [(_dotted(error["loc"]), str(error["msg"])) for error in exc.errors()]
            (key, message), *others = problems
            if others:
                message += "; also " + "; ".join(f"{where}: {what}" for where, what in others)
            raise ConfigurationError(
                message, file=CREDENTIALS_FILE, key=f"{CREDENTIALS_KEY}.{key}"
            ) from exc


def _dotted(location: tuple[int | str, ...]) -> str:
    """``("pages", 0, "cta")`` → ``"pages[0].cta"``."""
    dotted = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)
    return dotted.lstrip(".")
