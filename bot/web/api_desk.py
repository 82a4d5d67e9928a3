"""The merchant API's reading side: invoices with filters and a cursor, each invoice's
timeline, payments and credit notes, the money to review, and KPIs; described in
`bot.web.openapi` and served with it.

Every answer to bad input is a 4xx: a query parameter out of range is a 422 naming it.
"""

from __future__ import annotations

import base64
import binascii
import math
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from bot.services import Services
from bot.store import desk, keys, kpis_more
from bot.store.invoices import get_invoice
from bot.store.merchants import Merchant
from bot.store.payments import credit_notes_of, load_records
from bot.web.api import authenticated, credit_note_view, error, invoice_view
from bot.web.api_review import setup_api_review
from bot.web.pages import SESSION_LIFETIME
from payments.invoice import Invoice, InvoiceStatus
from payments.ledger import PaymentRecord

CHANNELS = ("sms", "whatsapp", "telegram")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
SCAN_BATCH = 200
MAX_SCAN = 2000  # invoices read per request; the cursor continues past those filtered out
MAX_PERIOD_DAYS = 3660


def setup_api_desk(app: web.Application) -> None:
    app.router.add_get("/api/v1/invoices", authenticated(list_invoices))
    app.router.add_get("/api/v1/invoices/{invoice_id}/timeline", authenticated(invoice_timeline))
    app.router.add_get("/api/v1/invoices/{invoice_id}/payments", authenticated(invoice_payments))
    app.router.add_get(
        "/api/v1/invoices/{invoice_id}/credit-notes", authenticated(invoice_credit_notes)
    )
    app.router.add_get("/api/v1/payments/review", authenticated(money_to_review))
    app.router.add_get("/api/v1/kpis", authenticated(read_kpis))
    setup_api_review(app)


def _invalid(problems: list[dict[str, str]]) -> web.Response:
    return error(422, "invalid query", fields=problems)


