"""The trained-model cache: train only when what the model depends on has changed.

The model is stored as ``models/<fingerprint>.tar.gz``: the file name is the content hash of
``config.yml``, the domain, ``data/``, the custom components ``config.yml`` names, and the Rasa
version. A lock file serialises concurrent trainings (``make run`` beside ``make test``).
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import logging
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

from ruamel.yaml import YAML

from bot.errors import ConfigurationError

__all__ = [
    "MODELS_DIR",
    "TrainingFailed",
    "cached_model",
    "ensure_model",
    "fingerprint",
    "model_inputs",
]

logger = logging.getLogger(__name__)

MODELS_DIR = "models"
KEEP_MODELS = 3


class TrainingFailed(ConfigurationError):
    """``rasa train`` exited with an error; its output names the file at fault."""


def _module_files(root: Path, dotted: str) -> list[Path]:
    """The project files of module ``dotted``: its package ``__init__``s and the module itself."""
    parts = dotted.split(".")
    files = []
    for depth in range(1, len(parts) + 1):
        init = root.joinpath(*parts[:depth], "__init__.py")
        if init.is_file():
            files.append(init)
    module = root.joinpath(*parts).with_suffix(".py")
    if module.is_file():
        files.append(module)
    return files


def _project_imports(root: Path, source: Path) -> set[str]:
    """Modules of the project that ``source`` imports (``import a.b``, ``from a.b import c``)."""
    tree = ast.parse(source.read_text(encoding="utf-8"), filename=str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # ``from package import module`` imports a module too
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if (root / name.split(".")[0]).is_dir()}


def _custom_component_files(root: Path, config: Path) -> list[Path]:
    """Source files of the custom components config.yml names, and of the project modules they
    import, transitively (``bot.policy`` and what it imports from ``bot``)."""
    parsed: Any = YAML(typ="safe", pure=True).load(config.read_text(encoding="utf-8")) or {}
    pending: list[str] = []
    for section in ("pipeline", "policies"):
        for item in parsed.get(section) or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and "." in item["name"]:
                pending.append(item["name"].rsplit(".", 1)[0])
    seen: set[str] = set()
    files: set[Path] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        for path in _module_files(root, module):
            if path not in files:
                files.add(path)
                pending.extend(_project_imports(root, path))
    return sorted(files)


def model_inputs(root: Path) -> list[Path]:
    """Every file a trained model depends on, sorted."""
    config = root / "config.yml"
    if not config.is_file():
        raise ConfigurationError("missing: the model's pipeline and policies", file=str(config))
    files = {config}
    domain = root / "domain.yml"
    if domain.is_file():
        files.add(domain)
    for directory in (root / "domain", root / "data"):
        if directory.is_dir():
            files.update(path for path in directory.rglob("*") if path.is_file())
    files.update(_custom_component_files(root, config))
    return sorted(files)


def fingerprint(root: Path) -> str:
    """The content hash of the model's inputs and the Rasa version, 20 hex digits."""
    digest = hashlib.sha256(f"rasa=={version('rasa')}\n".encode())
    for path in model_inputs(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def cached_model(root: Path) -> Path | None:
    """The trained model for the current inputs, if one is cached."""
    path = root / MODELS_DIR / f"{fingerprint(root)}.tar.gz"
    return path if path.is_file() else None


@contextmanager
def _training_lock(models: Path) -> Iterator[None]:
    models.mkdir(parents=True, exist_ok=True)
    with open(models / ".training.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _prune(models: Path, keep: Path) -> None:
    older = sorted(
        (path for path in models.glob("*.tar.gz") if path != keep),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for path in older[KEEP_MODELS - 1 :]:
        path.unlink(missing_ok=True)


def ensure_model(root: Path, env: Mapping[str, str], output: IO[str] | None = None) -> Path:
    """Returns the cached model for the current inputs, training it first if needed.

    Args:
        root: the project root.
        env: the environment of the ``rasa train`` process.
        output: where ``rasa train`` writes; its output is kept in ``var/log/train.log`` otherwise.

    Raises:
        TrainingFailed: ``rasa train`` failed; the message holds the end of its output.
    """
    models = root / MODELS_DIR
    with _training_lock(models):
        name = fingerprint(root)
        target = models / f"{name}.tar.gz"
        if target.is_file():
            logger.info("model %s is up to date", target.relative_to(root))
            return target
        command = [
            *(sys.executable, "-m", "rasa", "train"),
            *("--fixed-model-name", name, "--out", str(models)),
            *("--config", "config.yml", "--domain", "domain.yml", "--data", "data"),
        ]
        log_path = root / "var" / "log" / "train.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with open(log_path, "w", encoding="utf-8") as log:
            result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
                command,
                cwd=root,
                env=dict(env),
                stdout=output or log,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
        if result.returncode != 0 or not target.is_file():
            tail = "" if output else "\n".join(log_path.read_text().splitlines()[-25:])
            raise TrainingFailed(
                f"rasa train failed (exit {result.returncode}); see {log_path}\n{tail}".rstrip()
            )
        logger.info("trained %s in %.0f s", target.relative_to(root), time.monotonic() - started)
        _prune(models, target)
        return target
