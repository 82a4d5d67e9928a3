"""The phone simulator in a real browser (Chromium): a customer invoiced by two shops picks the
thread of the merchant's own number and writes there (the page's JavaScript posts through the
signed webhook of that number); the answer arrives in that thread only."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from channels.base import ChannelName
from tests.scenario.harness import Facto, invoice_body

PHONE = "+33612345678"
OWN_NUMBER = "+33700000011"


async def test_the_customer_writes_to_a_merchant_number_from_its_thread(
    browser: Browser, live_facto: Facto
) -> None:
    facto = live_facto
    facto.sandbox.add_twilio_number(OWN_NUMBER)
    _shop, key = await facto.add_merchant(name="Atelier Alpha", legal_name="Atelier Alpha SAS")
    registered = await facto.client.post(
        "/api/v1/channels",
        json={"channel": "sms", "from": OWN_NUMBER},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert registered.status == 201
    assert (await facto.post_invoice(invoice_body("sms", PHONE))).status == 201
    assert (await facto.post_invoice(invoice_body("sms", PHONE), api_key=key)).status == 201

    context = await browser.new_context(base_url=facto.base_url, locale="fr-FR")
    page = await context.new_page()
    await page.goto(f"/sandbox/phone/sms/{PHONE}")
    await expect(page.locator(".msg.bot")).to_have_count(1, timeout=10_000)  # the platform's
    await page.locator(".threads a", has_text=OWN_NUMBER).click()
    await expect(page.locator(".threads a.current")).to_have_text(OWN_NUMBER)
    await expect(page.locator(".msg.bot").first).to_contain_text("Atelier Alpha", timeout=10_000)

    await page.get_by_placeholder("Votre message").fill("payer")
    await page.get_by_role("button", name="Envoyer").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("/p/", timeout=10_000)
    await expect(page.locator(".msg")).to_have_count(3)  # invoice, "payer", the link
    # The platform's thread of the same phone got none of it.
    platform = facto.sandbox.thread(ChannelName.SMS, PHONE, facto.settings.twilio_sms_from or "")
    assert [e.sender for e in platform] == ["bot"]
    await context.close()
