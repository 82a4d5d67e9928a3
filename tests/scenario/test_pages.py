"""What the customer sees on the pay link and the invoice page (issue 13, "Pages").

Each test is a defect that was seen: a link preview that created a Checkout Session, a button
for the whole invoice while the checkout charged one instalment, a landing page that said
"being confirmed" above a "Pay" button forever, a pill broken before "!", a French-only 404.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, invoice_body, start_facto

WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TG = ("telegram", "424242")
LINES = [{"description": "Canapé", "quantity": 1, "unit_amount": 12000, "vat_rate": "20"}]


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    await app.add_merchant()
    yield app
    await app.client.close()


def path(url: str) -> str:
    return urlparse(url).path


def plain(html: str) -> str:
    return html.replace("\xa0", " ").replace("\u202f", " ")


async def page(facto: Facto, url: str, **headers: str) -> tuple[int, str]:
    response = await facto.client.get(url, headers=headers, allow_redirects=False)
    return response.status, await response.text()


async def split_in_three(facto: Facto) -> dict[str, str]:
    created = await facto.issue(invoice_body(*TG, due=date(2026, 12, 15), lines=LINES))
    await facto.customer_says(*TG, "en 3 fois")
    await facto.customer_says(*TG, action="yes")
    return created


async def checkout_of(facto: Facto, pay_path: str) -> str:
    response = await facto.client.post(pay_path, allow_redirects=False)
    assert response.status == 303, await response.text()
    return path(response.headers["Location"])


async def test_opening_a_pay_link_creates_nothing_until_the_button_is_pressed(
    shop: Facto,
) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    for agent in ("TelegramBot (like TwitterBot)", "WhatsApp/2.23", "Mozilla/5.0 (iPhone)"):
        status, html = await page(shop, path(created["pay_url"]), **{"User-Agent": agent})
        assert status == 200
        assert not shop.sandbox.sessions, "a GET must not create a Checkout Session"
    action = path(created["pay_url"])
    assert f'<form method="post" action="{action}"' in html
    assert "Payer 144,00 €" in plain(html)
    checkout = await checkout_of(shop, action)
    assert len(shop.sandbox.sessions) == 1
    assert checkout.startswith("/sandbox/stripe/pay/cs_")


async def test_invoice_page_with_a_plan_shows_the_schedule_and_the_exact_charge(
    shop: Facto,
) -> None:
    created = await split_in_three(shop)
    _, html = await page(shop, path(created["invoice_url"]))
    text = plain(html)
    assert "Échéancier" in text
    assert text.count("48,00 €") == 4 and "18 janvier 2027" in text  # 3 rows + the button
    assert "Payer l'échéance 1 : 48,00 €" in text
    assert "Payer 144,00 €" not in text
    assert f'action="{path(created["pay_url"])}/1"' in html

    checkout = await checkout_of(shop, f"{path(created['pay_url'])}/1")
    session = shop.sandbox.sessions[checkout.rsplit("/", 1)[-1]]
    assert session.amount_total == 4800  # the button said what is charged

    await shop.client.post(f"{checkout}/card", allow_redirects=False)
    await shop.drain()
    _, html = await page(shop, path(created["invoice_url"]))
    text = plain(html)
    assert "Payer l'échéance 2 : 48,00 €" in text
    assert re.search(r'<tr class="instalment-paid">\s*<th>Échéance 1</th>', html)
    assert html.count('class="instalment-open"') == 2


async def test_after_paying_the_page_waits_then_shows_the_receipt(shop: Facto) -> None:
    created = await split_in_three(shop)
    checkout = await checkout_of(shop, f"{path(created['pay_url'])}/1")
    paid = await shop.client.post(f"{checkout}/card", allow_redirects=False)
    landing = urlparse(paid.headers["Location"])
    assert landing.query == "paid=1&instalment=1"

    # The webhook is not applied yet (no drain): no button, the page reloads by itself.
    status, html = await page(shop, f"{landing.path}?{landing.query}")
    assert status == 200
    assert "<form" not in html and "Payer" not in plain(html).split("Échéancier")[0]
    assert '<meta http-equiv="refresh" content="3;url=' in html
    assert "paid=1&amp;instalment=1&amp;wait=1" in html

    await shop.drain()
    _, html = await page(shop, f"{landing.path}?paid=1&instalment=1&wait=1")
    text = plain(html)
    assert "Merci, paiement reçu le 18 novembre 2026." in text
    assert "Reçu : 48,00 € pour l'échéance 1 de la facture" in text
    assert "http-equiv" not in html


async def test_the_waiting_page_stops_reloading_after_a_while(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    _, html = await page(shop, f"{path(created['invoice_url'])}?paid=1&wait=20")
    assert "http-equiv" not in html and "<form" not in html
    assert "Inutile de payer à nouveau" in plain(html)


async def test_sepa_landing_says_nothing_to_do_and_offers_no_button(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    checkout = await checkout_of(shop, path(created["pay_url"]))
    _, sepa_page = await page(shop, checkout)
    await shop.client.post(f"{checkout}/sepa", allow_redirects=False)
    await shop.drain()
    _, sepa_page = await page(shop, checkout)
    # The test checkout's "return to the merchant" link is the session's success_url.
    [landing] = re.findall(r'class="return" href="([^"]+)"', sepa_page)
    _, html = await page(shop, path(landing) + "?" + urlparse(landing.replace("&amp;", "&")).query)
    assert "rien d'autre à faire" in plain(html)
    assert "<form" not in html and "http-equiv" not in html


async def test_whole_invoice_receipt_and_the_already_paid_pill(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    checkout = await checkout_of(shop, path(created["pay_url"]))
    await shop.client.post(f"{checkout}/card", allow_redirects=False)
    await shop.drain()
    _, html = await page(shop, f"{path(created['invoice_url'])}?paid=1")
    assert "Merci, paiement reçu le 18 novembre 2026." in plain(html)
    assert "Reçu : 144,00 € pour la facture" in plain(html)

    _, html = await page(shop, path(created["pay_url"]))
    # The pill must not break before "!": French puts a no-break space there.
    assert "Merci\xa0!" in html and "Merci !" not in html


async def test_unknown_addresses_get_a_404_in_the_visitors_language(shop: Facto) -> None:
    for url in ("/nothing-here", "/p/" + "A" * 22, "/i/" + "B" * 22):
        status, html = await page(shop, url, **{"Accept-Language": "en-GB,en;q=0.9"})
        assert status == 404 and "Link not found" in html and 'lang="en"' in html, url
        status, html = await page(shop, url, **{"Accept-Language": "fr-FR"})
        assert status == 404 and "Lien introuvable" in html and 'lang="fr"' in html, url
    response = await shop.client.get("/api/v1/nothing")
    assert response.status == 404 and response.content_type == "application/json"


async def test_favicon(shop: Facto) -> None:
    response = await shop.client.get("/favicon.ico")
    assert response.status == 200
    assert response.content_type == "image/x-icon"
    assert (await response.read())[:4] == b"\x00\x00\x01\x00"


@pytest.mark.parametrize(
    ("locale", "expected", "amount"),
    [("fr", "Payer par carte", "144,00"), ("en", "Pay by card", "€144.00")],
)
async def test_test_checkout_speaks_the_customers_language(
    shop: Facto, locale: str, expected: str, amount: str
) -> None:
    created = await shop.issue(invoice_body(*TG, locale=locale, lines=LINES))
    checkout = await checkout_of(shop, path(created["pay_url"]))
    _, html = await page(shop, checkout)
    assert expected in html and amount in html and f'lang="{locale}"' in html


async def test_telegram_messages_ask_for_no_link_preview(shop: Facto) -> None:
    """A preview of our own pay page adds nothing and makes Telegram fetch the link."""
    await shop.issue(invoice_body(*TG, lines=LINES))
    await shop.customer_says(*TG, "payer")
    sent = [e for e in shop.sandbox.entries if e.sender == "bot"]
    assert len(sent) == 2
    for entry in sent:
        options = entry.extra["link_preview_options"]
        options = json.loads(options) if isinstance(options, str) else options
        assert options == {"is_disabled": True}


async def test_an_instalment_link_shows_that_instalment_and_posts_to_it(shop: Facto) -> None:
    created = await split_in_three(shop)
    link = f"{path(created['pay_url'])}/2"
    status, html = await page(shop, link)
    assert status == 200 and not shop.sandbox.sessions
    assert "Payer l'échéance 2 : 48,00 €" in plain(html)
    assert f'<form method="post" action="{link}"' in html
    checkout = await checkout_of(shop, link)
    assert shop.sandbox.sessions[checkout.rsplit("/", 1)[-1]].amount_total == 4800


async def test_the_receipt_links_the_invoice_pdf_in_the_customers_language(shop: Facto) -> None:
    """After paying, the receipt (and the already-paid page) links the invoice's PDF: a link
    that names the invoice and the format, in the customer's language, and that opens a PDF."""
    for locale, address, wording in (
        ("fr", "424242", "Télécharger la facture {number} (PDF)"),
        ("en", "515151", "Download invoice {number} (PDF)"),
    ):
        created = await shop.issue(invoice_body("telegram", address, locale=locale, lines=LINES))
        checkout = await checkout_of(shop, path(created["pay_url"]))
        await shop.client.post(f"{checkout}/card", allow_redirects=False)
        await shop.drain()
        invoice_path = path(created["invoice_url"])
        expected = wording.format(number=created["number"])
        for url in (f"{invoice_path}?paid=1", path(created["pay_url"])):
            _, html = await page(shop, url)
            [link] = re.findall(r'<a id="receipt-pdf"[^>]*>[^<]*</a>', html)
            assert f'href="{invoice_path}/pdf"' in link
            assert 'type="application/pdf"' in link and f'hreflang="{locale}"' in link
            assert "French" not in link  # the PDF is in the customer's language
            assert f">{expected}</a>" in link
        response = await shop.client.get(f"{invoice_path}/pdf")
        assert response.status == 200 and response.content_type == "application/pdf"
        assert (await response.read()).startswith(b"%PDF")
    # Before paying there is no receipt, so no receipt link.
    created = await shop.issue(invoice_body("telegram", "616161", lines=LINES))
    _, html = await page(shop, path(created["invoice_url"]))
    assert 'id="receipt-pdf"' not in html
