"""The hosted test checkout page: pay by card, or by SEPA debit confirmed (or failed) later.

Paying delivers the signed webhook before answering, so that when a test's POST returns the
bot has already seen the event (real Stripe gives no such promise; the bot must not rely on
it, and duplicate or late deliveries are covered by the redeliver API).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web
from babel.numbers import format_currency, get_currency_precision

from sandbox import stripe_money
from sandbox.checkout_text import babel_locale, checkout_language, checkout_texts
from sandbox.http import random_id
from sandbox.runtime import render, runtime_of, settings_of, state_of
from sandbox.stripe_events import emit, expire_if_due
from sandbox.stripe_model import CheckoutSession, PaymentIntent

PAGE_ROUTE = "sandbox_stripe_pay"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/stripe/pay/{id}", _page, name=PAGE_ROUTE)
    app.router.add_post("/stripe/pay/{id}/card", _pay_card)
    app.router.add_post("/stripe/pay/{id}/sepa", _pay_sepa)
    app.router.add_post("/stripe/pay/{id}/sepa/confirm", _sepa_confirm)
    app.router.add_post("/stripe/pay/{id}/sepa/fail", _sepa_fail)
    app.router.add_post("/stripe/pay/{id}/refund", _refund)
    app.router.add_post("/stripe/pay/{id}/dispute", _dispute)
    app.router.add_post("/stripe/pay/{id}/dispute/{outcome}", _close_dispute)


def format_amount(minor: int, currency: str, locale: str = "fr_FR") -> str:
    exponent = get_currency_precision(currency.upper())
    return format_currency(Decimal(minor).scaleb(-exponent), currency.upper(), locale=locale)


def page_state(session: CheckoutSession) -> str:
    """What the page shows: open, expired, paid, sepa_pending or sepa_failed."""
    if session.status == "expired":
        return "expired"
    if session.status == "open":
        return "open"
    if session.payment_status == "paid":
        return "paid"
    return "sepa_failed" if session.sepa_failed else "sepa_pending"


def _session(request: web.Request) -> CheckoutSession:
    session = state_of(request).sessions.get(request.match_info["id"])
    if session is None:
        language = checkout_language(None, request.headers.get("Accept-Language", ""))
        page = render(
            request,
            "checkout.html",
            status=404,
            state="unknown",
            t=checkout_texts(language),
            lang=language,
        )
        raise web.HTTPNotFound(text=page.text, content_type="text/html")
    expire_if_due(runtime_of(request), settings_of(request), state_of(request), session)
    return session


def _context(request: web.Request, session: CheckoutSession) -> dict[str, Any]:
    state = state_of(request)
    intent = state.payment_intents.get(session.payment_intent or "")
    disputes = [d for d in state.disputes.values() if d.payment_intent == session.payment_intent]
    language = checkout_language(session.locale, request.headers.get("Accept-Language", ""))
    money_locale = babel_locale(language)
    return {
        "session": session,
        "t": checkout_texts(language),
        "lang": language,
        "state": page_state(session),
        "total": format_amount(session.amount_total, session.currency, money_locale),
        "items": [
            {
                "name": item.name,
                "quantity": item.quantity,
                "amount": format_amount(
                    item.unit_amount * item.quantity, item.currency, money_locale
                ),
            }
            for item in session.line_items
        ],
        "return_url": _return_url(session),
        "intent": intent.to_json() if intent else None,
        "intent_refunded": format_amount(intent.amount_refunded, intent.currency, money_locale)
        if intent
        else "",
        "disputes": [d.to_json() for d in disputes],
        "open_dispute": any(d.status not in ("won", "lost") for d in disputes),
    }


def _return_url(session: CheckoutSession) -> str | None:
    url = session.success_url or ""
    if not url.startswith(("http://", "https://")):
        return None
    return url.replace("{CHECKOUT_SESSION_ID}", session.id)


async def _page(request: web.Request) -> web.Response:
    return render(request, "checkout.html", **_context(request, _session(request)))


def _refuse(request: web.Request, session: CheckoutSession) -> web.Response:
    return render(request, "checkout.html", status=409, refused=True, **_context(request, session))


def _after_payment(request: web.Request, session: CheckoutSession) -> web.Response:
    url = _return_url(session)
    if url is None:
        return render(request, "checkout.html", **_context(request, session))
    raise web.HTTPSeeOther(url)


async def _complete(request: web.Request, method: str) -> CheckoutSession | web.Response:
    session = _session(request)
    if session.status != "open":
        return _refuse(request, session)
    session.status = "complete"
    session.payment_method = method
    session.payment_intent = random_id("pi_", 12)
    if method == "card":
        session.payment_status = "paid"
    state_of(request).payment_intents[session.payment_intent] = PaymentIntent(
        id=session.payment_intent,
        charge_id=random_id("ch_", 12),
        amount=session.amount_total,
        currency=session.currency,
        created=int(state_of(request).clock.now().timestamp()),
        # Checkout copies payment_intent_data[metadata] here; we keep the session's.
        metadata=dict(session.metadata),
        status="succeeded" if method == "card" else "processing",
    )
    state = state_of(request)
    await emit(
        runtime_of(request), settings_of(request), state, "checkout.session.completed", session
    )
    return session


async def _pay_card(request: web.Request) -> web.Response:
    result = await _complete(request, "card")
    if isinstance(result, web.Response):
        return result
    return _after_payment(request, result)


async def _pay_sepa(request: web.Request) -> web.Response:
    result = await _complete(request, "sepa_debit")
    if isinstance(result, web.Response):
        return result
    # The debit is still pending: come back to the page, which offers the bank's verdict.
    raise web.HTTPSeeOther(_page_url(request, result))


def _pending_sepa(request: web.Request) -> CheckoutSession | web.Response:
    session = _session(request)
    if page_state(session) != "sepa_pending":
        return _refuse(request, session)
    return session


async def _sepa_confirm(request: web.Request) -> web.Response:
    session = _pending_sepa(request)
    if isinstance(session, web.Response):
        return session
    session.payment_status = "paid"
    _intent_of(request, session).status = "succeeded"
    await emit(
        runtime_of(request),
        settings_of(request),
        state_of(request),
        "checkout.session.async_payment_succeeded",
        session,
    )
    return _after_payment(request, session)


async def _sepa_fail(request: web.Request) -> web.Response:
    session = _pending_sepa(request)
    if isinstance(session, web.Response):
        return session
    session.sepa_failed = True
    # The session stays complete/unpaid for ever; only its PaymentIntent says it failed.
    _intent_of(request, session).status = "requires_payment_method"
    await emit(
        runtime_of(request),
        settings_of(request),
        state_of(request),
        "checkout.session.async_payment_failed",
        session,
    )
    raise web.HTTPSeeOther(_page_url(request, session))


def _intent_of(request: web.Request, session: CheckoutSession) -> PaymentIntent:
    return state_of(request).payment_intents[str(session.payment_intent)]


def _paid_session(request: web.Request) -> CheckoutSession | web.Response:
    session = _session(request)
    if page_state(session) != "paid":
        return _refuse(request, session)
    return session


async def _refund(request: web.Request) -> web.Response:
    """The merchant refunds from their dashboard: all of it, or `amount` minor units."""
    session = _paid_session(request)
    if isinstance(session, web.Response):
        return session
    form = await request.post()
    raw = form.get("amount")
    amount = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    try:
        _, charge = stripe_money.refund(state_of(request), str(session.payment_intent), amount)
    except stripe_money.MoneyError:
        return _refuse(request, session)
    await stripe_money.emit_refund(request, charge)
    raise web.HTTPSeeOther(_page_url(request, session))


async def _dispute(request: web.Request) -> web.Response:
    """The cardholder's bank opens a chargeback."""
    session = _paid_session(request)
    if isinstance(session, web.Response):
        return session
    try:
        dispute = stripe_money.open_dispute(state_of(request), str(session.payment_intent))
    except stripe_money.MoneyError:
        return _refuse(request, session)
    await stripe_money.emit_dispute(request, "charge.dispute.created", dispute)
    raise web.HTTPSeeOther(_page_url(request, session))


async def _close_dispute(request: web.Request) -> web.Response:
    session = _paid_session(request)
    if isinstance(session, web.Response):
        return session
    open_ones = [
        d
        for d in state_of(request).disputes.values()
        if d.payment_intent == session.payment_intent and d.status not in ("won", "lost")
    ]
    if not open_ones:
        return _refuse(request, session)
    try:
        dispute = stripe_money.close_dispute(
            state_of(request), open_ones[0].id, request.match_info["outcome"]
        )
    except stripe_money.MoneyError:
        return _refuse(request, session)
    await stripe_money.emit_dispute(request, "charge.dispute.closed", dispute)
    raise web.HTTPSeeOther(_page_url(request, session))


def _page_url(request: web.Request, session: CheckoutSession) -> str:
    return str(request.app.router[PAGE_ROUTE].url_for(id=session.id))
