"""The merchant API: `/api/v1/...`, authenticated by API key, scoped to that merchant."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.engine.pipeline import Event, ingest
from bot.logs import mask_phone
from bot.services import Services
from bot.store import invoices, keys
from bot.store.conversations import conversation_key
from bot.store.merchants import Merchant, merchant_for_api_key
from bot.store.payments import credit_notes_of, get_credit_note
from bot.store.seller import seller_snapshot
from bot.web.app_keys import SERVICES
from payments.credit_note import CreditNote
from payments.invoice import Invoice, InvoiceStatus, new_link_token
from payments.invoice_input import InvoiceInputError, InvoiceRequest, parse_invoice_request

log = logging.getLogger(__name__)

ApiHandler = Callable[[web.Request, Services, Merchant], Awaitable[web.Response]]


def setup_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/invoices", _authenticated(create_invoice))
    app.router.add_get("/api/v1/invoices/{invoice_id}", _authenticated(read_invoice))
    app.router.add_get("/api/v1/conversations", _authenticated(list_conversations))
    app.router.add_get("/api/v1/credit-notes/{credit_note_id}", _authenticated(read_credit_note))


def error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _authenticated(handler: ApiHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def wrapper(request: web.Request) -> web.Response:
        services = request.app[SERVICES]
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        try:
            merchant = await merchant_for_api_key(services.redis, key.strip())
        except RedisError:
            log.exception("could not check an API key")
            return error(503, "temporarily unavailable")
        if merchant is None:
            return _unauthorized("invalid API key")
        return await handler(request, services, merchant)

    return wrapper


def _unauthorized(message: str) -> web.Response:
    response = error(401, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="facto"'
    return response


async def _json_body(request: web.Request) -> object | web.Response:
    if request.content_type != "application/json":
        return error(415, "send the body as application/json")
    raw = await request.read()
    try:
        body: object = json.loads(raw)
        return body
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return error(400, f"malformed JSON: {exc}")


async def create_invoice(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    today = services.clock.now().astimezone(_zone(services)).date()
    try:
        invoice_request = parse_invoice_request(body, today=today)
    except InvoiceInputError as exc:
        return error(422, "invalid invoice", fields=exc.errors)
    draft = build_draft(invoice_request, merchant, today)
    try:
        issued = await invoices.issue(
            services.redis, draft, merchant.invoice_prefix, services.clock.now()
        )
        channel, address = invoices.customer_address(issued)
        await ingest(
            services.redis,
            Event(
                id=f"issued:{issued.id}",
                type="invoice_issued",
                conversation=conversation_key(channel, address),
                data={"invoice_id": issued.id, "merchant_id": issued.merchant_id},
            ),
        )
    except RedisError:
        log.exception("could not issue an invoice")
        return error(503, "temporarily unavailable, nothing was issued")
    return web.json_response(invoice_view(issued, services), status=201)


async def read_invoice(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    invoice_id = request.match_info["invoice_id"]
    if len(invoice_id) > 64:
        return error(404, "no such invoice")
    invoice = await invoices.get_invoice(services.redis, merchant.id, invoice_id)
    if invoice is None:
        # Another merchant's invoice is indistinguishable from a missing one (TESTCASES 58).
        return error(404, "no such invoice")
    notes = await credit_notes_of(services.redis, merchant.id, invoice.id)
    return web.json_response(
        {
            **invoice_view(invoice, services),
            "amount_refunded": invoice.amount_refunded,
            "credit_notes": [credit_note_view(note, services) for note in notes],
        }
    )


async def read_credit_note(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    credit_note_id = request.match_info["credit_note_id"]
    note = None
    if len(credit_note_id) <= 64:
        note = await get_credit_note(services.redis, merchant.id, credit_note_id)
    if note is None:  # another merchant's credit note is a missing one (TESTCASES 58)
        return error(404, "no such credit note")
    return web.json_response(credit_note_view(note, services))


def credit_note_view(note: CreditNote, services: Services) -> dict[str, Any]:
    base = services.settings.public_base_url
    return {**note.to_api(), "credit_note_url": f"{base}/a/{note.view_token}"}


CONVERSATION_STATUSES = ("waiting_agent",)
MAX_PAGE = 200


async def list_conversations(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    """The merchant's conversations waiting for a human, oldest first (the agents' queue)."""
    status = request.query.get("status")
    if status not in CONVERSATION_STATUSES:
        return error(
            422,
            "invalid query",
            fields=[
                {
                    "field": "status",
                    "message": f"must be one of: {', '.join(CONVERSATION_STATUSES)}",
                }
            ],
        )
    waiting = await services.redis.zrange(
        keys.waiting_conversations(merchant.id), 0, MAX_PAGE - 1, withscores=True
    )
    items = []
    for conversation, _since in waiting:
        raw = await services.redis.get(keys.handoff(merchant.id, conversation))
        details = json.loads(raw) if raw else {}
        items.append({"conversation": conversation, "status": "waiting_agent", **details})
    return web.json_response({"conversations": items})


def build_draft(request: InvoiceRequest, merchant: Merchant, today: date) -> Invoice:
    return Invoice(
        id=invoices.new_invoice_id(),
        merchant_id=merchant.id,
        number=invoices.draft_number(merchant.invoice_prefix, today.year),
        status=InvoiceStatus.OPEN,
        currency=request.currency,
        lines=request.to_lines(),
        amount_paid=0,
        issue_date=today,
        due_date=request.due_date,
        customer=request.to_customer(),
        channel=request.channel,
        pay_token=new_link_token(),
        view_token=new_link_token(),
        seller=seller_snapshot(merchant),
    )


def invoice_view(invoice: Invoice, services: Services) -> dict[str, Any]:
    base = services.settings.public_base_url
    totals = invoice.totals
    return {
        "id": invoice.id,
        "number": invoice.number,
        "status": invoice.status.value,
        "currency": invoice.currency,
        "issue_date": invoice.issue_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "channel": invoice.channel,
        "customer": {
            "name": invoice.customer.name,
            "phone": mask_phone(invoice.customer.phone) if invoice.customer.phone else None,
            "telegram_chat_id": invoice.customer.telegram_chat_id,
            "locale": invoice.customer.locale,
        },
        "totals": {
            "net": totals.net,
            "vat": [
                {"rate": str(row.rate), "base": row.base, "amount": row.vat}
                for row in totals.vat_by_rate
            ],
            "vat_total": totals.vat,
            "gross": totals.gross,
        },
        "amount_paid": invoice.amount_paid,
        "amount_due": invoice.amount_due,
        "pay_url": f"{base}/p/{invoice.pay_token}",
        "invoice_url": f"{base}/i/{invoice.view_token}",
    }


def _zone(services: Services) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(services.settings.default_timezone)
