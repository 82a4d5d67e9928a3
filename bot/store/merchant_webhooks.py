"""Outgoing webhooks in Redis: the merchant's endpoints, events waiting to be fanned out, one
delivery per (event, endpoint) with its next attempt, and the delivery log.

Every key carries the merchant's hash tag: the fan-out script and each delivery's update touch
one slot. Only `WEBHOOK_MERCHANTS` (which merchants have work) is global, written apart.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys

EVENT_TYPES = (
    "invoice.paid",
    "invoice.partially_paid",
    "instalment.paid",
    "promise.made",
    "handoff.requested",
    "payment.needs_review",
    "campaign.finished",
)
SEEN_TTL_SECONDS = 30 * 24 * 3600
LOG_LIMIT = 500
MAX_ENDPOINTS = 10


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: str

    def dumps(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "url": self.url,
                "events": list(self.events),
                "secret": self.secret,
                "created_at": self.created_at,
            }
        )

    @classmethod
    def loads(cls, raw: str) -> Endpoint:
        d = json.loads(raw)
        return cls(d["id"], d["url"], tuple(d["events"]), d["secret"], d["created_at"])

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "events": list(self.events),
            "created_at": self.created_at,
        }


async def add_endpoint(
    redis: aioredis.Redis, merchant_id: str, url: str, events: tuple[str, ...], now: datetime
) -> Endpoint | None:
    """A new endpoint with its signing secret; None when the merchant has MAX_ENDPOINTS."""
    key = keys.merchant_webhook_endpoints(merchant_id)
    if await redis.hlen(key) >= MAX_ENDPOINTS:
        return None
    endpoint = Endpoint(
        f"we_{secrets.token_hex(8)}",
        url,
        events,
        f"whsec_{secrets.token_urlsafe(32)}",
        now.isoformat(),
    )
    await redis.hset(key, endpoint.id, endpoint.dumps())
    return endpoint


async def endpoints(redis: aioredis.Redis, merchant_id: str) -> list[Endpoint]:
    raw = await redis.hgetall(keys.merchant_webhook_endpoints(merchant_id))
    return sorted((Endpoint.loads(v) for v in raw.values()), key=lambda e: e.created_at)


async def remove_endpoint(redis: aioredis.Redis, merchant_id: str, endpoint_id: str) -> bool:
    return bool(await redis.hdel(keys.merchant_webhook_endpoints(merchant_id), endpoint_id))


def emit(
    pipe: aioredis.client.Pipeline,
    merchant_id: str,
    event_type: str,
    event_id: str,
    *,
    data: dict[str, Any],
    at: datetime,
) -> None:
    """Queue an event on the caller's pipeline (dispatch's commit: applied once per slot).

    `event_id` is derived from what happened (not random), so a replayed commit emits the
    same id and the fan-out drops it.
    """
    event = {"id": event_id, "type": event_type, "created": at.isoformat(), "data": data}
    pipe.rpush(keys.merchant_webhook_events(merchant_id), json.dumps(event, sort_keys=True))
    pipe.sadd(keys.WEBHOOK_MERCHANTS, merchant_id)


async def emit_now(
    redis: aioredis.Redis,
    merchant_id: str,
    event_type: str,
    event_id: str,
    *,
    data: dict[str, Any],
    at: datetime,
) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        emit(pipe, merchant_id, event_type, event_id, data=data, at=at)
        await pipe.execute()


# KEYS: events list, seen marker, due zset, then one delivery hash per endpoint.
# ARGV: the event as queued, ttl, due score, (endpoint id, url) per endpoint, then the
# delivery ids. The head of the list must still be this event: a parallel fan-out does nothing.
_FAN_OUT = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return -1 end
redis.call('LPOP', KEYS[1])
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 0 end
local count = #KEYS - 3
for i = 1, count do
  local endpoint, url = ARGV[2 + 2 * i], ARGV[3 + 2 * i]
  local id = ARGV[3 + 2 * count + i]
  redis.call('HSET', KEYS[3 + i], 'event', ARGV[1], 'endpoint', endpoint, 'url', url,
             'attempts', 0, 'state', 'pending')
  redis.call('ZADD', KEYS[3], ARGV[3], id)
end
return count
"""


