"""Merchants and their API keys (shown once, stored as a SHA-256 digest)."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable, MutableMapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.store import keys
from payments.transfer import validate_iban

API_KEY_PREFIX = "fk_"
# Paying in instalments: LEGAL_FR §4.3 keeps the merchant-financed exemption to 3 instalments;
# 4 must be chosen explicitly by the merchant (`merchant create --max-instalments 4`).
DEFAULT_MAX_INSTALMENTS = 3
MAX_INSTALMENTS_CHOICES = (2, 3, 4)


@dataclass(frozen=True, slots=True)
class Merchant:
    id: str
    name: str
    legal_name: str
    siren: str
    vat_number: str | None
    address: str
    created_at: str
    invoice_prefix: str = "F"
    legal_form: str | None = None
    share_capital: str | None = None  # in cents, as a decimal string
    rcs_city: str | None = None
    max_instalments: int = DEFAULT_MAX_INSTALMENTS  # merchants stored before it: the default
    # A message that cannot be delivered is sent once on the customer's next known channel
    # (WhatsApp -> SMS, Telegram -> SMS); a merchant may turn that off (SMS costs money).
    channel_fallback: bool = True
    # For customers who prefer a bank transfer: the invoice page shows it with an EPC QR code.
    # Validated (payments.transfer.validate_iban) before it is stored, compact form.
    iban: str | None = None
    # The customer's pages use it for their buttons and links (bot.web.brand), "#rrggbb".
    brand_colour: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Merchant:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**fields)


def hash_api_key(api_key: str) -> str:
    # API keys carry 256 random bits, so a fast digest is enough: nothing to brute-force.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


async def create_merchant(
    redis: aioredis.Redis,
    *,
    name: str,
    legal_name: str,
    siren: str,
    vat_number: str | None,
    address: str,
    now: datetime,
    invoice_prefix: str = "F",
    max_instalments: int = DEFAULT_MAX_INSTALMENTS,
    channel_fallback: bool = True,
    legal_form: str | None = None,
    share_capital: int | None = None,
    rcs_city: str | None = None,
    iban: str | None = None,
) -> tuple[Merchant, str]:
    """Store a merchant; returns it with its API key, which is not kept in clear."""
    if max_instalments not in MAX_INSTALMENTS_CHOICES:
        msg = f"max instalments must be one of {', '.join(map(str, MAX_INSTALMENTS_CHOICES))}"
        raise ValueError(msg)
    merchant = Merchant(
        id=new_id("m"),
        name=name,
        legal_name=legal_name,
        siren=siren,
        vat_number=vat_number,
        address=address,
        created_at=now.isoformat(),
        invoice_prefix=invoice_prefix,
        legal_form=legal_form,
        share_capital=None if share_capital is None else str(share_capital),
        rcs_city=rcs_city,
        max_instalments=max_instalments,
        channel_fallback=channel_fallback,
        iban=None if iban is None else validate_iban(iban),
    )
    api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    digest, entry = listed_key(api_key, FIRST_KEY_NAME, merchant.created_at)
    # The merchant and its key's entry in the dashboard's list first, then the key (two hash
    # slots): a crash in between leaves a merchant nobody can use, never a key that names no
    # merchant or that the dashboard does not list (and so cannot revoke).
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(keys.merchant(merchant.id), json.dumps(merchant.to_dict()))
        pipe.hset(keys.merchant_api_keys(merchant.id), digest, entry)
        pipe.set(keys.merchant_api_keys_adopted(merchant.id), "1")  # nothing older to list
        pipe.set(keys.api_key(digest), merchant.id)
        await pipe.execute()
    return merchant, api_key


FIRST_KEY_NAME = "merchant create"  # how the dashboard lists the key given at creation


def listed_key(clear: str, name: str, created_at: str) -> tuple[str, str]:
    """A key's digest and its entry in the merchant's list (`bot.store.api_keys`): its id,
    name, creation time and last characters, never the key itself."""
    digest = hash_api_key(clear)
    entry = {"id": digest[:16], "name": name, "created_at": created_at, "last4": clear[-4:]}
    return digest, json.dumps(entry)


async def get_merchant(redis: aioredis.Redis, merchant_id: str) -> Merchant | None:
    raw = await redis.get(keys.merchant(merchant_id))
    return parse_merchant(raw) if raw else None


@functools.lru_cache(maxsize=1024)
def parse_merchant(raw: str) -> Merchant:
    """The merchant stored as `raw`, parsed once per process per version of the record: a
    changed merchant is a different string, so nothing stale is ever returned (Merchant is
    frozen, safe to share)."""
    return Merchant.from_dict(json.loads(raw))


async def merchant_for_api_key(
    redis: aioredis.Redis, api_key: str, hints: MutableMapping[str, str] | None = None
) -> Merchant | None:
    """The key's merchant (`authenticate` without other reads)."""
    found = await authenticate(redis, api_key, hints=hints)
    return found.merchant if found is not None else None


