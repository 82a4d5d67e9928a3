"""Issued invoices in Redis: gap-free numbering at issue, lookups scoped to the merchant."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from channels.base import ChannelName
from payments.invoice import Invoice, format_invoice_number

_NUMBER_PLACEHOLDER = "@@FACTO-INVOICE-NUMBER@@"

# Allocate the next number and store the invoice in one script: a crash cannot leave a number
# allocated without its invoice (gap) nor an invoice without its number (TESTCASES 73).
_ISSUE = """
local seq = redis.call('INCR', KEYS[1])
local number = string.format('%s-%04d-%06d', ARGV[2], tonumber(ARGV[3]), seq)
local body = string.gsub(ARGV[1], ARGV[4], number, 1)
redis.call('SET', KEYS[2], body)
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
redis.call('SET', KEYS[4], ARGV[7])
redis.call('SET', KEYS[5], ARGV[8])
redis.call('SET', KEYS[6], ARGV[8])
return number
"""


@dataclass(frozen=True, slots=True)
class InvoiceLocation:
    """Where an invoice lives and whom it talks to: enough to route a payment event."""

    merchant_id: str
    invoice_id: str
    channel: ChannelName
    address: str

    def dumps(self) -> str:
        return json.dumps(
            {
                "merchant_id": self.merchant_id,
                "invoice_id": self.invoice_id,
                "channel": self.channel.value,
                "address": self.address,
            }
        )

    @classmethod
    def loads(cls, raw: str) -> InvoiceLocation:
        data = json.loads(raw)
        return cls(
            data["merchant_id"], data["invoice_id"], ChannelName(data["channel"]), data["address"]
        )


def hash_link_token(token: str) -> str:
    """The digest a pay/view token is stored under (128 random bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_invoice_id() -> str:
    return f"inv_{secrets.token_hex(12)}"


def customer_address(invoice: Invoice) -> tuple[ChannelName, str]:
    if invoice.channel == "sms":
        return ChannelName.SMS, str(invoice.customer.phone)
    return ChannelName.TELEGRAM, str(invoice.customer.telegram_chat_id)


async def issue(redis: aioredis.Redis, draft: Invoice, prefix: str, now: datetime) -> Invoice:
    """Number and store `draft` atomically; returns the invoice with its final number."""
    body = draft.to_dict()
    body["number"] = _NUMBER_PLACEHOLDER
    channel, address = customer_address(draft)
    location = InvoiceLocation(draft.merchant_id, draft.id, channel, address)
    number = await redis.eval(
        _ISSUE,
        6,
        keys.merchant_invoice_seq(draft.merchant_id, draft.issue_date.year),
        keys.invoice(draft.merchant_id, draft.id),
        keys.merchant_invoices(draft.merchant_id),
        keys.invoice_locator(draft.id),
        keys.pay_token(hash_link_token(draft.pay_token)),
        keys.view_token(hash_link_token(draft.view_token)),
        json.dumps(body),
        prefix,
        str(draft.issue_date.year),
        _NUMBER_PLACEHOLDER.replace("-", "%-"),  # a Lua pattern: '-' is a quantifier there
        str(now.timestamp()),
        draft.id,
        location.dumps(),
        location.dumps(),
    )
    issued = await get_invoice(redis, draft.merchant_id, draft.id)
    if issued is None or issued.number != number:
        msg = f"invoice {draft.id} was not stored as issued"
        raise RuntimeError(msg)
    return issued


def draft_number(prefix: str, year: int) -> str:
    """A well-formed number for the draft; the real one is allocated by `issue`."""
    return format_invoice_number(prefix, year, 1)


async def get_invoice(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> Invoice | None:
    """The merchant's invoice, or None, including when it belongs to another merchant."""
    raw = await redis.get(keys.invoice(merchant_id, invoice_id))
    return Invoice.from_dict(json.loads(raw)) if raw else None


def save_invoice(pipe: aioredis.client.Pipeline, invoice: Invoice) -> None:
    pipe.set(keys.invoice(invoice.merchant_id, invoice.id), json.dumps(invoice.to_dict()))


async def locate_invoice(redis: aioredis.Redis, invoice_id: str) -> InvoiceLocation | None:
    raw = await redis.get(keys.invoice_locator(invoice_id))
    return InvoiceLocation.loads(raw) if raw else None


async def by_pay_token(redis: aioredis.Redis, token: str) -> Invoice | None:
    return await _by_token(redis, keys.pay_token, token)


async def by_view_token(redis: aioredis.Redis, token: str) -> Invoice | None:
    return await _by_token(redis, keys.view_token, token)


# Tokens issued before they were hashed sit under their clear value. Those were all
# token_urlsafe(16) (22 characters); the fallback is limited to such lengths so that a stored
# digest (64 hex characters, seen in a Redis dump) never opens the link it names.
_LEGACY_TOKEN_MAX_LENGTH = 43


async def _by_token(
    redis: aioredis.Redis, key_for: Callable[[str], str], token: str
) -> Invoice | None:
    if not 16 <= len(token) <= 128 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    hashed = key_for(hash_link_token(token))
    raw = await redis.get(hashed)
    if raw is None and len(token) <= _LEGACY_TOKEN_MAX_LENGTH:
        raw = await _migrate_clear_token(redis, key_for(token), hashed)
    if raw is None:
        return None
    location = InvoiceLocation.loads(raw)
    return await get_invoice(redis, location.merchant_id, location.invoice_id)


async def _migrate_clear_token(redis: aioredis.Redis, clear: str, hashed: str) -> str | None:
    """Move a link stored under its clear token to its digest; the link keeps working.

    SET then DEL rather than RENAME: the two names hash to different cluster slots, and
    repeating both steps after a crash between them is harmless.
    """
    raw: str | None = await redis.get(clear)
    if raw is not None:
        await redis.set(hashed, raw)
        await redis.delete(clear)
    return raw


async def migrate_clear_link_tokens(redis: aioredis.Redis) -> int:
    """Hash every link token still stored in clear (run by the housekeeping step)."""
    moved = 0
    for key_for in (keys.pay_token, keys.view_token):
        prefix = key_for("")
        async for name in redis.scan_iter(match=prefix + "*", count=500):
            token = name.removeprefix(prefix)
            if len(token) > _LEGACY_TOKEN_MAX_LENGTH:
                continue  # already a digest
            if await _migrate_clear_token(redis, name, key_for(hash_link_token(token))):
                moved += 1
    return moved
