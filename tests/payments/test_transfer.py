"""IBAN validation and the EPC transfer QR code, read back with a real QR decoder."""

from __future__ import annotations

import pytest

from payments.money import Money
from payments.transfer import TransferRequest, epc_qr, format_iban, validate_iban
from tests.qr_decode import decode_code

IBAN = "FR7630006000011234567890189"


def test_an_iban_is_stored_compact_and_printed_in_groups() -> None:
    assert validate_iban("fr76 3000 6000 0112 3456 7890 189") == IBAN
    assert format_iban(IBAN) == "FR76 3000 6000 0112 3456 7890 189"


@pytest.mark.parametrize(
    "bad",
    [
        "FR7630006000011234567890188",  # one digit off: checksum
        "FR76300060000112345678901",  # too short for France
        "XX7630006000011234567890189",  # no such country
        "",
        "US64SVBKUS6S3300958879",  # not an IBAN country at all
    ],
)
def test_a_wrong_iban_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(ValueError, match="IBAN"):
        validate_iban(bad)


def test_the_epc_code_decodes_to_the_transfer_it_asks_for() -> None:
    request = TransferRequest(
        "Atelier Lumière SAS",
        "FR76 3000 6000 0112 3456 7890 189",
        Money(14450, "EUR"),
        "F-2026-000007",
    )
    found = decode_code(epc_qr(request))
    lines = found.text.split("\n")
    # EPC069-12 v002: service tag, version, character set, SCT, BIC (optional, empty), name,
    # IBAN, amount, purpose, structured reference (empty: we use the text), remittance text.
    assert lines[:4] == ["BCD", "002", lines[2], "SCT"]
    assert lines[2] in {"1", "2"}  # UTF-8 or ISO 8859-1: both allowed; "è" survives either
    assert lines[4:] == [
        "",
        "Atelier Lumière SAS",
        IBAN,
        "EUR144.5",
        "",
        "",
        "F-2026-000007",
    ]
    assert found.ec_level == "M"  # EPC069-12 asks for error correction level M


def test_a_long_name_is_cut_to_the_epc_limit() -> None:
    request = TransferRequest("N" * 90, IBAN, Money(100, "EUR"), "F-2026-000001")
    assert decode_code(epc_qr(request)).text.split("\n")[5] == "N" * 70


@pytest.mark.parametrize(
    ("amount", "why"),
    [(Money(100, "USD"), "euros"), (Money(100_000_000_000, "EUR"), "between")],
)
def test_what_no_epc_code_can_carry_is_refused(amount: Money, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        epc_qr(TransferRequest("X", IBAN, amount, "F-2026-000001"))
