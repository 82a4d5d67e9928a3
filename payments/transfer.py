"""Paying by bank transfer: the merchant's IBAN and the EPC ("GiroCode") QR code.

The EPC QR code (EPC069-12, version 002) is what European banking apps scan to pre-fill a SEPA
credit transfer: beneficiary name, IBAN, amount in euros and the remittance text. We put the
invoice number in the remittance text so that the payment can be matched by hand; the code is
drawn by segno, which checks the EPC limits itself (name ≤ 70, text ≤ 140, amount range).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from payments.money import Money

# schwifty loads its bank registry and segno its QR tables at import: only the commands and
# pages that handle an IBAN pay for them, not every worker at start (issue 12).
if TYPE_CHECKING:
    import segno

__all__ = ["EPC_NAME_MAX", "TransferRequest", "epc_qr", "validate_iban"]

EPC_NAME_MAX = 70  # EPC069-12: beneficiary name, at most 70 characters
EPC_TEXT_MAX = 140  # unstructured remittance information
EPC_AMOUNT_MAX = 99_999_999_999  # 999 999 999.99 EUR in cents


def validate_iban(value: str) -> str:
    """The IBAN in its compact form (`FR7630006000011234567890189`), or ValueError saying why.

    schwifty checks the country's length and layout and the mod-97 checksum, so a typo in one
    digit is refused here rather than discovered when a customer's transfer bounces.
    """
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        msg = "IBAN must be a non-empty string"
        raise ValueError(msg)
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        iban = IBAN(value)
    except SchwiftyException as exc:
        msg = f"invalid IBAN: {exc}"
        raise ValueError(msg) from None
    if not iban.in_sepa_zone:
        msg = "IBAN must be in the SEPA zone (an EPC transfer QR code needs a SEPA account)"
        raise ValueError(msg)
    return str(iban.compact)


def format_iban(iban: str) -> str:
    """Groups of four, as printed on a RIB: `FR76 3000 6000 0112 3456 7890 189`."""
    from schwifty import IBAN

    return str(IBAN(iban).formatted)


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """What a transfer QR asks: pay `amount` to `name` at `iban`, quoting `reference`."""

    name: str
    iban: str
    amount: Money
    reference: str

    @property
    def epc_name(self) -> str:
        return self.name.strip()[:EPC_NAME_MAX]


def epc_qr(request: TransferRequest) -> segno.QRCode:
    """The EPC QR code of `request`; ValueError when it cannot be one (not euros, too big)."""
    from segno import helpers

    if request.amount.currency != "EUR":
        msg = "an EPC transfer QR code is for euros only"
        raise ValueError(msg)
    if not 1 <= request.amount.amount <= EPC_AMOUNT_MAX:
        msg = "an EPC transfer amount is between 0.01 and 999 999 999.99 EUR"
        raise ValueError(msg)
    return helpers.make_epc_qr(
        name=request.epc_name,
        iban=validate_iban(request.iban),
        amount=request.amount.to_decimal(),
        text=request.reference[:EPC_TEXT_MAX],
    )
