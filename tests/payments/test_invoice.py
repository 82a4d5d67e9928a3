from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.invoice import (
    RECOVERY_INDEMNITY,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    VatRate,
    advance,
    compute_totals,
    format_invoice_number,
    legal_mentions,
    new_link_token,
    parse_invoice_number,
)
from payments.money import Money
from tests.payments import factories as f

# --- VatRate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("20", "20"),
        ("5.5", "5.5"),
        ("2.1", "2.1"),
        ("0", "0"),
        ("10.00", "10"),
        ("99.99", "99.99"),
    ],
)
def test_vat_rate_parses_decimal_strings(text: str, canonical: str) -> None:
    assert str(VatRate.parse(text)) == canonical


@pytest.mark.parametrize(
    "value",
    [
        20.0,
        20,
        Decimal(20),
        True,
        None,
        "100",
        "-1",
        "5.555",
        "1e1",
        "NaN",
        "",
        " 20",
        "20,5",
        "05",
        "+5",
        ".5",
        "5.",
    ],
)
def test_vat_rate_refuses_everything_else(value: object) -> None:
    with pytest.raises(ValueError):
        VatRate.parse(value)


def test_vat_rate_constructor_checks_too() -> None:
    with pytest.raises(ValueError):
        VatRate(Decimal(100))
    with pytest.raises(ValueError):
        VatRate(Decimal("0.001"))
    assert VatRate(Decimal("5.50")) == VatRate.parse("5.5")


# --- lines and totals ---------------------------------------------------------------------


def test_line_validation() -> None:
    rate = VatRate.parse("20")
    assert InvoiceLine("x", 3, 250, rate).net == 750
    for quantity, unit in ((0, 100), (1, 0), (1, -5)):
        with pytest.raises(ValueError):
            InvoiceLine("x", quantity, unit, rate)
    with pytest.raises(TypeError):
        InvoiceLine("x", 1, 1.5, rate)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        InvoiceLine("  ", 1, 100, rate)


def test_vat_is_rounded_per_rate_on_summed_nets_not_per_line() -> None:
    # Three lines of 0.05 € at 5.5 %: per line 0.275 → 0 cent each; on the sum 15 × 5.5 % =
    # 0.825 → 1 cent.
    lines = [f.line(unit_amount=5, rate="5.5") for _ in range(3)]
    totals = compute_totals(lines, "EUR")
    assert totals.net == 15
    assert [(str(r.rate), r.base, r.vat) for r in totals.vat_by_rate] == [("5.5", 15, 1)]
    assert totals.gross == 16


def test_half_up_rounding_and_rate_ordering() -> None:
    lines = [
        f.line(unit_amount=250, rate="20"),
        f.line(unit_amount=10, rate="5.5"),
        f.line(unit_amount=30, rate="0"),
        f.line(unit_amount=50, rate="2.1"),
    ]
    totals = compute_totals(lines, "EUR")
    # 10 × 5.5 % = 0.55 → 1 (half up); 50 × 2.1 % = 1.05 → 1; 250 × 20 % = 50.
    assert [(str(r.rate), r.base, r.vat) for r in totals.vat_by_rate] == [
        ("0", 30, 0),
        ("2.1", 50, 1),
        ("5.5", 10, 1),
        ("20", 250, 50),
    ]
    assert (totals.net, totals.vat, totals.gross) == (340, 52, 392)


def test_exact_half_rounds_up() -> None:
    assert compute_totals([f.line(unit_amount=25, rate="2")], "EUR").vat == 1  # 0.5 → 1


rates = st.sampled_from(["0", "2.1", "5.5", "8.5", "10", "13", "19.6", "20", "33.33", "99.99"])
lines_strategy = st.lists(
    st.builds(
        f.line,
        unit_amount=st.integers(min_value=1, max_value=10**8),
        quantity=st.integers(min_value=1, max_value=10**4),
        rate=rates,
    ),
    min_size=1,
    max_size=30,
)


def _oracle(lines: list[InvoiceLine]) -> tuple[int, dict[str, int], int]:
    """Brute force with exact fractions: VAT per rate = floor(base × rate / 100 + 1/2)."""
    bases: dict[str, int] = {}
    for ln in lines:
        key = str(ln.vat_rate)
        bases[key] = bases.get(key, 0) + ln.quantity * ln.unit_amount
    vat = {k: int(Fraction(b) * Fraction(k) / 100 + Fraction(1, 2)) for k, b in bases.items()}
    return sum(bases.values()), vat, sum(bases.values()) + sum(vat.values())


