"""Personal offer links `/o/<token>`: a page for people, a Checkout Session on their tap.

GET only shows the offer with a button (link previews and scanners fetch GETs, and must
neither reserve stock nor count as a click); the button POSTs, which reserves a unit
atomically (bot.store.offers) and sends the customer to a Checkout Session for it.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.engine import offer_payments
from bot.services import Services
from bot.store import campaigns, keys, offers
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

SESSION_LIFETIME = timedelta(seconds=offer_payments.SESSION_LIFETIME_SECONDS)


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
    await offers.count(services.redis, link, "clicked")
    offer, redis, now = status.campaign.offer, services.redis, services.clock.now()
    new_hold = offer_payments.hold_id(link.campaign_id, secrets.token_hex(8))
    # On the sweep's list before anything can pin a unit: a process that dies anywhere
    # after this line leaves a hold the sweep settles (bot.engine.offer_payments).
    await offer_payments.register(
        redis, link.merchant_id, link.campaign_id, new_hold, at=now.timestamp()
    )
    result, hold = await offers.reserve(
        redis,
        link,
        stock=offer.stock,
        now=now,
        expires=status.campaign.window_end,
        hold_id=new_hold,
        per_customer_limit=offer.per_customer_limit,
        record={
            "reserved_at": repr(now.timestamp()),
            "expires_at": str(int((now + SESSION_LIFETIME).timestamp())),
            "locale": visitor_locale(request),
        },
    )
    if hold != new_hold:
        await offer_payments.forget(redis, link.merchant_id, link.campaign_id, new_hold)
    if result == -1:
        await offers.count(redis, link, "sold_out")
        return _offer(services, request, status, reason="sold_out", code=410)
    if result == -2:
        # Not "ended": that counter is the campaign's messages dropped because it ended.
        await offers.count(redis, link, "offer_ended")
        return _offer(services, request, status, reason="ended", code=410)
    if result == -3:
        return _offer(services, request, status, reason="limit", code=409)
    record = await redis.hgetall(keys.offer_session(link.merchant_id, link.campaign_id, hold))
    token = request.match_info["token"]
    try:
        # One hold, one session: every create for it (a second tap, or one after a crash)
        # sends the same parameters under the same key, so Stripe answers with that session.
        session = await services.stripe.create_checkout_session(
            amount=offer.amount,
            currency=offer.currency,
            description=offer.product,
            invoice_id=hold,
            merchant_id=link.merchant_id,
            purpose="invoice",
            idempotency_key=f"offer:{link.campaign_id}:{link.customer_id}:{hold}",
            success_url=f"{services.settings.public_base_url}/o/{token}",
            cancel_url=f"{services.settings.public_base_url}/o/{token}",
            expires_at=_session_expiry(record, now),
            locale=record.get("locale") or visitor_locale(request),
        )
    except PaymentProviderError as error:
        log.exception("could not open a checkout session for an offer")
        if not (error.retryable or error.key_reused):
            # Refused: Stripe saves nothing under a key whose request it refused, so this hold
            # has no session and never will; its unit goes back. A new hold is released here
            # (nothing else knows it yet); the customer's older one (its first tap failed at
            # Stripe) through its conversation, and their next tap takes a new one.
            if result == 1:
                await offers.release(redis, *_owner(link), hold, outcome="refused")
            else:
                await offer_payments.settle_hold(
                    redis, services.stripe, _hold_of(link, hold), record, None
                )
        # Otherwise Stripe may hold a session for this key: the hold stays, and a later tap
        # or the sweep finds that session (or, past its expiry, that there is none).
        return _offer(services, request, status, reason="unavailable", code=503)
    if session.expires_at <= now:
        # The customer's open hold outlived its session (its webhook is late or lost):
        # settled through its conversation now; their next tap takes a new hold.
        await offer_payments.settle_hold(
            redis, services.stripe, _hold_of(link, hold), record, session.id
        )
        return _offer(services, request, status, reason="unavailable", code=503)
    # Swept until paid or expired: a lost webhook must not pin the unit.
    if await offer_payments.track_session(
        redis, link.merchant_id, link.campaign_id, hold, session.id, at=now.timestamp()
    ):
        await offers.count(redis, link, "checkout")
    raise web.HTTPSeeOther(session.url or "/", headers=PAGE_HEADERS)


def _owner(link: offers.OfferLink) -> tuple[str, str, str]:
    return link.merchant_id, link.campaign_id, link.customer_id


def _hold_of(link: offers.OfferLink, hold: str) -> dict[str, str]:
    return {"merchant_id": link.merchant_id, "campaign_id": link.campaign_id, "hold": hold}


def _session_expiry(record: dict[str, str], now: datetime) -> datetime:
    """The hold's session expiry, fixed when it was reserved (a hold reserved before that
    was recorded gets one from now)."""
    stored = record.get("expires_at")
    if stored is None:
        return now + SESSION_LIFETIME
    return datetime.fromtimestamp(int(stored), UTC)


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
