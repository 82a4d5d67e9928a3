"""Issued invoices in Redis: gap-free numbering at issue, lookups scoped to the merchant."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.conversations import conversation_key
from channels.base import ChannelName
from payments.invoice import Invoice, format_invoice_number

INVOICES_PARSED = 2048  # invoices a process keeps parsed (a few MB at most)
NUMBER_PLACEHOLDER = "@@FACTO-INVOICE-NUMBER@@"  # replaced by the number at commit

# Allocate the next number and store the invoice in one step: a crash cannot leave a number
# allocated without its invoice (gap) nor an invoice without its number (TESTCASES 73). A Lua
# function, so that the merchant API's create runs it in the same script as the idempotency
# record (bot.engine.issuing). Every key is on the merchant's hash slot: what lives elsewhere
# (the locator, the link tokens, the "invoice issued" event) is written in the same step as an
# *announcement* (`merchant_announcements`), which the caller then carries out idempotently.
ISSUE_LUA = """
local function facto_issue(k_seq, k_invoice, k_list, k_announce,
                           body, prefix, year, placeholder, score, invoice_id, announcement)
  local seq = redis.call('INCR', k_seq)
  local number = string.format('%s-%04d-%06d', prefix, tonumber(year), seq)
  local stored = string.gsub(body, placeholder, number, 1)
  redis.call('SET', k_invoice, stored)
  redis.call('ZADD', k_list, score, invoice_id)
  redis.call('HSET', k_announce, invoice_id, announcement)
  return number
end
"""
ISSUE_KEYS = 4
ISSUE_ARGS = 7

# After a create whose answer was lost: either it committed, or it never will (the void marker
# makes a script still on its way give up), so the caller can tell the truth.
_SETTLE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return 0
"""
_VOID_TTL_SECONDS = 24 * 3600

NUMBER_PATTERN = NUMBER_PLACEHOLDER.replace("-", "%-")  # a Lua pattern: '-' is a quantifier


@dataclass(frozen=True, slots=True)
class InvoiceLocation:
    """Where an invoice lives and whom it talks to: enough to route a payment event."""

    merchant_id: str
    invoice_id: str
    channel: ChannelName
    address: str
    sender: str | None = None  # the merchant's own sender; None: the platform's

    @property
    def conversation(self) -> str:
        return conversation_key(self.channel, self.address, self.sender)

    def dumps(self) -> str:
        data = {
            "merchant_id": self.merchant_id,
            "invoice_id": self.invoice_id,
            "channel": self.channel.value,
            "address": self.address,
        }
        if self.sender:
            data["sender"] = self.sender
        return json.dumps(data)

    @classmethod
    def loads(cls, raw: str) -> InvoiceLocation:
        data = json.loads(raw)
        return cls(
            data["merchant_id"],
            data["invoice_id"],
            ChannelName(data["channel"]),
            data["address"],
            data.get("sender") or None,
        )


def hash_link_token(token: str) -> str:
    """The digest a pay/view token is stored under (128 random bits: a fast hash is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_invoice_id() -> str:
    return f"inv_{secrets.token_hex(12)}"


def customer_address(invoice: Invoice) -> tuple[ChannelName, str]:
    if invoice.channel == "sms":
        return ChannelName.SMS, str(invoice.customer.phone)
    if invoice.channel == "whatsapp":
        return ChannelName.WHATSAPP, str(invoice.customer.phone)
    return ChannelName.TELEGRAM, str(invoice.customer.telegram_chat_id)


def invoice_conversation(invoice: Invoice) -> str:
    """The conversation the invoice talks in: its channel, its sender, its customer."""
    channel, address = customer_address(invoice)
    return conversation_key(channel, address, invoice.sender)


def issue_step(
    draft: Invoice, prefix: str, now: datetime, announcement: str
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of `facto_issue` (ISSUE_LUA) for `draft`, numbered at commit."""
    body = draft.to_dict()
    body["number"] = NUMBER_PLACEHOLDER
    script_keys = [
        keys.merchant_invoice_seq(draft.merchant_id, draft.issue_date.year),
        keys.invoice(draft.merchant_id, draft.id),
        keys.merchant_invoices(draft.merchant_id),
        keys.merchant_announcements(draft.merchant_id),
    ]
    args = [
        json.dumps(body),
        prefix,
        str(draft.issue_date.year),
        NUMBER_PATTERN,
        str(now.timestamp()),
        draft.id,
        announcement,
    ]
    return script_keys, args


