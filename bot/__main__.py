"""Operator commands: ``python -m bot store upgrade|current``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.errors import SocialCareError
from bot.settings import environment
from bot.store import SocialStore, store_url_from_endpoints

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m bot``."""
    parser = argparse.ArgumentParser(prog="python -m bot")
    commands = parser.add_subparsers(dest="area", required=True)
    store_parser = commands.add_parser("store", help="the social store's schema")
    store_parser.add_argument("action", choices=["upgrade", "current"])
    store_parser.add_argument(
        "--endpoints",
        type=Path,
        default=ROOT / "endpoints.yml",
        help="endpoints file (social_store.url)",
    )
    args = parser.parse_args(argv)
    try:
        url = store_url_from_endpoints(args.endpoints, environment(ROOT))
        store = SocialStore.from_url(url, root=ROOT)
        try:
            if args.action == "upgrade":
                store.upgrade()
            print(f"social store at revision {store.current_revision() or '(none)'}")
        finally:
            store.dispose()
    except SocialCareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
