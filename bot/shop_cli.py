"""`python -m bot shop …`: a merchant's shop connections, as `/api/v1/shops`.

    python -m bot shop connect --merchant M --platform shopify --shop boutique.myshopify.com \
        --secret <Shopify's webhook signing secret>
    python -m bot shop connect --merchant M --platform woocommerce --shop https://boutique.fr
    python -m bot shop list --merchant M
    python -m bot shop disconnect --merchant M --id shop_…

`connect` prints the webhook URL to give the shop (and, for WooCommerce without --secret, the
secret Facto made, shown once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys


def add_shop_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("shop", help="shop connections: orders become invoices")
    commands = parser.add_subparsers(dest="shop_command", required=True)
    connect = commands.add_parser("connect", help="connect a Shopify shop or WooCommerce site")
    connect.add_argument("--merchant", required=True)
    connect.add_argument("--platform", required=True, choices=("shopify", "woocommerce"))
    connect.add_argument("--shop", required=True, help="boutique.myshopify.com or the site URL")
    connect.add_argument("--secret", default=None, help="the webhook signing secret")
    connect.add_argument("--channel", default="sms", choices=("sms", "whatsapp"))
    connect.add_argument("--due-days", type=int, default=14, help="days to pay (default 14)")
    connect.set_defaults(func=_run)
    listing = commands.add_parser("list", help="the merchant's connections, as JSON")
    listing.add_argument("--merchant", required=True)
    listing.set_defaults(func=_run)
    disconnect = commands.add_parser("disconnect", help="stop invoicing a shop's orders")
    disconnect.add_argument("--merchant", required=True)
    disconnect.add_argument("--id", required=True, help="the connection id (shop_…)")
    disconnect.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return asyncio.run(_command(args))


async def _command(args: argparse.Namespace) -> int:
    from bot.clock import SystemClock
    from bot.runtime import command_redis, load_settings
    from bot.settings import SecretsKeyError, secret_box
    from bot.store import shops
    from bot.store.merchants import get_merchant

    settings = load_settings()
    async with command_redis() as redis:
        if await get_merchant(redis, args.merchant) is None:
            print(f"error: no merchant {args.merchant}", file=sys.stderr)  # noqa: T201
            return 2
        if args.shop_command == "list":
            found = await shops.all_of(redis, args.merchant)
            print(json.dumps([c.public() for c in found], indent=2))  # noqa: T201
            return 0
        if args.shop_command == "disconnect":
            if not await shops.remove(redis, args.merchant, args.id):
                print(f"error: no shop connection {args.id}", file=sys.stderr)  # noqa: T201
                return 1
            print(f"{args.id}: disconnected")  # noqa: T201 - CLI output
            return 0
        fields = {
            "platform": args.platform,
            "shop": args.shop,
            "channel": args.channel,
            "due_days": args.due_days,
        }
        if args.secret is not None:
            fields["secret"] = args.secret
        try:
            connection, made = shops.build_connection(
                args.merchant, fields, box=secret_box(settings), now=SystemClock().now()
            )
        except (shops.ShopError, SecretsKeyError) as exc:
            print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
            return 2
        await shops.save(redis, connection)
    shown = connection.public()
    shown["webhook_url"] = settings.public_base_url + connection.webhook_path()
    if args.secret is None:
        shown["secret"] = made  # shown once: paste it into WooCommerce's webhook form
    print(json.dumps(shown, indent=2))  # noqa: T201 - CLI output
    return 0
