"""Hosted pages: `/p/<token>` (Facto's stable pay link) and `/i/<token>` (the invoice).

The pay link mints or reuses a Stripe Checkout Session for the amount still due at click time
(TESTCASES design rule 4): sessions expire within 24 h, a "pay later" may be days away.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
import segno
from aiohttp import web
from markupsafe import Markup
from redis.exceptions import RedisError

from bot.engine import reconcile, rewards
from bot.i18n import SUPPORTED_LOCALES, pick_locale
from bot.services import Services
from bot.store import invoices, keys, logos
from bot.store.ledger import load_extras
from bot.store.merchants import Merchant, get_merchant
from bot.store.payments import credit_note_by_token, load_records
from bot.web.app_keys import SERVICES
from payments.credit_note import credit_note_mentions
from payments.instalments import purpose_for
from payments.invoice import Invoice, InvoiceStatus, legal_mentions
from payments.ledger import PaymentRecord
from payments.money import Money
from payments.plan import Plan, amount_to_ask
from payments.stripe_gateway import CheckoutSession, PaymentProviderError
from payments.transfer import TransferRequest, epc_qr, format_iban

log = logging.getLogger(__name__)

T = TypeVar("T")

STATIC_DIR = Path(__file__).resolve().parent / "static"

SESSION_LIFETIME = timedelta(hours=23)  # Stripe allows at most 24 h (PROVIDERS S13)
SESSION_REUSE_MARGIN = timedelta(minutes=10)
CLICKS_PER_MINUTE = 30  # per client address and token (TESTCASES 54, 60)
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; "
    # The pay button posts here and is redirected to Stripe's hosted checkout: browsers check
    # form-action on that redirect too.
    "form-action 'self' https://checkout.stripe.com",
}


def setup_pages(app: web.Application) -> None:
    # GET shows what will be charged and creates nothing (link previews, SMS link scanners and
    # prefetchers open links too); the page's one button POSTs, and only that opens a session.
    app.router.add_get("/p/{token}", pay_link)
    app.router.add_get("/p/{token}/{instalment}", pay_link)
    app.router.add_post("/p/{token}", pay_now)
    app.router.add_post("/p/{token}/{instalment}", pay_now)
    app.router.add_get("/favicon.ico", favicon((STATIC_DIR / "favicon.ico").read_bytes()))
    app.router.add_get("/i/{token}", invoice_page)
    app.router.add_get("/a/{token}", credit_note_page)
    app.router.add_static("/static", STATIC_DIR, append_version=False)


@dataclass(frozen=True, slots=True)
class OfferedSession:
    """The session we last offered for a charge, and how many we created so far.

    Kept as a hash so that the dispatcher can mark it `retired` (its payment failed) without
    knowing the rest; the attempt count survives, so the next session gets a new key.
    """

    session_id: str
    url: str
    amount: int
    expires_at: datetime
    attempt: int
    retired: bool = False

    def to_hash(self) -> dict[str, str]:
        return {
            "session_id": self.session_id,
            "url": self.url,
            "amount": str(self.amount),
            "expires_at": self.expires_at.isoformat(),
            "attempt": str(self.attempt),
            "retired": "1" if self.retired else "",
        }

    @classmethod
    def from_hash(cls, data: dict[str, str]) -> OfferedSession | None:
        if "session_id" not in data:
            return None
        return cls(
            data["session_id"],
            data["url"],
            int(data["amount"]),
            datetime.fromisoformat(data["expires_at"]),
            int(data["attempt"]),
            bool(data.get("retired")),
        )


@dataclass(frozen=True, slots=True)
class Charge:
    """What a pay link asks for: the whole amount due, or one instalment."""

    amount: int
    instalment: int | None

    @property
    def purpose(self) -> str:
        return purpose_for(self.instalment)


async def by_token(
    request: web.Request, find: Callable[[aioredis.Redis, str], Awaitable[T | None]]
) -> T | web.StreamResponse:
    """What a link's token names, or the answer to a guess: 429 past the limit, else 404."""
    services = request.app[SERVICES]
    if await _guessing(services, request):
        return _rate_limited(services, request)
    found = await find(services.redis, request.match_info["token"])
    if found is None:
        return await _not_found(services, request)
    return found


