"""invoice -> message -> "payer" -> link -> sandbox pay -> signed webhook -> paid -> receipt."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from bot.store import keys
from channels.sms_text import sms_safe
from tests.scenario.harness import Facto, invoice_body

CHANNELS = [
    pytest.param("telegram", "424242", "fr", id="telegram-fr"),
    pytest.param("sms", "+33612345678", "fr", id="sms-fr"),
    pytest.param("sms", "+447911123456", "en", id="sms-en"),
]


async def open_pay_link(facto: Facto, pay_url: str) -> str:
    """Follow Facto's /p/ link like a phone would; returns the checkout page path."""
    response = await facto.client.post(urlparse(pay_url).path, allow_redirects=False)
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location.startswith(f"{facto.base_url}/sandbox/stripe/pay/cs_")
    return urlparse(location).path


async def pay_by_card(facto: Facto, checkout_path: str) -> None:
    response = await facto.client.post(f"{checkout_path}/card", allow_redirects=False)
    assert response.status in (200, 303), await response.text()
    await facto.drain()


async def invoice_status(facto: Facto, invoice_id: str) -> dict[str, Any]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


@pytest.mark.parametrize(("channel", "address", "locale"), CHANNELS)
async def test_whole_journey(facto: Facto, channel: str, address: str, locale: str) -> None:
    created = await facto.issue(invoice_body(channel, address, locale=locale))
    assert created["status"] == "open"
    assert created["totals"] == {
        "net": 7150,
        "vat": [{"rate": "20", "base": 7150, "amount": 1430}],
        "vat_total": 1430,
        "gross": 8580,
    }

    [invoice_msg] = await facto.messages(channel, address)
    assert created["number"] in invoice_msg["text"]
    assert "Atelier Lumière" in invoice_msg["text"]
    assert created["pay_url"] in invoice_msg["text"]
    if channel == "telegram":
        # "Pay" is a link to the pay page, labelled with the amount (issue 13).
        assert [b["action"] for b in invoice_msg["buttons"]] == [None, "later", "split", "help"]
        assert invoice_msg["buttons"][0]["url"] == created["pay_url"]
        assert "85,80" in invoice_msg["buttons"][0]["label"]
        assert "85,80" in invoice_msg["text"]
    else:
        first_choice = "1. Payer" if locale == "fr" else "1. Pay"
        assert first_choice in invoice_msg["text"]
        assert "\u00a0" not in invoice_msg["text"] and "\u202f" not in invoice_msg["text"]
        assert ("85,80 €" if locale == "fr" else "€85.80") in invoice_msg["text"]

    reply = "payer" if locale == "fr" else "pay"
    assert await facto.customer_says(channel, address, reply) == 200
    messages = await facto.messages(channel, address)
    assert len(messages) == 2
    assert created["pay_url"] in messages[1]["text"]

    checkout = await open_pay_link(facto, created["pay_url"])
    await pay_by_card(facto, checkout)

    assert (await invoice_status(facto, created["id"]))["status"] == "paid"
    messages = await facto.messages(channel, address)
    assert len(messages) == 3
    receipt = messages[2]["text"]
    assert created["number"] in receipt
    expected = "Paiement enregistré" if locale == "fr" else "Payment received"
    assert (sms_safe(expected) if channel == "sms" else expected) in receipt


