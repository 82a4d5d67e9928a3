"""Shop orders become invoices: Shopify `orders/create` and WooCommerce `order.created`.

The merchant connects a shop (`POST /api/v1/shops`, or `merchant connect-shop`) and gets a
webhook path of its own, `/webhooks/<platform>/<connection id>`, checked with that shop's
secret only. A signed order is read (payments.shop_orders), its customer found by phone or
made, and the invoice issued through the very checks of `POST /api/v1/invoices`
(`prepare_draft`) and the same atomic create (`issuing.issue_and_announce`): the invoice is sent
like any other. Its id is derived from the shop and the order, so a redelivered order, even
days later or under another delivery id, finds its invoice and issues none. An order paid
later in the shop (`orders/paid`, `order.updated` with `date_paid`) settles its invoice through
the money-to-review apply event (`_paid_in_shop`).

Answers: bad or missing signature 401; a webhook of another shop 403; bad JSON 400; an order
that cannot be a French invoice 422 with the field and the reason (also kept on the connection
for the merchant to read); too big 413; Redis down 503 (the shop retries).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.engine import events, issuing, rewards
from bot.engine.pipeline import ingest
from bot.logs import log_fields
from bot.services import Services
from bot.settings import SecretsKeyError
from bot.store import customers, invoices, keys, senders, shops
from bot.store.customers import Customer
from bot.store.merchants import Merchant, get_merchant
from bot.store.shops import ShopConnection, ShopError
from bot.web.api import Invalid, authenticated, error, idempotent, invoice_view, prepare_draft
from bot.web.app_keys import SERVICES
from bot.web.bodies import BadJson, decode_json, json_object
from payments.invoice import Invoice, InvoiceStatus
from payments.invoice_input import to_e164
from payments.shop_orders import (
    OrderRefused,
    ShopOrder,
    parse_shopify_order,
    parse_woocommerce_order,
)

log = logging.getLogger(__name__)

# Orders with many lines and addresses outgrow the API's body limit; still bounded.
MAX_ORDER_BYTES = 512 * 1024
# Shopify retries for 48 hours, WooCommerce a few times: a redelivery after this still finds
# its invoice by the order (this marker only spares the work).
DELIVERY_SEEN_SECONDS = 3 * 24 * 3600
SCAN_CUSTOMERS_UP_TO = 20_000
_UNPAID = (InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID)
_WOO_PING = re.compile(rb"webhook_id=\d{1,20}")
_DELIVERY_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def setup_shops(app: web.Application) -> None:
    app.router.add_post("/api/v1/shops", authenticated(idempotent(connect_shop, sealed=True)))
    app.router.add_get("/api/v1/shops", authenticated(list_shops))
    app.router.add_get("/api/v1/shops/{connection_id}", authenticated(read_shop))
    app.router.add_delete("/api/v1/shops/{connection_id}", authenticated(disconnect_shop))
    app.router.add_post("/webhooks/shopify/{connection_id}", shopify_webhook)
    app.router.add_post("/webhooks/woocommerce/{connection_id}", woocommerce_webhook)


# --- The merchant's API ---------------------------------------------------------------------


async def connect_shop(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    body = await json_object(request)
    if isinstance(body, web.Response):
        return body
    try:
        connection, secret = shops.build_connection(
            merchant.id, body, box=services.secret_box, now=services.clock.now()
        )
    except ShopError as exc:
        return error(400, str(exc))
    except SecretsKeyError as exc:  # the server's configuration, not the request
        return error(409, str(exc))
    await shops.save(services.redis, connection)
    shown = connection.public()
    shown["webhook_url"] = services.settings.public_base_url + connection.webhook_path()
    if "secret" not in body:  # made here: shown this once, for the shop's webhook form
        shown["secret"] = secret
    return web.json_response(shown, status=201)


async def list_shops(
    _request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    found = await shops.all_of(services.redis, merchant.id)
    return web.json_response({"data": [connection.public() for connection in found]})


async def read_shop(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    connection = await shops.get(services.redis, request.match_info["connection_id"])
    if connection is None or connection.merchant_id != merchant.id:
        return error(404, "no such shop connection")
    refused = await shops.refusals(services.redis, connection.id)
    return web.json_response({**connection.public(), "refused_orders": refused})


async def disconnect_shop(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    if not await shops.remove(services.redis, merchant.id, request.match_info["connection_id"]):
        return error(404, "no such shop connection")
    return web.Response(status=204)


# --- The shops' webhooks --------------------------------------------------------------------


async def shopify_webhook(request: web.Request) -> web.Response:
    received = await _received(request, "shopify")
    if isinstance(received, web.Response):
        return received
    services, connection, body = received
    if refused := _unsigned(services, connection, body, request, "X-Shopify-Hmac-Sha256"):
        return refused
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in ("orders/create", "orders/paid"):
        return web.json_response({"ignored": f"topic {topic or '(none)'}"})
    shop = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    if shop != connection.shop:
        return error(403, f"this webhook path is for {connection.shop}, not {shop or '(none)'}")
    delivery = request.headers.get("X-Shopify-Webhook-Id")
    creates = topic == "orders/create"  # orders/paid only settles an invoiced order
    return await _order_delivery(
        services, connection, body, delivery, parse_shopify_order, creates=creates
    )


async def woocommerce_webhook(request: web.Request) -> web.Response:
    received = await _received(request, "woocommerce")
    if isinstance(received, web.Response):
        return received
    services, connection, body = received
    signed_by = "X-WC-Webhook-Signature"
    if signed_by not in request.headers and _WOO_PING.fullmatch(body.strip()):
        # WooCommerce checks a new webhook's URL with this unsigned ping and refuses to save
        # the webhook unless it gets a 2xx; it carries nothing to act on.
        return web.json_response({"ping": "ok"})
    if refused := _unsigned(services, connection, body, request, signed_by):
        return refused
    topic = request.headers.get("X-WC-Webhook-Topic", "")
    resource = request.headers.get("X-WC-Webhook-Resource", "order")
    if topic not in ("order.created", "order.updated") or resource != "order":
        return web.json_response({"ignored": f"topic {topic or '(none)'}"})
    source = request.headers.get("X-WC-Webhook-Source", "")
    try:
        host = shops.shop_host("woocommerce", source) if source else ""
    except ShopError:
        host = ""
    if host != connection.shop:
        return error(403, f"this webhook path is for {connection.shop}, not {host or '(none)'}")
    delivery = request.headers.get("X-WC-Webhook-Delivery-ID")
    creates = topic == "order.created"  # order.updated only settles an invoiced order
    return await _order_delivery(
        services, connection, body, delivery, parse_woocommerce_order, creates=creates
    )


async def _received(
    request: web.Request, platform: str
) -> tuple[Services, ShopConnection, bytes] | web.Response:
    """The connection a webhook's path names (404 if none of `platform`) and its raw body."""
    services = request.app[SERVICES]
    connection = await shops.get(services.redis, request.match_info["connection_id"])
    if connection is None or connection.platform != platform:
        return error(404, "no such shop connection")
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    return services, connection, body


