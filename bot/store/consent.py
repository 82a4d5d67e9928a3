"""Marketing consent per merchant and customer, across channels, with proof.

Policy (LEGAL_FR §2.1–2.2, TESTCASES 38–39): an opt-out stops every *marketing* message of
that merchant to every address we know for the customer (SMS number and Telegram chat alike).
Messages tied to an invoice the customer owes — the invoice, reminders, links, receipts, and
answers to the customer's own messages — are transactional and still sent. Broadcasts must
ask `may_market` for every recipient.
"""

from __future__ import annotations

import json
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.conversations import person_key

CONSENT_LOG_LIMIT = 100_000


async def is_opted_out(redis: aioredis.Redis, merchant_id: str, addresses: list[str]) -> bool:
    """Opted out from this merchant, or with a STOP sent where no merchant was known."""
    addresses = _people(addresses)
    for owner in (merchant_id, keys.NO_MERCHANT):
        for address in addresses:
            raw = await redis.get(keys.consent(owner, address))
            if raw and not json.loads(raw)["opted_in"]:
                return True
    return False


async def may_market(
    redis: aioredis.Redis, merchant_id: str, addresses: list[str], via: str | None = None
) -> bool:
    """Whether a marketing message may go to this customer: never after an opt-out.

    `via`: the conversation it would go through; a marketing opt-out of that channel only
    (WhatsApp's own, Meta 131050) refuses it there and nowhere else.

    Consent is recorded by a START in a chat, or with its proof when the merchant registers
    the customer (`bot.store.customers`); any one recorded address of the customer suffices
    when none of them opted out.
    """
    if await is_opted_out(redis, merchant_id, addresses):
        return False
    if via is not None and await channel_opted_out(redis, merchant_id, via):
        return False
    for address in _people(addresses):
        raw = await redis.get(keys.consent(merchant_id, address))
        if raw is not None and json.loads(raw)["opted_in"]:
            return True
    return False


def record(
    pipe: aioredis.client.Pipeline,
    merchant_id: str,
    addresses: list[str],
    *,
    opted_in: bool,
    words: str,
    channel: str,
    at: datetime,
    proof: dict[str, str] | None = None,
) -> None:
    addresses = _people(addresses)
    entry: dict[str, object] = {
        "opted_in": opted_in,
        "words": words[:500],
        "channel": channel,
        "at": at.isoformat(),
        "addresses": addresses,
    }
    if proof:  # an opt-in captured outside a chat: its source (form, shop) and customer
        entry["proof"] = proof
    for address in addresses:
        pipe.set(keys.consent(merchant_id, address), json.dumps(entry))
        if opted_in:  # a START lifts a channel's own marketing opt-out too
            pipe.delete(keys.consent_channel_marketing(merchant_id, address))
    pipe.rpush(keys.consent_log(merchant_id), json.dumps(entry))
    pipe.ltrim(keys.consent_log(merchant_id), -CONSENT_LOG_LIMIT, -1)


async def channel_opted_out(redis: aioredis.Redis, merchant_id: str, conversation: str) -> bool:
    """Whether marketing was stopped on this conversation's channel only (Meta 131050)."""
    key = keys.consent_channel_marketing(merchant_id, person_key(conversation))
    return bool(await redis.exists(key))


def record_channel_marketing_opt_out(
    pipe: aioredis.client.Pipeline,
    merchant_id: str,
    conversation: str,
    *,
    words: str,
    at: datetime,
) -> None:
    """The customer stopped marketing on this conversation's channel only (WhatsApp's
    "stop marketing messages", Meta 131050): marketing stops there; other channels and
    transactional messages are not affected. Logged with the rest, as proof."""
    address = person_key(conversation)
    entry = {
        "opted_in": False,
        "scope": "marketing on this channel only",
        "words": words[:500],
        "channel": address.split(":", 1)[0],
        "at": at.isoformat(),
        "addresses": [address],
    }
    pipe.set(keys.consent_channel_marketing(merchant_id, address), json.dumps(entry))
    pipe.rpush(keys.consent_log(merchant_id), json.dumps(entry))
    pipe.ltrim(keys.consent_log(merchant_id), -CONSENT_LOG_LIMIT, -1)


def _people(addresses: list[str]) -> list[str]:
    """Consent follows the person, whichever of the merchant's senders they wrote to: a
    conversation key ("sms@+33700...:+336...") counts as its channel and address."""
    return sorted({person_key(address) for address in addresses})