# Queues, for the merchant id given, the commands a request needs besides its merchant (reads,
# or marks that are harmless to repeat and to make for a merchant whose key was just revoked).
Prelude = Callable[[aioredis.client.Pipeline, str], None]


@dataclass(frozen=True, slots=True)
class Authenticated:
    merchant: Merchant
    replies: list[Any]  # to the prelude's commands, in order


# Hints kept at most: past this they start over (a forged request can name any key).
_MAX_HINTS = 10_000


async def authenticate(
    redis: aioredis.Redis,
    api_key: str,
    prelude: Prelude | None = None,
    *,
    hints: MutableMapping[str, str] | None = None,
) -> Authenticated | None:
    """The key's merchant and the replies to `prelude`'s commands for it, or None (no such
    key, revoked, or its merchant gone). One round trip for a key seen before in `hints`.

    `hints`: the process's (`Services.key_hints`), API key digest -> the merchant it named
    when last seen. Only a hint, so that the key and its merchant are read in one round trip;
    the key itself is read on every request, never kept, so a revoked key stops working at
    once on every web process (Settings, TESTCASES). None: two round trips every time."""
    if not api_key.startswith(API_KEY_PREFIX) or len(api_key) > 200:
        return None
    digest = hash_api_key(api_key)
    if hints is None:
        hints = {}  # this call's only
    hint = hints.get(digest)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.api_key(digest))
        if hint is not None:
            _queue_merchant(pipe, hint, prelude)
        merchant_id, *replies = await pipe.execute()
    if not merchant_id:
        hints.pop(digest, None)
        return None
    if merchant_id != hint:  # first seen here: the merchant in a second round trip
        if len(hints) >= _MAX_HINTS:
            hints.clear()
        hints[digest] = merchant_id
        async with redis.pipeline(transaction=False) as pipe:
            _queue_merchant(pipe, merchant_id, prelude)
            replies = await pipe.execute()
    raw, *extra = replies
    return Authenticated(parse_merchant(raw), extra) if raw else None


def _queue_merchant(
    pipe: aioredis.client.Pipeline, merchant_id: str, prelude: Prelude | None
) -> None:
    pipe.get(keys.merchant(merchant_id))
    if prelude is not None:
        prelude(pipe, merchant_id)


async def set_iban(redis: aioredis.Redis, merchant_id: str, iban: str | None) -> Merchant | None:
    """Set (or with None remove) the merchant's IBAN; None when there is no such merchant.

    One key, compare-and-set under WATCH: a concurrent change of another field is not lost.
    """
    value = None if iban is None else validate_iban(iban)
    key = keys.merchant(merchant_id)
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                if raw is None:
                    return None
                updated = Merchant.from_dict({**json.loads(raw), "iban": value})
                pipe.multi()
                pipe.set(key, json.dumps(updated.to_dict()))
                await pipe.execute()
                return updated
            except WatchError:
                continue
