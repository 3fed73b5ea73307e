"""The sandbox's own settings: command-line options whose defaults come from the environment.

Secrets are read from the environment only (never from the command line, where ``ps`` shows them):
``FACEBOOK_APP_SECRET``, ``FACEBOOK_VERIFY_TOKEN``, ``FACEBOOK_PAGE_ACCESS_TOKEN``,
``X_CONSUMER_SECRET`` and ``X_ACCESS_TOKEN``, the same variables as the project's ``.env.example``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["SECRET_VARIABLES", "ConfigError", "SandboxConfig", "parse_config"]

SECRET_VARIABLES = (
    "FACEBOOK_APP_SECRET",
    "FACEBOOK_VERIFY_TOKEN",
    "FACEBOOK_PAGE_ACCESS_TOKEN",
    "X_CONSUMER_SECRET",
    "X_ACCESS_TOKEN",
)


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the option or variable."""


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox needs to run."""

    host: str
    port: int
    facebook_webhook: str
    x_webhook: str
    facebook_app_secret: str
    facebook_verify_token: str
    facebook_page_access_token: str
    x_consumer_secret: str
    x_access_token: str
    retry_scale: float = 1.0
    facebook_timeout_s: float = 20.0
    x_timeout_s: float = 10.0
    handshake_interval_s: float = 1.0
    log_level: str = "INFO"
    delivery_concurrency: int = 1

    @property
    def facebook_webhooks(self) -> tuple[str, ...]:
        """The Facebook webhook URLs (several: deliveries take turns, like a load balancer)."""
        return _urls(self.facebook_webhook)

    @property
    def x_webhooks(self) -> tuple[str, ...]:
        """The X webhook URLs (several: deliveries take turns, like a load balancer)."""
        return _urls(self.x_webhook)


def _urls(value: str) -> tuple[str, ...]:
    return tuple(url.strip() for url in value.split(",") if url.strip())


# Numeric options: (option, environment variable, default, help).
_NUMBERS = (
    (
        "--retry-scale",
        "SANDBOX_RETRY_SCALE",
        "1.0",
        "multiplies every retry delay (0.01 turns Meta's minutes into seconds, for tests)",
    ),
    (
        "--facebook-timeout",
        "SANDBOX_FACEBOOK_TIMEOUT",
        "20",
        "seconds Facebook waits for the webhook's answer",
    ),
    ("--x-timeout", "SANDBOX_X_TIMEOUT", "10", "seconds X waits for the webhook's answer"),
    (
        "--handshake-interval",
        "SANDBOX_HANDSHAKE_INTERVAL",
        "1.0",
        "seconds between verification attempts until the webhook answers",
    ),
)


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    # String defaults go through ``type`` like typed options, so a bad variable fails the same way.
    rasa = f"http://{env.get('BIND_HOST', '127.0.0.1')}:{env.get('RASA_PORT', '5005')}"
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="A local Facebook and X: signed webhooks out, Graph / X API calls in.",
    )
    parser.add_argument(
        "--host", default=env.get("SANDBOX_HOST", env.get("BIND_HOST", "127.0.0.1"))
    )
    parser.add_argument("--port", type=int, default=env.get("SANDBOX_PORT", "5080"))
    parser.add_argument(
        "--facebook-webhook",
        default=env.get("SANDBOX_FACEBOOK_WEBHOOK", f"{rasa}/webhooks/facebook/webhook"),
        help="where Facebook deliveries go (default: the Rasa server's Facebook channel); "
        "several comma-separated URLs take turns, like a load balancer in front of replicas",
    )
    parser.add_argument(
        "--x-webhook",
        default=env.get("SANDBOX_X_WEBHOOK", f"{rasa}/webhooks/twitter/webhook"),
        help="where X deliveries go (default: the Rasa server's X channel); several "
        "comma-separated URLs take turns",
    )
    parser.add_argument(
        "--delivery-concurrency",
        type=int,
        default=int(env.get("SANDBOX_DELIVERY_CONCURRENCY", "1")),
        help="deliveries in flight at once per platform (1: one after the other, in order)",
    )
    for option, variable, default, explanation in _NUMBERS:
        parser.add_argument(
            option, type=float, default=env.get(variable, default), help=explanation
        )
    parser.add_argument("--log-level", default=env.get("SANDBOX_LOG_LEVEL", "INFO"))
    return parser


def parse_config(argv: Sequence[str] | None, env: Mapping[str, str]) -> SandboxConfig:
    """Reads the options of ``argv`` (defaults from ``env``) and the secrets of ``env``.

    Raises:
        ConfigError: a secret variable is missing or empty, or an option is out of range.
    """
    args = _parser(env).parse_args(argv)
    missing = [name for name in SECRET_VARIABLES if not env.get(name)]
    if missing:
        raise ConfigError(
            f"set {', '.join(missing)} in the environment (see .env.example): the sandbox signs "
            "and checks with the same secrets as the channels"
        )
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port / SANDBOX_PORT: expected 1-65535, got {args.port}")
    if args.delivery_concurrency < 1:
        raise ConfigError(
            f"--delivery-concurrency: expected 1 or more, got {args.delivery_concurrency}"
        )
    if args.retry_scale <= 0:
        raise ConfigError(f"--retry-scale: expected a number above 0, got {args.retry_scale}")
    return SandboxConfig(
        host=args.host,
        port=args.port,
        facebook_webhook=args.facebook_webhook,
        x_webhook=args.x_webhook,
        facebook_app_secret=env["FACEBOOK_APP_SECRET"],
        facebook_verify_token=env["FACEBOOK_VERIFY_TOKEN"],
        facebook_page_access_token=env["FACEBOOK_PAGE_ACCESS_TOKEN"],
        x_consumer_secret=env["X_CONSUMER_SECRET"],
        x_access_token=env["X_ACCESS_TOKEN"],
        retry_scale=args.retry_scale,
        delivery_concurrency=args.delivery_concurrency,
        facebook_timeout_s=args.facebook_timeout,
        x_timeout_s=args.x_timeout,
        handshake_interval_s=args.handshake_interval,
        log_level=args.log_level.upper(),
    )
