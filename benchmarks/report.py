"""What every benchmark does with its figures: print them, and keep them under ``results/``."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

__all__ = ["RESULTS", "p99", "publish"]

RESULTS = Path(__file__).parent / "results"


def p99(samples: Sequence[float]) -> float:
    """The 99th percentile of ``samples``."""
    return statistics.quantiles(samples, n=100)[98]


def publish(name: str, lines: Sequence[str]) -> None:
    """Prints the report and writes it to ``results/<name>.md``."""
    report = "\n".join(lines)
    print(report)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.md").write_text(report + "\n")
