"""Personal offer links and stock: one reservation per unit, never more than the stock.

A link's token is stored under its SHA-256 (`token:offer:<digest>`) when its message is
committed. A tap reserves a unit in one Lua step on the merchant's slot: the campaign's
`reserved` count against its stock, and the customer's hold (one open hold per customer, so
their concurrent taps share it), and the units they bought against the offer's per-customer
limit. The same step writes the hold's record (who it is for, and the Checkout Session's
`expires_at` and locale, fixed once so that every later create for the hold, by a retap or
after a crash, is a replay of the same idempotent request). A paid hold becomes a unit bought
(the stock stays taken); an expired one gives its unit back. A hold whose Checkout Session
could not be created is released at once, and its record says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys

# KEYS: campaign hash, holds hash, bought hash, the new hold's record. ARGV: customer, stock,
# now (unix), expires (unix), hold id, per-customer limit (0: none), then the record's field
# and value pairs. Returns {1, hold} new hold, {0, hold} the customer's open hold, {-1, ''}
# sold out, {-2, ''} offer ended, {-3, ''} limit reached.
_RESERVE = """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'running' and state ~= 'paused' then return {-2, ''} end
if tonumber(ARGV[3]) >= tonumber(ARGV[4]) then return {-2, ''} end
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then return {0, held} end
local limit = tonumber(ARGV[6])
if limit > 0 and tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0') >= limit then
  return {-3, ''}
end
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
if reserved >= tonumber(ARGV[2]) then return {-1, ''} end
redis.call('HINCRBY', KEYS[1], 'reserved', 1)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[4], unpack(ARGV, 7))
return {1, ARGV[5]}
"""

# KEYS: campaign hash, holds hash, the hold's record. ARGV: customer, hold, outcome. Gives
# the unit back once, and settles the record (the sweep stops looking at it).
_RELEASE = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], 'outcome', ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'reserved', -1)
return 1
"""


@dataclass(frozen=True, slots=True)
class OfferLink:
    merchant_id: str
    campaign_id: str
    customer_id: str
    variant: str
    conversation: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def by_token(redis: aioredis.Redis, token: str) -> OfferLink | None:
    if not 16 <= len(token) <= 64:
        return None
    raw = await redis.get(keys.offer_token(token_digest(token)))
    if raw is None:
        return None
    data = json.loads(raw)
    return OfferLink(
        data["merchant_id"],
        data["campaign_id"],
        data["customer_id"],
        data["variant"],
        data["conversation"],
    )


async def reserve(
    redis: aioredis.Redis,
    link: OfferLink,
    *,
    stock: int,
    now: datetime,
    expires: datetime,
    hold_id: str,
    per_customer_limit: int | None,
    record: Mapping[str, str],
) -> tuple[int, str]:
    """Reserve a unit for `link`'s customer; a new hold's record is `record` plus who it is
    for (customer, variant, conversation)."""
    fields = {
        **record,
        "customer_id": link.customer_id,
        "variant": link.variant,
        "conversation": link.conversation,
    }
    result, hold = await redis.eval(
        _RESERVE,
        4,
        keys.campaign(link.merchant_id, link.campaign_id),
        keys.campaign_holds(link.merchant_id, link.campaign_id),
        keys.campaign_bought(link.merchant_id, link.campaign_id),
        keys.offer_session(link.merchant_id, link.campaign_id, hold_id),
        link.customer_id,
        str(stock),
        repr(now.timestamp()),
        repr(expires.timestamp()),
        hold_id,
        str(per_customer_limit or 0),
        *(part for pair in fields.items() for part in pair),
    )
    return int(result), str(hold)


async def release(
    redis: aioredis.Redis,
    merchant_id: str,
    campaign_id: str,
    customer_id: str,
    hold_id: str,
    *,
    outcome: str,
) -> bool:
    """Give the hold's unit back if it is still the customer's open hold (once)."""
    return bool(
        await redis.eval(
            _RELEASE,
            3,
            keys.campaign(merchant_id, campaign_id),
            keys.campaign_holds(merchant_id, campaign_id),
            keys.offer_session(merchant_id, campaign_id, hold_id),
            customer_id,
            hold_id,
            outcome,
        )
    )


async def count(redis: aioredis.Redis, link: OfferLink, counter: str) -> None:
    """Conversion counters, overall and per variant (one MULTI on the merchant's slot)."""
    name = keys.campaign_counts(link.merchant_id, link.campaign_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hincrby(name, counter, 1)
        pipe.hincrby(name, f"{link.variant}:{counter}", 1)
        await pipe.execute()
