"""`python -m bot policy …`: a merchant's collection policy, as `GET/PUT /api/v1/policy`.

    python -m bot policy show --merchant M
    python -m bot policy set --merchant M --file policy.json     (the API's PUT body)

A change applies to invoices issued afterwards (each ladder keeps the policy of its issue).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path


def add_policy_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy", help="a merchant's reminders, pay-later window, split rules, languages"
    )
    commands = parser.add_subparsers(dest="policy_command", required=True)
    show = commands.add_parser("show", help="print the policy as JSON")
    show.add_argument("--merchant", required=True)
    show.set_defaults(func=_run)
    change = commands.add_parser("set", help="replace the policy from the API's JSON body")
    change.add_argument("--merchant", required=True)
    change.add_argument("--file", required=True, type=Path)
    change.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_command(args))


async def _command(args: argparse.Namespace) -> int:
    from bot.runtime import command_redis
    from bot.store import policy as collection_policy
    from bot.store.merchants import get_merchant
    from bot.web.policy import PolicyError, document, parse

    async with command_redis() as redis:
        merchant = await get_merchant(redis, args.merchant)
        if merchant is None:
            print(f"error: no merchant {args.merchant}", file=sys.stderr)  # noqa: T201
            return 2
        if args.policy_command == "set":
            try:
                policy = parse(json.loads(args.file.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                field = f"{exc.field}: " if isinstance(exc, PolicyError) else ""
                print(f"error: {field}{exc}", file=sys.stderr)  # noqa: T201
                return 2
            await collection_policy.save(redis, args.merchant, policy)
        policy = await collection_policy.load_all(redis, args.merchant)
        print(json.dumps(document(policy, merchant), indent=2))  # noqa: T201 - CLI output
    return 0
