"""`python -m bot export …`: the accounting CSV of a period, an invoice's Factur-X XML.

    python -m bot export accounting --merchant M --from 2026-01-01 --to 2026-01-31 [--out F]
    python -m bot export factur-x --merchant M --invoice ID [--out F]

The same files as the API (`/api/v1/exports/accounting`, `/api/v1/invoices/{id}/factur-x`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from zoneinfo import ZoneInfo


def add_export_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("export", help="accounting CSV, Factur-X XML")
    commands = parser.add_subparsers(dest="export_command", required=True)
    accounting = commands.add_parser("accounting", help="invoices, credit notes, payments")
    accounting.add_argument("--merchant", required=True)
    accounting.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
    accounting.add_argument("--to", dest="end", required=True, help="last day, included")
    accounting.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
    accounting.set_defaults(func=_run)
    facturx = commands.add_parser("factur-x", help="an invoice's Factur-X (EN 16931) XML")
    facturx.add_argument("--merchant", required=True)
    facturx.add_argument("--invoice", required=True)
    facturx.add_argument("--out", type=Path, default=None, help="file (default: stdout)")
    facturx.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        body = asyncio.run(_export(args))
    except (ValueError, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 2
    if args.out is None:
        sys.stdout.buffer.write(body)
    else:
        args.out.write_bytes(body)
    return 0


async def _export(args: argparse.Namespace) -> bytes:
    from bot.engine.exports import accounting_rows, parse_period
    from bot.runtime import command_redis, load_settings
    from bot.store.invoices import get_invoice
    from bot.store.merchants import get_merchant
    from payments.accounting import to_csv
    from payments.facturx import check, invoice_xml

    period = parse_period(args.start, args.end) if args.export_command == "accounting" else None
    async with command_redis() as redis:
        merchant = await get_merchant(redis, args.merchant)
        if merchant is None:
            msg = f"no merchant {args.merchant}"
            raise LookupError(msg)
        if period is not None:
            zone = ZoneInfo(load_settings().default_timezone)
            return to_csv(await accounting_rows(redis, merchant.id, period, zone)).encode()
        invoice = await get_invoice(redis, merchant.id, args.invoice)
        if invoice is None:
            msg = f"no invoice {args.invoice} for this merchant"
            raise LookupError(msg)
        xml = invoice_xml(invoice, merchant.iban)
        check(xml)
        return xml
