from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.merchant_ids import (
    SellerSnapshot,
    format_siren,
    fr_vat_key,
    validate_fr_vat_number,
    validate_siren,
)
from payments.money import Money
from tests.payments import factories as f


@pytest.mark.parametrize(
    ("raw", "siren"),
    [
        ("732829320", "732829320"),
        ("732 829 320", "732829320"),
        ("552\u00a0100\u00a0554", "552100554"),
    ],
)
def test_valid_sirens(raw: str, siren: str) -> None:
    assert validate_siren(raw) == siren


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("732829321", "check digit"),
        ("73282932", "9 digits"),
        ("7328293200", "9 digits"),
        ("73282932A", "9 digits"),
        ("000000000", "check digit"),
        ("", "9 digits"),
    ],
)
def test_invalid_sirens(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_siren(raw)


def test_siren_must_be_a_string() -> None:
    with pytest.raises(ValueError, match="string"):
        validate_siren(732829320)


def _luhn_digit(prefix: str) -> str:
    for d in "0123456789":
        try:
            return validate_siren(prefix + d)[-1]
        except ValueError:
            continue
    raise AssertionError("no Luhn digit")


@given(st.from_regex(r"[1-9]\d{7}", fullmatch=True))
def test_exactly_one_check_digit_completes_any_prefix(prefix: str) -> None:
    good = _luhn_digit(prefix)
    for d in "0123456789":
        if d != good:
            with pytest.raises(ValueError):
                validate_siren(prefix + d)


def test_format_siren() -> None:
    assert format_siren("732829320") == "732 829 320"


def test_fr_vat_key_of_a_real_siren() -> None:
    assert fr_vat_key("732829320") == "44"


@pytest.mark.parametrize("raw", ["FR44732829320", "fr 44 732 829 320", "FR44 732.829.320"])
def test_valid_french_vat_numbers(raw: str) -> None:
    assert validate_fr_vat_number(raw, "732829320") == "FR44732829320"
    assert validate_fr_vat_number(raw) == "FR44732829320"


@pytest.mark.parametrize(
    ("raw", "siren", "message"),
    [
        ("FR45732829320", "732829320", "wrong key"),
        ("FR44732829321", None, "valid SIREN"),
        ("FR44732829320", "552100554", "does not match"),
        ("FR4473282932", None, "FR \\+ 2-digit key"),
        ("FRXX732829320", None, "FR \\+ 2-digit key"),
        ("US123456789", None, "EU country code"),
        ("DE12345678", None, "DE format"),
        ("FR44732829320FR44732829320", None, "too long"),
    ],
)
def test_invalid_vat_numbers(raw: str, siren: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_fr_vat_number(raw, siren)


@pytest.mark.parametrize(
    "raw",
    [
        "DE123456789",
        "BE0123456789",
        "NL123456789B01",
        "IT12345678901",
        "ESX1234567X",
        "ATU12345678",
        "EL123456789",
    ],
)
def test_other_eu_vat_numbers_get_a_format_check(raw: str) -> None:
    assert validate_fr_vat_number(raw) == raw


def test_seller_snapshot_validates_its_identifiers() -> None:
    with pytest.raises(ValueError):
        f.seller(siren="732829321")
    with pytest.raises(ValueError):
        f.seller(siren="732 829 320")  # stored compact
    with pytest.raises(ValueError):
        f.seller(vat_number="FR45732829320")
    with pytest.raises(ValueError):
        f.seller(legal_name=" ")
    with pytest.raises(ValueError):
        f.seller(late_penalty_rate="ten")


def test_seller_snapshot_round_trip() -> None:
    s = f.seller(share_capital=Money(500_000, "EUR"), late_penalty_rate="12.37")
    assert SellerSnapshot.from_dict(s.to_dict()) == s
    bare = f.seller(share_capital=None, vat_number=None, legal_form=None, rcs_city=None)
    assert SellerSnapshot.from_dict(bare.to_dict()) == bare
