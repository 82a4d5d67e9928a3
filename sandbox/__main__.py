"""`python -m sandbox serve`: `python -m bot serve` with the provider emulators under `/sandbox`.

For development, benchmarks and process-level tests (FACTO_SANDBOX=1 is implied). The
production command, `python -m bot serve`, takes the same settings and never imports this
package; a second web process of a sandbox deployment can run it with FACTO_SANDBOX=1, its
SDKs pointed at the emulators of the process whose address is PUBLIC_BASE_URL.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from aiohttp import web

from bot.cli import main as bot_main
from bot.settings import Settings
from sandbox.app import sandbox_mount


def emulators(settings: Settings) -> list[Callable[[web.Application], None]]:
    return [sandbox_mount(settings)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Facto's web server with the provider emulators (never in production).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "serve", help="`python -m bot serve` with the emulators mounted under /sandbox"
    )
    parser.parse_args(argv)
    os.environ.setdefault("FACTO_SANDBOX", "1")
    os.environ.setdefault("FACTO_WEBHOOKS_ALLOW_LOOPBACK", "1")  # webhooks to a local receiver
    return bot_main(["serve"], serve_mounts=emulators)


if __name__ == "__main__":
    sys.exit(main())
