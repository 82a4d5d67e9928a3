"""PDFs of invoices and credit notes: `/i/<token>/pdf` and `/a/<token>/pdf`.

Each is in the customer's language (`document_locale`), a PDF/A-3B; an invoice's carries its
Factur-X XML (EN 16931) as an attachment. An invoice's PDF is rendered when the
API issues it; a credit note's (issued by the worker
inside a dispatch commit, where nothing may render) on its first download. Either way it is
rendered once, archived, and every later download is the archived bytes: a fix to the layout
or a new fpdf2 never changes a document already issued (LEGAL_FR: kept unchanged 10 years).
"""

from __future__ import annotations

import logging

from aiohttp import web
from markupsafe import Markup
from redis.exceptions import RedisError

from bot.i18n import pick_locale
from bot.logs import log_fields
from bot.services import Services
from bot.store import documents, invoices
from bot.store.merchants import get_merchant
from bot.store.payments import credit_note_by_token
from bot.web.app_keys import SERVICES
from bot.web.pages import PAGE_HEADERS, by_token
from payments.credit_note import CreditNote, credit_note_mentions
from payments.facturx import embed, invoice_xml
from payments.invoice import CustomerSnapshot, Invoice, Mention, legal_mentions
from payments.pdf import Wording, credit_note_pdf, invoice_pdf

log = logging.getLogger(__name__)

# Mentions whose French wording the law itself gives (LEGAL_FR §1.1, §1.4): an English
# document keeps it next to the translation ("… (TVA non applicable, art. 293 B du CGI)").
FRENCH_WORDING = frozenset({"vat_franchise", "recovery_indemnity"})


def setup_documents(app: web.Application) -> None:
    app.router.add_get("/i/{token}/pdf", invoice_document)
    app.router.add_get("/a/{token}/pdf", credit_note_document)


def document_locale(services: Services, customer: CustomerSnapshot) -> str:
    """The customer's language, as the invoice page and the chat choose it (fixed at issue)."""
    default = services.settings.default_locale
    return pick_locale(customer.locale, None, customer.phone, default)


def _worded_in(services: Services, mentions: list[Mention], locale: str) -> list[str]:
    macro = services.languages.html(locale).get_template("pages/_mentions.html")
    mention = macro.module.mention  # type: ignore[attr-defined]
    # The macro's output is Markup already (autoescaped); striptags unescapes it to text.
    return [Markup(mention(m)).striptags() for m in mentions]  # noqa: S704


def worded(services: Services, mentions: list[Mention], locale: str = "fr") -> list[str]:
    """The mentions in the page's own wording for `locale` (one macro, one translation)."""
    texts = _worded_in(services, mentions, locale)
    if locale == "fr":
        return texts
    french = _worded_in(services, mentions, "fr")
    return [
        f"{text} ({legal})" if m.id in FRENCH_WORDING else text
        for m, text, legal in zip(mentions, texts, french, strict=True)
    ]


def wording(services: Services, locale: str) -> Wording:
    return Wording(locale, services.languages.page_gettext(locale))


async def invoice_pdf_of(services: Services, invoice: Invoice) -> bytes:
    found = await documents.archived(services.redis, invoice.merchant_id, "invoice", invoice.id)
    if found is not None:
        return found
    locale = document_locale(services, invoice.customer)
    mentions = legal_mentions(
        invoice.seller, invoice.customer.is_business, invoice.lines, invoice.reward
    )
    words = wording(services, locale)
    pdf = invoice_pdf(invoice, worded(services, mentions, locale), words)
    merchant = await get_merchant(services.redis, invoice.merchant_id)
    try:
        pdf = embed(
            pdf,
            invoice_xml(invoice, merchant.iban if merchant else None),
            title=words("Invoice %(number)s", number=invoice.number),
            author=invoice.seller.legal_name,
            lang=locale,
        )
    except Exception:  # a PDF the customer can read beats none: kept without its XML
        log.exception("factur-x XML not embedded", extra=log_fields(invoice=invoice.id))
    return await documents.archive(services.redis, invoice.merchant_id, "invoice", invoice.id, pdf)


async def credit_note_pdf_of(services: Services, note: CreditNote) -> bytes:
    found = await documents.archived(services.redis, note.merchant_id, "credit-note", note.id)
    if found is not None:
        return found
    locale = document_locale(services, note.customer)
    mentions = worded(services, credit_note_mentions(note), locale)
    pdf = credit_note_pdf(note, mentions, wording(services, locale))
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
