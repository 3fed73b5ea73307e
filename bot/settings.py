"""Process settings: the only module that reads the environment.

Development values live in ``.env`` (created from the committed ``.env.example`` on first run);
variables already set in the environment win over the file, so ``RASA_PORT=6005 make run`` works.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, validator

from bot.errors import ConfigurationError

__all__ = [
    "ENV_EXAMPLE",
    "ENV_FILE",
    "Settings",
    "ensure_env_file",
    "environment",
    "process_environment",
    "read_env_file",
]

ENV_FILE = ".env"
ENV_EXAMPLE = ".env.example"

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")


class Settings(BaseModel):
    """Typed view of the environment variables the project uses."""

    rasa_token: str = Field(..., min_length=8, env="RASA_TOKEN")
    bind_host: str = Field("127.0.0.1", env="BIND_HOST")
    rasa_port: int = Field(5005, ge=1, le=65535, env="RASA_PORT")
    actions_port: int = Field(5055, ge=1, le=65535, env="ACTIONS_PORT")
    sandbox_port: int = Field(5080, ge=1, le=65535, env="SANDBOX_PORT")
    social_store_url: str = Field("sqlite:///var/social.db", env="SOCIAL_STORE_URL")
    tracker_store_db: str = Field("var/rasa.db", env="TRACKER_STORE_DB")
    orders_file: str = Field("orders.yml", env="ORDERS_FILE")
    routing_file: str = Field("routing.yml", env="ROUTING_FILE")
    facebook_app_secret: str = Field("", env="FACEBOOK_APP_SECRET")
    facebook_verify_token: str = Field("", env="FACEBOOK_VERIFY_TOKEN")
    facebook_page_access_token: str = Field("", env="FACEBOOK_PAGE_ACCESS_TOKEN")
    x_consumer_secret: str = Field("", env="X_CONSUMER_SECRET")
    x_access_token: str = Field("", env="X_ACCESS_TOKEN")

    class Config:
        allow_mutation = False

    @validator("social_store_url")
    def _is_sqlalchemy_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("expected an SQLAlchemy URL such as sqlite:///var/social.db")
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Builds the settings from ``env`` (the process environment by default).

        Raises:
            ConfigurationError: naming each variable that is missing or wrong.
        """
        source = os.environ if env is None else env
        values = {
            name: source[field.field_info.extra["env"]]
            for name, field in cls.__fields__.items()
            if field.field_info.extra["env"] in source
        }
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                field = cls.__fields__[str(error["loc"][0])]
                problems.append(f"{field.field_info.extra['env']}: {error['msg']}")
            raise ConfigurationError("; ".join(problems), file="environment") from exc

    def as_env(self) -> dict[str, str]:
        """The settings as environment variables, for child processes."""
        return {
            field.field_info.extra["env"]: str(getattr(self, name))
            for name, field in self.__fields__.items()
        }


def read_env_file(path: Path) -> dict[str, str]:
    """Reads ``NAME=value`` lines; ``#`` comments and blank lines are ignored; quotes are removed.

    Raises:
        ConfigurationError: naming the line that is not of that form.
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ConfigurationError("expected NAME=value", file=str(path), line=number)
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def ensure_env_file(root: Path) -> Path:
    """Creates ``root/.env`` from ``root/.env.example`` when it is missing; returns its path."""
    env_file = root / ENV_FILE
    if not env_file.exists():
        shutil.copyfile(root / ENV_EXAMPLE, env_file)
    return env_file


def process_environment() -> dict[str, str]:
    """The process's environment as it is (``${NAME}`` references in YAML files expand from it)."""
    return dict(os.environ)


def environment(root: Path) -> dict[str, str]:
    """The environment for the project's processes: ``.env`` overlaid by the real environment."""
    return {**read_env_file(ensure_env_file(root)), **os.environ}
