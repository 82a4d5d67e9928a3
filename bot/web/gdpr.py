"""GDPR requests in the merchant API (the merchant is the controller, Facto its processor).

    GET    /api/v1/customers/{id}/export   everything Facto holds about the customer (JSON)
    DELETE /api/v1/customers/{id}          erasure: contact data, transcripts, consent details
                                           go; invoices and credit notes stay 10 years

Both are scoped to the caller's merchant: another merchant's customer id is a 404.
"""

from __future__ import annotations

import re

from aiohttp import web

from bot.engine.gdpr import ConversationBusy, erase_customer, export_customer
from bot.services import Services
from bot.store.merchants import Merchant
from bot.web.api import _authenticated, error

_ID = re.compile(r"[A-Za-z0-9_.:+-]{1,100}")  # an id, or an address (sms:+33…)


def setup_gdpr(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers/{customer_id}/export", _authenticated(export))
    app.router.add_delete("/api/v1/customers/{customer_id}", _authenticated(erase))


def _customer_id(request: web.Request) -> str | None:
    customer_id = request.match_info["customer_id"]
    return customer_id if _ID.fullmatch(customer_id) else None


async def export(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    customer_id = _customer_id(request)
    found = customer_id and await export_customer(services.redis, merchant.id, customer_id)
    if not found:
        return error(404, "no such customer")
    return web.json_response(
        found, headers={"Content-Disposition": f'attachment; filename="{customer_id}.json"'}
    )


async def erase(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    customer_id = _customer_id(request)
    if customer_id is None:
        return error(404, "no such customer")
    try:
        record = await erase_customer(services.redis, merchant.id, customer_id, services.clock)
    except ConversationBusy:
        return error(409, "a conversation of this customer is being handled: ask again shortly")
    if record is None:
        return error(404, "no such customer (already erased, or never registered)")
    return web.json_response({"erasure": record})
