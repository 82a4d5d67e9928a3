"""How long an ingested event's dedupe marker lives: as long as its source may send it again.

A marker exists only to recognise a redelivery; past its source's retry horizon
(PROVIDERS.md) it is memory for nothing. The markers of one conversation are one sorted set
(`conv:{...}:seen`: marker -> until when), trimmed of expired ones at each ingest; a marker is
the first 12 bytes of the event id's SHA-256 in base64, 16 characters (`marker`: a Twilio id
is 38; two ids of one conversation would share a marker with odds of 2**-96). A key per
marker cost ~110 bytes of Redis memory, a member of a small sorted set ~25. Markers written
one key each (`conv:{...}:seen:<event id>`) by earlier versions are still honoured until
their TTL ends.
"""

from __future__ import annotations

import base64
import hashlib

import redis.asyncio as aioredis

from bot.store import keys

HOUR = 3600
DAY = 24 * HOUR

# Twilio does not retry a messaging webhook (T6; at most one connection retry, T7, within its
# 15 s): a day still covers our own inbound spool, replayed when Redis comes back.
TWILIO_SEEN_SECONDS = DAY
# Telegram keeps an update it could not deliver for at most 24 h (G2), retrying meanwhile.
TELEGRAM_SEEN_SECONDS = 2 * DAY
# Stripe resends for up to 3 days (S5) and the reconcile sweep reads the Events API; internal
# events (an issued invoice, a released job) are replayed by sweeps too: kept as before.
DEFAULT_SEEN_SECONDS = 14 * DAY

_BY_SOURCE = {
    "sms": TWILIO_SEEN_SECONDS,
    "whatsapp": TWILIO_SEEN_SECONDS,
    "telegram": TELEGRAM_SEEN_SECONDS,
}


def seen_ttl_seconds(event_id: str) -> int:
    """The marker's life for an event id "<source>:<provider id>" (bot.web.webhooks)."""
    source, _, _rest = event_id.partition(":")
    return _BY_SOURCE.get(source, DEFAULT_SEEN_SECONDS)


# A Lua function for the ingest scripts (bot.engine.pipeline, bot.engine.campaigns): true the
# first time `id` is seen within its horizon, recording it; false for a redelivery. Times are
# Redis's own clock, like the key TTLs this replaces. The set lives as long as its longest
# marker; ids past their time are dropped as the next one is added.
FIRST_SIGHTING_LUA = """
local function first_sighting(seen, legacy, id, ttl)
  if redis.call('EXISTS', legacy) == 1 then return false end
  local now = tonumber(redis.call('TIME')[1])
  local until_time = redis.call('ZSCORE', seen, id)
  if until_time and tonumber(until_time) > now then return false end
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', now)
  redis.call('ZADD', seen, now + tonumber(ttl), id)
  if redis.call('TTL', seen) < tonumber(ttl) then redis.call('EXPIRE', seen, ttl) end
  return true
end
"""


MARKER_BYTES = 12


def marker(event_id: str) -> str:
    """The event's member in its conversation's marker set."""
    digest = hashlib.sha256(event_id.encode()).digest()[:MARKER_BYTES]
    return base64.b64encode(digest).decode()


def marker_keys(conversation: str, event_id: str) -> tuple[str, str]:
    """The conversation's marker set, and the one-key marker an earlier version wrote."""
    return keys.conv_seen_ids(conversation), keys.conv_seen(conversation, event_id)


async def forget(redis: aioredis.Redis, conversation: str, event_id: str) -> None:
    """Drop one marker, as if its horizon had passed (tests of late redeliveries)."""
    seen, legacy = marker_keys(conversation, event_id)
    await redis.zrem(seen, marker(event_id))
    await redis.delete(legacy)