def link_writes(draft: Invoice) -> list[tuple[str, str]]:
    """What makes an issued invoice findable: its locator and its pay and view links.

    Each on its own hash slot; plain SETs of fixed values, so writing them again is harmless.
    """
    channel, address = customer_address(draft)
    location = InvoiceLocation(draft.merchant_id, draft.id, channel, address, draft.sender).dumps()
    return [
        (keys.invoice_locator(draft.id), location),
        (keys.pay_token(hash_link_token(draft.pay_token)), location),
        (keys.view_token(hash_link_token(draft.view_token)), location),
    ]


async def settle_lost_issue(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> bool:
    """True if the invoice was committed; otherwise it is voided and never will be."""
    committed = await redis.eval(
        _SETTLE,
        2,
        keys.invoice(merchant_id, invoice_id),
        keys.invoice_void(merchant_id, invoice_id),
        str(_VOID_TTL_SECONDS),
    )
    return bool(committed)


def draft_number(prefix: str, year: int) -> str:
    """A well-formed number for the draft; the real one is allocated by `issue`."""
    return format_invoice_number(prefix, year, 1)


async def get_invoice(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> Invoice | None:
    """The merchant's invoice, or None, including when it belongs to another merchant."""
    raw = await redis.get(keys.invoice(merchant_id, invoice_id))
    return invoice_from_json(raw) if raw else None


@functools.lru_cache(maxsize=INVOICES_PARSED)
def invoice_from_json(raw: str) -> Invoice:
    """The invoice stored as `raw`, parsed once per process for the same text.

    Keyed by the stored text itself, so it can never be stale: an invoice that changes is
    stored as another text (and parsed anew), whichever process wrote it. Safe to share:
    an Invoice and everything in it is frozen. A worker reads each conversation's invoice
    two or three times per message (the dispatch, the send's pay-button check, the sent
    record): parsing it (dates, money, lines, totals checked) was ~3 % of its time."""
    return Invoice.from_dict(json.loads(raw))


def save_invoice(pipe: aioredis.client.Pipeline, invoice: Invoice) -> None:
    pipe.set(keys.invoice(invoice.merchant_id, invoice.id), json.dumps(invoice.to_dict()))
    dashboard_changed(pipe, invoice.merchant_id, INVOICES_CHANGED)


INVOICES_CHANGED = "invoices"
REVIEW_CHANGED = "review"


def dashboard_changed(
    pipe: aioredis.client.Pipeline | aioredis.Redis, merchant_id: str, what: str
) -> Any:
    """Tell the merchant's open dashboards that a list changed (bot.web.dashboard's websocket).
    Only the list's name goes out: the page reads the rest with its own session."""
    return pipe.publish(keys.dashboard_channel(merchant_id), json.dumps({"ref": what}))


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


LOCATIONS_KEPT = 10_000


class InvoiceLocations:
    """The invoices' locators one process has read, kept (one per process, on Services).

    An invoice's locator is written once, when it is issued, and never changed or deleted
    (bot.store.invoices): what was read of it stays true. Its absence is not kept (the invoice
    may be issued a moment later). Bounded: the least recently used is dropped first.
    """

    def __init__(self, kept: int = LOCATIONS_KEPT) -> None:
        self._kept = kept
        self._known: OrderedDict[str, InvoiceLocation] = OrderedDict()

    def __len__(self) -> int:
        return len(self._known)

    async def find(self, redis: aioredis.Redis, invoice_id: str) -> InvoiceLocation | None:
        location = self._known.get(invoice_id)
        if location is not None:
            self._known.move_to_end(invoice_id)
            return location
        location = await locate_invoice(redis, invoice_id)
        if location is not None:
            self._known[invoice_id] = location
            if len(self._known) > self._kept:
                self._known.popitem(last=False)
        return location
