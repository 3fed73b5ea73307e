"""The bot designer's files: valid for Rasa, and the test stories pass on the trained model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from launcher.cli import child_environment
from tests.e2e.conftest import ROOT, stack_environment


def _rasa(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = stack_environment(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "rasa", *args],
        cwd=ROOT,
        env=child_environment(ROOT, env, Settings.from_env(env)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_rasa_data_validate_reports_no_errors_and_no_warnings(tmp_path: Path) -> None:
    result = _rasa(["data", "validate", "--fail-on-warnings"], tmp_path)
    output = result.stdout + result.stderr

    assert result.returncode == 0, output
    problems = [line for line in output.splitlines() if "UserWarning" in line or " ERROR " in line]
    assert problems == [], output


def test_test_stories_pass_on_the_trained_model(model: Path, tmp_path: Path) -> None:
    result = _rasa(
        [
            *("test", "core", "--model", str(model)),
            *("--stories", "tests/test_stories.yml", "--out", str(tmp_path / "results")),
            *("--fail-on-prediction-errors", "--no-plot"),
        ],
        tmp_path,
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    failed = tmp_path / "results" / "failed_test_stories.yml"
    assert "None of the test stories failed" in failed.read_text()
