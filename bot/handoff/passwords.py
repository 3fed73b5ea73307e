"""Agents' secrets: passwords hashed with scrypt, tokens as SHA-256 digests of random bytes.

A password is low-entropy, so it is stretched with a salted scrypt (memory-hard) and compared in
constant time. A token is 256 random bits: a plain SHA-256 digest is enough to make a stolen
database useless, and it stays a fast, indexable lookup key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ScryptCost",
    "hash_password",
    "new_token",
    "token_digest",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 8
_SCHEME = "scrypt"


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's cost parameters (about 16 MiB and 50 ms per hash with the defaults)."""

    n: int = 2**14
    r: int = 8
    p: int = 1


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, cost: ScryptCost = ScryptCost()) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password`` with a fresh 16-byte salt.

    Raises:
        ValueError: the password is shorter than ``MIN_PASSWORD_LENGTH``.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"expected a password of at least {MIN_PASSWORD_LENGTH} characters")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=cost.n, r=cost.r, p=cost.p, dklen=32
    )
    return f"{_SCHEME}${cost.n}${cost.r}${cost.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str | None) -> bool:
    """True when ``password`` matches the ``hash_password`` result ``stored``."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != _SCHEME:
            return False
        digest = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, base64.b64decode(expected))


def new_token() -> str:
    """A new random secret (256 bits, URL-safe), shown to its owner once."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The hex SHA-256 of a token: what the store keeps and looks it up by."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
