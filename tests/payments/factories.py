"""Builders for payments tests: a valid seller, customer and invoice with overridable fields."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from payments.invoice import (
    CustomerSnapshot,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    SellerSnapshot,
    VatRate,
)
from payments.money import Money

SIREN = "732829320"
VAT_NUMBER = "FR44732829320"
PAY_TOKEN = "p" * 22
VIEW_TOKEN = "v" * 22


def seller(**overrides: Any) -> SellerSnapshot:
    fields: dict[str, Any] = {
        "legal_name": "Plomberie Martin",
        "address": "12 rue de la Paix, 75002 Paris",
        "siren": SIREN,
        "vat_number": VAT_NUMBER,
        "legal_form": "SAS",
        "share_capital": Money(1_000_000, "EUR"),
        "rcs_city": "RCS Paris",
        "late_penalty_rate": None,
    }
    fields.update(overrides)
    return SellerSnapshot(**fields)


def customer(**overrides: Any) -> CustomerSnapshot:
    fields: dict[str, Any] = {
        "name": "Alice Dupont",
        "phone": "+33612345678",
        "telegram_chat_id": None,
        "locale": "fr",
    }
    fields.update(overrides)
    return CustomerSnapshot(**fields)


def line(unit_amount: int = 10_000, quantity: int = 1, rate: str = "20") -> InvoiceLine:
    return InvoiceLine("Intervention", quantity, unit_amount, VatRate.parse(rate))


def invoice(**overrides: Any) -> Invoice:
    """An open EUR invoice of 100.00 HT + 20 % = 120.00 TTC by default."""
    fields: dict[str, Any] = {
        "id": "inv_1",
        "merchant_id": "m_1",
        "number": "F-2026-000001",
        "status": InvoiceStatus.OPEN,
        "currency": "EUR",
        "lines": (line(),),
        "amount_paid": 0,
        "issue_date": date(2026, 11, 21),
        "due_date": date(2026, 12, 21),
        "customer": customer(),
        "channel": "sms",
        "pay_token": PAY_TOKEN,
        "view_token": VIEW_TOKEN,
        "seller": seller(),
    }
    fields.update(overrides)
    return Invoice(**fields)


def with_status(inv: Invoice, status: InvoiceStatus, amount_paid: int) -> Invoice:
    return dataclasses.replace(inv, status=status, amount_paid=amount_paid)
