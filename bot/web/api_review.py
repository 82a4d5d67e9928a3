"""The merchant's actions on money over the API: a payment to review applied to an invoice,
refunded or dismissed (`bot.engine.review`), and an invoice voided with a credit note
(`bot.engine.void`); the dashboard's actions too. Described in `bot.web.openapi`."""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web

from bot.engine import review, void
from bot.services import Services
from bot.store.merchants import Merchant
from bot.web.api import authenticated, error
from bot.web.bodies import json_body

BASE = "/api/v1/payments/review/{payment_id}"
API_USER = "api"  # who did it, in the audit trail: the merchant's systems, by API key
MAX_AMOUNT = 10**12


def setup_api_review(app: web.Application) -> None:
    app.router.add_post(BASE + "/apply", authenticated(apply_payment))
    app.router.add_post(BASE + "/refund", authenticated(refund_payment))
    app.router.add_post(BASE + "/dismiss", authenticated(dismiss_payment))
    app.router.add_post("/api/v1/invoices/{invoice_id}/void", authenticated(void_invoice))


async def _body(request: web.Request, allowed: set[str]) -> dict[str, object] | web.Response:
    """The JSON object sent (an empty body is an empty object)."""
    if not await request.read():
        return {}
    body = await json_body(request)
    if isinstance(body, web.Response):
        return body
    if not isinstance(body, dict):
        return error(422, "invalid body", fields=[{"field": "body", "message": "an object"}])
    unknown = [{"field": k, "message": "is not an accepted field"} for k in sorted(body)]
    unknown = [u for u in unknown if u["field"] not in allowed]
    if unknown:
        return error(422, "invalid body", fields=unknown)
    return body


def _payment_id(request: web.Request) -> str | None:
    payment_id = request.match_info["payment_id"]
    return payment_id if 0 < len(payment_id) <= 200 else None


async def _answer(doing: Awaitable[review.Done]) -> web.Response:
    try:
        done = await doing
    except review.ReviewError as refused:
        if refused.field and refused.status == 422:
            fields = [{"field": refused.field, "message": refused.message}]
            return error(422, refused.message, fields=fields)
        return error(refused.status, refused.message)
    return web.json_response(done.to_dict(), status=202 if done.state == "queued" else 200)


async def apply_payment(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    payment_id = _payment_id(request)
    if payment_id is None:
        return error(404, "no such payment to review")
    body = await _body(request, {"invoice_id"})
    if isinstance(body, web.Response):
        return body
    target = body.get("invoice_id")
    if not isinstance(target, str) or not 0 < len(target) <= 64:
        fields = [{"field": "invoice_id", "message": "the id of the invoice to count it on"}]
        return error(422, "invalid body", fields=fields)
    return await _answer(review.apply(services, merchant.id, payment_id, target, API_USER))


async def refund_payment(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    payment_id = _payment_id(request)
    if payment_id is None:
        return error(404, "no such payment to review")
    body = await _body(request, {"amount"})
    if isinstance(body, web.Response):
        return body
    amount = body.get("amount")
    if amount is not None and (
        not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT
    ):
        fields = [{"field": "amount", "message": "a positive integer of minor units"}]
        return error(422, "invalid body", fields=fields)
    return await _answer(review.refund(services, merchant.id, payment_id, amount, API_USER))


async def dismiss_payment(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    payment_id = _payment_id(request)
    if payment_id is None:
        return error(404, "no such payment to review")
    return await _answer(review.dismiss(services, merchant.id, payment_id, API_USER))


async def void_invoice(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    """Cancel what an invoice still asks for, with a credit note (`bot.engine.void`)."""
    try:
        done = await void.request(
            services, merchant.id, request.match_info["invoice_id"], API_USER
        )
    except void.VoidRefused as refused:
        return error(refused.status, refused.message)
    return web.json_response(done.to_dict(), status=202 if done.state == "queued" else 200)