@given(lines_strategy)
def test_totals_match_the_brute_force_oracle(lines: list[InvoiceLine]) -> None:
    totals = compute_totals(lines, "EUR")
    net, vat_by_rate, gross = _oracle(lines)
    assert totals.net == net
    assert {str(r.rate): r.vat for r in totals.vat_by_rate} == vat_by_rate
    assert totals.gross == gross == totals.net + totals.vat
    assert totals.vat == sum(r.vat for r in totals.vat_by_rate)
    assert totals.net == sum(r.base for r in totals.vat_by_rate)
    assert [r.rate for r in totals.vat_by_rate] == sorted(r.rate for r in totals.vat_by_rate)


@given(lines_strategy)
def test_totals_do_not_depend_on_line_order(lines: list[InvoiceLine]) -> None:
    assert compute_totals(lines, "EUR") == compute_totals(list(reversed(lines)), "EUR")


def test_totals_need_a_known_currency() -> None:
    with pytest.raises(ValueError):
        compute_totals([f.line()], "XYZ")


# --- status ---------------------------------------------------------------------------------


def test_status_only_moves_forward() -> None:
    order = [
        InvoiceStatus.OPEN,
        InvoiceStatus.PROCESSING,
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.PAID,
    ]
    for i, current in enumerate(order):
        for j, new in enumerate(order):
            assert advance(current, new) == order[max(i, j)]
    assert advance(InvoiceStatus.PAID, InvoiceStatus.PROCESSING) is InvoiceStatus.PAID


# --- numbering ------------------------------------------------------------------------------


def test_invoice_number_format() -> None:
    assert format_invoice_number("F", 2026, 1) == "F-2026-000001"
    assert format_invoice_number("AB-12", 2026, 1234567) == "AB-12-2026-1234567"


@pytest.mark.parametrize(
    ("prefix", "year", "seq"),
    [
        ("", 2026, 1),
        ("f", 2026, 1),
        ("F_1", 2026, 1),
        ("ABCDEFGHIJK", 2026, 1),
        ("-F", 2026, 1),
        ("F", 1999, 1),
        ("F", 2026, 0),
        ("F", 2026, -1),
    ],
)
def test_invoice_number_refuses_bad_parts(prefix: str, year: int, seq: int) -> None:
    with pytest.raises(ValueError):
        format_invoice_number(prefix, year, seq)


@given(
    st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,9}", fullmatch=True),
    st.integers(min_value=2000, max_value=9999),
    st.integers(min_value=1, max_value=10**9),
)
def test_invoice_number_round_trip(prefix: str, year: int, seq: int) -> None:
    number = format_invoice_number(prefix, year, seq)
    assert parse_invoice_number(number) == (prefix, year, seq)


@pytest.mark.parametrize(
    "number", ["F-2026-1", "F-2026-0000001", "F-26-000001", "F2026000001", "f-2026-000001", ""]
)
def test_parse_refuses_non_canonical_numbers(number: str) -> None:
    with pytest.raises(ValueError):
        parse_invoice_number(number)


# --- Invoice --------------------------------------------------------------------------------


def test_invoice_computes_totals_and_amount_due() -> None:
    inv = f.invoice(lines=(f.line(10_000, 2), f.line(500, 1, "5.5")))
    assert inv.totals.gross == 20_000 + 4_000 + 500 + 28  # 27.5 → 28
    assert inv.amount_due == inv.totals.gross
    paid = f.with_status(inv, InvoiceStatus.PARTIALLY_PAID, 1000)
    assert paid.amount_due == inv.totals.gross - 1000


@pytest.mark.parametrize(
    ("status", "paid"),
    [
        (InvoiceStatus.OPEN, 1),
        (InvoiceStatus.PROCESSING, 1),
        (InvoiceStatus.PAID, 0),
        (InvoiceStatus.PARTIALLY_PAID, 0),
        (InvoiceStatus.PARTIALLY_PAID, 12_000),
        (InvoiceStatus.PAID, 12_001),
    ],
)
def test_status_must_agree_with_amount_paid(status: InvoiceStatus, paid: int) -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        f.invoice(status=status, amount_paid=paid)


@pytest.mark.parametrize(
    "overrides",
    [
        {"lines": ()},
        {"number": "F-1"},
        {"currency": "XYZ"},
        {"due_date": date(2026, 11, 20)},
        {"pay_token": "short"},
        {"view_token": "bad token with spaces!!"},
        {"channel": "telegram"},  # no chat id
        {"customer": f.customer(phone=None), "channel": "sms"},
        {"id": ""},
    ],
)
def test_invalid_invoices_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        f.invoice(**overrides)


def test_status_given_as_text_is_coerced() -> None:
    inv = f.invoice(status="open")
    assert inv.status is InvoiceStatus.OPEN


