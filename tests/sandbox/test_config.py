"""The sandbox reads its own settings: options with environment defaults, secrets from the env."""

from __future__ import annotations

import pytest

from sandbox.config import ConfigError, parse_config
from sandbox.testing import TEST_SECRETS


def test_defaults_point_the_webhooks_at_the_rasa_server() -> None:
    config = parse_config([], {**TEST_SECRETS, "BIND_HOST": "127.0.0.2", "RASA_PORT": "6005"})

    assert (config.host, config.port) == ("127.0.0.2", 5080)
    assert config.facebook_webhook == "http://127.0.0.2:6005/webhooks/facebook/webhook"
    assert config.x_webhook == "http://127.0.0.2:6005/webhooks/twitter/webhook"
    assert config.facebook_app_secret == TEST_SECRETS["FACEBOOK_APP_SECRET"]


def test_options_win_over_the_environment() -> None:
    argv = ["--port", "6080", "--facebook-webhook", "http://h/fb", "--retry-scale", "0.01"]
    config = parse_config(argv, {**TEST_SECRETS, "SANDBOX_PORT": "7080"})

    assert (config.port, config.facebook_webhook, config.retry_scale) == (6080, "http://h/fb", 0.01)


def test_sandbox_port_comes_from_the_environment() -> None:
    assert parse_config([], {**TEST_SECRETS, "SANDBOX_PORT": "7080"}).port == 7080


def test_missing_secrets_are_named() -> None:
    env = {name: value for name, value in TEST_SECRETS.items() if name != "X_ACCESS_TOKEN"}

    with pytest.raises(ConfigError, match="X_ACCESS_TOKEN"):
        parse_config([], {**env, "FACEBOOK_APP_SECRET": ""})
    with pytest.raises(ConfigError, match="FACEBOOK_APP_SECRET, X_ACCESS_TOKEN"):
        parse_config([], {**env, "FACEBOOK_APP_SECRET": ""})


@pytest.mark.parametrize("argv", [["--retry-scale", "0"], ["--port", "70000"]])
def test_out_of_range_options_are_refused(argv: list[str]) -> None:
    with pytest.raises(ConfigError):
        parse_config(argv, TEST_SECRETS)


def test_a_malformed_environment_value_fails_like_a_malformed_option() -> None:
    with pytest.raises(SystemExit):
        parse_config([], {**TEST_SECRETS, "SANDBOX_PORT": "eighty"})
