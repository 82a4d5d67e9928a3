"""The PDFs of an invoice and of a credit note (issue 14): every mention, archived unchanged,
in the customer's language (issue 13: French or English, the French legal wording kept where
the law gives it)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from urllib.parse import urlparse

import facturx
import pytest
import redis.asyncio as aioredis
from pypdf import PdfReader

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from bot.store.merchants import set_iban
from payments.facturx import check
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


async def refunded_note(shop: Facto, body: dict[str, Any]) -> dict[str, Any]:
    """Issue, pay by card and refund 50,00 €: the credit note's record."""
    created = await shop.issue(body)
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
    note: dict[str, Any] = json.loads(
        await shop.redis.get(keys.credit_note(shop.merchant.id, notes[0]))
    )
    return note


async def test_a_credit_note_pdf_names_its_invoice_and_is_kept(shop: Facto) -> None:
    note = await refunded_note(shop, invoice_body(*TG, lines=LINES))
    pdf = await download(shop, f"/a/{note['view_token']}/pdf")
    text = text_of(pdf)
    assert f"Avoir {note['number']}" in text
    assert f"Avoir relatif à la facture n° {note['invoice_number']} du 18 novembre 2026" in text
    assert "Remboursement d'un paiement." in text
    assert "Total de l'avoir TTC" in text and "50,00 €" in text, text
    assert await download(shop, f"/a/{note['view_token']}/pdf") == pdf


async def test_an_english_customers_invoice_pdf_is_in_english_with_the_french_legal_wording(
    shop: Facto,
) -> None:
    body = invoice_body(*TG, locale="en", lines=LINES)
    body["customer"] |= {"is_business": True, "address": "1 Main Street, London"}
    created = await shop.issue(body)
    url = urlparse(created["invoice_url"]).path + "/pdf"
    pdf = await download(shop, url)
    text = text_of(pdf)
    for expected in (
        f"Invoice {created['number']}",
        "Issue date: November 18, 2026",
        "Payment due date: December 15, 2026",
        "Billed to",
        "Description",
        "Unit price excl. VAT",
        "Canapé Łódź",
        "Total excl. VAT",
        "VAT 20% on €120.00",
        "VAT 5.5% on €20.00",
        "Total incl. VAT",
        "€165.10",
        "No discount for early payment.",
        "Late payment penalties",
        # The amount of the recovery indemnity is a mention the law words: kept in French too.
        "Fixed indemnity for recovery costs in case of late payment: €40.00.",
        "(Indemnité forfaitaire pour frais de recouvrement",
        "SIREN",
        "Atelier Lumière SAS",
        "share capital €10,000.00",  # the seller's identity, as French law requires it
        "RCS Paris",
        "EU VAT number: FR44732829320",
    ):
        assert expected in text, (expected, text)
    for french in ("Facture ", "Date d'émission", "Total TTC", "Facturé à", "Désignation"):
        assert french not in text, french
    # Archived as rendered: a re-download is the same bytes, whatever happens to the invoice.
    checkout = await shop.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    await shop.client.post(urlparse(checkout.headers["Location"]).path + "/card")
    await shop.drain()
    assert await download(shop, url) == pdf


async def test_the_franchise_mention_keeps_its_french_wording_in_english(shop: Facto) -> None:
    """A seller under the franchise en base (no VAT number, 0 % lines): "TVA non applicable,
    art. 293 B du CGI" is the wording the law gives; the English PDF says both."""
    assert shop.merchant is not None
    _, key = await shop.add_merchant(
        name="Micro Atelier", legal_name="Micro Atelier", vat_number=None, siren="552100554"
    )
    lines = [{"description": "Cours", "quantity": 1, "unit_amount": 3000, "vat_rate": "0"}]
    response = await shop.post_invoice(invoice_body(*TG, locale="en", lines=lines), api_key=key)
    assert response.status == 201, await response.text()
    created = await response.json()
    text = text_of(await download(shop, urlparse(created["invoice_url"]).path + "/pdf"))
    assert (
        "VAT not applicable, article 293 B of the French tax code "
        "(TVA non applicable, art. 293 B du CGI)"
    ) in " ".join(text.split()), text


async def test_an_english_customers_credit_note_pdf_is_in_english(shop: Facto) -> None:
    note = await refunded_note(shop, invoice_body(*TG, locale="en", lines=LINES))
    text = text_of(await download(shop, f"/a/{note['view_token']}/pdf"))
    assert f"Credit note {note['number']}" in text
    assert f"Credit note for invoice {note['invoice_number']} of November 18, 2026" in text
    assert "Refund of a payment." in text
    assert "Total credited incl. VAT" in text and "€50.00" in text, text
    assert "Avoir" not in text


async def test_an_unknown_token_is_a_404_page_not_a_pdf(shop: Facto) -> None:
    response = await shop.client.get("/i/" + "x" * 22 + "/pdf")
    assert response.status == 404
    assert response.content_type == "text/html"


async def test_the_invoice_pdf_is_a_pdf_a3_carrying_its_factur_x_xml(shop: Facto) -> None:
    """Factur-X (issue 14): the archived invoice PDF is a PDF/A-3B with the invoice's EN 16931
    XML attached; read back with the factur-x package, the XML passes its XSD and is the one
    the export serves (the merchant's IBAN included)."""
    assert shop.merchant is not None
    await set_iban(shop.redis, shop.merchant.id, "FR7630006000011234567890189")
    key = shop.api_key
    body = invoice_body(*TG, lines=LINES)
    body["customer"] |= {"is_business": True, "address": "3 rue Neuve, 69001 Lyon"}
    created = await shop.issue(body)
    pdf = await download(shop, urlparse(created["invoice_url"]).path + "/pdf")

    name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert name == "factur-x.xml"
    check(xml)  # EN 16931 level, the package's XSD
    exported = await shop.client.get(
        f"/api/v1/invoices/{created['id']}/factur-x",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert exported.status == 200
    assert xml == await exported.read()
    assert created["number"].encode() in xml and b"FR7630006000011234567890189" in xml

    # PDF/A-3B: declared in the XMP, with an sRGB output intent, the XML attached as "Data".
    reader = PdfReader(BytesIO(pdf))
    root: Any = reader.trailer["/Root"]  # pypdf's objects are loosely typed
    assert pdf.startswith(b"%PDF-1.7")
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r"<pdfaid:part>3</pdfaid:part>", xmp)
    assert re.search(r"<pdfaid:conformance>B</pdfaid:conformance>", xmp)
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    [intent] = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    [spec] = root["/AF"]
    assert spec.get_object()["/AFRelationship"] == "/Data"
    assert "Désignation" in text_of(pdf)  # still the readable invoice
    # Archived with its XML: a re-download is the same bytes.
    assert await download(shop, urlparse(created["invoice_url"]).path + "/pdf") == pdf
