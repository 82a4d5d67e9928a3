"""An invoice created without `customer.locale` speaks the customer's language (issue 6 §3).

Before: the API forced `locale: "fr"` when the caller gave none, so a +44 customer got French.
Now the language is chosen per message: an explicit locale, else Telegram's language_code,
else the phone number's country, else FACTO_DEFAULT_LOCALE.
"""

from __future__ import annotations

from urllib.parse import urlparse

from channels.base import ChannelName
from tests.scenario.harness import Facto, invoice_body

UK_MOBILE = "+447911123456"
FR_MOBILE = "+33612345678"


async def test_sms_to_a_uk_number_without_locale_is_in_english(facto: Facto) -> None:
    created = await facto.issue(invoice_body("sms", UK_MOBILE, locale=None))
    assert created["customer"]["locale"] is None

    [invoice_msg] = await facto.messages("sms", UK_MOBILE)
    assert "1. Pay" in invoice_msg["text"] and "€85.80" in invoice_msg["text"]
    assert "Payer" not in invoice_msg["text"]

    await facto.customer_says("sms", UK_MOBILE, "pay")
    link_msg = (await facto.messages("sms", UK_MOBILE))[1]["text"]
    assert created["pay_url"] in link_msg and link_msg.startswith("Here")

    page = await facto.client.get(urlparse(created["invoice_url"]).path)
    assert page.status == 200
    assert '<html lang="en">' in await page.text()


async def test_sms_to_a_french_number_without_locale_is_in_french(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", FR_MOBILE, locale=None))
    [invoice_msg] = await facto.messages("sms", FR_MOBILE)
    assert "1. Payer" in invoice_msg["text"] and "85,80 €" in invoice_msg["text"]


async def test_an_explicit_locale_still_wins_over_the_phone_country(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", UK_MOBILE, locale="fr"))
    [invoice_msg] = await facto.messages("sms", UK_MOBILE)
    assert "1. Payer" in invoice_msg["text"]


async def test_telegram_without_locale_answers_in_the_customers_telegram_language(
    facto: Facto,
) -> None:
    facto.sandbox.add_contact("Alex", ChannelName.TELEGRAM, "515151", language_code="en")
    await facto.issue(invoice_body("telegram", 515151, locale=None))
    # Nothing tells the language of the first message yet: the default (fr) is used.
    [first] = await facto.messages("telegram", "515151")
    assert "Payer" in str(first["buttons"]) or "Payer" in first["text"]

    await facto.customer_says("telegram", "515151", "pay")
    reply = (await facto.messages("telegram", "515151"))[-1]["text"]
    assert reply.startswith("Here")
