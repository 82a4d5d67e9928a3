"""GDPR requests about one customer of a merchant: export everything, erase on request.

What Facto holds about a customer, and what an erasure does with it:
- the customer record (name, channels, tags) — erased;
- marketing consent per address and the consent log (words, proof) — the opt-out *flag* is
  kept (a suppression list is what stops us messaging someone who said STOP, and keeping it is
  lawful), its words and proof are erased, and log entries name a digest instead of addresses;
- transcripts of their conversations — erased, but only conversations that belong to this
  merchant now (a number may have talked to another merchant through the same Facto: their
  conversation is not this merchant's to export or erase);
- hand-over records of those conversations — erased;
- invoices and credit notes naming them — **kept**, unchanged, for the 10 years the law
  requires (LEGAL_FR: Code de commerce L123-22); they are listed in the export and counted in
  the erasure record.
The erasure itself is recorded (`merchant:{m}:erasures`: customer id, time, digests of the
addresses, what was erased and kept), without the personal data it removed.

A customer who was only ever invoiced (POST /api/v1/invoices) has no customer record: the
request then names an address ("sms:+336…", "whatsapp:+336…", "telegram:<chat id>"), and the
same export and erasure run on it (a phone covers its SMS and WhatsApp addresses, since an
invoice names a phone, not a channel). Its record holds `customer_id: null`. An address that
belongs to a registered customer stands for that whole customer.

Not erased here, because each is deleted on a short clock by housekeeping (bot.engine.retention)
and erasing earlier would break a delivery or a payment under way:
- outbox (sent-message) records: their text goes hours after sending, the record after
  FACTO_OUTBOX_RETENTION_DAYS — they prove a reminder was sent to a number for a live invoice;
- campaign recipient lists: after FACTO_CAMPAIGN_RETENTION_DAYS (the sending and the click
  attribution of a running campaign read them);
- abandoned carts: the shop's own record, gone when the cart is paid or given up;
- Telegram links: a hashed start token with the chat id, gone when the link expires.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from bot.clock import Clock
from bot.engine.lua import Lua
from bot.store import customers, keys, senders
from bot.store.conversations import conversation_key, transcript
from bot.store.customers import Customer
from bot.store.payments import credit_notes_of
from channels.base import ChannelName
from payments.invoice import Invoice

SCAN_CHUNK = 500
# How long an erasure waits for a conversation's dispatch to finish, checking this often.
DISPATCH_WAIT_S = 30.0
DISPATCH_POLL_S = 0.05

# The transcript goes only while no dispatch holds the conversation: a dispatch commits its
# transcript entries under that lock, so deleting meanwhile could leave the entries of the
# message it is handling behind the erasure. Checked and deleted in one step (same slot).
_ERASE_IF_IDLE = Lua("""
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
return redis.call('DEL', KEYS[1], KEYS[3])
""")


class ConversationBusy(Exception):
    """A conversation of the customer stayed in dispatch for longer than an erasure waits."""


def digest(address: str) -> str:
    """Who an anonymised record was about, without saying it (the same address, same digest)."""
    return hashlib.sha256(address.encode()).hexdigest()[:16]


def _matches(invoice: Invoice, addresses: set[str]) -> bool:
    own = set()
    if invoice.customer.phone:
        own |= {f"sms:{invoice.customer.phone}", f"whatsapp:{invoice.customer.phone}"}
    if invoice.customer.telegram_chat_id is not None:
        own.add(f"telegram:{invoice.customer.telegram_chat_id}")
    return bool(own & addresses)


async def _invoices_of(
    redis: aioredis.Redis, merchant_id: str, addresses: set[str]
) -> list[Invoice]:
    ids: list[str] = await redis.zrange(keys.merchant_invoices(merchant_id), 0, -1)
    found: list[Invoice] = []
    for offset in range(0, len(ids), SCAN_CHUNK):
        chunk = ids[offset : offset + SCAN_CHUNK]
        raws = await redis.mget([keys.invoice(merchant_id, i) for i in chunk])
        for raw in raws:
            if raw is not None:
                invoice = Invoice.from_dict(json.loads(raw))
                if _matches(invoice, addresses):
                    found.append(invoice)
    return found


async def _own_conversations(
    redis: aioredis.Redis, merchant_id: str, addresses: list[str]
) -> list[str]:
    """The customer's conversations whose current merchant is this one: on the platform's
    senders, and on the merchant's own senders (bot.store.senders)."""
    own = await senders.merchant_refs(redis, merchant_id)
    candidates = list(addresses)
    for address in addresses:
        channel, _, who = address.partition(":")
        if channel in own:
            candidates.append(conversation_key(ChannelName(channel), who, own[channel]))
    owned = []
    for address in candidates:
        raw = await redis.get(keys.conv_state(address))
        if raw is not None and json.loads(raw).get("merchant_id") == merchant_id:
            owned.append(address)
    return owned


