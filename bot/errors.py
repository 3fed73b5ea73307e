"""The one exception tree of the project.

Every error the project raises on purpose derives from ``SocialCareError``. Foreign errors
(httpx, SQLAlchemy, pydantic, YAML) are translated at one place per boundary with
``raise ... from exc``::

    SocialCareError
    ├── ConfigurationError          a file or setting is wrong: names file, key, expectation
    ├── InvalidSocialContext        metadata["social"] breaks the contract: names the field
    ├── InboundError                a webhook request we refuse; ``status`` is the HTTP answer
    │   ├── BadSignature            403: missing or wrong platform signature
    │   ├── PayloadTooLarge         413: body above the configured limit
    │   └── MalformedPayload        400: not JSON, or not the platform's envelope
    ├── StoreError                  the social store failed (connection, migration, constraint)
    │   └── TrackerStoreError       Rasa's tracker store failed: the turn is tried again
    ├── PlatformError               a Facebook / X API call failed: platform, status, code
    │   ├── TransientPlatformError  retry with backoff (5xx, timeouts, codes 1 and 2)
    │   │   └── RateLimited         retry after ``retry_after`` s (429; 4, 17, 32, 613)
    │   └── PermanentPlatformError  retrying cannot help
    │       ├── OutsideMessagingWindow  the 24-hour / 7-day window is closed (10 / 2018278)
    │       ├── ThreadOwnedElsewhere    another app owns the thread (10 / 2018300)
    │       ├── RecipientUnavailable    cannot be reached (551; X 349: DMs closed)
    │       ├── AuthenticationFailed    the token is invalid or expired (190, HTTP 401)
    │       ├── DuplicateContent        the same text was already posted (X 187)
    │       ├── InvalidRequest          refused as wrong: our bug (100, other 4xx)
    │       └── DeliveryUnsupported     the channel cannot do this (a like on X, public on REST)
    ├── OutboundRefused             a send we refuse: the guard (automated, public target)...
    │   ├── MessageTooLong          ...or a text over the target's limit (never cut silently)
    │   └── CtaLimitReached         ...or a call to action beyond its limits (cooldown, brand)
    ├── HandoffError                the handoff service refused an operation
    │   ├── InvalidInput            the request is wrong: names the field and what was expected
    │   ├── HandoffNotFound         no such handoff, agent or delivery
    │   └── HandoffConflict         the handoff's state does not allow it ("already taken by X")
    └── AccessDenied                the workspace refuses a request: not the agent's skill
        ├── NotAuthenticated        no valid session cookie or API token
        └── SignInThrottled         too many failed sign-ins: retry after ``retry_after`` s
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuthenticationFailed",
    "BadSignature",
    "ConfigurationError",
    "CtaLimitReached",
    "DeliveryUnsupported",
    "DuplicateContent",
    "HandoffConflict",
    "HandoffError",
    "HandoffNotFound",
    "InboundError",
    "InvalidInput",
    "InvalidRequest",
    "InvalidSocialContext",
    "MalformedPayload",
    "MessageTooLong",
    "NotAuthenticated",
    "OutboundRefused",
    "OutsideMessagingWindow",
    "PayloadTooLarge",
    "PermanentPlatformError",
    "PlatformError",
    "RateLimited",
    "RecipientUnavailable",
    "SignInThrottled",
    "SocialCareError",
    "StoreError",
    "ThreadOwnedElsewhere",
    "TrackerStoreError",
    "TransientPlatformError",
]


class SocialCareError(Exception):
    """The root of every error this project raises on purpose."""


class ConfigurationError(SocialCareError):
    """A configuration file or setting is wrong.

    Args:
        message: what is wrong and what was expected.
        file: the file that holds the setting, if any.
        key: the dotted key of the setting, if any.
        line: the 1-based line in ``file``, where known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.file = file
        self.key = key
        self.line = line
        where = ""
        if file:
            where = file + (f":{line}" if line else "")
        if key:
            where = f"{where} {key}".strip()
        super().__init__(f"{where}: {message}" if where else message)


class InvalidSocialContext(SocialCareError, ValueError):
    """The social metadata of a message does not follow the contract.

    Args:
        message: a readable summary naming each wrong field.
        fields: the dotted names of the wrong fields.
    """

    def __init__(self, message: str, fields: tuple[str, ...] = ()) -> None:
        self.fields = fields
        super().__init__(message)


