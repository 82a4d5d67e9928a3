"""The customer's pages on phone-sized screens (issue 13, "Done when").

Each page is opened in Chromium at 320 and 390 px wide: nothing may overflow sideways, the
button must say what will be charged, and after paying the page must never offer to pay again
while the payment is being confirmed.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any
from urllib.parse import urlparse

import pytest
from pypdf import PdfReader

from tests.pages_browser.conftest import PHONES
from tests.scenario.harness import Facto, invoice_body

TG = ("telegram", "424242")
SMS_EN = ("sms", "+447911123456")
LINES = [{"description": "Canapé trois places en velours côtelé", "quantity": 1,
          "unit_amount": 12000, "vat_rate": "20"}]  # fmt: skip
# Wide figures and a long word, as real invoices have: what made the page overflow at 320 px.
WIDE_LINES = [
    {"description": "Abat-jour (soie, réf. ABATJOURSOIENATURELLE2026LUMIEREXL)",
     "quantity": 12, "unit_amount": 125000, "vat_rate": "20"},
    {"description": "Livraison", "quantity": 1, "unit_amount": 4990, "vat_rate": "5.5"},
]  # fmt: skip

# A phone browser zooms out to show a page wider than the screen (window.innerWidth grows with
# it), so the page's width is compared with the screen's, not with innerWidth.
PAGE_WIDTH = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
# How many lines the given text takes on screen (1: it does not break).
LINES_OF = """(needle) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(needle);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + needle.length);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  }
  return 0;
}"""


async def phone(browser: Any, width: int, locale: str = "fr-FR") -> Any:
    context = await browser.new_context(
        viewport={"width": width, "height": 700}, locale=locale, is_mobile=True
    )
    return await context.new_page()


async def fits(page: Any) -> None:
    width = page.viewport_size["width"]
    assert await page.evaluate(PAGE_WIDTH) <= width, (
        f"{page.url} is {await page.evaluate(PAGE_WIDTH)} px wide on a {width} px screen"
    )


async def split_in_three(shop: Facto, locale: str = "fr") -> dict[str, Any]:
    body = invoice_body(*TG, locale=locale, due=date(2026, 12, 15), lines=LINES)
    created = await shop.issue(body)
    await shop.customer_says(*TG, "en 3 fois" if locale == "fr" else "in 3 instalments")
    await shop.customer_says(*TG, action="yes")
    return created


PLAN = {
    "fr": {
        "accept": "fr-FR",
        "pay_1": "Payer l'échéance 1 : 48,00 €",
        "card": "Payer par carte",
        "confirming": "en cours de confirmation",
        "thanks": "Merci, paiement reçu le 18 novembre 2026.",
        "receipt": "Reçu : 48,00 € pour l'échéance 1",
        "pdf": "Télécharger la facture {} (PDF)",
        "pay_2": "Payer l'échéance 2 : 48,00 €",
    },
    "en": {
        "accept": "en-GB",
        "pay_1": "Pay instalment 1: €48.00",
        "card": "Pay by card",
        "confirming": "being confirmed",
        "thanks": "Thank you, payment received on November 18, 2026.",
        "receipt": "Receipt: €48.00 for instalment 1",
        "pdf": "Download invoice {} (PDF)",
        "pay_2": "Pay instalment 2: €48.00",
    },
}


def plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_plan_invoice_then_card_payment_then_receipt(
    browser: Any, shop: Facto, width: int, locale: str
) -> None:
    words = PLAN[locale]
    created = await split_in_three(shop, locale)
    page = await phone(browser, width, words["accept"])
    await page.goto(created["invoice_url"])
    await fits(page)
    schedule = page.locator("table.plan tr")
    assert await schedule.count() == 3
    button = page.locator("form.pay button")
    assert plain(await button.inner_text()) == words["pay_1"]
    if locale == "fr":
        assert await page.evaluate(LINES_OF, "1\xa0:") == 1  # ":" stays with its number

    await button.click()  # one tap: the form posts and the checkout opens
    await page.wait_for_url("**/sandbox/stripe/pay/cs_*")
    await fits(page)
    assert "48" in await page.locator("h1").inner_text()
    await page.get_by_role("button", name=words["card"]).click()

    await page.wait_for_url("**/i/**paid=1&instalment=1")
    await fits(page)
    assert words["confirming"] in await page.locator(".notice").inner_text()
    assert await page.locator("form.pay").count() == 0  # no "Pay" while confirming
    refresh = page.locator('meta[http-equiv="refresh"]')
    content = await refresh.get_attribute("content")
    assert content is not None and content.startswith("3;url=/i/")

    await shop.drain()  # the webhook is applied; follow the refresh without waiting 3 s
    await page.goto(shop.base_url + content.split("url=", 1)[1])
    await fits(page)
    receipt = plain(await page.locator(".receipt").inner_text())
    assert words["thanks"] in receipt
    assert words["receipt"] in receipt
    # The receipt links the invoice's PDF by a name that says what it opens.
    pdf = page.get_by_role("link", name=words["pdf"].format(created["number"]))
    assert await pdf.get_attribute("href") == urlparse(created["invoice_url"]).path + "/pdf"
    assert await page.locator('meta[http-equiv="refresh"]').count() == 0
    assert words["pay_2"] in plain(await page.locator("form.pay button").inner_text())


SEPA = {
    # locale: (address, browser locale, SEPA button, link back, what the page says)
    "en": (SMS_EN, "en-GB", "Pay by SEPA Direct Debit", "Return to the merchant",
           "nothing more to do"),
    "fr": (TG, "fr-FR", "Payer par prélèvement SEPA", "Retour au marchand",
           "rien d'autre à faire"),
}  # fmt: skip


@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_a_customer_pays_by_sepa_and_is_told_there_is_nothing_to_do(
    browser: Any, shop: Facto, width: int, locale: str
) -> None:
    address, accept, sepa, back, told = SEPA[locale]
    created = await shop.issue(invoice_body(*address, locale=locale, lines=LINES))
    page = await phone(browser, width, accept)
    await page.goto(created["pay_url"])  # opening the link creates nothing
    assert not shop.sandbox.sessions
    await fits(page)
    button = page.locator("form.pay button")
    amount = "€144.00" if locale == "en" else "144,00 €"
    assert amount in (await button.inner_text()).replace("\xa0", " ")
    await button.click()
    await page.wait_for_url("**/sandbox/stripe/pay/cs_*")
    await fits(page)
    assert await page.evaluate("document.documentElement.lang") == locale
    await page.get_by_role("button", name=sepa).click()
    await shop.drain()
    await page.get_by_role("link", name=back).click()
    await page.wait_for_url("**/i/**paid=1")
    await fits(page)
    assert told in (await page.locator(".notice").inner_text()).replace("\xa0", " ")
    assert await page.locator("form.pay").count() == 0
    assert await page.locator('meta[http-equiv="refresh"]').count() == 0


@pytest.mark.parametrize("width", PHONES)
async def test_invoice_with_wide_figures_fits_the_screen(
    browser: Any, shop: Facto, width: int
) -> None:
    created = await shop.issue(invoice_body(*TG, lines=WIDE_LINES))
    page = await phone(browser, width)
    await page.goto(created["invoice_url"])
    await fits(page)
    assert "15\u202f000,00" in await page.locator("table.lines").inner_text()


ALREADY_PAID = {
    # locale: (browser locale, card button, pill text, PDF link, a label inside the PDF)
    "fr": ("fr-FR", "Payer par carte", "déjà réglée", "Télécharger la facture {} (PDF)",
           "Désignation"),
    "en": ("en-GB", "Pay by card", "already paid", "Download invoice {} (PDF)", "Description"),
}  # fmt: skip


@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_already_paid_page(browser: Any, shop: Facto, width: int, locale: str) -> None:
    accept, card, paid, link, label = ALREADY_PAID[locale]
    created = await shop.issue(invoice_body(*TG, locale=locale, lines=LINES))
    page = await phone(browser, width, accept)
    await page.goto(created["pay_url"])
    await page.locator("form.pay button").click()
    await page.get_by_role("button", name=card).click()
    await shop.drain()

    await page.goto(created["pay_url"])
    await fits(page)
    pill = page.locator(".status-paid")
    assert paid in await pill.inner_text()
    if locale == "fr":
        assert await page.evaluate(LINES_OF, "Merci\xa0!") == 1  # "!" stays with "Merci"
    assert await page.locator("form.pay").count() == 0
    pdf = page.get_by_role("link", name=link.format(created["number"]))
    assert "French" not in await pdf.inner_text()  # the PDF is in the customer's language
    async with page.expect_response("**/pdf") as opened:
        await pdf.click()
    response = await opened.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    # Chromium shows it in its viewer; the document itself is read from the same URL.
    document = await shop.client.get(urlparse(response.url).path)
    text = PdfReader(BytesIO(await document.read())).pages[0].extract_text()
    assert label in text


@pytest.mark.parametrize("width", PHONES)
@pytest.mark.parametrize(
    ("locale", "title"), [("fr-FR", "Lien introuvable"), ("en-GB", "Link not found")]
)
async def test_404_in_the_visitors_language(
    browser: Any, shop: Facto, width: int, locale: str, title: str
) -> None:
    page = await phone(browser, width, locale)
    for path in ("/p/" + "A" * 22, "/no-such-page"):
        response = await page.goto(shop.base_url + path)
        assert response is not None and response.status == 404
        assert await page.locator("h1").inner_text() == title
        await fits(page)
    favicon = await page.goto(shop.base_url + "/favicon.ico")
    assert favicon is not None and favicon.status == 200
