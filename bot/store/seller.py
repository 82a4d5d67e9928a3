"""The merchant's legal identity, as printed on the invoices it issues."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.store import keys
from bot.store.merchants import Merchant
from payments.invoice import SellerSnapshot
from payments.merchant_ids import validate_fr_vat_number, validate_siren
from payments.money import Money


class SellerIdentityError(ValueError):
    """The merchant's stored identity cannot be printed on an invoice: `field` and why.

    The CLI and Settings validate what they store; a merchant written to the store some other
    way (an import, an older version) can still hold, say, a VAT number of another SIREN."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@functools.lru_cache(maxsize=1024)
def seller_snapshot(merchant: Merchant) -> SellerSnapshot:
    """The identity printed on `merchant`'s invoices, its SIREN and VAT number validated once
    per process per version of the merchant (a changed merchant is another key).
    SellerIdentityError when it is not one an invoice may carry: nothing is then issued, so a
    wrong VAT number is never printed (a refusal is not cached)."""
    try:
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
    except ValueError as exc:
        raise SellerIdentityError(_culprit(merchant), str(exc)) from None


def _culprit(merchant: Merchant) -> str:
    """The field SellerSnapshot refused, checked in its own order."""
    if not merchant.legal_name.strip():
        return "legal_name"
    if not merchant.address.strip():
        return "address"
    try:
        validate_siren(merchant.siren)
    except ValueError:
        return "siren"
    if merchant.vat_number is not None:
        try:
            validate_fr_vat_number(merchant.vat_number, merchant.siren)
        except ValueError:
            return "vat_number"
    return "siren"


IDENTITY_FIELDS = (
    "name",
    "legal_name",
    "siren",
    "vat_number",
    "address",
    "legal_form",
    "share_capital",
    "rcs_city",
    "brand_colour",  # not printed: the colour of the customer's pages
)


async def update_identity(
    redis: aioredis.Redis, merchant_id: str, identity: Mapping[str, str | None]
) -> Merchant | None:
    """Store the merchant's legal identity (already validated: `bot.web.settings`); the
    invoices issued from now on print it, those issued before keep their own copy.

    One key, compare-and-set under WATCH: a concurrent change of another field is not lost.
    None when there is no such merchant."""
    changes = {k: v for k, v in identity.items() if k in IDENTITY_FIELDS}
    key = keys.merchant(merchant_id)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                if raw is None:
                    return None
                updated = Merchant.from_dict({**json.loads(raw), **changes})
                pipe.multi()
                pipe.set(key, json.dumps(updated.to_dict()))
                await pipe.execute()
                return updated
            except WatchError:
                continue
