"""The invoice's delivery timeline: messages that failed, what replaced them, and why.

Shown by `GET /api/v1/invoices/{id}` (`deliveries`), so that a merchant sees that the invoice
went by SMS because WhatsApp could not reach the customer. Only what went wrong is written:
a message that simply arrived needs no entry. Capped per invoice.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys

LIMIT = 200


async def note(
    redis: aioredis.Redis,
    merchant_id: str,
    invoice_id: str,
    *,
    at: datetime,
    message_id: str,
    channel: str,
    error: str,
    replaced_by: str | None,
) -> None:
    """`replaced_by`: the channel the content was queued on again (WhatsApp itself when it
    went again as a template), or None."""
    entry = {
        "at": at.isoformat(),
        "message_id": message_id,
        "channel": channel,
        "event": "failed",
        "error": error,
        "replaced_by": replaced_by,
    }
    key = keys.invoice_deliveries(merchant_id, invoice_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps(entry))
        pipe.ltrim(key, -LIMIT, -1)
        await pipe.execute()


async def read(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> list[dict[str, Any]]:
    raw = await redis.lrange(keys.invoice_deliveries(merchant_id, invoice_id), 0, -1)
    return [json.loads(item) for item in raw]