def _unsigned(
    services: Services,
    connection: ShopConnection,
    body: bytes,
    request: web.Request,
    header: str,
) -> web.Response | None:
    """Why a delivery is refused as not the shop's own (None when signed by it)."""
    secret = _secret(services, connection)
    if secret is None:
        return error(503, "the shop's secret cannot be read: check FACTO_SECRETS_KEY")
    if not _signed(body, request.headers.get(header), secret):
        return error(401, f"invalid or missing {header} signature")
    return None


async def _body(request: web.Request) -> bytes | web.Response:
    """The raw body, as signed: read up to MAX_ORDER_BYTES, 413 beyond."""
    too_big = error(413, f"the body is larger than {MAX_ORDER_BYTES} bytes")
    if (request.content_length or 0) > MAX_ORDER_BYTES:
        return too_big
    body = await request.content.read(MAX_ORDER_BYTES + 1)
    while len(body) <= MAX_ORDER_BYTES and not request.content.at_eof():
        chunk = await request.content.read(MAX_ORDER_BYTES + 1 - len(body))
        if not chunk:
            break
        body += chunk
    return too_big if len(body) > MAX_ORDER_BYTES else body


def _secret(services: Services, connection: ShopConnection) -> str | None:
    try:
        return services.secret_box.open(connection.sealed_secret)
    except SecretsKeyError:  # the server's key changed or is missing: the shop retries
        log.exception(
            "a shop connection's secret does not open", extra=log_fields(shop=connection.id)
        )
        return None


def _signed(body: bytes, header: str | None, secret: str) -> bool:
    """Both shops: base64 of HMAC-SHA256 over the raw body, keyed with the shared secret."""
    if not header:
        return False
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)


