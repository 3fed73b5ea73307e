"""``python -m sandbox``: runs the local Facebook and X on one port (see ``--help``)."""

from __future__ import annotations

import logging
import os
import sys

from sandbox.app import create_app
from sandbox.config import ConfigError, parse_config


def main(argv: list[str] | None = None) -> int:
    """Parses the settings and serves until SIGINT / SIGTERM."""
    try:
        config = parse_config(argv, os.environ)
    except ConfigError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("sanic.access", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    app = create_app(config)
    app.run(host=config.host, port=config.port, access_log=False, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
