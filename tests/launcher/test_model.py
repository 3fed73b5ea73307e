from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from launcher.model import cached_model, ensure_model, fingerprint, model_inputs

CONFIG = """\
recipe: default.v1
language: en
pipeline:
  - name: WhitespaceTokenizer
policies:
  - name: RulePolicy
  - name: custom.policy.GuardPolicy
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "config.yml").write_text(CONFIG)
    (tmp_path / "domain.yml").write_text("intents: [greet]\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "nlu.yml").write_text("nlu: []\n")
    (tmp_path / "custom").mkdir()
    (tmp_path / "custom" / "__init__.py").write_text("")
    (tmp_path / "custom" / "policy.py").write_text(
        "from custom.decision import decide\nimport json\n\nclass GuardPolicy: ...\n"
    )
    (tmp_path / "custom" / "decision.py").write_text("from custom import rules\n")
    (tmp_path / "custom" / "rules.py").write_text("RULES = []\n")
    (tmp_path / "custom" / "unrelated.py").write_text("X = 1\n")
    (tmp_path / "README.md").write_text("docs\n")
    return tmp_path


def test_inputs_are_config_domain_data_and_custom_components(project: Path) -> None:
    names = [str(path.relative_to(project)) for path in model_inputs(project)]

    assert names == [
        "config.yml",
        "custom/__init__.py",
        "custom/decision.py",
        "custom/policy.py",
        "custom/rules.py",
        "data/nlu.yml",
        "domain.yml",
    ]


@pytest.mark.parametrize(
    "change",
    [
        "config.yml",
        "domain.yml",
        "data/nlu.yml",
        "custom/policy.py",
        "custom/rules.py",
        "data/new.yml",
    ],
)
def test_fingerprint_changes_when_an_input_changes(project: Path, change: str) -> None:
    before = fingerprint(project)

    (project / change).write_text("changed: true\n")

    assert fingerprint(project) != before


def test_fingerprint_ignores_files_the_model_does_not_depend_on(project: Path) -> None:
    before = fingerprint(project)

    (project / "README.md").write_text("more docs\n")
    (project / "custom" / "unrelated.py").write_text("X = 2\n")
    (project / "var").mkdir()
    (project / "var" / "social.db").write_bytes(b"\0")

    assert fingerprint(project) == before


def test_a_cached_model_is_reused_without_training(project: Path) -> None:
    assert cached_model(project) is None
    target = project / "models" / f"{fingerprint(project)}.tar.gz"
    target.parent.mkdir()
    target.write_bytes(b"model")

    assert cached_model(project) == target
    # An empty environment could not start `rasa train`: reuse must not try.
    assert ensure_model(project, env={}) == target


def test_a_project_without_config_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="config.yml: missing"):
        fingerprint(tmp_path)