_CHANNELS = ("sms", "whatsapp", "telegram")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_CHAT = re.compile(r"-?[0-9]{1,20}")


def address_of(ident: str) -> list[str] | None:
    """The addresses an address-shaped request names, or None if it is a customer id.

    A phone stands for both its SMS and WhatsApp conversations (an invoice names a phone)."""
    channel, colon, who = ident.partition(":")
    if not colon or channel not in _CHANNELS:
        return None
    if channel == "telegram":
        return [ident] if _CHAT.fullmatch(who) else []
    return [f"sms:{who}", f"whatsapp:{who}"] if _PHONE.fullmatch(who) else []


async def _subject(
    redis: aioredis.Redis, merchant_id: str, ident: str
) -> tuple[Customer | None, list[str]] | None:
    """Whom a request is about: a registered customer, or an address with anything of this
    merchant's about it (an invoice, a conversation, a consent); None if nothing is known."""
    named = address_of(ident)
    if named is None:
        customer = await customers.get(redis, merchant_id, ident)
        return None if customer is None else (customer, customer.addresses())
    if not named:
        return None
    async for customer in customers.scan(redis, merchant_id):  # rare request: a scan is fine
        if set(customer.addresses()) & set(named):  # registered after all: the whole record
            return customer, customer.addresses()
    known = (
        await _invoices_of(redis, merchant_id, set(named))
        or await _own_conversations(redis, merchant_id, named)
        or await redis.exists(*[keys.consent(merchant_id, a) for a in named])
    )
    return (None, named) if known else None


async def export_customer(
    redis: aioredis.Redis, merchant_id: str, customer_id: str
) -> dict[str, Any] | None:
    """Everything about a customer (by id, or by address for an invoice-only one)."""
    subject = await _subject(redis, merchant_id, customer_id)
    if subject is None:
        return None
    customer, addresses = subject
    consent = {}
    for address in addresses:
        raw = await redis.get(keys.consent(merchant_id, address))
        consent[address] = json.loads(raw) if raw else None
    log = [json.loads(e) for e in await redis.lrange(keys.consent_log(merchant_id), 0, -1)]
    invoices = await _invoices_of(redis, merchant_id, set(addresses))
    notes = [n for inv in invoices for n in await credit_notes_of(redis, merchant_id, inv.id)]
    conversations = {}
    for address in await _own_conversations(redis, merchant_id, addresses):
        conversations[address] = await transcript(redis, address)
    digests = {digest(a) for a in addresses}
    return {
        "customer": customer.to_dict() if customer else {"id": None, "addresses": addresses},
        "consent": consent,
        "consent_log": [e for e in log if set(e.get("addresses", ())) & set(addresses)],
        "conversations": conversations,
        "invoices": [_invoice_export(inv) for inv in invoices],
        "credit_notes": [{**n.to_api(), "customer": n.to_dict()["customer"]} for n in notes],
        "erasures": [
            e
            for e in map(
                json.loads, await redis.lrange(keys.merchant_erasures(merchant_id), 0, -1)
            )
            if (customer and e["customer_id"] == customer_id)
            or (not customer and digests & set(e["addresses"]))
        ],
    }


def _invoice_export(invoice: Invoice) -> dict[str, Any]:
    data = invoice.to_dict()
    for secret in ("pay_token", "view_token"):  # links, not data about the person
        data.pop(secret, None)
    return data


async def _erase_transcript(redis: aioredis.Redis, conversation: str, clock: Clock) -> None:
    waited = 0.0
    while (
        await _ERASE_IF_IDLE(
            redis,
            [
                keys.conv_log(conversation),
                keys.conv_lock(conversation),
                keys.conv_log_archive(conversation),  # the older turns (bot.store.conversations)
            ],
        )
        == -1
    ):
        if waited >= DISPATCH_WAIT_S:
            raise ConversationBusy(conversation)
        await clock.sleep(DISPATCH_POLL_S)
        waited += DISPATCH_POLL_S