def test_customer_snapshot_validation() -> None:
    with pytest.raises(ValueError):
        f.customer(locale="")
    with pytest.raises(TypeError):
        f.customer(is_business="yes")
    with pytest.raises(ValueError):
        f.customer(phone="0612345678")
    with pytest.raises(ValueError):
        f.customer(telegram_chat_id=-100)
    with pytest.raises(ValueError):
        f.customer(telegram_chat_id=True)
    with pytest.raises(ValueError):
        f.customer(name=" ")


def test_new_link_token_is_128_bits_url_safe() -> None:
    tokens = {new_link_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) == 22 for t in tokens)
    f.invoice(pay_token=new_link_token(), view_token=new_link_token())


def test_json_round_trip() -> None:
    inv = f.invoice(
        lines=(f.line(10_000, 2), f.line(333, 3, "5.5"), f.line(100, 1, "0")),
        status=InvoiceStatus.PARTIALLY_PAID,
        amount_paid=5_000,
        customer=f.customer(
            telegram_chat_id=42, is_business=True, siren="552100554", address="1 rue X"
        ),
        seller=f.seller(late_penalty_rate="12.5"),
    )
    data = json.loads(json.dumps(inv.to_dict()))
    assert Invoice.from_dict(data) == inv
    assert data["status"] == "partially_paid"
    assert data["issue_date"] == "2026-11-21"
    assert data["lines"][1] == {
        "description": "Intervention",
        "quantity": 3,
        "unit_amount": 333,
        "vat_rate": "5.5",
    }
    assert data["totals"]["vat_by_rate"][0] == {"rate": "0", "base": 100, "vat": 0}
    assert data["seller"]["share_capital"] == {"amount": 1_000_000, "currency": "EUR"}


def test_from_dict_refuses_tampered_records() -> None:
    data = f.invoice().to_dict()
    with pytest.raises(ValueError, match="totals"):
        Invoice.from_dict({**data, "totals": {**data["totals"], "gross": 1}})
    with pytest.raises(ValueError):
        Invoice.from_dict({**data, "version": 2})
    with pytest.raises(ValueError):
        Invoice.from_dict({**data, "status": "refunded"})
    with pytest.raises(TypeError):
        Invoice.from_dict({**data, "amount_paid": 1.0})
    with pytest.raises(ValueError):
        Invoice.from_dict({**data, "lines": [{**data["lines"][0], "vat_rate": 20.0}]})


def test_invoice_is_immutable() -> None:
    inv = f.invoice()
    with pytest.raises(dataclasses.FrozenInstanceError):
        inv.status = InvoiceStatus.PAID  # type: ignore[misc]


# --- legal mentions -------------------------------------------------------------------------


def _ids(mentions: list) -> list[str]:  # type: ignore[type-arg]
    return [m.id for m in mentions]


def test_b2b_mentions_include_penalties_and_the_40_euro_indemnity() -> None:
    mentions = legal_mentions(f.seller(), True, [f.line()])
    assert _ids(mentions) == [
        "seller_legal_name",
        "seller_legal_form",
        "seller_share_capital",
        "seller_address",
        "seller_siren",
        "seller_registry",
        "seller_vat_number",
        "no_early_payment_discount",
        "late_penalty_legal_rate",
        "recovery_indemnity",
    ]
    indemnity = mentions[-1]
    assert indemnity.params == {"amount": Money(4000, "EUR")} == {"amount": RECOVERY_INDEMNITY}
    siren = next(m for m in mentions if m.id == "seller_siren")
    assert siren.params == {"siren": "732 829 320"}


def test_b2c_never_shows_the_indemnity_or_penalties() -> None:  # TESTCASES 75
    ids = _ids(legal_mentions(f.seller(), False, [f.line()]))
    assert "recovery_indemnity" not in ids
    assert "late_penalty_legal_rate" not in ids
    assert "no_early_payment_discount" in ids


def test_contractual_penalty_rate() -> None:
    mentions = legal_mentions(f.seller(late_penalty_rate="15"), True, [f.line()])
    rate = next(m for m in mentions if m.id == "late_penalty_rate")
    assert rate.params == {"rate": "15"}


def test_franchise_en_base_mention() -> None:
    franchise = f.seller(vat_number=None)
    assert "vat_franchise" in _ids(legal_mentions(franchise, False, [f.line(rate="0")]))
    # A VAT number, or any taxed line, means the seller is not in franchise.
    assert "vat_franchise" not in _ids(legal_mentions(f.seller(), False, [f.line(rate="0")]))
    assert "vat_franchise" not in _ids(legal_mentions(franchise, False, [f.line(rate="20")]))


def test_optional_seller_fields_are_omitted() -> None:
    minimal = f.seller(legal_form=None, share_capital=None, rcs_city=None, vat_number=None)
    assert _ids(legal_mentions(minimal, False, [f.line()])) == [
        "seller_legal_name",
        "seller_address",
        "seller_siren",
        "no_early_payment_discount",
    ]
