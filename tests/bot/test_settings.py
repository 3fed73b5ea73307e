from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from bot.settings import Settings, ensure_env_file, environment, read_env_file

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_only_the_api_token() -> None:
    settings = Settings.from_env({"RASA_TOKEN": "a-long-token"})

    assert (settings.rasa_port, settings.actions_port, settings.sandbox_port) == (5005, 5055, 5080)
    assert settings.social_store_url == "sqlite:///var/social.db"


def test_environment_variables_override_defaults() -> None:
    settings = Settings.from_env({"RASA_TOKEN": "a-long-token", "RASA_PORT": "6005"})

    assert settings.rasa_port == 6005


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "RASA_TOKEN: field required"),
        ({"RASA_TOKEN": "short"}, "RASA_TOKEN: ensure this value has at least 8 characters"),
        ({"RASA_TOKEN": "a-long-token", "RASA_PORT": "web"}, "RASA_PORT: value is not a valid"),
        ({"RASA_TOKEN": "a-long-token", "ACTIONS_PORT": "70000"}, "ACTIONS_PORT: ensure this"),
        ({"RASA_TOKEN": "a-long-token", "SOCIAL_STORE_URL": "var/x.db"}, "SOCIAL_STORE_URL: "),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match="environment") as caught:
        Settings.from_env(env)

    assert named in str(caught.value)


def test_as_env_round_trips() -> None:
    settings = Settings.from_env({"RASA_TOKEN": "a-long-token", "SANDBOX_PORT": "6080"})

    assert Settings.from_env(settings.as_env()) == settings


def test_env_file_lines_are_parsed(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n\nA=1\nexport B = two words \nC='quoted # not a comment'\nD=\"x\"\nE=\n"
    )

    assert read_env_file(env_file) == {
        "A": "1",
        "B": "two words",
        "C": "quoted # not a comment",
        "D": "x",
        "E": "",
    }


def test_env_file_errors_name_the_line(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("A=1\nthis is not a setting\n")

    with pytest.raises(ConfigurationError, match=r"\.env:2: expected NAME=value"):
        read_env_file(env_file)


def test_env_file_is_created_from_the_example_once(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text("RASA_TOKEN=from-example\n")

    created = ensure_env_file(tmp_path)
    created.write_text("RASA_TOKEN=edited-by-user\n")
    ensure_env_file(tmp_path)

    assert created.read_text() == "RASA_TOKEN=edited-by-user\n"


def test_real_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env.example").write_text("RASA_PORT=5005\nRASA_TOKEN=from-file-token\n")
    monkeypatch.setenv("RASA_PORT", "6005")

    env = environment(tmp_path)

    assert (env["RASA_PORT"], env["RASA_TOKEN"]) == ("6005", "from-file-token")


def test_committed_env_example_gives_valid_settings() -> None:
    settings = Settings.from_env(read_env_file(ROOT / ".env.example"))

    assert settings.facebook_app_secret
    assert settings.x_consumer_secret
