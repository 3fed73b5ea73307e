from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from bot.yamlconfig import load_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "credentials.yml"
    path.write_text(text)
    return path


def test_env_references_are_expanded_in_nested_values(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a:\n  secret: ${SECRET}\n  list:\n    - x-${PAGE}\n    - plain\n  n: 3\n"
    )

    assert load_yaml(path, {"SECRET": "s3", "PAGE": "42"}) == {
        "a": {"secret": "s3", "list": ["x-42", "plain"], "n": 3}
    }


def test_an_unset_variable_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a:\n  b: 1\n  token: ${PAGE_TOKEN}\n")

    with pytest.raises(ConfigurationError) as caught:
        load_yaml(path, {})

    assert str(caught.value).startswith(f"{path}:3: environment variable PAGE_TOKEN")


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a:\n  b: 1\n c: [\n")

    with pytest.raises(ConfigurationError, match=rf"{path}:\d: invalid YAML"):
        load_yaml(path, {})


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="missing.yml: cannot read the file"):
        load_yaml(tmp_path / "missing.yml", {})


def test_loading_is_unaffected_by_rasas_process_wide_env_var_resolver(tmp_path: Path) -> None:
    import rasa.shared.utils.io  # noqa: F401 - registers Rasa's !env_var tag on every loader

    path = tmp_path / "credentials.yml"
    path.write_text("secret: ${NOT_SET_ANYWHERE}\n")

    with pytest.raises(ConfigurationError, match="NOT_SET_ANYWHERE is referenced but not set"):
        load_yaml(path, {})
    assert load_yaml(path, {"NOT_SET_ANYWHERE": "s3cret"}) == {"secret": "s3cret"}
