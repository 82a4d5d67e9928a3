"""PDFs of invoices and credit notes: `/i/<token>/pdf` and `/a/<token>/pdf`.

An invoice's PDF is rendered when the API issues it; a credit note's (issued by the worker
inside a dispatch commit, where nothing may render) on its first download. Either way it is
rendered once, archived, and every later download is the archived bytes: a fix to the layout
or a new fpdf2 never changes a document already issued (LEGAL_FR: kept unchanged 10 years).
"""

from __future__ import annotations

import logging

from aiohttp import web
from markupsafe import Markup
from redis.exceptions import RedisError

from bot.services import Services
from bot.store import documents, invoices
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


async def invoice_pdf_of(services: Services, invoice: Invoice) -> bytes:
    found = await documents.archived(services.redis, invoice.merchant_id, "invoice", invoice.id)
    if found is not None:
        return found
    mentions = legal_mentions(
        invoice.seller, invoice.customer.is_business, invoice.lines, invoice.reward
    )
    pdf = invoice_pdf(invoice, worded(services, mentions))
    return await documents.archive(services.redis, invoice.merchant_id, "invoice", invoice.id, pdf)


async def credit_note_pdf_of(services: Services, note: CreditNote) -> bytes:
    found = await documents.archived(services.redis, note.merchant_id, "credit-note", note.id)
    if found is not None:
        return found
    pdf = credit_note_pdf(note, worded(services, credit_note_mentions(note)))
    return await documents.archive(services.redis, note.merchant_id, "credit-note", note.id, pdf)


async def archive_at_issue(services: Services, invoice: Invoice) -> None:
    """Right after the API issued `invoice`; a failure here leaves it to the first download."""
    try:
        await invoice_pdf_of(services, invoice)
    except RedisError:
        log.warning("invoice PDF not archived yet; it will be on first download")
    except Exception:  # the invoice is issued: the API must still answer 201
        log.exception("invoice PDF could not be rendered; the first download will try again")


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
