"""The fast-payment reward's I/O (payments.reward holds the rules).

At issue, `stamp` puts the merchant's current offer on the draft: the invoice keeps it, so a
later policy change applies to invoices issued afterwards, and its page, PDF and messages all
say the same. When the invoice is paid in full, `record_paid` (queued by the dispatch's
effects, flows.notices decides) stores the reward and updates the customer's run of invoices
paid on time and points, once per invoice whatever replays or duplicate webhooks do: one
script on the merchant's slot, guarded by the invoice's own reward key.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from bot.store import policy as collection_policy
from payments.invoice import Invoice
from payments.reward import GrantedReward

# KEYS: 1 the invoice's paid-and-counted record, 2 the customer's record (merchant slot).
# ARGV: 1 the record (JSON), 2 '1' if paid by its due date, 3 points earned (0: none).
_RECORD_PAID = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
if ARGV[2] == '1' then
  redis.call('HINCRBY', KEYS[2], 'streak', 1)
  redis.call('HINCRBY', KEYS[2], 'on_time', 1)
else
  redis.call('HSET', KEYS[2], 'streak', 0)
end
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[2], 'points', ARGV[3]) end
return 1
"""


async def stamp(redis: aioredis.Redis, draft: Invoice, now: datetime) -> Invoice:
    """`draft` with the reward its merchant offers right now (unchanged when off)."""
    return stamp_with(draft, await collection_policy.load_all(redis, draft.merchant_id), now)


def stamp_with(
    draft: Invoice, policy: collection_policy.CollectionPolicy, now: datetime
) -> Invoice:
    """`stamp` with the merchant's policy read already."""
    offer = policy.reward.offer(now)
    return draft if offer is None else replace(draft, reward=offer)


def customer_key(invoice: Invoice) -> str:
    """The same person across a merchant's invoices: their phone, else their Telegram chat."""
    phone = invoice.customer.phone
    return phone if phone else f"tg:{invoice.customer.telegram_chat_id}"


def record_paid(
    pipe: aioredis.client.Pipeline,
    invoice: Invoice,
    *,
    on_time: bool,
    granted: GrantedReward | None,
    at: datetime,
) -> None:
    """Once per invoice: the reward it earned (if any) and the customer's streak and points."""
    record = {"paid_at": at.isoformat(), "on_time": on_time}
    if granted is not None:
        record["reward"] = granted.to_dict()
    points = granted.points if granted is not None and granted.points else 0
    pipe.eval(
        _RECORD_PAID,
        2,
        keys.invoice_reward(invoice.merchant_id, invoice.id),
        keys.payer(invoice.merchant_id, customer_key(invoice)),
        json.dumps(record),
        "1" if on_time else "0",
        str(points),
    )


async def load_payer(redis: aioredis.Redis, invoice: Invoice) -> tuple[int, int]:
    """The customer's current run of invoices paid on time, and their points."""
    found = await redis.hmget(
        keys.payer(invoice.merchant_id, customer_key(invoice)), ["streak", "points"]
    )
    return int(found[0] or 0), int(found[1] or 0)
