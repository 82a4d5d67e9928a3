"""The QR codes on the invoice page (issue 14): read back from the served page's own SVG."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store.merchants import set_iban
from tests.qr_decode import decode_svg
from tests.scenario.harness import Facto, invoice_body, start_facto

WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TG = ("telegram", "424242")
LINES = [{"description": "Canapé", "quantity": 1, "unit_amount": 12000, "vat_rate": "20"}]
IBAN = "FR7630006000011234567890189"


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    yield app
    await app.client.close()


def svg_of(html: str, css_class: str) -> str:
    match = re.search(rf'<svg [^>]*class="{css_class}".*?</svg>', html, re.S)
    assert match, f"no {css_class} on the page"
    return match.group(0)


async def test_the_page_carries_a_pay_qr_and_a_transfer_qr_that_read_back(shop: Facto) -> None:
    await shop.add_merchant(iban="FR76 3000 6000 0112 3456 7890 189")
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    response = await shop.client.get(urlparse(created["invoice_url"]).path)
    html = await response.text()
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "style-src 'self'" in csp
    assert "style=" not in html and "<script" not in html  # inline SVG keeps the CSP strict

    assert decode_svg(svg_of(html, "pay-qr")).text == created["pay_url"]
    epc = decode_svg(svg_of(html, "transfer-qr")).text.split("\n")
    number = re.findall(r"F-\d{4}-\d{6}", html)[0]
    assert epc[3:] == ["SCT", "", "Atelier Lumière SAS", IBAN, "EUR144", "", "", number]
    assert "FR76 3000 6000 0112 3456 7890 189" in html


async def test_without_an_iban_only_the_pay_qr_is_shown_and_adding_one_shows_it(
    shop: Facto,
) -> None:
    merchant, _ = await shop.add_merchant()
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    view = urlparse(created["invoice_url"]).path
    html = await (await shop.client.get(view)).text()
    assert 'class="pay-qr"' in html and "transfer-qr" not in html
    with pytest.raises(ValueError, match="IBAN"):
        await set_iban(shop.redis, merchant.id, "FR7630006000011234567890188")
    assert (await set_iban(shop.redis, merchant.id, IBAN)) is not None
    html = await (await shop.client.get(view)).text()
    assert decode_svg(svg_of(html, "transfer-qr")).text.split("\n")[6] == IBAN


async def test_a_paid_invoice_shows_no_code_to_pay_it_again(shop: Facto) -> None:
    await shop.add_merchant(iban=IBAN)
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    checkout = await shop.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    assert checkout.status == 303
    await shop.client.post(urlparse(checkout.headers["Location"]).path + "/card")
    await shop.drain()
    html = await (await shop.client.get(urlparse(created["invoice_url"]).path)).text()
    assert "pay-qr" not in html and "transfer-qr" not in html
