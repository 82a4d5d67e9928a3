"""`python -m bot campaign …`: create, start, pause, resume, cancel and watch a flash sale.

    python -m bot campaign create --merchant M --file sale.json   (the API's JSON body)
    python -m bot campaign start|pause|resume|cancel ID --merchant M
    python -m bot campaign show ID --merchant M
    python -m bot campaign watch ID --merchant M                  (a progress bar)

Talks to Redis like the other operator commands (REDIS_URL); the worker sends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.clock import SystemClock

BAR_WIDTH = 40


def add_campaign_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = subparsers.add_parser("campaign", help="flash sales: create, start, pause, watch")
    commands = parser.add_subparsers(dest="campaign_command", required=True)
    create = commands.add_parser("create", help="create a campaign from the API's JSON body")
    create.add_argument("--merchant", required=True)
    create.add_argument("--file", required=True, type=Path)
    create.set_defaults(func=_run)
    for name in ("start", "pause", "resume", "cancel", "show", "watch"):
        command = commands.add_parser(name, help=f"{name} a campaign")
        command.add_argument("id")
        command.add_argument("--merchant", required=True)
        if name == "watch":
            command.add_argument("--every", type=float, default=1.0, help="seconds")
        command.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_command(args))


async def _command(args: argparse.Namespace) -> int:
    from bot.engine import campaigns as engine
    from bot.runtime import command_redis
    from bot.store import campaigns
    from bot.web.campaigns import finished, view

    clock = SystemClock()
    async with command_redis() as redis:
        if args.campaign_command == "create":
            try:
                body = json.loads(args.file.read_text())
                campaign = campaigns.parse_campaign(
                    body, merchant_id=args.merchant, now=clock.now()
                )
            except (ValueError, campaigns.CampaignInputError) as exc:
                print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
                return 2
            await campaigns.create(redis, campaign, clock.now())
            print(campaign.id)  # noqa: T201
            return 0
        if args.campaign_command in ("start", "pause", "resume", "cancel"):
            done, state = await engine.start(
                redis, args.merchant, args.id, clock, args.campaign_command
            )
            if done == -1:
                print(f"error: no campaign {args.id}", file=sys.stderr)  # noqa: T201
                return 1
            print(state)  # noqa: T201
            return 0 if done or state == "running" else 1
        found = await campaigns.load(redis, args.merchant, args.id)
        if found is None:
            print(f"error: no campaign {args.id}", file=sys.stderr)  # noqa: T201
            return 1
        if args.campaign_command == "show":
            print(json.dumps(view(found), indent=2, ensure_ascii=False))  # noqa: T201
            return 0
        while True:
            body = view(found)
            draw(body, sys.stdout)
            if finished(body):
                sys.stdout.write("\n")
                return 0
            await asyncio.sleep(args.every)
            reloaded = await campaigns.load(redis, args.merchant, args.id)
            found = reloaded or found


def draw(body: dict[str, Any], out: TextIO) -> None:
    """One line, redrawn in place: bar, decided/total, sent, skipped, state."""
    total = body["recipients"] or 0
    counts = body["counts"]
    decided = counts["sent"] + counts["skipped_no_consent"]
    decided += counts["dropped_cancelled"] + counts["dropped_ended"]
    share = decided / total if total else 0.0
    filled = int(share * BAR_WIDTH)
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    out.write(
        f"\r[{bar}] {decided}/{total} {share:6.1%}  sent {counts['sent']}"
        f"  no consent {counts['skipped_no_consent']}  {body['state']}   "
    )
    out.flush()