async def pay_link(request: web.Request) -> web.StreamResponse:
    """`GET /p/<token>[/<n>]`: the amount and one button; nothing is created at Stripe."""
    services = request.app[SERVICES]
    invoice = await by_token(request, invoices.by_pay_token)
    if isinstance(invoice, web.StreamResponse):
        return invoice
    charge = await _payable(services, request, invoice)
    if isinstance(charge, web.StreamResponse):
        return charge
    return await _status_page(
        services, invoice, "pages/pay.html", next_charge=charge, pay_action=request.path
    )


async def pay_now(request: web.Request) -> web.StreamResponse:
    """`POST /p/<token>[/<n>]`: a person tapped "Pay": open (or reuse) the checkout session."""
    services = request.app[SERVICES]
    token = request.match_info["token"]
    invoice = await by_token(request, invoices.by_pay_token)
    if isinstance(invoice, web.StreamResponse):
        return invoice
    if await _too_many_clicks(services, request, token):
        return _rate_limited(services, request)
    charge = await _payable(services, request, invoice)
    if isinstance(charge, web.StreamResponse):
        return charge
    try:
        session = await _session_for(services, invoice, charge)
    except PaymentProviderError:
        log.exception("could not open a checkout session")
        return _page(
            services,
            "pages/error.html",
            invoice_locale(services, invoice),
            status=503,
            reason="unavailable",
        )
    if session is None:
        return await _status_page(services, invoice, "pages/processing.html")
    raise web.HTTPSeeOther(session.url, headers=PAGE_HEADERS)


async def _payable(
    services: Services, request: web.Request, invoice: Invoice
) -> Charge | web.StreamResponse:
    """What the link asks for now, or the page to show instead (paid, processing, unknown)."""
    if invoice.status is InvoiceStatus.PAID:
        return await _status_page(services, invoice, "pages/paid.html")
    if invoice.status is InvoiceStatus.VOID:
        return await _status_page(services, invoice, "pages/cancelled.html")
    if invoice.status is InvoiceStatus.PROCESSING:
        return await _status_page(services, invoice, "pages/processing.html")
    charge = await _charge(services, invoice, request.match_info.get("instalment"))
    if charge is None:
        return _error_page(services, visitor_locale(request), 404, "not_found")
    if charge.amount == 0:  # this instalment is settled: show where the invoice stands
        raise web.HTTPSeeOther(f"/i/{invoice.view_token}", headers=PAGE_HEADERS)
    return charge


def favicon(icon: bytes) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The icon from memory (1 KB): a browser that drops its favicon request mid-way left a
    `FileResponse`'s file open (a ResourceWarning in a browser test)."""

    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=icon,
            headers={"Content-Type": "image/x-icon", "Cache-Control": "public, max-age=86400"},
        )

    return serve


async def _charge(services: Services, invoice: Invoice, number: str | None) -> Charge | None:
    """The amount the link asks for now; amount 0 when that instalment is already settled."""
    extras = await load_extras(services.redis, invoice.merchant_id, invoice.id)
    asked = amount_to_ask(invoice.amount_due, extras.plan, number)
    return Charge(*asked) if asked is not None else None


async def _session_for(
    services: Services, invoice: Invoice, charge: Charge
) -> OfferedSession | None:
    """A session still open for this charge, else a fresh one (None: payment under way)."""
    key = keys.invoice_checkout(invoice.merchant_id, invoice.id, charge.instalment)
    offered = OfferedSession.from_hash(await services.redis.hgetall(key))
    now = services.clock.now()
    if (
        offered
        and not offered.retired
        and offered.amount == charge.amount
        and offered.expires_at - now > SESSION_REUSE_MARGIN
    ):
        current = await services.stripe.retrieve_checkout_session(offered.session_id)
        if current.status == "open":
            return offered
        if current.status == "complete":
            return None  # paid or processing: the webhook will tell; never mint a second one
    attempt = offered.attempt + 1 if offered else 1
    created = await _create_session(services, invoice, charge, attempt, now)
    if created.url is None:
        msg = f"checkout session {created.id} came back without a URL ({created.status})"
        raise PaymentProviderError(msg, retryable=False)
    fresh = OfferedSession(
        created.id, created.url, created.amount_total, created.expires_at, attempt
    )
    # Tracked first (the two keys are on different hash slots): a session offered is always
    # one the sweep looks at; a crash in between leaves a tracked session nobody was offered.
    async with services.redis.pipeline(transaction=False) as pipe:
        reconcile.track(pipe, created.id)
        pipe.hset(key, mapping=fresh.to_hash())
        await pipe.execute()
    return fresh