def delivery_id(event_id: str, endpoint_id: str) -> str:
    return f"{event_id}.{endpoint_id}"


async def fan_out(redis: aioredis.Redis, merchant_id: str, now: datetime, limit: int = 100) -> int:
    """Turn queued events into deliveries, one per subscribed endpoint; duplicates dropped."""
    created = 0
    for _ in range(limit):
        raw = await redis.lindex(keys.merchant_webhook_events(merchant_id), 0)
        if raw is None:
            break
        event = json.loads(raw)
        targets = [e for e in await endpoints(redis, merchant_id) if event["type"] in e.events]
        script_keys = [
            keys.merchant_webhook_events(merchant_id),
            keys.merchant_webhook_seen(merchant_id, event["id"]),
            keys.merchant_webhook_due(merchant_id),
        ]
        args: list[str | float] = [raw, SEEN_TTL_SECONDS, now.timestamp()]
        for target in targets:
            script_keys.append(
                keys.merchant_webhook_delivery(merchant_id, delivery_id(event["id"], target.id))
            )
            args += [target.id, target.url]
        args += [delivery_id(event["id"], t.id) for t in targets]
        done = await redis.eval(_FAN_OUT, len(script_keys), *script_keys, *args)
        created += max(int(done), 0)
    return created


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    event: dict[str, Any]
    body: str
    endpoint: str
    url: str
    attempts: int
    state: str


async def due_deliveries(
    redis: aioredis.Redis, merchant_id: str, now: datetime, limit: int = 50
) -> list[Delivery]:
    ids = await redis.zrangebyscore(
        keys.merchant_webhook_due(merchant_id), "-inf", now.timestamp(), start=0, num=limit
    )
    found = []
    for i in ids:
        raw = await redis.hgetall(keys.merchant_webhook_delivery(merchant_id, i))
        if not raw:
            await redis.zrem(keys.merchant_webhook_due(merchant_id), i)
            continue
        found.append(
            Delivery(
                i,
                json.loads(raw["event"]),
                raw["event"],
                raw["endpoint"],
                raw["url"],
                int(raw.get("attempts", 0)),
                raw.get("state", "pending"),
            )
        )
    return found


async def record_attempt(
    redis: aioredis.Redis,
    merchant_id: str,
    delivery: Delivery,
    *,
    at: datetime,
    status: int | None,
    error: str,
    next_at: datetime | None,
    delivered: bool,
) -> None:
    """One MULTI on the merchant's slot: the delivery's state, its next attempt, the log."""
    attempts = delivery.attempts + 1
    state = "delivered" if delivered else ("pending" if next_at else "failed")
    entry = {
        "at": at.isoformat(),
        "delivery": delivery.id,
        "event_id": delivery.event["id"],
        "type": delivery.event["type"],
        "endpoint": delivery.endpoint,
        "url": delivery.url,
        "attempt": attempts,
        "status": status,
        "error": error,
        "state": state,
        "next_at": next_at.isoformat() if next_at else None,
    }
    key = keys.merchant_webhook_delivery(merchant_id, delivery.id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"attempts": attempts, "state": state})
        if next_at is not None and not delivered:
            pipe.zadd(keys.merchant_webhook_due(merchant_id), {delivery.id: next_at.timestamp()})
        else:
            pipe.zrem(keys.merchant_webhook_due(merchant_id), delivery.id)
            pipe.expire(key, SEEN_TTL_SECONDS)
        pipe.rpush(keys.merchant_webhook_log(merchant_id), json.dumps(entry))
        pipe.ltrim(keys.merchant_webhook_log(merchant_id), -LOG_LIMIT, -1)
        await pipe.execute()


async def delivery_log(
    redis: aioredis.Redis, merchant_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    raw = await redis.lrange(keys.merchant_webhook_log(merchant_id), -limit, -1)
    return [json.loads(r) for r in reversed(raw)]


async def has_work(redis: aioredis.Redis, merchant_id: str) -> bool:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.llen(keys.merchant_webhook_events(merchant_id))
        pipe.zcard(keys.merchant_webhook_due(merchant_id))
        events, due = await pipe.execute()
    return bool(events or due)