async def _order_delivery(
    services: Services,
    connection: ShopConnection,
    body: bytes,
    delivery: str | None,
    parse: Any,
    *,
    creates: bool,
) -> web.Response:
    if delivery is not None and not _DELIVERY_ID.fullmatch(delivery):
        return error(400, "the delivery id header is not a delivery id")
    if delivery and await shops.delivery_seen(services.redis, connection.id, delivery):
        return web.json_response({"duplicate": True})
    try:
        payload = decode_json(body)
    except BadJson as exc:
        return error(400, str(exc))
    try:
        order: ShopOrder = parse(payload)
    except OrderRefused as exc:
        return await _refused(
            services, connection, payload, field=exc.field, reason=exc.reason, code=exc.code
        )
    merchant = await get_merchant(services.redis, connection.merchant_id)
    if merchant is None:
        return error(404, "no such shop connection")
    answer = await _invoice_order(services, merchant, connection, order, creates=creates)
    if isinstance(answer, Invalid):
        first = answer.fields[0] if answer.fields else {"field": "body", "message": ""}
        reason = f"{answer.message}: {first['message']}".rstrip(": ")
        code = answer.code or "invalid_order"
        return await _refused(
            services, connection, payload, field=first["field"], reason=reason, code=code
        )
    if delivery:
        await shops.mark_delivery(services.redis, connection.id, delivery, DELIVERY_SEEN_SECONDS)
    return answer


async def _refused(
    services: Services,
    connection: ShopConnection,
    payload: object,
    *,
    field: str,
    reason: str,
    code: str,
) -> web.Response:
    order_id = payload.get("id") if isinstance(payload, dict) else None
    await shops.record_refusal(
        services.redis,
        connection.id,
        {
            "at": services.clock.now().isoformat(),
            "order_id": str(order_id)[:64] if order_id is not None else "",
            "field": field,
            "reason": reason,
            "code": code,
        },
    )
    log.info("shop order not invoiced", extra=log_fields(shop=connection.id, field=field))
    return error(422, reason, field=field, code=code)


def order_invoice_id(connection: ShopConnection, order_id: str) -> str:
    """The same for every delivery of one order of one shop (even through a new connection)."""
    key = f"{connection.merchant_id}:{connection.platform}:{connection.shop}:{order_id}"
    return f"inv_{hashlib.sha256(key.encode()).hexdigest()[:24]}"


async def _invoice_order(
    services: Services,
    merchant: Merchant,
    connection: ShopConnection,
    order: ShopOrder,
    *,
    creates: bool,
) -> web.Response | Invalid:
    invoice_id = order_invoice_id(connection, order.order_id)
    existing = await invoices.get_invoice(services.redis, merchant.id, invoice_id)
    settling = existing is not None and existing.status in _UNPAID and existing.amount_due > 0
    if existing is not None and order.paid and settling:
        return await _paid_in_shop(services, connection, order, existing)
    if existing is not None:  # a redelivery under another delivery id
        return web.json_response({"duplicate": True, "invoice": invoice_view(existing, services)})
    if not creates:  # an update of an order Facto never invoiced (older than the connection)
        if order.paid:  # or a paid webhook before its create: that create must not ask for it
            await shops.mark_paid_early(
                services.redis, connection.id, order.order_id, DELIVERY_SEEN_SECONDS
            )
        return web.json_response({"ignored": "no invoice for this order"})
    if not order.paid and await shops.paid_early(services.redis, connection.id, order.order_id):
        order = replace(order, paid=True, payable=True)  # the shop said so before this create
    if not order.payable:  # the shop holds or gave back its money: never asked for again
        field = "financial_status" if order.platform == "shopify" else "status"
        return Invalid(
            "the order's payment is neither pending nor paid in the shop (authorized, partly "
            "paid, refunded, voided, cancelled or failed): not invoiced, so as not to ask for "
            "it twice",
            [{"field": field, "message": "must be pending or paid"}],
            "not_awaiting_payment",
        )
    if order.phone is None:
        return Invalid(
            "the order has no phone number: Facto sends invoices by SMS, WhatsApp or Telegram",
            [{"field": "billing.phone", "message": "is required"}],
            "no_phone",
        )
    try:
        phone = to_e164(order.phone, order.country)
    except ValueError as exc:
        return Invalid("invalid order", [{"field": "billing.phone", "message": str(exc)}])
    customer = await _customer(services, merchant, connection, order, phone)
    channel = _channel_for(services, customer, connection)
    address: dict[str, Any] = (
        {"telegram_chat_id": customer.channels["telegram"]}
        if channel == "telegram"
        else {"phone": phone}
    )
    zone = ZoneInfo(customer.timezone)
    today = services.clock.now().astimezone(zone).date()
    body = {
        "customer": {
            "name": order.customer_name,
            **address,
            "locale": customer.locale,
            "timezone": customer.timezone,
        },
        "channel": channel,
        "currency": order.currency,
        "due_date": (today + timedelta(days=connection.due_days)).isoformat(),
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "vat_rate": str(line.vat_rate),
            }
            for line in order.lines
        ],
    }
    own = await senders.merchant_refs(services.redis, merchant.id)
    draft = prepare_draft(services, merchant, body, own)
    if isinstance(draft, Invalid):
        return draft
    draft = replace(draft, id=invoice_id)
    if order.paid:  # paid in the shop already: issued paid, and nothing asked of the customer
        draft = replace(draft, status=InvoiceStatus.PAID, amount_paid=draft.totals.gross)
    else:  # the fast-payment reward the merchant offers now, as POST /api/v1/invoices does
        draft = await rewards.stamp(services.redis, draft, services.clock.now())
    return await _issue(services, merchant, draft, order)