async def _create_session(
    services: Services, invoice: Invoice, charge: Charge, attempt: int, now: datetime
) -> CheckoutSession:
    base = services.settings.public_base_url
    label = f"{invoice.number} — {invoice.seller.legal_name}"
    if charge.instalment is not None:
        label = f"{invoice.number} ({charge.instalment}) — {invoice.seller.legal_name}"
    return await services.stripe.create_checkout_session(
        amount=charge.amount,
        currency=invoice.currency,
        description=label,
        invoice_id=invoice.id,
        merchant_id=invoice.merchant_id,
        purpose=charge.purpose,
        # Same charge, amount and attempt -> same key: concurrent clicks share one session.
        idempotency_key=f"inv:{invoice.id}:{charge.purpose}:cs:{charge.amount}:{attempt}",
        success_url=f"{base}/i/{invoice.view_token}?{_paid_query(charge.instalment, 0)}",
        cancel_url=f"{base}/i/{invoice.view_token}",
        expires_at=now + SESSION_LIFETIME,
        locale=invoice_locale(services, invoice),
    )


async def invoice_page(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    invoice = await by_token(request, invoices.by_view_token)
    if isinstance(invoice, web.StreamResponse):
        return invoice
    extras = await load_extras(services.redis, invoice.merchant_id, invoice.id)
    after = None
    if request.query.get("paid") == "1":
        records = await load_records(services.redis, invoice.merchant_id, invoice.id)
        after = after_paying(
            invoice,
            extras.plan,
            records.values(),
            instalment=_query_int(request, "instalment"),
            waited=_query_int(request, "wait") or 0,
            zone=_zone(services),
        )
    return await _status_page(
        services, invoice, "pages/invoice.html", plan=extras.plan, after=after
    )


# Right after paying, the customer lands on the invoice page before Stripe's webhook may have
# arrived: the page hides the pay button and reloads itself (meta refresh, no script) until
# the payment is applied, for at most WAIT_REFRESHES x REFRESH_SECONDS.
REFRESH_SECONDS = 3
WAIT_REFRESHES = 20


@dataclass(frozen=True, slots=True)
class AfterPaying:
    """What the invoice page says after the checkout sent the customer back."""

    state: str  # "received" | "processing" | "confirming" | "late"
    amount: int = 0  # received: what was counted
    received_on: date | None = None
    instalment: int | None = None
    refresh_url: str | None = None


def after_paying(
    invoice: Invoice,
    plan: Plan | None,
    records: Iterable[PaymentRecord],
    *,
    instalment: int | None,
    waited: int,
    zone: ZoneInfo,
) -> AfterPaying:
    purpose = purpose_for(instalment)
    if plan is not None and instalment is not None and plan.instalment(instalment):
        status = plan.instalment(instalment).status  # type: ignore[union-attr]
        received, processing = status == "paid", status == "processing"
    else:
        received = invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PROCESSING)
        processing = invoice.status is InvoiceStatus.PROCESSING
    if received:
        counted = [r for r in records if r.credited and r.purpose == purpose]
        latest = max(counted, key=lambda r: r.received_at or "", default=None)
        when = (
            datetime.fromisoformat(latest.received_at)
            if latest is not None and latest.received_at
            else None
        )
        return AfterPaying(
            "received",
            latest.credited if latest else invoice.amount_paid,
            when.astimezone(zone).date() if when else None,
            instalment,
        )
    if processing:
        return AfterPaying("processing", instalment=instalment)
    if waited >= WAIT_REFRESHES:
        return AfterPaying("late", instalment=instalment)
    refresh = f"/i/{invoice.view_token}?{_paid_query(instalment, waited + 1)}"
    return AfterPaying("confirming", instalment=instalment, refresh_url=refresh)


def _paid_query(instalment: int | None, waited: int) -> str:
    query = "paid=1"
    if instalment is not None:
        query += f"&instalment={instalment}"
    if waited:
        query += f"&wait={waited}"
    return query


