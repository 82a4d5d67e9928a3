"""Future events: a reminder, an instalment's due date. Each enters its conversation's inbox
when due, and from there takes the same path as a message (ARCHITECTURE "How data moves").

A job has a deterministic id (e.g. `promise:<invoice>`): scheduling it again moves it,
cancelling it removes it, and a job that fires twice is deduplicated at ingest.
"""

from __future__ import annotations

from datetime import datetime

import redis.asyncio as aioredis

from bot.engine.pipeline import Event, ingest
from bot.store import keys

# Claim every due job in one step: read it, remove it, and set it aside for ingest. A move
# (a new ZADD/HSET of the same id) either lands before, and the job is not due any more, or
# after, and it stays scheduled at its new time; it can never be fired now and then removed.
_CLAIM_DUE = """
local due = redis.call(
  'ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #due, 2 do
  local job, score = due[i], due[i + 1]
  local body = redis.call('HGET', KEYS[2], job)
  redis.call('ZREM', KEYS[1], job)
  redis.call('HDEL', KEYS[2], job)
  if body then redis.call('HSET', KEYS[3], job .. '@' .. score, body) end
end
return #due / 2
"""


def schedule(pipe: aioredis.client.Pipeline, job_id: str, at: datetime, event: Event) -> None:
    """Queue `event` for `at` (replacing any job with the same id), inside the caller's MULTI."""
    pipe.zadd(keys.SCHEDULE, {job_id: at.timestamp()})
    pipe.hset(keys.SCHEDULE_EVENTS, job_id, event.dumps())


def cancel(pipe: aioredis.client.Pipeline, job_id: str) -> None:
    pipe.zrem(keys.SCHEDULE, job_id)
    pipe.hdel(keys.SCHEDULE_EVENTS, job_id)


async def when(redis: aioredis.Redis, job_id: str) -> float | None:
    score = await redis.zscore(keys.SCHEDULE, job_id)
    return float(score) if score is not None else None


async def release_due(redis: aioredis.Redis, now: datetime, limit: int = 500) -> int:
    """Deliver the jobs due at `now` into their conversations' inboxes.

    Claim first (atomic against a move, see `_CLAIM_DUE`), ingest after, then forget the
    claim: a crash in between leaves the claim, which the next release ingests again, and
    ingest's dedupe (the event id carries the job id and its due time) makes that a no-op.
    """
    await redis.eval(
        _CLAIM_DUE,
        3,
        keys.SCHEDULE,
        keys.SCHEDULE_EVENTS,
        keys.SCHEDULE_RELEASING,
        repr(now.timestamp()),
        str(limit),
    )
    released = 0
    for claim, body in (await redis.hgetall(keys.SCHEDULE_RELEASING)).items():
        job_id, _, score = claim.rpartition("@")
        event = Event.loads(body)
        await ingest(
            redis,
            Event(
                id=f"job:{job_id}:{float(score):.0f}",
                type=event.type,
                conversation=event.conversation,
                data=event.data,
            ),
        )
        await redis.hdel(keys.SCHEDULE_RELEASING, claim)
        released += 1
    return released
