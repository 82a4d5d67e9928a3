"""The merchant's legal identity, as printed on the invoices it issues."""

from __future__ import annotations

from bot.store.merchants import Merchant
from payments.invoice import SellerSnapshot
from payments.money import Money


def seller_snapshot(merchant: Merchant) -> SellerSnapshot:
    return SellerSnapshot(
        legal_name=merchant.legal_name,
        address=merchant.address,
        siren=merchant.siren,
        vat_number=merchant.vat_number,
        legal_form=merchant.legal_form,
        # Stored in cents (`merchant create --share-capital` takes euros).
        share_capital=None
        if merchant.share_capital is None
        else Money(int(merchant.share_capital), "EUR"),
        rcs_city=merchant.rcs_city,
    )