def _query_int(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 3 else None


async def credit_note_page(request: web.Request) -> web.StreamResponse:
    """`/a/<token>`: a credit note (avoir), linked from the customer's chat."""
    services = request.app[SERVICES]
    note = await by_token(request, credit_note_by_token)
    if isinstance(note, web.StreamResponse):
        return note
    merchant = await get_merchant(services.redis, note.merchant_id)
    customer = note.customer
    return _page(
        services,
        "pages/credit_note.html",
        pick_locale(customer.locale, None, customer.phone, services.settings.default_locale),
        note=note,
        merchant_name=merchant.name if merchant else note.seller.legal_name,
        logo=await shown_logo(services, note.merchant_id, "/a/" + request.match_info["token"]),
        money=lambda amount: Money(amount, note.currency),
        mentions=credit_note_mentions(note),
    )


async def _status_page(
    services: Services, invoice: Invoice, template: str, **extra: Any
) -> web.Response:
    merchant = await get_merchant(services.redis, invoice.merchant_id)
    plan = extra.pop("plan", None)
    if plan is None:
        plan = (await load_extras(services.redis, invoice.merchant_id, invoice.id)).plan
    asked = amount_to_ask(invoice.amount_due, plan, None)
    if invoice.status is InvoiceStatus.VOID:
        asked = None  # a plan's open instalments are cancelled with the invoice
    next_charge = Charge(*asked) if asked is not None and asked[0] > 0 else None
    context = {
        **await _reward(services, invoice),
        "invoice": invoice,
        "merchant_name": merchant.name if merchant else invoice.seller.legal_name,
        "brand_colour": merchant.brand_colour if merchant else None,
        "logo": await shown_logo(services, invoice.merchant_id, f"/i/{invoice.view_token}"),
        "money": lambda amount: Money(amount, invoice.currency),
        "mentions": legal_mentions(
            invoice.seller, invoice.customer.is_business, invoice.lines, invoice.reward
        ),
        "plan": plan,
        "next_charge": next_charge,
        "pay_action": _pay_path(invoice, next_charge),
        "after": None,
        **qr_codes(services, invoice, merchant, next_charge),
        **extra,
    }
    return _page(services, template, invoice_locale(services, invoice), **context)


async def shown_logo(
    services: Services, merchant_id: str, page_path: str
) -> dict[str, Any] | None:
    """The merchant's logo in a page's header, from an address under the page's own token
    (bot.web.desk_logo): an `<img>` of our own origin, no inline style (strict CSP)."""
    logo = await logos.current(services.redis, merchant_id)
    if logo is None:
        return None
    src = f"{page_path}/logo/{logo.version}.png"
    return {"src": src, "width": logo.width, "height": logo.height}


async def _reward(services: Services, invoice: Invoice) -> dict[str, Any]:
    """The fast-payment reward on the page: what it gave once paid in time, else the offer
    until its deadline (local to the customer), else nothing."""
    if invoice.reward is None:
        return {}
    granted = (await load_extras(services.redis, invoice.merchant_id, invoice.id)).reward
    if granted is not None:
        points = (await rewards.load_payer(services.redis, invoice))[1]
        return {"reward_granted": granted, "reward_points": points}
    now = services.clock.now()
    if invoice.amount_due <= 0 or invoice.status is InvoiceStatus.VOID:
        return {}
    if now > invoice.reward.deadline:
        return {}
    zone = ZoneInfo(invoice.customer.timezone or services.settings.default_timezone)
    return {"reward_until": invoice.reward.deadline.astimezone(zone)}


def qr_codes(
    services: Services, invoice: Invoice, merchant: Merchant | None, charge: Charge | None
) -> dict[str, Any]:
    """The pay link's QR code, and the EPC transfer QR when the merchant gave an IBAN.

    Inline SVG drawn by segno from values we hold (a URL we built, the merchant's validated
    IBAN, an amount, the invoice number): no customer text is in it, nothing is loaded from
    elsewhere, so the strict CSP (no inline style, no script) holds.
    """
    if charge is None or invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID):
        return {"pay_qr": None, "transfer": None}
    url = services.settings.public_base_url + _pay_path(invoice, charge)
    pay_qr = _svg(segno.make(url, error="m"), "pay-qr")
    transfer = None
    if merchant is not None and merchant.iban and invoice.currency == "EUR":
        reference = invoice.number
        if charge.instalment is not None:
            reference = f"{invoice.number} ({charge.instalment})"
        request = TransferRequest(
            invoice.seller.legal_name, merchant.iban, Money(charge.amount, "EUR"), reference
        )
        transfer = {
            "qr": _svg(epc_qr(request), "transfer-qr"),
            "name": request.epc_name,
            "iban": format_iban(merchant.iban),
            "amount": request.amount,
            "reference": reference,
        }
    return {"pay_qr": pay_qr, "transfer": transfer}


