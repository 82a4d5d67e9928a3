"""The customer's pages on phone-sized screens (issue 13, "Done when").

Each page is opened in Chromium at 320 and 390 px wide: nothing may overflow sideways, the
button must say what will be charged, and after paying the page must never offer to pay again
while the payment is being confirmed.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlparse

import pytest

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


async def split_in_three(shop: Facto) -> dict[str, Any]:
    created = await shop.issue(invoice_body(*TG, due=date(2026, 12, 15), lines=LINES))
    await shop.customer_says(*TG, "en 3 fois")
    await shop.customer_says(*TG, action="yes")
    return created


@pytest.mark.parametrize("width", PHONES)
async def test_plan_invoice_then_card_payment_then_receipt(
    browser: Any, shop: Facto, width: int
) -> None:
    created = await split_in_three(shop)
    page = await phone(browser, width)
    await page.goto(created["invoice_url"])
    await fits(page)
    schedule = page.locator("table.plan tr")
    assert await schedule.count() == 3
    button = page.locator("form.pay button")
    assert (await button.inner_text()).replace("\xa0", " ") == "Payer l'échéance 1 : 48,00 €"
    assert await page.evaluate(LINES_OF, "1\xa0:") == 1  # ":" stays with its number

    await button.click()  # one tap: the form posts and the checkout opens
    await page.wait_for_url("**/sandbox/stripe/pay/cs_*")
    await fits(page)
    assert "48,00" in await page.locator("h1").inner_text()
    await page.get_by_role("button", name="Payer par carte").click()

    await page.wait_for_url("**/i/**paid=1&instalment=1")
    await fits(page)
    assert "en cours de confirmation" in await page.locator(".notice").inner_text()
    assert await page.locator("form.pay").count() == 0  # no "Pay" while confirming
    refresh = page.locator('meta[http-equiv="refresh"]')
    content = await refresh.get_attribute("content")
    assert content is not None and content.startswith("3;url=/i/")

    await shop.drain()  # the webhook is applied; follow the refresh without waiting 3 s
    await page.goto(shop.base_url + content.split("url=", 1)[1])
    await fits(page)
    receipt = (await page.locator(".receipt").inner_text()).replace("\xa0", " ")
    assert "Merci, paiement reçu le 18 novembre 2026." in receipt
    assert "Reçu : 48,00 € pour l'échéance 1" in receipt
    # The receipt links the invoice's PDF by a name that says what it opens.
    number = created["number"]
    pdf = page.get_by_role("link", name=f"Télécharger la facture {number} (PDF)")
    assert await pdf.get_attribute("href") == urlparse(created["invoice_url"]).path + "/pdf"
    assert await page.locator('meta[http-equiv="refresh"]').count() == 0
    assert "Payer l'échéance 2 : 48,00 €" in (
        await page.locator("form.pay button").inner_text()
    ).replace("\xa0", " ")


@pytest.mark.parametrize("width", PHONES)
async def test_english_customer_pays_by_sepa_and_is_told_there_is_nothing_to_do(
    browser: Any, shop: Facto, width: int
) -> None:
    created = await shop.issue(invoice_body(*SMS_EN, locale="en", lines=LINES))
    page = await phone(browser, width, "en-GB")
    await page.goto(created["pay_url"])  # opening the link creates nothing
    assert not shop.sandbox.sessions
    await fits(page)
    await page.get_by_role("button", name="Pay €144.00").click()
    await page.wait_for_url("**/sandbox/stripe/pay/cs_*")
    await fits(page)
    assert await page.evaluate("document.documentElement.lang") == "en"
    await page.get_by_role("button", name="Pay by SEPA Direct Debit").click()
    await shop.drain()
    await page.get_by_role("link", name="Return to the merchant").click()
    await page.wait_for_url("**/i/**paid=1")
    await fits(page)
    assert "nothing more to do" in await page.locator(".notice").inner_text()
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


@pytest.mark.parametrize("width", PHONES)
async def test_already_paid_page(browser: Any, shop: Facto, width: int) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    page = await phone(browser, width)
    await page.goto(created["pay_url"])
    await page.locator("form.pay button").click()
    await page.get_by_role("button", name="Payer par carte").click()
    await shop.drain()

    await page.goto(created["pay_url"])
    await fits(page)
    pill = page.locator(".status-paid")
    assert "déjà réglée" in await pill.inner_text()
    assert await page.evaluate(LINES_OF, "Merci\xa0!") == 1  # "!" stays with "Merci"
    assert await page.locator("form.pay").count() == 0
    pdf = page.get_by_role("link", name=f"Télécharger la facture {created['number']} (PDF)")
    async with page.expect_response("**/pdf") as opened:
        await pdf.click()
    response = await opened.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"


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
