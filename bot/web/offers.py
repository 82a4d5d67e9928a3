"""Personal offer links `/o/<token>`: a page for people, a Checkout Session on their tap.

GET only shows the offer with a button (link previews and scanners fetch GETs, and must
neither reserve stock nor count as a click); the button POSTs, which reserves a unit
atomically (bot.store.offers) and sends the customer to a Checkout Session for it.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from aiohttp import web

from bot.engine import offer_payments
from bot.services import Services
from bot.store import campaigns, offers
from bot.web.app_keys import SERVICES
from bot.web.pages import (
    PAGE_HEADERS,
    _guessing,
    _not_found,
    _page,
    _rate_limited,
    visitor_locale,
)
from payments.money import Money
from payments.stripe_gateway import PaymentProviderError

log = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(minutes=30)  # Stripe's minimum: a hold lasts as long


def setup_offers(app: web.Application) -> None:
    app.router.add_get("/o/{token}", offer_page)
    app.router.add_post("/o/{token}", offer_tap)


async def _found(
    request: web.Request,
) -> tuple[Services, offers.OfferLink, campaigns.Status] | web.Response:
    services = request.app[SERVICES]
    if await _guessing(services, request):
        return _rate_limited(services, request)
    link = await offers.by_token(services.redis, request.match_info["token"])
    status = (
        await campaigns.load(services.redis, link.merchant_id, link.campaign_id) if link else None
    )
    if link is None or status is None:
        return await _not_found(services, request)
    return services, link, status


async def offer_page(request: web.Request) -> web.StreamResponse:
    found = await _found(request)
    if isinstance(found, web.Response):
        return found
    services, _link, status = found
    return _offer(services, request, status, reason=_closed(services, status))


async def offer_tap(request: web.Request) -> web.StreamResponse:
    found = await _found(request)
    if isinstance(found, web.Response):
        return found
    services, link, status = found
    offer = status.campaign.offer
    await offers.count(services.redis, link, "clicked")
    now = services.clock.now()
    result, hold = await offers.reserve(
        services.redis,
        link,
        stock=offer.stock,
        now=now,
        expires=status.campaign.window_end,
        hold_id=offer_payments.hold_id(link.campaign_id, secrets.token_hex(8)),
        per_customer_limit=offer.per_customer_limit,
    )
    if result == -1:
        await offers.count(services.redis, link, "sold_out")
        return _offer(services, request, status, reason="sold_out", code=410)
    if result == -2:
        await offers.count(services.redis, link, "ended")
        return _offer(services, request, status, reason="ended", code=410)
    if result == -3:
        return _offer(services, request, status, reason="limit", code=409)
    # Written before the session exists: its webhook may come back before this request ends.
    await offer_payments.save_hold(
        services.redis,
        link.merchant_id,
        link.campaign_id,
        hold,
        {
            "customer_id": link.customer_id,
            "variant": link.variant,
            "conversation": link.conversation,
        },
    )
    try:
        session = await services.stripe.create_checkout_session(
            amount=offer.amount,
            currency=offer.currency,
            description=offer.product,
            invoice_id=hold,
            merchant_id=link.merchant_id,
            purpose="invoice",
            # One hold, one session: the customer's concurrent taps share it.
            idempotency_key=f"offer:{link.campaign_id}:{link.customer_id}:{hold}",
            success_url=f"{services.settings.public_base_url}/o/{request.match_info['token']}",
            cancel_url=f"{services.settings.public_base_url}/o/{request.match_info['token']}",
            expires_at=now + SESSION_LIFETIME,
            locale=visitor_locale(request),
        )
    except PaymentProviderError:
        log.exception("could not open a checkout session for an offer")
        if result == 1:  # a hold that can never be paid goes back to the stock
            await offers.release(services.redis, link, hold)
        return _offer(services, request, status, reason="unavailable", code=503)
    if result == 1:
        await offers.count(services.redis, link, "checkout")
        # Swept until paid or expired: a lost webhook must not pin the unit.
        await offer_payments.track_session(
            services.redis,
            link.merchant_id,
            link.campaign_id,
            hold,
            session.id,
            at=now.timestamp(),
        )
    raise web.HTTPSeeOther(session.url or "/", headers=PAGE_HEADERS)


def _closed(services: Services, status: campaigns.Status) -> str | None:
    if status.state in ("cancelled", "draft"):
        return "ended"
    if services.clock.now() >= status.campaign.window_end:
        return "ended"
    return None


def _offer(
    services: Services,
    request: web.Request,
    status: campaigns.Status,
    *,
    reason: str | None,
    code: int = 200,
) -> web.Response:
    offer = status.campaign.offer
    return _page(
        services,
        "pages/offer.html",
        visitor_locale(request),
        status=code,
        product=offer.product,
        price=Money(offer.amount, offer.currency),
        reason=reason,
    )