def _svg(code: segno.QRCode, css_class: str) -> Markup:
    # segno writes the SVG from the code's matrix; nothing of the request is in it.
    return Markup(code.svg_inline(scale=4, svgclass=css_class, omitsize=True))  # noqa: S704


def _pay_path(invoice: Invoice, charge: Charge | None) -> str:
    if charge is None or charge.instalment is None:
        return f"/p/{invoice.pay_token}"
    return f"/p/{invoice.pay_token}/{charge.instalment}"


def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.default_timezone)


def invoice_locale(services: Services, invoice: Invoice) -> str:
    """The invoice's language, or the customer's phone country's when the API gave none."""
    customer = invoice.customer
    return pick_locale(customer.locale, None, customer.phone, services.settings.default_locale)


def _page(
    services: Services,
    template: str,
    locale: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> web.Response:
    html = services.languages.html(locale).get_template(template).render(**context)
    return web.Response(
        text=html,
        content_type="text/html",
        status=status,
        headers={**PAGE_HEADERS, **(headers or {})},
    )


async def _too_many_clicks(services: Services, request: web.Request, token: str) -> bool:
    """Clicks on one real pay link from one address (each click may call Stripe)."""
    minute = int(services.clock.now().timestamp() // 60)
    # Keyed by the token's digest: no key name carries a link token in clear.
    key = keys.pay_link_clicks(_client(request), invoices.hash_link_token(token), minute)
    try:
        async with services.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
    except RedisError:
        return False  # the limiter must not take the pay link down with it
    return int(count) > CLICKS_PER_MINUTE


# Token guessing (TESTCASES 60): unknown tokens are counted per client address and minute, in
# one counter across all tokens, so a guesser is stopped after a few tries without a key per
# guess; a customer who opens their own links never misses, so never meets the limit.
GUESSES_PER_MINUTE = 20


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


def _minute(services: Services) -> int:
    return int(services.clock.now().timestamp() // 60)


async def _guessing(services: Services, request: web.Request) -> bool:
    misses = await services.redis.get(keys.link_misses(_client(request), _minute(services)))
    return misses is not None and int(misses) >= GUESSES_PER_MINUTE


async def _not_found(services: Services, request: web.Request) -> web.Response:
    key = keys.link_misses(_client(request), _minute(services))
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, 120)
        await pipe.execute()
    return _error_page(services, visitor_locale(request), 404, "not_found")


def _rate_limited(services: Services, request: web.Request) -> web.Response:
    return _error_page(
        services, visitor_locale(request), 429, "rate_limited", headers={"Retry-After": "60"}
    )


def _error_page(
    services: Services,
    locale: str,
    status: int,
    reason: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return _page(
        services, "pages/error.html", locale, status=status, headers=headers, reason=reason
    )


def visitor_locale(request: web.Request) -> str:
    """The page language when no invoice tells it: the browser's Accept-Language, else French."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("Accept-Language", "").split(",")[:10]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip()[:2].lower()
        if language in SUPPORTED_LOCALES and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else SUPPORTED_LOCALES[0]


def service_unavailable_page(request: web.Request) -> web.Response:
    """Redis is unreachable: a page in the visitor's language, never a bare 500."""
    services = request.config_dict[SERVICES]
    return _error_page(
        services, visitor_locale(request), 503, "service", headers={"Retry-After": "30"}
    )


def not_found_page(request: web.Request) -> web.Response:
    """Any unknown address a person opens: the 404 page in the visitor's language."""
    services = request.config_dict[SERVICES]
    return _error_page(services, visitor_locale(request), 404, "not_found")


def unexpected_error_page(request: web.Request) -> web.Response:
    services = request.config_dict[SERVICES]
    return _error_page(services, visitor_locale(request), 500, "service")
