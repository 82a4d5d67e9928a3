"""The merchant's dashboard (`/console/dashboard`, `/dashboard` leads there): invoices with
filters and each one's timeline, the payments to review, and KPIs drawn from a JSON endpoint.

It lives under `/console` because the console's session cookie is scoped to that path: one
login (password + TOTP) for both. Owners only: the dashboard shows every invoice, amounts and
the review actions; an agent's work is the conversations of the support queue, so an agent
gets a 403 page here, in their language, that leads there (`console_auth.owner_only`). Pages
are server-rendered and autoescaped; the only script is `dashboard.js` (the CSP allows no
inline script), which draws the charts with the vendored Chart.js.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from datetime import date, timedelta

from aiohttp import web

from bot.engine import review, void
from bot.logs import log_fields
from bot.store import desk, handover, keys, kpis_more
from bot.store import merchant_webhooks as webhooks
from bot.store.invoices import get_invoice
from bot.web.app_keys import SERVICES
from bot.web.console import serve_websocket
from bot.web.console_auth import (
    CONSOLE_HEADERS,
    Agent,
    action,
    current_agent,
    owner_only,
    page,
    redirect,
    render,
)
from bot.web.desk_invoice_form import setup_invoice_form
from bot.web.desk_policy import setup_policy
from bot.web.desk_settings import setup_settings
from bot.web.desk_team import setup_team
from bot.web.pages import SESSION_LIFETIME
from payments.invoice import InvoiceStatus

log = logging.getLogger(__name__)

BASE = "/console/dashboard"
CHANNELS = ("sms", "whatsapp", "telegram")
PAGE_SIZE = 200
MAX_PERIOD_DAYS = 3660


def setup_dashboard(app: web.Application) -> None:
    app.router.add_get("/dashboard", to_dashboard)
    app.router.add_get(BASE, invoices_page)
    setup_invoice_form(app)  # before /invoices/{invoice_id}, which would take "new"
    app.router.add_get(BASE + "/invoices/{invoice_id}", invoice_page)
    app.router.add_post(BASE + "/invoices/{invoice_id}/void", void_invoice)
    app.router.add_get(BASE + "/review", review_page)
    app.router.add_get(BASE + "/ws", dashboard_websocket)
    app.router.add_post(BASE + "/review/dismiss", dismiss)
    app.router.add_post(BASE + "/review/apply", apply_payment)
    app.router.add_post(BASE + "/review/refund", refund_payment)
    app.router.add_get(BASE + "/kpis", kpis_page)
    app.router.add_get(BASE + "/kpis.json", kpis_json)
    app.router.add_get(BASE + "/webhooks", webhooks_page)
    setup_settings(app)
    setup_team(app)  # senders and users, on the Settings page
    setup_policy(app)  # the collection policy, a page linked from Settings


async def dashboard_websocket(request: web.Request) -> web.StreamResponse:
    """Pushes `{"ref": "invoices"}` or `{"ref": "review"}` when the merchant's invoices or money
    to review change, so the open lists refresh at once instead of polling. Owners only, like
    the pages it refreshes; the merchant's own channel only."""
    agent = await current_agent(request)
    if agent is None:
        raise web.HTTPUnauthorized(text="log in first")
    owner_only(agent)
    return await serve_websocket(request, agent, keys.dashboard_channel(agent.user.merchant_id))


async def to_dashboard(_request: web.Request) -> web.StreamResponse:
    return redirect(BASE)


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name}: a date YYYY-MM-DD") from None


def _filter(request: web.Request) -> desk.InvoiceFilter:
    q = request.query
    status = q.get("status", "")
    if status and status not in InvoiceStatus._value2member_map_:
        raise web.HTTPBadRequest(text="status: unknown value")
    channel = q.get("channel", "")
    if channel and channel not in CHANNELS:
        raise web.HTTPBadRequest(text="channel: sms, whatsapp or telegram")
    return desk.InvoiceFilter(
        status=status,
        channel=channel,
        customer=q.get("customer", "")[:100],
        due_before=_date(q.get("due_before", ""), "due_before"),
        overdue=q.get("overdue") == "1",
    )


@page
async def invoices_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    wanted = _filter(request)
    today = services.clock.now().date()
    found = [
        i
        for i in await desk.newest_invoices(services.redis, agent.user.merchant_id)
        if desk.matches(i, wanted, today)
    ]
    return render(
        request,
        "dashboard/invoices.html",
        agent=agent.user,
        csrf=agent.session.csrf,
        invoices=found[:PAGE_SIZE],
        more=len(found) > PAGE_SIZE,
        wanted=wanted,
        statuses=[s.value for s in InvoiceStatus],
        channels=CHANNELS,
        overdue={i.id for i in found if desk.is_overdue(i, today)},
    )


@page
async def invoice_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    return await _invoice(request, agent)


