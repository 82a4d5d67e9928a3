"""PDFs of invoices and credit notes: `/i/<token>/pdf` and `/a/<token>/pdf`.

Each is in the customer's language (`document_locale`), a PDF/A-3B; an invoice's carries its
Factur-X XML (EN 16931) as an attachment. An invoice's PDF is rendered by the worker right after
the invoice is issued, off the API's request path (`bot.engine.documents`), or by its first
download if that comes sooner; a credit note's (issued by the worker inside a dispatch commit,
where nothing may render) on its first download. Either way it is rendered once, under a lock,
archived, and every later download is the archived bytes: a fix to the layout or a new fpdf2
never changes a document already issued (LEGAL_FR: kept unchanged 10 years).
"""

from __future__ import annotations

import functools
import logging

from aiohttp import web
from markupsafe import Markup

from bot.engine.documents import ArchiveInvoice, render_once
from bot.i18n import pick_locale
from bot.logs import log_fields
from bot.services import Services
from bot.store import invoices, logos
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


def render_invoice(
    services: Services, invoice: Invoice, iban: str | None, logo: bytes | None = None
) -> bytes:
    """The invoice's PDF/A-3 with its Factur-X XML (run in a thread: CPU only), headed by
    the merchant's logo (a PNG re-encoded at upload) when it has one."""
    locale = document_locale(services, invoice.customer)
    mentions = legal_mentions(
        invoice.seller, invoice.customer.is_business, invoice.lines, invoice.reward
    )
    words = wording(services, locale)
    pdf = invoice_pdf(invoice, worded(services, mentions, locale), words, logo)
    try:
        return embed(
            pdf,
            invoice_xml(invoice, iban),
            title=words("Invoice %(number)s", number=invoice.number),
            author=invoice.seller.legal_name,
            lang=locale,
        )
    except Exception:  # a PDF the customer can read beats none: kept without its XML
        log.exception("factur-x XML not embedded", extra=log_fields(invoice=invoice.id))
        return pdf


def render_credit_note(services: Services, note: CreditNote, logo: bytes | None = None) -> bytes:
    locale = document_locale(services, note.customer)
    mentions = worded(services, credit_note_mentions(note), locale)
    return credit_note_pdf(note, mentions, wording(services, locale), logo)


async def _logo_png(services: Services, merchant_id: str) -> bytes | None:
    """The logo a document rendered now carries: the merchant's current one. Rendered once
    and archived (render_once), so a document keeps it even if the logo changes later."""
    logo = await logos.current(services.redis, merchant_id)
    return logo.png if logo else None


async def invoice_pdf_of(services: Services, invoice: Invoice) -> bytes:
    """The archived PDF; rendered and archived first, once, if nobody did yet (also the
    worker's archiver, `bot.engine.documents.Archiver`, wired in `bot.runtime`)."""
    merchant = await get_merchant(services.redis, invoice.merchant_id)
    iban = merchant.iban if merchant else None
    logo = await _logo_png(services, invoice.merchant_id)
    return await render_once(
        services.redis,
        invoice.merchant_id,
        "invoice",
        invoice.id,
        functools.partial(render_invoice, services, invoice, iban, logo),
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
        functools.partial(
            render_credit_note, services, note, await _logo_png(services, note.merchant_id)
        ),
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