async def _issue(
    services: Services, merchant: Merchant, draft: Invoice, order: ShopOrder
) -> web.Response:
    try:
        result = await issuing.issue_and_announce(
            services.redis,
            draft,
            prefix=merchant.invoice_prefix,
            now=services.clock.now(),
            answer="{}",
            claim=None,
            retirer=services.retirer,
            announce=not order.paid,
        )
    except issuing.NotIssued:
        return error(503, "temporarily unavailable: send the order again")
    if isinstance(result, issuing.Replayed):  # cannot happen without a claim
        return error(503, "temporarily unavailable: send the order again")
    stored = await invoices.get_invoice(services.redis, merchant.id, draft.id)
    invoice = stored or result.invoice
    return web.json_response(
        {"order": order.order_id, "invoice": invoice_view(invoice, services)}, status=201
    )


async def _paid_in_shop(
    services: Services, connection: ShopConnection, order: ShopOrder, invoice: Invoice
) -> web.Response:
    """The shop says an invoiced order is now paid (Shopify `orders/paid`, WooCommerce
    `order.updated` with `date_paid`): the rest due is counted as a payment applied to the
    invoice, by the same dispatch event as money to review (bot.engine.review), so it is counted
    once, its receipt sent and its reminders stopped; the event id is the order's."""
    session_id = f"shop:{connection.platform}:{connection.shop}:{order.order_id}"
    applied = events.ReviewApplied(
        action="apply",
        invoice_id=invoice.id,
        number=invoice.number,
        amount=invoice.amount_due,
        currency=invoice.currency,
        source_invoice_id=invoice.id,
        reason=f"paid in the shop ({connection.platform} order {order.name})",
        merchant_id=invoice.merchant_id,
        session_id=session_id,
        user_id=f"shop:{connection.id}",
    )
    conversation = invoices.invoice_conversation(invoice)
    await ingest(
        services.redis, events.encode(f"review-apply:{session_id}", conversation, applied)
    )
    view = invoice_view(invoice, services)
    return web.json_response({"order": order.order_id, "invoice": view, "paid_in_shop": True})


async def _customer(
    services: Services,
    merchant: Merchant,
    connection: ShopConnection,
    order: ShopOrder,
    phone: str,
) -> Customer:
    """The merchant's customer with this number (one of theirs, or one an earlier order made),
    or a new one: on the channel the connection names, in the order's language."""
    redis = services.redis
    known = await shops.customer_by_phone(redis, merchant.id, phone)
    customer = await customers.get(redis, merchant.id, known) if known else None
    # A number never seen from a shop: looked for once among the merchant's customers, unless
    # they are too many to read on a webhook's time (then the order makes a new customer).
    if customer is None and await redis.hlen(keys.customers(merchant.id)) <= SCAN_CUSTOMERS_UP_TO:
        async for candidate in customers.scan(redis, merchant.id):
            if phone in (candidate.channels.get("sms"), candidate.channels.get("whatsapp")):
                customer = candidate
                break
    if customer is None:
        digest = hashlib.sha256(f"{merchant.id}:{phone}".encode()).hexdigest()[:16]
        customer = Customer(
            id=f"cus_{digest}",
            name=order.customer_name,
            locale=order.locale or "fr",
            channels={connection.channel: phone},
        )
    async with redis.pipeline(transaction=True) as pipe:  # one slot: the merchant's
        if known != customer.id:
            customers.save(pipe, merchant.id, customer, None)
            shops.index_phone(pipe, merchant.id, phone, customer.id)
        await pipe.execute()
    return customer


def _channel_for(services: Services, customer: Customer, connection: ShopConnection) -> str:
    """The customer's own first channel when Facto can use it, else the connection's."""
    usable = {"telegram", "sms"} | ({"whatsapp"} if services.settings.whatsapp_enabled else set())
    for channel in customer.channels:
        if channel in usable:
            return channel
    return connection.channel if connection.channel in usable else "sms"
