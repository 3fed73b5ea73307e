"""The channel's credentials.yml section is validated at start, naming the key at fault."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import ConfigurationError
from channels.twitter.config import TwitterConfig
from tests.channels.twitter.builders import credentials

KEY = "channels.twitter.TwitterInput"


def test_a_valid_section_is_read_with_defaults() -> None:
    config = TwitterConfig.from_credentials(credentials(api_url="http://127.0.0.1:5080/x/"))

    assert config.api_url == "http://127.0.0.1:5080/x"
    assert config.oauth2_client_secret is None
    assert [account.enabled for account in config.accounts] == [True, True, False, True]
    assert config.account("3300000001") is config.accounts[1]
    assert config.account("42") is None
    assert config.brand_handles == {"brandco", "brandcohelp", "brandcoold", "brandcodms"}


def _with_first_account(**changes: Any) -> dict[str, Any]:
    data = credentials()
    data["accounts"][0] = {**data["accounts"][0], **changes}
    return data


@pytest.mark.parametrize(
    ("section", "key", "message"),
    [
        (None, KEY, "expected a mapping"),
        ({**credentials(), "consumer_secret": " "}, f"{KEY}.consumer_secret", "must not be empty"),
        ({k: v for k, v in credentials().items() if k != "api_url"}, f"{KEY}.api_url", "required"),
        (credentials(api_url="localhost:5080"), f"{KEY}.api_url", "does not match"),
        (credentials(accounts=[]), f"{KEY}.accounts", "at least 1"),
        (_with_first_account(access_token=""), f"{KEY}.accounts[0].access_token", "empty"),
        (_with_first_account(id="@BrandCo"), f"{KEY}.accounts[0].id", "does not match"),
        (_with_first_account(publc=False), f"{KEY}.accounts[0].publc", "extra fields"),
        (_with_first_account(id="3300000001"), f"{KEY}.accounts", "listed twice"),
        (credentials(max_body_bytes=0), f"{KEY}.max_body_bytes", "greater than 0"),
    ],
)
def test_a_wrong_section_is_refused_naming_the_file_and_key(
    section: dict[str, Any] | None, key: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        TwitterConfig.from_credentials(section)

    assert (error.value.file, error.value.key) == ("credentials.yml", key)
    assert message in str(error.value)
    assert str(error.value).startswith(f"credentials.yml {key}: ")
