"""Invisible and control characters in invoice text are refused, naming the field (issue 15).

They reach chats and the legal invoice page: a right-to-left override turns "Facture 1234"
into a different reading, a zero-width space makes two names look identical, U+2028 breaks
lines where SMS and HTML do not expect it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from payments.invoice_input import InvoiceInputError, parse_invoice_request

TODAY = date(2026, 11, 21)

HOSTILE = {
    "right-to-left override": "Alice \u202ednoD",
    "left-to-right isolate": "Alice \u2066Dupont\u2069",
    "zero-width space": "Ali\u200bce",
    "zero-width joiner": "Ali\u200dce",
    "byte order mark": "\ufeffAlice",
    "word joiner": "Ali\u2060ce",
    "soft hyphen": "Ali\u00adce",
    "C0 escape": "Alice\x1b[31m",
    "C0 null": "Alice\x00",
    "C1 control": "Alice\x85Dupont",
    "delete": "Alice\x7f",
    "line separator": "Alice\u2028Dupont",
    "paragraph separator": "Alice\u2029Dupont",
    "lone surrogate": "Alice\ud800",
    "private use": "Alice\ue000",
}


def body(name: str = "Alice Dupont", description: str = "Intervention") -> dict[str, Any]:
    return {
        "customer": {"name": name, "phone": "+33612345678", "address": "1 rue X, Paris"},
        "channel": "sms",
        "currency": "EUR",
        "due_date": "2026-12-21",
        "lines": [
            {"description": description, "quantity": 1, "unit_amount": 7550, "vat_rate": "20"}
        ],
    }


def errors_of(raw: object) -> dict[str, str]:
    with pytest.raises(InvoiceInputError) as info:
        parse_invoice_request(raw, today=TODAY)
    return {e["field"]: e["message"] for e in info.value.errors}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_invisible_or_control_character_in_a_name_is_refused(text: str) -> None:
    errors = errors_of(body(name=text))
    assert set(errors) == {"customer.name"}
    assert "U+" in errors["customer.name"]  # names the character, so the merchant can find it


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_invisible_or_control_character_in_a_description_is_refused(text: str) -> None:
    assert set(errors_of(body(description=text))) == {"lines.0.description"}


def test_customer_address_is_checked_too() -> None:
    raw = body()
    raw["customer"]["address"] = "1 rue\u202e X"
    assert set(errors_of(raw)) == {"customer.address"}


def test_a_newline_in_a_name_is_refused_but_allowed_in_a_description() -> None:
    assert set(errors_of(body(name="Alice\nDupont"))) == {"customer.name"}
    request = parse_invoice_request(body(description="Pose\nPeinture\tmur"), today=TODAY)
    assert request.lines[0].description == "Pose\nPeinture\tmur"


def test_ordinary_accents_emoji_and_other_scripts_are_kept_composed() -> None:
    decomposed = "Cafe\u0301 Ælfrēd 😀 Zoë"
    request = parse_invoice_request(
        body(name=decomposed, description="Œuvre — 日本語"), today=TODAY
    )
    assert request.customer.name == "Café Ælfrēd 😀 Zoë"  # NFC: one code point for "é"
    assert request.lines[0].description == "Œuvre — 日本語"