def _day(value: str | None, name: str, problems: list[dict[str, str]]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append({"field": name, "message": "must be a date YYYY-MM-DD"})
        return None


# Cursor: the last invoice's score (issue time) and id, so that new invoices never shift a page.
def encode_cursor(score: float, invoice_id: str) -> str:
    return base64.urlsafe_b64encode(f"{score!r}|{invoice_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str] | None:
    if len(cursor) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        score, _, invoice_id = raw.partition("|")
        value = float(score)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not invoice_id or not math.isfinite(value):
        return None
    return value, invoice_id


async def list_invoices(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    q = request.query
    problems: list[dict[str, str]] = []
    status, channel = q.get("status", ""), q.get("channel", "")
    if status and status not in InvoiceStatus._value2member_map_:
        statuses = ", ".join(s.value for s in InvoiceStatus)
        problems.append({"field": "status", "message": f"must be one of: {statuses}"})
    if channel and channel not in CHANNELS:
        problems.append({"field": "channel", "message": "must be one of: sms, whatsapp, telegram"})
    overdue = q.get("overdue", "")
    if overdue not in ("", "true", "false"):
        problems.append({"field": "overdue", "message": "must be true or false"})
    limit_raw = q.get("limit", str(DEFAULT_LIMIT))
    if not (limit_raw.isascii() and limit_raw.isdigit()) or not 1 <= int(limit_raw) <= MAX_LIMIT:
        problems.append({"field": "limit", "message": f"must be an integer from 1 to {MAX_LIMIT}"})
    due_before = _day(q.get("due_before"), "due_before", problems)
    cursor = None
    if q.get("cursor"):
        cursor = decode_cursor(q["cursor"])
        if cursor is None:
            problems.append({"field": "cursor", "message": "not a cursor this API gave"})
    customer = q.get("customer", "")
    if len(customer) > 100:
        problems.append({"field": "customer", "message": "at most 100 characters"})
    if problems:
        return _invalid(problems)
    wanted = desk.InvoiceFilter(status, channel, customer, due_before, overdue == "true")
    today = services.clock.now().astimezone(_zone(services)).date()
    page, next_cursor = await _page(
        services, merchant.id, wanted=wanted, today=today, limit=int(limit_raw), cursor=cursor
    )
    return web.json_response(
        {"invoices": [invoice_view(i, services) for i in page], "next_cursor": next_cursor}
    )


async def _page(
    services: Services,
    merchant_id: str,
    *,
    wanted: desk.InvoiceFilter,
    today: date,
    limit: int,
    cursor: tuple[float, str] | None,
) -> tuple[list[Invoice], str | None]:
    key = keys.merchant_invoices(merchant_id)
    found: list[Invoice] = []
    top: float | str = "+inf" if cursor is None else cursor[0]
    after = None if cursor is None else cursor
    scanned = 0
    last: tuple[float, str] | None = None
    while scanned < MAX_SCAN:
        batch = await services.redis.zrevrangebyscore(
            key, top, "-inf", start=0, num=SCAN_BATCH + 1, withscores=True
        )
        # Same score as the cursor: members come in descending id order; skip those served.
        rows = [
            (member, score)
            for member, score in batch
            if after is None or score < after[0] or member < after[1]
        ]
        if not rows:
            return found, None
        for member, score in rows:
            scanned += 1
            last = (score, member)
            invoice = await get_invoice(services.redis, merchant_id, member)
            if invoice is not None and desk.matches(invoice, wanted, today):
                found.append(invoice)
                if len(found) == limit:
                    return found, encode_cursor(score, member)
            if scanned >= MAX_SCAN:
                break
        assert last is not None  # rows was not empty
        top, after = last[0], last
    return found, encode_cursor(*last) if last else None


async def _invoice(request: web.Request, services: Services, merchant: Merchant) -> Invoice | None:
    invoice_id = request.match_info["invoice_id"]
    if len(invoice_id) > 64:
        return None
    return await get_invoice(services.redis, merchant.id, invoice_id)


async def invoice_timeline(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    invoice = await _invoice(request, services, merchant)
    if invoice is None:
        return error(404, "no such invoice")
    steps = await desk.timeline(services.redis, invoice, checkout_lifetime=SESSION_LIFETIME)
    return web.json_response(
        {
            "invoice_id": invoice.id,
            "events": [{"at": s.at, "kind": s.kind, "detail": s.detail} for s in steps],
        }
    )


def payment_view(record: PaymentRecord) -> dict[str, Any]:
    return {
        "id": record.session_id,
        "purpose": record.purpose,
        "verdict": record.verdict,
        "credited": record.credited,
        "returned": record.returned,
        "review": record.review,
        "received_at": record.received_at,
        "refunds": dict(record.refunds),
        "disputes": {k: str(v) for k, v in record.disputes.items()},
    }


async def invoice_payments(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    invoice = await _invoice(request, services, merchant)
    if invoice is None:
        return error(404, "no such invoice")
    records = await load_records(services.redis, merchant.id, invoice.id)
    return web.json_response(
        {"invoice_id": invoice.id, "payments": [payment_view(r) for r in records.values()]}
    )


async def invoice_credit_notes(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    invoice = await _invoice(request, services, merchant)
    if invoice is None:
        return error(404, "no such invoice")
    notes = await credit_notes_of(services.redis, merchant.id, invoice.id)
    return web.json_response(
        {"invoice_id": invoice.id, "credit_notes": [credit_note_view(n, services) for n in notes]}
    )


async def money_to_review(
    _request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    items = await desk.review_items(services.redis, merchant.id)
    return web.json_response(
        {
            "payments": [
                {"invoice_id": i.invoice_id, "payment_id": i.session_id, "reason": i.reason}
                for i in items
            ]
        }
    )


async def read_kpis(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    problems: list[dict[str, str]] = []
    today = services.clock.now().astimezone(_zone(services)).date()
    end = _day(request.query.get("to"), "to", problems) or today
    start = _day(request.query.get("from"), "from", problems) or end - timedelta(days=30)
    if not problems and (start > end or (end - start).days > MAX_PERIOD_DAYS):
        problems.append({"field": "from", "message": "must be before to, at most 3660 days"})
    if problems:
        return _invalid(problems)
    return web.json_response(
        await kpis_more.report(services.redis, merchant.id, start, end, today)
    )


def _zone(services: Services) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(services.settings.default_timezone)
