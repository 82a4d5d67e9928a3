"""The merchant's legal identity, as printed on the invoices it issues."""

from __future__ import annotations

from bot.store.merchants import Merchant
from payments.invoice import SellerSnapshot


def seller_snapshot(merchant: Merchant) -> SellerSnapshot:
    return SellerSnapshot(
        legal_name=merchant.legal_name,
        address=merchant.address,
        siren=merchant.siren,
        vat_number=merchant.vat_number,
        legal_form=merchant.legal_form,
        rcs_city=merchant.rcs_city,
    )
