"""A paid flash-sale order is issued as an invoice: in the merchant's one numbering (no gap,
no double), already paid, HT + VAT = what was paid, linked to its order, named in the receipt."""

from __future__ import annotations

from urllib.parse import urlparse

from bot.engine import order_invoices
from bot.store import customers, keys
from bot.store.campaigns import load
from bot.web.app_keys import SERVICES
from payments.invoice import VatRate, net_for_gross
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_campaigns import _links, auth, campaign_body, get, post
from tests.scenario.test_offer_sweep import deaf

__all__ = ["deaf"]


async def _pay(facto: Facto, link: str) -> None:
    tap = await facto.client.post(link, allow_redirects=False)
    assert tap.status == 303, await tap.text()
    checkout = urlparse(tap.headers["Location"]).path
    await facto.client.post(f"{checkout}/card", allow_redirects=False)
    await facto.drain()


async def test_a_paid_order_is_a_numbered_paid_invoice_named_in_the_receipt(
    facto: Facto,
) -> None:
    before = await facto.issue(invoice_body())
    cid, [link] = await _links(facto, 1, stock=1)
    await _pay(facto, link)
    [order] = (await get(facto, f"/api/v1/campaigns/{cid}/orders"))["orders"]
    assert order["customer_id"] == "p000" and order["amount"] == 2900
    invoice = await get(facto, f"/api/v1/invoices/{order['invoice_id']}")
    prefix, year, seq = before["number"].rsplit("-", 2)
    assert invoice["number"] == order["invoice_number"] == f"{prefix}-{year}-{int(seq) + 1:06d}"
    assert invoice["status"] == "paid" and invoice["amount_paid"] == 2900
    assert invoice["amount_due"] == 0
    assert invoice["totals"] == {
        "net": 2417,
        "vat": [{"rate": "20", "base": 2417, "amount": 483}],
        "vat_total": 483,
        "gross": 2900,
    }
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    receipt = texts[-1]
    assert receipt.startswith("Merci ! Votre paiement pour « Lampe Lumière »")
    assert f"Facture {invoice['number']} : {invoice['invoice_url']}" in receipt
    page = await facto.client.get(urlparse(invoice["invoice_url"]).path)
    html = await page.text()
    assert page.status == 200 and invoice["number"] in html
    assert "Atelier Lumière SAS" in html and "732 829 320" in html  # the seller's mentions
    # Stripe delivers the payment again: no second invoice, and the numbering goes on.
    events = await (await facto.client.get("/sandbox/api/stripe/events")).json()
    [event] = [e for e in events if e["type"] == "checkout.session.completed"]
    await facto.client.post(f"/sandbox/api/stripe/redeliver/{event['id']}")
    await facto.drain()
    await facto.worker.reconcile()  # and the sweep finds it paid: settled already
    await facto.drain()
    assert len((await get(facto, f"/api/v1/campaigns/{cid}/orders"))["orders"]) == 1
    after = await facto.issue(invoice_body())
    assert after["number"] == f"{prefix}-{year}-{int(seq) + 2:06d}"
    assert len(await facto.messages("telegram", "8000")) == 2  # the offer, one receipt


async def test_issuing_an_order_again_finds_its_invoice(facto: Facto) -> None:
    """A dispatch run again before its commit (a crash) issues no second invoice."""
    cid, [link] = await _links(facto, 1, stock=1)
    await _pay(facto, link)
    assert facto.merchant is not None
    [order] = (await get(facto, f"/api/v1/campaigns/{cid}/orders"))["orders"]
    status = await load(facto.redis, facto.merchant.id, cid)
    customer = await customers.get(facto.redis, facto.merchant.id, "p000")
    assert status is not None and customer is not None
    again = order_invoices.draft(
        facto.merchant,
        customer,
        "telegram:8000",
        status.campaign.offer,
        hold=order["id"],
        paid=2900,
        now=facto.clock.now(),
    )
    retirer = facto.client.app[SERVICES].retirer
    stored = await order_invoices.issue(facto.redis, again, "F", facto.clock.now(), retirer)
    assert stored.number == order["invoice_number"] and stored.id == order["invoice_id"]
    assert stored.view_token != again.view_token  # the one issued first, as it was stored
    seq = keys.merchant_invoice_seq(facto.merchant.id, facto.clock.now().year)
    assert await facto.redis.get(seq) == "1"


async def test_a_swept_order_is_invoiced_once(deaf: Facto) -> None:
    cid, [link] = await _links(deaf, 1, stock=1)
    await _pay(deaf, link)
    for _ in range(2):
        await deaf.worker.reconcile()
        await deaf.drain()
    [order] = (await get(deaf, f"/api/v1/campaigns/{cid}/orders"))["orders"]
    assert order["invoice_number"].endswith("-000001")
    receipt = (await deaf.messages("telegram", "8000"))[-1]["text"]
    assert order["invoice_number"] in receipt


async def test_an_amount_without_an_exact_ht_is_refused(facto: Facto) -> None:
    rate = VatRate.parse("20")
    amount = next(a for a in range(2900, 3000) if net_for_gross(a, rate) is None)
    _, audience = await post(facto, "/api/v1/audiences", {"customers": []})
    body = campaign_body(audience.get("id", "none"))
    body["offer"]["amount"] = amount
    status, answer = await post(facto, "/api/v1/campaigns", body)
    assert status == 422, answer
    [problem] = [f for f in answer["fields"] if f["field"] == "offer.amount"]
    assert "TTC at 20 % VAT" in problem["message"]
    body["offer"]["vat_rate"] = "twenty"
    status, answer = await post(facto, "/api/v1/campaigns", body)
    assert status == 422 and "offer.vat_rate" in {f["field"] for f in answer["fields"]}
    missing = await facto.client.get("/api/v1/campaigns/nope/orders", headers=auth(facto))
    assert missing.status == 404
