"""The PDF of an invoice or a credit note, in French, with every mention the page prints.

Only what was fixed at issue goes in (lines, totals, parties, dates, mentions), never the
payment status: the document is archived once and served unchanged for ten years (LEGAL_FR),
so it must not say "to pay" on a paid invoice. Mentions come in as text already worded by the
caller (the page's own French wording), so the PDF and the page cannot disagree.

fpdf2 embeds a subset of DejaVu Sans (shipped in `payments/fonts`): the core PDF fonts have no
"€", no narrow no-break space and no letters outside Latin-1, and a customer may be "Łukasz".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from payments.credit_note import CreditNote
from payments.invoice import CustomerSnapshot, Invoice, SellerSnapshot, VatLine
from payments.money import Money, format_money

__all__ = ["credit_note_pdf", "invoice_pdf"]

FONTS = Path(__file__).resolve().parent / "fonts"
_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def _day(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _rate(rate: object) -> str:
    return f"{str(rate).replace('.', ',')} %"


class _Document:
    """One A4 page (more if the lines need it) laid out top to bottom."""

    def __init__(self, title: str, issued: date) -> None:
        pdf = FPDF(format="A4")
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

    def parties(self, seller: SellerSnapshot, customer: CustomerSnapshot) -> None:
        self.text(seller.legal_name, 11, bold=True)
        self.text(seller.address, 9, gap=4)
        self.text("Facturé à", 9, bold=True)
        billed = [customer.name]
        if customer.address:
            billed.append(customer.address)
        if customer.siren:
            billed.append(f"SIREN {customer.siren}")
        self.text("\n".join(billed), 10, gap=4)

    def vat_totals(self, net: int, rows: Sequence[VatLine], gross: int, currency: str) -> None:
        money = _money(currency)
        widths = (120, 54)
        self.row(("Total HT", money(net)), widths)
        for line in rows:
            label = f"TVA {_rate(line.rate)} sur {money(line.base)}"
            self.row((label, money(line.vat)), widths)
        self.row(("Total TTC", money(gross)), widths, bold=True)
        self.pdf.ln(4)

    def mentions(self, mentions: Sequence[str]) -> None:
        for line in mentions:
            self.text(line, 8)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _money(currency: str) -> Callable[[int], str]:
    def money(amount: int) -> str:
        return format_money(Money(amount, currency), "fr")

    return money


def invoice_pdf(invoice: Invoice, mentions: Sequence[str]) -> bytes:
    """The invoice as issued; `mentions` are the legal mentions worded in French."""
    money = _money(invoice.currency)
    doc = _Document(f"Facture {invoice.number}", invoice.issue_date)
    doc.text(f"Facture {invoice.number}", 16, bold=True)
    doc.text(f"Date d'émission : {_day(invoice.issue_date)}", 10)
    doc.text(f"Date d'échéance : {_day(invoice.due_date)}", 10, gap=4)
    doc.parties(invoice.seller, invoice.customer)
    widths = (74, 14, 30, 22, 34)
    doc.row(("Désignation", "Qté", "PU HT", "TVA", "Total HT"), widths, bold=True)
    for line in invoice.lines:
        rate = _rate(line.vat_rate)
        description = line.description
        if line.vat_exemption:
            description += f" ({line.vat_exemption})"
        doc.row(
            (description, str(line.quantity), money(line.unit_amount), rate, money(line.net)),
            widths,
        )
    doc.pdf.ln(3)
    totals = invoice.totals
    doc.vat_totals(totals.net, totals.vat_by_rate, totals.gross, invoice.currency)
    doc.mentions(mentions)
    return doc.output()


def credit_note_pdf(note: CreditNote, mentions: Sequence[str]) -> bytes:
    """The credit note (avoir): its number and date, and the invoice it cancels (§1.3)."""
    doc = _Document(f"Avoir {note.number}", note.issue_date)
    doc.text(f"Avoir {note.number}", 16, bold=True)
    doc.text(f"Date d'émission : {_day(note.issue_date)}", 10)
    doc.text(
        f"Avoir sur la facture {note.invoice_number} du {_day(note.invoice_issue_date)}",
        10,
    )
    reason = {
        "refund": "Remboursement d'un paiement.",
        "dispute_lost": "Paiement contesté auprès de la banque du client (litige perdu).",
        "void": "Annulation de la facture : montant restant dû annulé.",
    }[note.reason]
    doc.text(reason, 10, gap=4)
    doc.parties(note.seller, note.customer)
    doc.vat_totals(note.net, note.vat_by_rate, note.amount, note.currency)
    doc.mentions(mentions)
    return doc.output()