async def _invoice(
    request: web.Request, agent: Agent, *, error: str | None = None, status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    invoice = await get_invoice(
        services.redis, agent.user.merchant_id, request.match_info["invoice_id"][:64]
    )
    if invoice is None:
        raise web.HTTPNotFound(text="no such invoice")
    return render(
        request,
        "dashboard/invoice.html",
        status=status,
        agent=agent.user,
        csrf=agent.session.csrf,
        invoice=invoice,
        steps=await desk.timeline(services.redis, invoice, checkout_lifetime=SESSION_LIFETIME),
        error=error,
        # Just asked: the worker issues the credit note a moment later.
        voiding=request.query.get("voided") == "1" and invoice.status is not InvoiceStatus.VOID,
    )


@action
async def void_invoice(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Void with a credit note (the worker issues it and tells the customer a moment later)."""
    owner_only(agent)
    services = request.app[SERVICES]
    invoice_id = request.match_info["invoice_id"][:64]
    try:
        await void.request(services, agent.user.merchant_id, invoice_id, agent.user.id)
    except void.VoidRefused as refused:
        if refused.status == 404:
            raise web.HTTPNotFound(text=refused.message) from None
        return await _invoice(request, agent, error=refused.message, status=refused.status)
    return redirect(f"{BASE}/invoices/{invoice_id}?voided=1")


@page
async def review_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    return await _review(request, agent)


REVIEW_AUDIT = ("review_dismissed", "review_applied", "review_refunded")


async def _review(
    request: web.Request, agent: Agent, *, error: str | None = None, status: int = 200
) -> web.Response:
    services = request.app[SERVICES]
    merchant_id = agent.user.merchant_id
    items = await desk.review_items(services.redis, merchant_id)
    trail = [
        e
        for e in await handover.audit_trail(services.redis, merchant_id)
        if e.get("what") in REVIEW_AUDIT
    ]
    return render(
        request,
        "dashboard/review.html",
        status=status,
        agent=agent.user,
        csrf=agent.session.csrf,
        items=items,
        targets=await desk.open_invoices(services.redis, merchant_id),
        trail=trail[-50:],
        error=error,
    )


def _payment(form: Mapping[str, object]) -> str:
    payment = str(form.get("payment") or "")
    if not payment or len(payment) > 200:
        raise web.HTTPBadRequest(text="payment: the payment to review")
    return payment


@action
async def dismiss(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    form = await request.post()
    raw = str(form.get("item") or "")
    if not raw:
        payment = _payment(form)
        done = review.dismiss(services, agent.user.merchant_id, payment, agent.user.id)
        return await _act(request, agent, done)
    if len(raw) > 2000:
        raise web.HTTPBadRequest(text="item: the review entry to dismiss")
    merchant_id = agent.user.merchant_id
    if not await desk.dismiss_review(services.redis, merchant_id, raw):
        raise web.HTTPNotFound(text="no such entry to review (already dismissed?)")
    # The list is global and the audit trail on the merchant's slot: two steps, the audit
    # after the removal succeeded (a crash between them loses an audit line, never money).
    async with services.redis.pipeline(transaction=True) as pipe:
        handover.audit_entry(
            pipe,
            merchant_id,
            at=services.clock.now(),
            ref="",
            what="review_dismissed",
            user_id=agent.user.id,
            detail=raw,
        )
        await pipe.execute()
    log.info("payment review dismissed", extra=log_fields(user=agent.user.id))
    return redirect(BASE + "/review")


@action
async def apply_payment(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Count a payment to review on an invoice (the worker applies it a moment later)."""
    owner_only(agent)
    services = request.app[SERVICES]
    form = await request.post()
    target = str(form.get("invoice") or "")
    if not target or len(target) > 64:
        raise web.HTTPBadRequest(text="invoice: the invoice to apply the payment to")
    payment = _payment(form)
    merchant_id, user_id = agent.user.merchant_id, agent.user.id
    done = review.apply(services, merchant_id, payment, target, user_id)
    return await _act(request, agent, done)


@action
async def refund_payment(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Give a payment to review back through Stripe (all of it, or the amount typed)."""
    owner_only(agent)
    services = request.app[SERVICES]
    form = await request.post()
    raw = str(form.get("amount") or "").strip()
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise web.HTTPBadRequest(text="amount: a whole number of cents, or empty for all")
    amount = int(raw) if raw else None
    merchant_id, user_id = agent.user.merchant_id, agent.user.id
    done = review.refund(services, merchant_id, _payment(form), amount, user_id)
    return await _act(request, agent, done)


async def _act(
    request: web.Request, agent: Agent, doing: Awaitable[review.Done]
) -> web.StreamResponse:
    """Run a review action: back to the list, or the list with why it was refused."""
    try:
        await doing
    except review.ReviewError as refused:
        return await _review(request, agent, error=refused.message, status=refused.status)
    return redirect(BASE + "/review")


def _period(request: web.Request, today: date) -> tuple[date, date]:
    end = _date(request.query.get("to", ""), "to") or today
    start = _date(request.query.get("from", ""), "from") or end - timedelta(days=30)
    if start > end or (end - start).days > MAX_PERIOD_DAYS:
        raise web.HTTPBadRequest(text="from must be before to, at most ten years apart")
    return start, end


@page
async def kpis_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    start, end = _period(request, services.clock.now().date())
    today = services.clock.now().date()
    report = await kpis_more.report(services.redis, agent.user.merchant_id, start, end, today)
    return render(
        request,
        "dashboard/kpis.html",
        agent=agent.user,
        csrf=agent.session.csrf,
        start=start,
        end=end,
        figures=report["figures"],
        conversations=report["conversations"],
        campaigns=report["campaigns"],
    )


@page
async def kpis_json(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    today = services.clock.now().date()
    start, end = _period(request, today)
    report = await kpis_more.report(services.redis, agent.user.merchant_id, start, end, today)
    return web.json_response(
        report,
        headers=CONSOLE_HEADERS,
    )


@page
async def webhooks_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    merchant_id = agent.user.merchant_id
    return render(
        request,
        "dashboard/webhooks.html",
        agent=agent.user,
        csrf=agent.session.csrf,
        endpoints=await webhooks.endpoints(services.redis, merchant_id),
        log=await webhooks.delivery_log(services.redis, merchant_id, 200),
    )
