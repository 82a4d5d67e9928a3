"""The merchant's lists beside the invoices: customers, campaigns, payments and credit notes,
each scoped to the merchant, paged like GET /api/v1/invoices (`limit` 1-200, `cursor` from the
previous page's `next_cursor`, null on the last page; a bad query is a 422 naming the field).

Payments and credit notes hang off invoices, so their pages walk the merchant's invoices
newest first: a page ends after the invoice that filled it (it may hold a few more than
`limit`), and the cursor points past that invoice, never into the middle of one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.services import Services
from bot.store import campaigns, customers, keys
from bot.store.merchants import Merchant
from bot.store.payments import credit_notes_of, load_records
from bot.web.api import authenticated, credit_note_view, error
from bot.web.api_desk import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_SCAN,
    SCAN_BATCH,
    decode_cursor,
    encode_cursor,
    payment_view,
)
from bot.web.campaigns import view as campaign_view

CAMPAIGN_STATES = campaigns.STATES


def setup_api_lists(app: web.Application) -> None:
    app.router.add_get("/api/v1/customers", authenticated(list_customers))
    app.router.add_get("/api/v1/campaigns", authenticated(list_campaigns))
    app.router.add_get("/api/v1/payments", authenticated(list_payments))
    app.router.add_get("/api/v1/credit-notes", authenticated(list_credit_notes))


def _limit(query: Any, problems: list[dict[str, str]]) -> int:
    raw = query.get("limit", str(DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        problems.append({"field": "limit", "message": f"must be an integer from 1 to {MAX_LIMIT}"})
        return DEFAULT_LIMIT
    return int(raw)


def _scored_cursor(query: Any, problems: list[dict[str, str]]) -> tuple[float, str] | None:
    if not query.get("cursor"):
        return None
    found = decode_cursor(query["cursor"])
    if found is None:
        problems.append({"field": "cursor", "message": "not a cursor this API gave"})
    return found


def _invalid(problems: list[dict[str, str]]) -> web.Response:
    return error(422, "invalid query", fields=problems)


# Customers: a hash without order, so the page is by id (the cursor is the last id served).
def _encode_id(customer_id: str) -> str:
    return base64.urlsafe_b64encode(customer_id.encode()).decode().rstrip("=")


def _decode_id(cursor: str) -> str | None:
    if len(cursor) > 400:
        return None
    try:
        found = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return found or None


async def list_customers(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    problems: list[dict[str, str]] = []
    limit = _limit(request.query, problems)
    after = ""
    if request.query.get("cursor"):
        after = _decode_id(request.query["cursor"]) or ""
        if not after:
            problems.append({"field": "cursor", "message": "not a cursor this API gave"})
    if problems:
        return _invalid(problems)
    ids = sorted(i for i in await services.redis.hkeys(keys.customers(merchant.id)) if i > after)
    page = ids[:limit]
    found = await customers.get_many(services.redis, merchant.id, page)
    next_cursor = _encode_id(page[-1]) if len(ids) > limit else None
    return web.json_response(
        {"customers": [c.to_dict() for c in found if c is not None], "next_cursor": next_cursor}
    )


async def _newest(
    services: Services, key: str, cursor: tuple[float, str] | None
) -> AsyncIterator[tuple[float, str]]:
    """(score, member) of a sorted set, highest first, strictly after `cursor`; at most
    MAX_SCAN per request, so one call's work stays bounded."""
    top: float | str = "+inf" if cursor is None else cursor[0]
    after = cursor
    served = 0
    while served < MAX_SCAN:
        batch = await services.redis.zrevrangebyscore(
            key, top, "-inf", start=0, num=SCAN_BATCH + 1, withscores=True
        )
        # Same score as the cursor: members come in descending order; skip those served.
        rows = [(m, s) for m, s in batch if after is None or s < after[0] or m < after[1]]
        if not rows:
            return
        for member, score in rows[: MAX_SCAN - served]:
            served += 1
            yield score, member
        top, after = rows[-1][1], (rows[-1][1], rows[-1][0])


async def list_campaigns(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    problems: list[dict[str, str]] = []
    limit = _limit(request.query, problems)
    cursor = _scored_cursor(request.query, problems)
    state = request.query.get("state", "")
    if state and state not in CAMPAIGN_STATES:
        problems.append(
            {"field": "state", "message": "must be one of: " + ", ".join(CAMPAIGN_STATES)}
        )
    if problems:
        return _invalid(problems)
    views: list[dict[str, Any]] = []
    last: tuple[float, str] | None = None
    async for score, campaign_id in _newest(
        services, keys.merchant_campaigns(merchant.id), cursor
    ):
        last = (score, campaign_id)
        found = await campaigns.load(services.redis, merchant.id, campaign_id)
        if found is not None and (not state or found.state == state):
            views.append(campaign_view(found))
            if len(views) == limit:
                break
    next_cursor = await _continues(services, keys.merchant_campaigns(merchant.id), last)
    return web.json_response({"campaigns": views, "next_cursor": next_cursor})


async def _continues(services: Services, key: str, last: tuple[float, str] | None) -> str | None:
    """The cursor after `last`, or None when nothing older is left."""
    if last is None:
        return None
    async for _ in _newest(services, key, last):
        return encode_cursor(*last)
    return None


async def list_payments(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    problems: list[dict[str, str]] = []
    limit = _limit(request.query, problems)
    cursor = _scored_cursor(request.query, problems)
    review = request.query.get("review", "")
    if review not in ("", "true", "false"):
        problems.append({"field": "review", "message": "must be true or false"})
    if problems:
        return _invalid(problems)
    found: list[dict[str, Any]] = []
    key = keys.merchant_invoices(merchant.id)
    last: tuple[float, str] | None = None
    async for score, invoice_id in _newest(services, key, cursor):
        last = (score, invoice_id)
        for record in (await load_records(services.redis, merchant.id, invoice_id)).values():
            if review and bool(record.review) != (review == "true"):
                continue
            found.append({"invoice_id": invoice_id, **payment_view(record)})
        if len(found) >= limit:
            break
    next_cursor = await _continues(services, key, last)
    return web.json_response({"payments": found, "next_cursor": next_cursor})


async def list_credit_notes(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    problems: list[dict[str, str]] = []
    limit = _limit(request.query, problems)
    cursor = _scored_cursor(request.query, problems)
    if problems:
        return _invalid(problems)
    found: list[dict[str, Any]] = []
    key = keys.merchant_invoices(merchant.id)
    last: tuple[float, str] | None = None
    async for score, invoice_id in _newest(services, key, cursor):
        last = (score, invoice_id)
        for note in await credit_notes_of(services.redis, merchant.id, invoice_id):
            found.append(credit_note_view(note, services))
        if len(found) >= limit:
            break
    next_cursor = await _continues(services, key, last)
    return web.json_response({"credit_notes": found, "next_cursor": next_cursor})
