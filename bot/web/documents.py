"""PDFs of invoices and credit notes: `/i/<token>/pdf` and `/a/<token>/pdf`.

An invoice's PDF is rendered by the worker right after the invoice is issued, off the API's
request path (`bot.engine.documents`), or by its first download if that comes sooner; a credit
note's (issued by the worker inside a dispatch commit, where nothing may render) on its first
download. Either way it is rendered once, under a lock, archived, and every later download is
the archived bytes: a fix to the layout or a new fpdf2 never changes a document already issued
(LEGAL_FR: kept unchanged 10 years).
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web
from markupsafe import Markup

from bot.engine.documents import ArchiveInvoice, render_once
from bot.services import Services
from bot.store import invoices
from bot.store.payments import credit_note_by_token
from bot.web.app_keys import SERVICES
from bot.web.pages import PAGE_HEADERS, by_token
from payments.credit_note import CreditNote, credit_note_mentions
from payments.invoice import Invoice, Mention, legal_mentions
from payments.pdf import credit_note_pdf, invoice_pdf

log = logging.getLogger(__name__)

# French: the language of the archived document (the page may be in English).
DOCUMENT_LOCALE = "fr"


def setup_documents(app: web.Application) -> None:
    app.router.add_get("/i/{token}/pdf", invoice_document)
    app.router.add_get("/a/{token}/pdf", credit_note_document)


def worded(services: Services, mentions: list[Mention]) -> list[str]:
    """The mentions in the page's own French wording (one macro, one translation)."""
    macro = services.languages.html(DOCUMENT_LOCALE).get_template("pages/_mentions.html")
    mention = macro.module.mention  # type: ignore[attr-defined]
    # The macro's output is Markup already (autoescaped); striptags unescapes it to text.
    return [Markup(mention(m)).striptags() for m in mentions]  # noqa: S704


def render_invoice(services: Services, invoice: Invoice) -> bytes:
    mentions = legal_mentions(invoice.seller, invoice.customer.is_business, invoice.lines)
    return invoice_pdf(invoice, worded(services, mentions))


def render_credit_note(services: Services, note: CreditNote) -> bytes:
    return credit_note_pdf(note, worded(services, credit_note_mentions(note)))


async def invoice_pdf_of(services: Services, invoice: Invoice) -> bytes:
    """The archived PDF; rendered and archived first, once, if nobody did yet (also the
    worker's archiver, `bot.engine.documents.Archiver`, wired in `bot.runtime`)."""
    return await render_once(
        services.redis,
        invoice.merchant_id,
        "invoice",
        invoice.id,
        functools.partial(render_invoice, services, invoice),
    )


def invoice_archiver(services: Services) -> ArchiveInvoice:
    """What the worker calls to archive an issued invoice's PDF (`Worker(archive_invoice=)`)."""
    return functools.partial(invoice_pdf_of, services)


async def credit_note_pdf_of(services: Services, note: CreditNote) -> bytes:
    return await render_once(
        services.redis,
        note.merchant_id,
        "credit-note",
        note.id,
        functools.partial(render_credit_note, services, note),
    )


def _pdf(body: bytes, name: str) -> web.Response:
    headers = {**PAGE_HEADERS, "Content-Disposition": f'inline; filename="{name}.pdf"'}
    return web.Response(body=body, content_type="application/pdf", headers=headers)


async def invoice_document(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    invoice = await by_token(request, invoices.by_view_token)
    if isinstance(invoice, web.StreamResponse):
        return invoice
    return _pdf(await invoice_pdf_of(services, invoice), invoice.number)


async def credit_note_document(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    note = await by_token(request, credit_note_by_token)
    if isinstance(note, web.StreamResponse):
        return note
    return _pdf(await credit_note_pdf_of(services, note), note.number)
