"""Reading the bot designer's YAML files, with ``${NAME}`` environment references expanded.

Errors name the file, the line and what is wrong, so a designer can fix them without a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import YAMLError

from bot.errors import ConfigurationError

__all__ = ["expand_env", "load_yaml", "parse_yaml"]


class _PlainConstructor(SafeConstructor):
    """Safe YAML, unaffected by Rasa's process-wide ``!env_var`` resolver.

    Importing Rasa registers an implicit ``!env_var`` tag on every ruamel loader of the process,
    which expands ``${NAME}`` from ``os.environ`` and raises Rasa's own exception. Here such
    values stay strings: ``expand_env`` expands them from the given mapping, with our errors.
    """


_PlainConstructor.add_constructor("!env_var", SafeConstructor.construct_yaml_str)

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def expand_env(value: Any, env: Mapping[str, str], *, file: str, text: str = "") -> Any:
    """Replaces ``${NAME}`` in every string of ``value`` with ``env[NAME]``.

    Raises:
        ConfigurationError: a referenced variable is not set (names the file and line).
    """
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                raise ConfigurationError(
                    f"environment variable {name} is referenced but not set (define it in .env)",
                    file=file,
                    line=_line_of(text, match.group(0)),
                )
            return env[name]

        return _REFERENCE.sub(substitute, value)
    if isinstance(value, Mapping):
        return {key: expand_env(item, env, file=file, text=text) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_env(item, env, file=file, text=text) for item in value]
    return value


def load_yaml(path: Path, env: Mapping[str, str]) -> Any:
    """Parses ``path`` and expands its ``${NAME}`` references from ``env``.

    Raises:
        ConfigurationError: the file is missing, is not valid YAML, or references an unset variable.
    """
    parsed, text = parse_yaml(path)
    return expand_env(parsed, env, file=str(path), text=text)


def parse_yaml(path: Path) -> tuple[Any, str]:
    """Parses ``path``, its ``${NAME}`` references left as they are; returns it and its text
    (for ``expand_env`` of the part a reader needs).

    Raises:
        ConfigurationError: the file is missing or is not valid YAML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the file: {exc.strerror}", file=str(path)) from exc
    try:
        parser = YAML(typ="safe", pure=True)
        parser.Constructor = _PlainConstructor
        parsed = parser.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigurationError(f"invalid YAML: {problem}", file=str(path), line=line) from exc
    return parsed, text
