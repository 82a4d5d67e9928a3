"""The PDF of an invoice or a credit note, in the customer's language (French or English),
with every mention the page prints.

Only what was fixed at issue goes in (lines, totals, parties, dates, mentions), never the
payment status: the document is archived once and served unchanged for ten years (LEGAL_FR),
so it must not say "to pay" on a paid invoice. Labels are the page's own (the same gettext
messages), and mentions come in as text already worded by the caller with the page's macro,
so the PDF and the page cannot disagree. The language is the customer's, fixed at issue like
the rest: a document rendered again says the same.

The merchant's logo, when it has one, heads the document: a PNG already checked and
re-encoded by Facto (bot.web.logo_image), flattened here onto white so the page has no
transparency group, at most LOGO_HEIGHT tall. The document is archived at issue, so it keeps
the logo of that day whatever the merchant uploads later.

fpdf2 embeds a subset of DejaVu Sans (shipped in `payments/fonts`): the core PDF fonts have no
"€", no narrow no-break space and no letters outside Latin-1, and a customer may be "Łukasz".
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from payments.credit_note import CreditNote
from payments.invoice import CustomerSnapshot, Invoice, SellerSnapshot, VatLine
from payments.money import Money, format_money

__all__ = ["Wording", "credit_note_pdf", "invoice_pdf"]

FONTS = Path(__file__).resolve().parent / "fonts"
LOGO_HEIGHT = 16.0  # mm; a 400 × 160 logo is then 40 mm wide


class Wording:
    """How a document speaks: its locale's gettext (from the caller's catalogs: payments
    loads no catalog), money, dates and rates written as that locale writes them."""

    def __init__(self, locale: str, gettext: Callable[[str], str]) -> None:
        self.locale = locale
        self._gettext = gettext

    def __call__(self, message: str, **values: str) -> str:
        text = self._gettext(message)
        return text % values if values else text

    def day(self, value: date) -> str:
        text = format_date(value, "long", locale=self.locale)
        # French writes the first day of a month as an ordinal: "1er décembre".
        if self.locale == "fr" and value.day == 1 and text.startswith("1 "):
            text = "1er" + text[1:]
        return text

    def rate(self, rate: object) -> str:
        number = format_decimal(str(rate), locale=self.locale)
        return f"{number}\u00a0%" if self.locale == "fr" else f"{number}%"

    def money(self, currency: str) -> Callable[[int], str]:
        def money(amount: int) -> str:
            return format_money(Money(amount, currency), self.locale)

        return money


class _Document:
    """One A4 page (more if the lines need it) laid out top to bottom."""

    def __init__(self, title: str, issued: date) -> None:
        # PDF/A-3B: an archival PDF (fonts embedded, sRGB output intent, XMP metadata) that may
        # carry the Factur-X XML as an attachment (payments.facturx.embed).
        pdf = FPDF(format="A4", enforce_compliance="PDF/A-3B")
        pdf.set_title(title)
        pdf.set_author("Facto")
        # Fixed from the document's own date: the bytes depend on what it says, not on when
        # it was rendered.
        pdf.set_creation_date(datetime.combine(issued, time(12), tzinfo=UTC))
        pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
        pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        pdf.set_margins(18, 18, 18)
        pdf.set_auto_page_break(auto=True, margin=18)
        pdf.add_page()
        self.pdf = pdf

    def logo(self, png: bytes | None) -> None:
        """The merchant's logo at the top, the rest of the page below it."""
        if png is None:
            return
        with Image.open(io.BytesIO(png), formats=["PNG"]) as image:
            rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        top = self.pdf.get_y()
        self.pdf.image(flat, x=self.pdf.l_margin, y=top, h=LOGO_HEIGHT)
        self.pdf.set_y(top + LOGO_HEIGHT + 4)

    def text(self, value: str, size: float = 10, *, bold: bool = False, gap: float = 0) -> None:
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        self.pdf.multi_cell(0, size * 0.5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if gap:
            self.pdf.ln(gap)

    def row(self, cells: Sequence[str], widths: Sequence[float], *, bold: bool = False) -> None:
        self.pdf.set_font("DejaVu", "B" if bold else "", 9)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            align = "L" if index == 0 else "R"
            self.pdf.cell(width, 6, cell, border="B", align=align)
        self.pdf.ln(6)

    def parties(self, seller: SellerSnapshot, customer: CustomerSnapshot, _: Wording) -> None:
        self.text(seller.legal_name, 11, bold=True)
        self.text(seller.address, 9, gap=4)
        self.text(_("Billed to"), 9, bold=True)
        billed = [customer.name]
        if customer.address:
            billed.append(customer.address)
        if customer.siren:
            billed.append(f"SIREN {customer.siren}")
        self.text("\n".join(billed), 10, gap=4)

    def vat_totals(
        self, figures: tuple[int, Sequence[VatLine], int], currency: str, total: str, _: Wording
    ) -> None:
        """Net, VAT per rate and gross; `total` names the gross line."""
        net, rows, gross = figures
        money = _.money(currency)
        widths = (120, 54)
        self.row((_("Total excl. VAT"), money(net)), widths)
        for line in rows:
            label = _("VAT %(rate)s on %(base)s", rate=_.rate(line.rate), base=money(line.base))
            self.row((label, money(line.vat)), widths)
        self.row((total, money(gross)), widths, bold=True)
        self.pdf.ln(4)

    def mentions(self, mentions: Sequence[str]) -> None:
        for line in mentions:
            self.text(line, 8)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def invoice_pdf(
    invoice: Invoice, mentions: Sequence[str], _: Wording, logo: bytes | None = None
) -> bytes:
    """The invoice as issued; `mentions` are the legal mentions worded for `_`'s locale,
    `logo` the merchant's (a PNG re-encoded by Facto) or None."""
    money = _.money(invoice.currency)
    title = _("Invoice %(number)s", number=invoice.number)
    doc = _Document(title, invoice.issue_date)
    doc.logo(logo)
    doc.text(title, 16, bold=True)
    doc.text(_("Issue date: %(date)s", date=_.day(invoice.issue_date)), 10)
    doc.text(_("Payment due date: %(date)s", date=_.day(invoice.due_date)), 10, gap=4)
    doc.parties(invoice.seller, invoice.customer, _)
    widths = (62, 12, 40, 22, 38)  # "Unit price excl. VAT" needs its 40 mm
    header = (_("Description"), _("Qty"), _("Unit price excl. VAT"), _("VAT"))
    doc.row((*header, _("Total excl. VAT")), widths, bold=True)
    for line in invoice.lines:
        description = line.description
        if line.vat_exemption:
            description += f" ({line.vat_exemption})"
        cells = (description, str(line.quantity), money(line.unit_amount), _.rate(line.vat_rate))
        doc.row((*cells, money(line.net)), widths)
    doc.pdf.ln(3)
    totals = invoice.totals
    figures = (totals.net, totals.vat_by_rate, totals.gross)
    doc.vat_totals(figures, invoice.currency, _("Total incl. VAT"), _)
    doc.mentions(mentions)
    return doc.output()


def credit_note_pdf(
    note: CreditNote, mentions: Sequence[str], _: Wording, logo: bytes | None = None
) -> bytes:
    """The credit note (avoir): its number and date, and the invoice it cancels (§1.3)."""
    title = _("Credit note %(number)s", number=note.number)
    doc = _Document(title, note.issue_date)
    doc.logo(logo)
    doc.text(title, 16, bold=True)
    doc.text(_("Issue date: %(date)s", date=_.day(note.issue_date)), 10)
    doc.text(
        _(
            "Credit note for invoice %(number)s of %(date)s",
            number=note.invoice_number,
            date=_.day(note.invoice_issue_date),
        ),
        10,
    )
    reason = {
        "refund": _("Refund of a payment."),
        "dispute_lost": _("Payment reversed by the customer's bank (dispute)."),
        "void": _("Invoice cancelled: the amount that was still due is cancelled."),
    }[note.reason]
    doc.text(reason, 10, gap=4)
    doc.parties(note.seller, note.customer, _)
    figures = (note.net, note.vat_by_rate, note.amount)
    doc.vat_totals(figures, note.currency, _("Total credited incl. VAT"), _)
    doc.mentions(mentions)
    return doc.output()
