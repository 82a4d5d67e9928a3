"""Shop orders become invoices, end to end: the merchant connects a Shopify shop and a
WooCommerce site over the API, the shops post signed order webhooks (their formats,
sandbox/shops.py) to the real app, and the invoice is issued and sent by SMS like one made with
POST /api/v1/invoices. Redeliveries, forged or foreign webhooks, bad payloads and oversized
bodies change nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aiohttp import ClientResponse

from bot.store import customers, invoices, keys
from bot.web.shops import MAX_ORDER_BYTES
from sandbox.shops import (
    shopify_order,
    shopify_request,
    sign,
    woocommerce_order,
    woocommerce_request,
)
from tests.scenario.harness import Facto

SHOP = "atelier-lumiere.myshopify.com"
SHOPIFY_SECRET = "shpss_0123456789abcdef0123456789abcdef"
SITE = "https://miel-des-collines.fr/"
PHONE = "+33612345678"


async def connect(facto: Facto, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    response = await facto.client.post(
        "/api/v1/shops", json=body, headers={"Authorization": f"Bearer {key or facto.api_key}"}
    )
    assert response.status == 201, await response.text()
    connection: dict[str, Any] = await response.json()
    return connection


async def post(facto: Facto, path: str, body: bytes, headers: dict[str, str]) -> ClientResponse:
    return await facto.client.post(path, data=body, headers=headers)


async def shopify(facto: Facto) -> dict[str, Any]:
    return await connect(facto, {"platform": "shopify", "shop": SHOP, "secret": SHOPIFY_SECRET})


async def invoice_count(facto: Facto) -> int:
    assert facto.merchant is not None
    found = await facto.redis.keys(f"{keys.merchant(facto.merchant.id)}:invoice:inv_*")
    return len([key for key in found if key.count(":") == 3])


async def test_a_shopify_order_is_invoiced_and_sent_once(facto: Facto) -> None:
    connection = await shopify(facto)
    assert "secret" not in connection  # the merchant's own, never echoed
    body, headers = shopify_request(shopify_order(), SHOPIFY_SECRET, shop=SHOP)

    response = await post(facto, connection["webhook_path"], body, headers)

    assert response.status == 201, await response.text()
    invoice = (await response.json())["invoice"]
    assert invoice["status"] == "open"
    assert invoice["channel"] == "sms"
    assert invoice["totals"]["gross"] == 8490  # the order's total, to the cent
    assert invoice["totals"]["vat_total"] == 1415
    await facto.drain()
    sent = await facto.messages("sms", PHONE)
    assert any(invoice["pay_url"].split("/p/")[1] in m["text"] for m in sent), sent
    read = await facto.client.get(
        f"/api/v1/invoices/{invoice['id']}",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert read.status == 200
    assert (await read.json())["number"] not in ("", invoices.NUMBER_PLACEHOLDER)

    # Shopify redelivers the same webhook, then the order again under a new webhook id.
    again = await post(facto, connection["webhook_path"], body, headers)
    assert again.status == 200 and (await again.json()) == {"duplicate": True}
    _, other_headers = shopify_request(shopify_order(), SHOPIFY_SECRET, shop=SHOP, webhook_id="x2")
    later = await post(facto, connection["webhook_path"], body, other_headers)
    assert later.status == 200
    assert (await later.json())["invoice"]["id"] == invoice["id"]
    await facto.drain()
    assert len(await facto.messages("sms", PHONE)) == len(sent)  # nothing sent twice


async def test_the_customer_is_found_by_phone_and_reached_on_their_channel(facto: Facto) -> None:
    assert facto.merchant is not None
    known = customers.Customer(
        id="cus_known", name="Camille", channels={"telegram": "424242", "sms": PHONE}
    )
    await customers.save_many(facto.redis, facto.merchant.id, [(known, None)])
    connection = await shopify(facto)
    # The shop writes the number its own way; it is the same number in E.164.
    order = shopify_order(phone="06 12 34 56 78")
    body, headers = shopify_request(order, SHOPIFY_SECRET, shop=SHOP)

    response = await post(facto, connection["webhook_path"], body, headers)

    assert response.status == 201, await response.text()
    invoice = (await response.json())["invoice"]
    assert invoice["channel"] == "telegram"  # the customer's first channel
    assert invoice["customer"]["telegram_chat_id"] == 424242
    stored = await facto.redis.hgetall(keys.customers(facto.merchant.id))
    assert list(stored) == ["cus_known"]  # found, not made again


async def test_a_woocommerce_order_is_invoiced_after_the_ping(facto: Facto) -> None:
    connection = await connect(facto, {"platform": "woocommerce", "shop": SITE})
    secret = connection["secret"]  # made by Facto, shown once, pasted into WooCommerce
    assert connection["webhook_url"].endswith(connection["webhook_path"])
    ping = await facto.client.post(
        connection["webhook_path"],
        data=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert ping.status == 200
    assert await invoice_count(facto) == 0

    body, headers = woocommerce_request(woocommerce_order(), secret, site=SITE)
    response = await post(facto, connection["webhook_path"], body, headers)

    assert response.status == 201, await response.text()
    invoice = (await response.json())["invoice"]
    assert invoice["totals"]["gross"] == 4725
    assert {row["rate"]: row["amount"] for row in invoice["totals"]["vat"]} == {
        "5.5": 165,
        "20": 260,
    }
    again = await post(facto, connection["webhook_path"], body, headers)
    assert (await again.json()) == {"duplicate": True}
    assert await invoice_count(facto) == 1


async def test_an_order_paid_in_the_shop_is_issued_paid_and_not_asked_for(facto: Facto) -> None:
    connection = await connect(facto, {"platform": "woocommerce", "shop": SITE})
    order = woocommerce_order(paid=True)
    body, headers = woocommerce_request(order, connection["secret"], site=SITE)

    response = await post(facto, connection["webhook_path"], body, headers)

    assert response.status == 201, await response.text()
    assert (await response.json())["invoice"]["status"] == "paid"
    await facto.drain()
    assert await facto.messages("sms", PHONE) == []


async def test_forged_foreign_and_unknown_webhooks_are_refused(facto: Facto) -> None:
    connection = await shopify(facto)
    path = connection["webhook_path"]
    body, headers = shopify_request(shopify_order(), SHOPIFY_SECRET, shop=SHOP)

    forged = await post(facto, path, body, {**headers, "X-Shopify-Hmac-Sha256": sign(body, "x")})
    unsigned = await post(facto, path, body, {k: v for k, v in headers.items() if "Hmac" not in k})
    tampered = await post(facto, path, body.replace(b"60.00", b"0.60"), headers)
    # A webhook of another shop, signed with the same app secret, posted to this path.
    other = shopify_request(shopify_order(), SHOPIFY_SECRET, shop="autre.myshopify.com")
    foreign = await post(facto, path, *other)
    unknown = await post(facto, "/webhooks/shopify/shop_0000000000000000", body, headers)
    wrong_platform = await post(facto, path.replace("shopify", "woocommerce"), body, headers)

    assert [forged.status, unsigned.status, tampered.status] == [401, 401, 401]
    assert foreign.status == 403
    assert "autre.myshopify.com" in (await foreign.json())["error"]
    assert unknown.status == 404 and wrong_platform.status == 404
    assert await invoice_count(facto) == 0


async def test_another_merchants_key_cannot_see_or_remove_a_connection(facto: Facto) -> None:
    connection = await shopify(facto)
    _, other_key = await facto.add_merchant(name="Autre", legal_name="Autre SAS")
    auth = {"Authorization": f"Bearer {other_key}"}
    read = await facto.client.get(f"/api/v1/shops/{connection['id']}", headers=auth)
    removed = await facto.client.delete(f"/api/v1/shops/{connection['id']}", headers=auth)
    listed = await facto.client.get("/api/v1/shops", headers=auth)
    assert read.status == 404 and removed.status == 404
    assert (await listed.json())["data"] == []


async def test_bad_orders_get_precise_answers_and_are_kept_for_the_merchant(
    facto: Facto,
) -> None:
    connection = await shopify(facto)
    path = connection["webhook_path"]

    async def send(payload: bytes | dict[str, Any], webhook_id: str) -> ClientResponse:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        _, headers = shopify_request({}, SHOPIFY_SECRET, shop=SHOP, webhook_id=webhook_id)
        headers["X-Shopify-Hmac-Sha256"] = sign(raw, SHOPIFY_SECRET)
        return await post(facto, path, raw, headers)

    malformed = await send(b"{not json", "w1")
    us_tax = shopify_order(order_id=2)
    us_tax["line_items"][0]["tax_lines"] = [{"title": "State", "price": "4.13", "rate": 0.0725}]
    foreign_vat = await send(us_tax, "w2")
    no_phone = shopify_order(order_id=3, phone="")
    missing_phone = await send(no_phone, "w3")
    fractional = shopify_order(order_id=4)
    fractional["total_price"] = "84.905"
    sub_cent = await send(fractional, "w4")
    wrong_total = shopify_order(order_id=5)
    wrong_total["total_price"] = "84.91"
    mismatch = await send(wrong_total, "w5")
    not_a_list = await send({**shopify_order(order_id=6), "line_items": {"a": 1}}, "w6")

    assert malformed.status == 400
    assert foreign_vat.status == 422
    refusal = await foreign_vat.json()
    assert refusal["field"] == "line_items.0.tax_lines.0.rate"
    assert "7.25 % is not a French rate" in refusal["error"]
    assert (await missing_phone.json())["code"] == "no_phone"
    assert sub_cent.status == 422 and (await sub_cent.json())["field"] == "total_price"
    assert (await mismatch.json())["code"] == "total_mismatch"
    assert (await not_a_list.json())["field"] == "line_items"
    assert await invoice_count(facto) == 0
    read = await facto.client.get(
        f"/api/v1/shops/{connection['id']}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    refused = (await read.json())["refused_orders"]
    assert [r["order_id"] for r in refused] == ["6", "5", "4", "3", "2"]


async def test_an_oversized_order_is_413(facto: Facto) -> None:
    connection = await shopify(facto)
    body = b"{" + b" " * MAX_ORDER_BYTES + b"}"
    _, headers = shopify_request({}, SHOPIFY_SECRET, shop=SHOP)
    headers["X-Shopify-Hmac-Sha256"] = sign(body, SHOPIFY_SECRET)
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 413


async def test_connecting_needs_a_valid_shop_and_secret(facto: Facto) -> None:
    auth = {"Authorization": f"Bearer {facto.api_key}"}
    cases = [
        {"platform": "shopify", "shop": SHOP},  # Shopify's secret is Shopify's to give
        {"platform": "shopify", "shop": "example.com", "secret": SHOPIFY_SECRET},
        {"platform": "prestashop", "shop": SITE},
        {"platform": "woocommerce", "shop": SITE, "channel": "telegram"},
        {"platform": "woocommerce", "shop": SITE, "due_days": 400},
        {"platform": "woocommerce", "shop": SITE, "api_key": "x"},
    ]
    for body in cases:
        response = await facto.client.post("/api/v1/shops", json=body, headers=auth)
        assert response.status == 400, body


async def test_a_secret_sealed_under_another_key_is_503_not_500(facto: Facto) -> None:
    connection = await shopify(facto)
    key = keys.shop_connection(connection["id"])
    record = json.loads(await facto.redis.get(key))
    record["secret"] = "gAAAAABsealed-under-another-key"
    await facto.redis.set(key, json.dumps(record))
    body, headers = shopify_request(shopify_order(), SHOPIFY_SECRET, shop=SHOP)
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 503
    assert "FACTO_SECRETS_KEY" in (await response.json())["error"]


async def test_a_new_customer_is_made_on_the_connections_channel_once(facto: Facto) -> None:
    assert facto.merchant is not None
    connection = await connect(
        facto, {"platform": "woocommerce", "shop": SITE, "channel": "whatsapp", "due_days": 30}
    )
    first = woocommerce_order(order_id=801)
    second = woocommerce_order(order_id=802, phone="+33612345678")
    for number, order in enumerate((first, second)):
        body, headers = woocommerce_request(
            order, connection["secret"], site=SITE, delivery_id=f"d-{number}"
        )
        response = await post(facto, connection["webhook_path"], body, headers)
        assert response.status == 201, await response.text()
        invoice = (await response.json())["invoice"]
        assert invoice["channel"] == "whatsapp"
        assert invoice["due_date"] == (facto.clock.now().date() + timedelta(days=30)).isoformat()
    made = await facto.redis.hgetall(keys.customers(facto.merchant.id))
    assert len(made) == 1  # "06 12 34 56 78" in FR and +33612345678 are one person
    [customer] = [json.loads(raw) for raw in made.values()]
    assert customer["channels"] == {"whatsapp": PHONE} and customer["name"] == "Inès Durand"


async def test_an_order_paid_later_in_the_shop_marks_its_invoice_paid_once(facto: Facto) -> None:
    connection = await shopify(facto)
    path = connection["webhook_path"]
    body, headers = shopify_request(shopify_order(), SHOPIFY_SECRET, shop=SHOP)
    created = await post(facto, path, body, headers)
    invoice_id = (await created.json())["invoice"]["id"]
    await facto.drain()
    sent = len(await facto.messages("sms", PHONE))

    paid_order = shopify_order(financial_status="paid")
    for webhook_id in ("p-1", "p-1", "p-2"):  # redelivered, then sent again under a new id
        body, headers = shopify_request(
            paid_order, SHOPIFY_SECRET, shop=SHOP, webhook_id=webhook_id, topic="orders/paid"
        )
        response = await post(facto, path, body, headers)
        assert response.status == 200, await response.text()
        await facto.drain()

    read = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    invoice = await read.json()
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 8490
    after = await facto.messages("sms", PHONE)
    assert len(after) == sent + 1  # one receipt
    assert await invoice_count(facto) == 1


async def test_a_woocommerce_order_updated_paid_later_marks_its_invoice_paid_once(
    facto: Facto,
) -> None:
    """WooCommerce has no "paid" topic: the order comes back as order.updated with a
    date_paid; redelivered, and updated again (a note, a status), it is paid once."""
    connection = await connect(facto, {"platform": "woocommerce", "shop": SITE})
    secret, path = connection["secret"], connection["webhook_path"]
    body, headers = woocommerce_request(woocommerce_order(order_id=950), secret, site=SITE)
    created = await post(facto, path, body, headers)
    assert created.status == 201, await created.text()
    invoice_id = (await created.json())["invoice"]["id"]
    await facto.drain()
    sent = len(await facto.messages("sms", PHONE))

    still_pending = woocommerce_order(order_id=950)
    paid = woocommerce_order(order_id=950, paid=True)
    for order, delivery in ((still_pending, "u-0"), (paid, "u-1"), (paid, "u-1"), (paid, "u-2")):
        body, headers = woocommerce_request(
            order, secret, site=SITE, delivery_id=delivery, topic="order.updated"
        )
        response = await post(facto, path, body, headers)
        assert response.status == 200, await response.text()
        await facto.drain()
        if order is still_pending:  # an update that is not a payment changes nothing
            read = await facto.client.get(
                f"/api/v1/invoices/{invoice_id}",
                headers={"Authorization": f"Bearer {facto.api_key}"},
            )
            assert (await read.json())["status"] == "open"

    read = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    invoice = await read.json()
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 4725
    assert len(await facto.messages("sms", PHONE)) == sent + 1  # one receipt
    assert await invoice_count(facto) == 1


async def test_an_update_of_an_order_never_invoiced_creates_nothing(facto: Facto) -> None:
    connection = await connect(facto, {"platform": "woocommerce", "shop": SITE})
    order = woocommerce_order(order_id=900, paid=True)
    body, headers = woocommerce_request(
        order, connection["secret"], site=SITE, topic="order.updated"
    )
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 200
    assert (await response.json()) == {"ignored": "no invoice for this order"}
    assert await invoice_count(facto) == 0


async def test_a_vat_rate_too_large_for_decimal_is_422_not_500(facto: Facto) -> None:
    """A rate of "1e999999999" overflows Decimal once scaled to a percent: a refusal."""
    connection = await shopify(facto)
    order = shopify_order(order_id=11)
    order["line_items"][0]["tax_lines"] = [{"title": "TVA", "price": "1", "rate": "1e999999999"}]
    body, headers = shopify_request(order, SHOPIFY_SECRET, shop=SHOP)
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 422, await response.text()
    assert (await response.json())["field"] == "line_items.0.tax_lines.0.rate"
    assert await invoice_count(facto) == 0


async def test_a_malformed_ipv6_shop_address_is_400_or_403_not_500(facto: Facto) -> None:
    """urlsplit raises ValueError on "[::1": a connect is 400, a signed webhook naming it 403."""
    auth = {"Authorization": f"Bearer {facto.api_key}"}
    refused = await facto.client.post(
        "/api/v1/shops", json={"platform": "woocommerce", "shop": "http://[::1"}, headers=auth
    )
    assert refused.status == 400, await refused.text()
    connection = await connect(facto, {"platform": "woocommerce", "shop": SITE})
    body, headers = woocommerce_request(woocommerce_order(), connection["secret"], site=SITE)
    headers["X-WC-Webhook-Source"] = "http://[::1"
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 403, await response.text()
    assert await invoice_count(facto) == 0


async def test_a_shop_order_carries_the_fast_payment_reward_the_merchant_offers(
    facto: Facto,
) -> None:
    """Issued like POST /api/v1/invoices: with the reward of the merchant's policy (issue 10);
    an order paid in the shop already has nothing left to reward."""
    reward = {"enabled": True, "within_hours": 48, "kind": "percent", "percent": 10}
    policy = await facto.client.put(
        "/api/v1/policy",
        json={"reward": {**reward, "code": "MERCI10"}},
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert policy.status == 200, await policy.text()
    connection = await shopify(facto)
    body, headers = shopify_request(shopify_order(), SHOPIFY_SECRET, shop=SHOP)
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 201, await response.text()
    offered = (await response.json())["invoice"]["reward"]
    assert offered is not None and offered["code"] == "MERCI10"

    paid = shopify_order(order_id=12, financial_status="paid")
    body, headers = shopify_request(paid, SHOPIFY_SECRET, shop=SHOP, webhook_id="paid-1")
    response = await post(facto, connection["webhook_path"], body, headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["invoice"]["reward"] is None


async def test_an_order_whose_payment_is_already_taken_in_the_shop_is_not_asked_for(
    facto: Facto,
) -> None:
    """Shopify's `authorized` (the card is held, captured later), `partially_paid`, `refunded`
    or `voided`: an open invoice would ask the customer for money the shop has (or gave back)."""
    connection = await shopify(facto)
    for number, status in enumerate(("authorized", "partially_paid", "refunded", "voided")):
        order = shopify_order(order_id=20 + number, financial_status=status)
        body, headers = shopify_request(order, SHOPIFY_SECRET, shop=SHOP, webhook_id=f"s{number}")
        response = await post(facto, connection["webhook_path"], body, headers)
        assert response.status == 422, (status, await response.text())
        refusal = await response.json()
        assert refusal["field"] == "financial_status" and refusal["code"] == "not_awaiting_payment"
    assert await invoice_count(facto) == 0
    await facto.drain()
    assert await facto.messages("sms", PHONE) == []


async def test_a_paid_webhook_before_its_create_webhook_is_not_asked_for(facto: Facto) -> None:
    """Shopify does not deliver webhooks in order (and retries a create that failed, hours
    later): `orders/paid` may come first. The create that follows must not send an invoice
    asking for money the shop already took."""
    connection = await shopify(facto)
    path = connection["webhook_path"]
    paid = shopify_order(order_id=30, financial_status="paid")
    body, headers = shopify_request(
        paid, SHOPIFY_SECRET, shop=SHOP, webhook_id="early-paid", topic="orders/paid"
    )
    early = await post(facto, path, body, headers)
    assert early.status == 200, await early.text()

    pending = shopify_order(order_id=30)  # the create's payload: the order as it was then
    body, headers = shopify_request(pending, SHOPIFY_SECRET, shop=SHOP, webhook_id="late-create")
    created = await post(facto, path, body, headers)

    assert created.status == 201, await created.text()
    assert (await created.json())["invoice"]["status"] == "paid"
    await facto.drain()
    assert await facto.messages("sms", PHONE) == []


async def test_a_woocommerce_order_not_awaiting_payment_is_not_asked_for(facto: Facto) -> None:
    """WooCommerce's `cancelled`, `refunded`, `failed` or draft orders carry no `date_paid`:
    they are not invoiced for payment; `on-hold` (a transfer awaited) is; `completed` without a
    `date_paid` (cash on delivery, marked done by the shop) is issued paid."""
    connection = await connect(facto, {"platform": "woocommerce", "shop": SITE})
    path, secret = connection["webhook_path"], connection["secret"]
    for number, status in enumerate(("cancelled", "refunded", "failed", "checkout-draft")):
        order = {**woocommerce_order(order_id=800 + number), "status": status}
        body, headers = woocommerce_request(order, secret, site=SITE, delivery_id=f"w{number}")
        response = await post(facto, path, body, headers)
        assert response.status == 422, (status, await response.text())
        refusal = await response.json()
        assert refusal["field"] == "status" and refusal["code"] == "not_awaiting_payment"
    assert await invoice_count(facto) == 0

    held = {**woocommerce_order(order_id=810), "status": "on-hold"}
    body, headers = woocommerce_request(held, secret, site=SITE, delivery_id="w-hold")
    response = await post(facto, path, body, headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["invoice"]["status"] != "paid"

    done = {**woocommerce_order(order_id=811), "status": "completed"}
    body, headers = woocommerce_request(done, secret, site=SITE, delivery_id="w-done")
    response = await post(facto, path, body, headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["invoice"]["status"] == "paid"
