"""Where the migrations live and which table records the schema version."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MIGRATIONS_DIR", "VERSION_TABLE"]

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "social_store_version"