async def erase_customer(
    redis: aioredis.Redis, merchant_id: str, customer_id: str, clock: Clock
) -> dict[str, Any] | None:
    """Erase what may be erased; the record of the erasure, or None if no such customer.

    Raises ConversationBusy if one of the customer's conversations stays in dispatch for
    longer than DISPATCH_WAIT_S (nothing of the merchant's side is erased then: ask again)."""
    subject = await _subject(redis, merchant_id, customer_id)
    if subject is None:
        return None
    customer, addresses = subject
    now = clock.now()
    owned = await _own_conversations(redis, merchant_id, addresses)
    # Conversations first (each on its own slot): a crash before the merchant's commit leaves
    # the customer in place, and the request is simply made again.
    for address in owned:
        await _erase_transcript(redis, address, clock)
    invoices = await _invoices_of(redis, merchant_id, set(addresses))
    notes = sum([len(await credit_notes_of(redis, merchant_id, i.id)) for i in invoices])
    record = {
        "customer_id": customer.id if customer else None,  # an address is personal data
        "at": now.isoformat(),
        "addresses": [digest(a) for a in addresses],
        "erased": (["customer"] if customer else [])
        + ["consent_details", "consent_log_addresses", "handoffs"]
        + (["transcripts"] if owned else []),
        "transcripts_erased": len(owned),
        "kept": {"invoices": len(invoices), "credit_notes": notes, "reason": "LEGAL_FR 10 years"},
    }
    await _erase_merchant_side(
        redis, merchant_id, customer.id if customer else None, (addresses, owned), record
    )
    return record


async def _erase_merchant_side(
    redis: aioredis.Redis,
    merchant_id: str,
    customer_id: str | None,
    where: tuple[list[str], list[str]],
    record: dict[str, Any],
) -> None:
    """One MULTI on the merchant's slot, retried if the consent log moved meanwhile.

    `where`: the customer's addresses, and those of them whose conversation is this merchant's.
    """
    addresses, owned = where
    log_key = keys.consent_log(merchant_id)
    consent_keys = [keys.consent(merchant_id, a) for a in addresses] + [
        keys.consent_channel_marketing(merchant_id, a)
        for a in addresses  # WhatsApp's own
    ]
    phones_key = keys.customer_phones(merchant_id)  # shop orders' phone -> customer index
    phones = sorted({a.partition(":")[2] for a in addresses if not a.startswith("telegram:")})
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(log_key, phones_key, *consent_keys)
                log = await pipe.lrange(log_key, 0, -1)
                consents = [await pipe.get(k) for k in consent_keys]
                indexed = [await pipe.hget(phones_key, phone) for phone in phones]
                pipe.multi()
                if customer_id is not None:
                    pipe.hdel(keys.customers(merchant_id), customer_id)
                for key, raw in zip(consent_keys, consents, strict=True):
                    if raw is not None:
                        pipe.set(key, json.dumps(_anonymous(json.loads(raw), addresses)))
                for index, raw in enumerate(log):
                    entry = json.loads(raw)
                    if set(entry.get("addresses", ())) & set(addresses):
                        pipe.lset(log_key, index, json.dumps(_anonymous(entry, addresses)))
                for phone, holder in zip(phones, indexed, strict=True):
                    if holder == customer_id:  # the number, kept to find them on an order
                        pipe.hdel(phones_key, phone)
                for payer in _payers(addresses):  # streak and reward points (issue 10)
                    pipe.delete(keys.payer(merchant_id, payer))
                for address in owned:
                    pipe.delete(keys.handoff(merchant_id, address))
                    pipe.zrem(keys.waiting_conversations(merchant_id), address)
                pipe.rpush(keys.merchant_erasures(merchant_id), json.dumps(record))
                await pipe.execute()
                return
            except WatchError:
                continue


def _payers(addresses: list[str]) -> list[str]:
    """The customer's reward records (bot.engine.rewards.customer_key): by phone, or chat."""
    found = set()
    for address in addresses:
        channel, _, value = address.partition(":")
        found.add(f"tg:{value}" if channel == "telegram" else value)
    return sorted(found)


def _anonymous(entry: dict[str, Any], addresses: list[str]) -> dict[str, Any]:
    """A consent record without the person: its decision and date stay, words and proof go."""
    return {
        "opted_in": entry.get("opted_in"),
        "channel": entry.get("channel"),
        "at": entry.get("at"),
        "words": "",
        "addresses": [digest(a) if a in addresses else a for a in entry.get("addresses", ())],
        "erased": True,
    }