async def test_button_and_number_send_the_link_again(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    await facto.customer_says("telegram", "424242", action="pay")
    created_sms = await facto.issue(invoice_body("sms", "+33612345678"))
    await facto.customer_says("sms", "+33612345678", "1")

    telegram = await facto.messages("telegram", "424242")
    sms = await facto.messages("sms", "+33612345678")
    assert created["pay_url"] in telegram[-1]["text"]
    assert created_sms["pay_url"] in sms[-1]["text"]


async def test_help_and_fallback_offer_the_choices(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", "+33612345678"))
    await facto.customer_says("sms", "+33612345678", "aide")
    await facto.customer_says("sms", "+33612345678", "4")
    await facto.customer_says("sms", "+33612345678", "xkcd blorp")
    help_a, help_b, fallback = (
        m["text"] for m in (await facto.messages("sms", "+33612345678"))[1:]
    )
    assert "1. Payer" in help_a and "4. Aide" in help_a
    assert help_a == help_b
    assert fallback.startswith("Désolé, je n'ai pas compris") and "1. Payer" in fallback


async def test_duplicate_webhook_changes_nothing_and_sends_nothing(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    checkout = await open_pay_link(facto, created["pay_url"])
    await pay_by_card(facto, checkout)
    [event] = [
        e
        for e in await (await facto.client.get("/sandbox/api/stripe/events")).json()
        if e["type"] == "checkout.session.completed"
    ]
    for _ in range(2):
        response = await facto.client.post(f"/sandbox/api/stripe/redeliver/{event['id']}")
        assert response.status == 200
    await facto.drain()
    assert len(await facto.messages("telegram", "424242")) == 2  # invoice + one receipt
    assert (await invoice_status(facto, created["id"]))["amount_paid"] == 8580


async def test_paid_invoice_link_shows_already_paid_and_creates_nothing(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    await pay_by_card(facto, await open_pay_link(facto, created["pay_url"]))
    sessions_before = len(facto.sandbox.sessions)

    response = await facto.client.get(urlparse(created["pay_url"]).path, allow_redirects=False)
    assert response.status == 200
    page = await response.text()
    assert "déjà réglée" in page
    assert len(facto.sandbox.sessions) == sessions_before
    assert response.headers["Cache-Control"] == "no-store"

    await facto.customer_says("telegram", "424242", "payer")
    assert "déjà réglée" in (await facto.messages("telegram", "424242"))[-1]["text"]


async def test_sepa_stays_processing_until_confirmed(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    checkout = await open_pay_link(facto, created["pay_url"])
    response = await facto.client.post(f"{checkout}/sepa", allow_redirects=False)
    assert response.status in (200, 303)
    await facto.drain()
    assert (await invoice_status(facto, created["id"]))["status"] == "processing"
    processing_msg = (await facto.messages("telegram", "424242"))[-1]["text"]
    assert "en cours de traitement" in processing_msg
    assert "Paiement enregistré" not in processing_msg

    # Opening the link again while the debit is pending must not mint a second session.
    again = await facto.client.get(urlparse(created["pay_url"]).path, allow_redirects=False)
    assert again.status == 200 and "en cours de traitement" in await again.text()

    await facto.client.post(f"{checkout}/sepa/confirm", allow_redirects=False)
    await facto.drain()
    assert (await invoice_status(facto, created["id"]))["status"] == "paid"
    assert "Paiement enregistré" in (await facto.messages("telegram", "424242"))[-1]["text"]


async def test_expired_session_is_replaced_by_a_fresh_one(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    first = await open_pay_link(facto, created["pay_url"])
    assert await open_pay_link(facto, created["pay_url"]) == first  # still open: reused
    session_id = first.rsplit("/", 1)[-1]
    expired = await facto.client.post(
        f"/sandbox/stripe/v1/checkout/sessions/{session_id}/expire",
        headers={"Authorization": "Bearer sk_test_sandbox"},
    )
    assert expired.status == 200
    await facto.drain()
    second = await open_pay_link(facto, created["pay_url"])
    assert second != first
    await pay_by_card(facto, second)
    assert (await invoice_status(facto, created["id"]))["status"] == "paid"


async def test_unknown_pay_token_is_404(facto: Facto) -> None:
    response = await facto.client.get("/p/" + "A" * 22)
    assert response.status == 404
    assert "Lien introuvable" in await response.text()


async def test_payment_for_unknown_invoice_is_parked(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    checkout = await open_pay_link(facto, created["pay_url"])
    session_id = checkout.rsplit("/", 1)[-1]
    facto.sandbox.sessions[session_id].metadata.pop("invoice_id")
    await pay_by_card(facto, checkout)
    assert await facto.redis.hlen(keys.PAYMENTS_UNMATCHED) == 1
    assert (await invoice_status(facto, created["id"]))["status"] == "open"


async def test_failed_sepa_debit_reopens_the_invoice_and_the_link(facto: Facto) -> None:
    """TESTCASES 16: async_payment_failed -> open again, the customer is told, can pay again."""
    created = await facto.issue(invoice_body())
    checkout = await open_pay_link(facto, created["pay_url"])
    await facto.client.post(f"{checkout}/sepa", allow_redirects=False)
    await facto.drain()
    await facto.client.post(f"{checkout}/sepa/fail", allow_redirects=False)
    await facto.drain()
    assert (await invoice_status(facto, created["id"]))["status"] == "open"
    assert "n'a pas abouti" in (await facto.messages("telegram", "424242"))[-1]["text"]
    second = await open_pay_link(facto, created["pay_url"])
    assert second != checkout
    await pay_by_card(facto, second)
    assert (await invoice_status(facto, created["id"]))["status"] == "paid"
