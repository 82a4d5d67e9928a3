"""Numbers that cannot receive SMS (Twilio 30006: a landline or an unreachable carrier).

Marked when a status callback says so; the sender then refuses at once (NotSmsCapable; the
mark is read with the message's claim, bot.engine.outbox),
so a later message goes straight to the customer's next channel, or is given up and listed,
never retried against a number that cannot take it (PROVIDERS §2.4). The mark is a property
of the number, not of a merchant. It lapses after a while: numbers get ported to mobiles.
"""

from __future__ import annotations

import json
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys

MARK_TTL_SECONDS = 180 * 24 * 3600


async def mark(redis: aioredis.Redis, phone: str, code: int, at: datetime) -> None:
    await redis.set(
        keys.sms_not_capable(phone),
        json.dumps({"code": code, "at": at.isoformat()}),
        ex=MARK_TTL_SECONDS,
    )


async def cannot_receive(redis: aioredis.Redis, phone: str) -> bool:
    return bool(await redis.exists(keys.sms_not_capable(phone)))
