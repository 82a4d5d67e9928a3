"""Credit notes (avoirs): money given back on an invoice, never an edit of the invoice.

A refund or a lost dispute takes an amount (TTC) off what was invoiced. The credit note says
so with its own number from its own gap-free series per merchant (`A-2026-000001`,
LEGAL_FR §1.3), references the invoice, and splits the amount over the invoice's VAT rates
in proportion, so that the VAT to give back is printed per rate like on the invoice.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from payments.invoice import (
    CustomerSnapshot,
    Invoice,
    Mention,
    SellerSnapshot,
    VatLine,
    VatRate,
    format_invoice_number,
)
from payments.merchant_ids import seller_mentions
from payments.money import parse_minor

__all__ = ["CREDIT_NOTE_PREFIX", "CreditNote", "credit_note_mentions", "draft_credit_note"]

CREDIT_NOTE_PREFIX = "A"
Reason = Literal["refund", "dispute_lost", "void"]


@dataclass(frozen=True, slots=True)
class CreditNote:
    id: str
    merchant_id: str
    number: str
    invoice_id: str
    invoice_number: str
    invoice_issue_date: date
    issue_date: date
    currency: str
    amount: int  # TTC given back
    vat_by_rate: tuple[VatLine, ...]
    reason: Reason
    source_id: str  # the Stripe refund or dispute id
    view_token: str
    seller: SellerSnapshot
    customer: CustomerSnapshot

    @property
    def net(self) -> int:
        return sum(row.base for row in self.vat_by_rate)

    @property
    def vat(self) -> int:
        return sum(row.vat for row in self.vat_by_rate)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "id": self.id,
            "merchant_id": self.merchant_id,
            "number": self.number,
            "invoice_id": self.invoice_id,
            "invoice_number": self.invoice_number,
            "invoice_issue_date": self.invoice_issue_date.isoformat(),
            "issue_date": self.issue_date.isoformat(),
            "currency": self.currency,
            "amount": self.amount,
            "vat_by_rate": [
                {"rate": str(r.rate), "base": r.base, "vat": r.vat} for r in self.vat_by_rate
            ],
            "reason": self.reason,
            "source_id": self.source_id,
            "view_token": self.view_token,
            "seller": self.seller.to_dict(),
            "customer": {
                "name": self.customer.name,
                "phone": self.customer.phone,
                "telegram_chat_id": self.customer.telegram_chat_id,
                "locale": self.customer.locale,
                "is_business": self.customer.is_business,
                "address": self.customer.address,
                "siren": self.customer.siren,
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreditNote:
        if data.get("version") != 1:
            msg = f"unsupported credit note record version {data.get('version')!r}"
            raise ValueError(msg)
        reason = data["reason"]
        if reason not in ("refund", "dispute_lost", "void"):
            msg = f"unknown credit note reason {reason!r}"
            raise ValueError(msg)
        return cls(
            id=str(data["id"]),
            merchant_id=str(data["merchant_id"]),
            number=str(data["number"]),
            invoice_id=str(data["invoice_id"]),
            invoice_number=str(data["invoice_number"]),
            invoice_issue_date=date.fromisoformat(data["invoice_issue_date"]),
            issue_date=date.fromisoformat(data["issue_date"]),
            currency=str(data["currency"]),
            amount=parse_minor(data["amount"]),
            vat_by_rate=tuple(
                VatLine(VatRate.parse(r["rate"]), parse_minor(r["base"]), parse_minor(r["vat"]))
                for r in data["vat_by_rate"]
            ),
            reason=reason,
            source_id=str(data["source_id"]),
            view_token=str(data["view_token"]),
            seller=SellerSnapshot.from_dict(data["seller"]),
            customer=CustomerSnapshot(**data["customer"]),
        )

    def to_api(self) -> dict[str, Any]:
        """The merchant API's view (no link token, no customer contact details)."""
        return {
            "id": self.id,
            "number": self.number,
            "invoice_id": self.invoice_id,
            "invoice_number": self.invoice_number,
            "issue_date": self.issue_date.isoformat(),
            "currency": self.currency,
            "reason": self.reason,
            "totals": {
                "net": self.net,
                "vat": [
                    {"rate": str(r.rate), "base": r.base, "amount": r.vat}
                    for r in self.vat_by_rate
                ],
                "vat_total": self.vat,
                "gross": self.amount,
            },
            "source_id": self.source_id,
        }


def draft_credit_note(
    invoice: Invoice,
    amount: int,
    reason: Reason,
    source_id: str,
    *,
    issue_date: date,
    placeholder_number: str | None = None,
) -> CreditNote:
    """A credit note for `amount` TTC of `invoice`; its number is allocated when stored."""
    if not 0 < amount <= invoice.totals.gross:
        msg = f"credit note amount {amount} outside 1..{invoice.totals.gross}"
        raise ValueError(msg)
    return CreditNote(
        id=f"cn_{secrets.token_hex(12)}",
        merchant_id=invoice.merchant_id,
        number=placeholder_number or format_invoice_number(CREDIT_NOTE_PREFIX, issue_date.year, 1),
        invoice_id=invoice.id,
        invoice_number=invoice.number,
        invoice_issue_date=invoice.issue_date,
        issue_date=issue_date,
        currency=invoice.currency,
        amount=amount,
        vat_by_rate=split_vat(invoice, amount),
        reason=reason,
        source_id=source_id,
        view_token=secrets.token_urlsafe(16),
        seller=invoice.seller,
        customer=invoice.customer,
    )


def split_vat(invoice: Invoice, amount: int) -> tuple[VatLine, ...]:
    """`amount` TTC over the invoice's VAT rates, in proportion to each rate's TTC; the
    rounding remainder goes to the last rate so that the rows add up to `amount`."""
    rows = invoice.totals.vat_by_rate
    gross = invoice.totals.gross
    shares: list[int] = []
    for row in rows[:-1]:
        exact = Decimal(amount) * (row.base + row.vat) / gross
        shares.append(int(exact.quantize(Decimal(1), ROUND_HALF_UP)))
    shares.append(amount - sum(shares))
    result = []
    for row, share in zip(rows, shares, strict=True):
        exact = Decimal(share) * 100 / (100 + row.rate.percent)
        net = int(exact.quantize(Decimal(1), ROUND_HALF_UP))
        result.append(VatLine(row.rate, net, share - net))
    return tuple(result)


def credit_note_mentions(note: CreditNote) -> list[Mention]:
    """The seller's mentions, as on the invoice (LEGAL_FR §1.1); the page also prints the
    credit note's own number and date and the number and date of the invoice (§1.3)."""
    mentions = seller_mentions(note.seller)
    if note.seller.vat_number is None and all(r.rate.percent == 0 for r in note.vat_by_rate):
        mentions.append(Mention("vat_franchise"))
    return mentions
