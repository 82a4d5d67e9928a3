"""The merchant's legal identity, as printed on the invoices it issues."""

from __future__ import annotations

import functools

from bot.store.merchants import Merchant
from payments.invoice import SellerSnapshot
from payments.money import Money


@functools.lru_cache(maxsize=1024)
def seller_snapshot(merchant: Merchant) -> SellerSnapshot:
    """The identity printed on `merchant`'s invoices, its SIREN and VAT number validated once
    per process per version of the merchant (a changed merchant is another key)."""
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
