"""The accounting export: a sales journal (invoices, credit notes) and a bank journal (payments).

One row per document and VAT rate, the shape French accounting software (Sage, EBP, Cegid,
Pennylane, Quadra...) imports as "écritures" with a column mapping: journal code, date, piece
number, account side is left to the accountant's mapping (the customer account is theirs).
Amounts are decimals with a point, dates ISO 8601, separator ";" (what a French Excel opens),
UTF-8. A credit note's amounts are negative, so that a column sum is the period's revenue.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from payments.credit_note import CreditNote
from payments.invoice import Invoice
from payments.money import Money

__all__ = [
    "COLUMNS",
    "Payment",
    "Row",
    "credit_note_rows",
    "invoice_rows",
    "payment_row",
    "to_csv",
]

COLUMNS = (
    "journal",
    "date",
    "piece",
    "type",
    "invoice",
    "customer",
    "customer_siren",
    "vat_rate",
    "net",
    "vat",
    "gross",
    "currency",
    "payment_reference",
)
SALES, BANK = "VT", "BQ"
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such
# text is prefixed with a quote, which spreadsheets show as text and strip.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Row:
    journal: str
    date: date
    piece: str
    type: str  # invoice | credit_note | payment
    invoice: str
    customer: str
    customer_siren: str
    vat_rate: str
    net: Decimal | None
    vat: Decimal | None
    gross: Decimal
    currency: str
    payment_reference: str = ""

    def cells(self) -> list[str]:
        return [
            self.journal,
            self.date.isoformat(),
            self.piece,
            self.type,
            self.invoice,
            _text(self.customer),
            self.customer_siren,
            self.vat_rate,
            "" if self.net is None else str(self.net),
            "" if self.vat is None else str(self.vat),
            str(self.gross),
            self.currency,
            _text(self.payment_reference),
        ]


@dataclass(frozen=True, slots=True)
class Payment:
    """Money counted on an invoice: a Stripe payment, by the day it was counted."""

    invoice: Invoice
    received_on: date
    amount: int
    reference: str  # the PaymentIntent (what the Stripe payout report shows), else the session


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value


def _dec(amount: int, currency: str, sign: int = 1) -> Decimal:
    return Money(sign * amount, currency).to_decimal()


def invoice_rows(invoice: Invoice) -> list[Row]:
    return [
        Row(
            SALES,
            invoice.issue_date,
            invoice.number,
            "invoice",
            invoice.number,
            invoice.customer.name,
            invoice.customer.siren or "",
            str(line.rate),
            _dec(line.base, invoice.currency),
            _dec(line.vat, invoice.currency),
            _dec(line.base + line.vat, invoice.currency),
            invoice.currency,
        )
        for line in invoice.totals.vat_by_rate
    ]


def credit_note_rows(note: CreditNote) -> list[Row]:
    return [
        Row(
            SALES,
            note.issue_date,
            note.number,
            "credit_note",
            note.invoice_number,
            note.customer.name,
            note.customer.siren or "",
            str(line.rate),
            _dec(line.base, note.currency, -1),
            _dec(line.vat, note.currency, -1),
            _dec(line.base + line.vat, note.currency, -1),
            note.currency,
            note.source_id,
        )
        for line in note.vat_by_rate
    ]


def payment_row(payment: Payment) -> Row:
    invoice = payment.invoice
    return Row(
        BANK,
        payment.received_on,
        invoice.number,
        "payment",
        invoice.number,
        invoice.customer.name,
        invoice.customer.siren or "",
        "",
        None,
        None,
        _dec(payment.amount, invoice.currency),
        invoice.currency,
        payment.reference,
    )


def to_csv(rows: Iterable[Row], columns: Sequence[str] = COLUMNS) -> str:
    """Rows by date, then journal, then piece: the order a journal is read in."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    for row in sorted(rows, key=lambda r: (r.date, r.journal, r.piece, r.vat_rate)):
        writer.writerow(row.cells())
    return out.getvalue()
