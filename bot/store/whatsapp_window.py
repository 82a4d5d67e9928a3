"""The WhatsApp customer-service window of each conversation: when the customer last wrote.

Written when a WhatsApp message from the customer is stored, read by the WhatsApp adapter
when it sends (channels.twilio_whatsapp decides free text or template from it). Only moves
forward, so a late or replayed webhook never shortens the window.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.conversations import conversation_key
from channels.base import ChannelName

# Kept a little beyond the 24 h window: after that the answer is "closed" either way.
TTL_SECONDS = 48 * 3600

# Set the time only if it is later than the stored one. ARGV: unix time, ttl.
_FORWARD = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""


# `sender`: the merchant's own WhatsApp number the conversation goes through (None: the
# platform's): each sender has its own window with the customer, as on WhatsApp.


async def note_inbound(
    redis: aioredis.Redis, phone: str, at: datetime, sender: str | None = None
) -> None:
    await redis.eval(_FORWARD, 1, _key(phone, sender), repr(at.timestamp()), str(TTL_SECONDS))


async def last_inbound(
    redis: aioredis.Redis, phone: str, sender: str | None = None
) -> datetime | None:
    raw = await redis.get(_key(phone, sender))
    return datetime.fromtimestamp(float(raw), tz=UTC) if raw else None


def _key(phone: str, sender: str | None) -> str:
    return keys.whatsapp_last_inbound(conversation_key(ChannelName.WHATSAPP, phone, sender))


async def forget(redis: aioredis.Redis, phone: str, sender: str | None = None) -> None:
    """WhatsApp said the window is closed (63016): believe it until the customer writes."""
    await redis.delete(_key(phone, sender))