class InboundError(SocialCareError):
    """A webhook request we refuse; ``status`` is the HTTP status to answer with.

    The message is answered and logged: one that quotes much of the request (a huge value, an
    error for each of thousands of items) is cut to ``MAX_MESSAGE`` characters, saying so.
    """

    status: int = 400
    MAX_MESSAGE = 500

    def __init__(self, message: str) -> None:
        if len(message) > self.MAX_MESSAGE:
            rest = len(message) - self.MAX_MESSAGE
            message = f"{message[: self.MAX_MESSAGE]}... ({rest} more characters)"
        super().__init__(message)


class BadSignature(InboundError):
    """The platform signature is missing or does not match the body."""

    status = 403


class PayloadTooLarge(InboundError):
    """The request body is larger than the configured limit."""

    status = 413


class MalformedPayload(InboundError):
    """The body is not JSON, or not the envelope the platform documents."""

    status = 400


class StoreError(SocialCareError):
    """The social store failed: connection, migration or constraint."""


class TrackerStoreError(StoreError):
    """Rasa's tracker store failed (read or save): the turn is tried again, never forked into a
    tracker in process memory."""


class PlatformError(SocialCareError):
    """A platform API call failed.

    Args:
        message: the platform's message, or ours where it gave none.
        platform: ``"facebook"`` or ``"twitter"``.
        status: the HTTP status, if a response came back.
        code: the platform error code, if any.
        subcode: the platform error subcode, if any.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
    ) -> None:
        self.platform = platform
        self.status = status
        self.code = code
        self.subcode = subcode
        super().__init__(message)


class TransientPlatformError(PlatformError):
    """Worth retrying with backoff."""

    retryable = True


class RateLimited(TransientPlatformError):
    """Rate limited: retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class PermanentPlatformError(PlatformError):
    """Retrying cannot help."""


class OutsideMessagingWindow(PermanentPlatformError):
    """The messaging window is closed: it needs a tag or a new consumer message."""


class ThreadOwnedElsewhere(PermanentPlatformError):
    """Another app owns the conversation thread."""


class RecipientUnavailable(PermanentPlatformError):
    """The person cannot be reached (blocked, deleted, DMs closed)."""


class AuthenticationFailed(PermanentPlatformError):
    """The access token is invalid or expired: an operator must act."""


class DuplicateContent(PermanentPlatformError):
    """The platform refuses a text it already posted for the account (X code 187)."""


class InvalidRequest(PermanentPlatformError):
    """The platform refused the request as wrong: our bug."""


class DeliveryUnsupported(PermanentPlatformError):
    """The channel cannot do this at all (a like on X, a public reply on the REST channel)."""


class OutboundRefused(SocialCareError):
    """The output guard refused a send.

    Args:
        message: why it was refused.
        origin: ``"bot"``, ``"cta"`` or ``"agent"``.
        target: ``"public"`` or ``"private"``.
    """

    def __init__(self, message: str, *, origin: str, target: str) -> None:
        self.origin = origin
        self.target = target
        super().__init__(message)


class MessageTooLong(OutboundRefused):
    """A text longer than its target allows: refused with the reason, never cut silently.

    Args:
        message: the reason, with both numbers.
        length: the text's length as the platform counts it.
        limit: the most the target accepts.
    """

    def __init__(self, message: str, *, length: int, limit: int, origin: str, target: str) -> None:
        self.length = length
        self.limit = limit
        super().__init__(message, origin=origin, target=target)


class CtaLimitReached(OutboundRefused):
    """A call to action the guard refuses: one was sent to this author and thread within the
    cooldown, or the author is the brand's own account."""


class HandoffError(SocialCareError):
    """The handoff service refused an operation."""


class InvalidInput(HandoffError, ValueError):
    """A request is wrong.

    Args:
        message: what is wrong and what was expected.
        field: the name of the wrong field, where there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class HandoffNotFound(HandoffError, LookupError):
    """No such handoff, agent or delivery."""


class HandoffConflict(HandoffError):
    """The handoff's state does not allow the operation.

    Args:
        message: why, in words an agent understands ("already taken by Sam").
        holder: the agent who holds the handoff, where that is the reason.
    """

    def __init__(self, message: str, *, holder: str | None = None) -> None:
        self.holder = holder
        super().__init__(message)


class AccessDenied(SocialCareError):
    """The workspace refuses the request: the handoff or queue belongs to another skill."""


class NotAuthenticated(AccessDenied):
    """No valid session cookie or API token came with the request."""


class SignInThrottled(AccessDenied):
    """Too many failed sign-ins for this agent name or client address: retry after
    ``retry_after`` whole seconds."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(message)
