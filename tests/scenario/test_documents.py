"""The PDFs of an invoice and of a credit note (issue 14): every mention, archived unchanged."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis
from pypdf import PdfReader

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.harness import Facto, invoice_body, start_facto

WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TG = ("telegram", "424242")
LINES = [
    {"description": "Canapé Łódź", "quantity": 1, "unit_amount": 12000, "vat_rate": "20"},
    {"description": "Livre", "quantity": 2, "unit_amount": 1000, "vat_rate": "5.5"},
]


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    await app.add_merchant()
    yield app
    await app.client.close()


def text_of(pdf: bytes) -> str:
    reader = PdfReader(BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return text.replace("\xa0", " ").replace("\u202f", " ")


async def download(facto: Facto, url: str) -> bytes:
    response = await facto.client.get(url)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/pdf"
    return await response.read()


async def test_the_invoice_pdf_has_every_mention_and_is_archived_at_issue(shop: Facto) -> None:
    body = invoice_body(*TG, lines=LINES)
    body["customer"] |= {"is_business": True, "address": "3 rue Neuve, 69001 Lyon"}
    created = await shop.issue(body)
    assert shop.merchant is not None
    key = keys.document_pdf(shop.merchant.id, "invoice", created["id"])
    stored = await shop.redis.get(key)
    assert stored is not None, "the PDF is archived when the invoice is issued"

    pdf = await download(shop, urlparse(created["invoice_url"]).path + "/pdf")
    assert pdf == base64.b64decode(stored)
    text = text_of(pdf)
    number = created["number"]
    for expected in (
        f"Facture {number}",
        "Date d'émission : 18 novembre 2026",
        "Date d'échéance",
        "Canapé Łódź",  # outside Latin-1: the embedded font has it
        "Total HT",
        "TVA 20 % sur 120,00 €",
        "TVA 5,5 % sur 20,00 €",
        "Total TTC",
        "165,10 €",
        "3 rue Neuve, 69001 Lyon",
        "Pas d'escompte pour paiement anticipé.",
        "Indemnité forfaitaire pour frais de recouvrement",
        "40,00 €",
        "SIREN",
    ):
        assert expected in text, expected
    assert "Réglée" not in text  # a document of issue, not of status


async def test_a_later_download_is_byte_identical_even_after_the_invoice_changed(
    shop: Facto,
) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    url = urlparse(created["invoice_url"]).path + "/pdf"
    first = await download(shop, url)
    checkout = await shop.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    await shop.client.post(urlparse(checkout.headers["Location"]).path + "/card")
    await shop.drain()
    html = await (await shop.client.get(urlparse(created["invoice_url"]).path)).text()
    assert f'href="{url}"' in html and "Télécharger la facture (PDF)" in html
    assert "Réglée" in html  # the page follows the invoice; the archived document does not
    assert await download(shop, url) == first


async def test_a_credit_note_pdf_names_its_invoice_and_is_kept(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    checkout = await shop.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    session = urlparse(checkout.headers["Location"]).path
    await shop.client.post(f"{session}/card")
    await shop.drain()
    await shop.client.post(f"{session}/refund", data={"amount": "5000"})
    await shop.drain()
    assert shop.merchant is not None
    notes = await shop.redis.lrange(
        keys.invoice_credit_notes(shop.merchant.id, created["id"]), 0, -1
    )
    assert len(notes) == 1
    note = json.loads(await shop.redis.get(keys.credit_note(shop.merchant.id, notes[0])))
    pdf = await download(shop, f"/a/{note['view_token']}/pdf")
    text = text_of(pdf)
    assert f"Avoir {note['number']}" in text
    assert f"Avoir sur la facture {note['invoice_number']} du 18 novembre 2026" in text
    assert "Total TTC" in text and "50,00 €" in text, text
    assert await download(shop, f"/a/{note['view_token']}/pdf") == pdf


async def test_an_unknown_token_is_a_404_page_not_a_pdf(shop: Facto) -> None:
    response = await shop.client.get("/i/" + "x" * 22 + "/pdf")
    assert response.status == 404
    assert response.content_type == "text/html"
