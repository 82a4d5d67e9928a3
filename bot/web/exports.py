"""Exports in the merchant API: the accounting CSV of a period, an invoice's Factur-X XML.

    GET /api/v1/exports/accounting?from=2026-01-01&to=2026-01-31   text/csv
    GET /api/v1/invoices/{invoice_id}/factur-x                      application/xml

Both read only the caller's merchant's keys: another merchant's invoice id is a 404.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from aiohttp import web
from redis.exceptions import RedisError

from bot.engine.exports import accounting_rows, parse_period
from bot.services import Services
from bot.store.invoices import get_invoice
from bot.store.merchants import Merchant
from bot.web.api import _authenticated, error
from payments.accounting import to_csv
from payments.facturx import check, invoice_xml

log = logging.getLogger(__name__)


def setup_exports(app: web.Application) -> None:
    app.router.add_get("/api/v1/exports/accounting", _authenticated(accounting_export))
    app.router.add_get("/api/v1/invoices/{invoice_id}/factur-x", _authenticated(factur_x))


async def accounting_export(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    unknown = sorted(set(request.query) - {"from", "to"})
    if unknown:
        return error(400, f"unknown query parameter: {', '.join(unknown)}")
    try:
        period = parse_period(request.query.get("from"), request.query.get("to"))
    except ValueError as exc:
        return error(400, str(exc))
    zone = ZoneInfo(services.settings.default_timezone)
    try:
        rows = await accounting_rows(services.redis, merchant.id, period, zone)
    except RedisError:
        log.exception("accounting export: Redis unavailable")
        return error(503, "temporarily unavailable")
    name = f"facto-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return web.Response(
        text=to_csv(rows),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def factur_x(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    invoice_id = request.match_info["invoice_id"]
    if len(invoice_id) > 64:
        return error(404, "no such invoice")
    invoice = await get_invoice(services.redis, merchant.id, invoice_id)
    if invoice is None:
        return error(404, "no such invoice")
    xml = invoice_xml(invoice, merchant.iban)
    check(xml)  # never hand out an XML the schema refuses: a bug, and a 500 says so
    return web.Response(
        body=xml,
        content_type="application/xml",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{invoice.number}.xml"'},
    )
