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

# Remove a job only if it was not moved meanwhile (same due time as when we read it).
_REMOVE_IF_UNCHANGED = """
if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
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

    Ingest first, remove after: a crash in between delivers the job again, and ingest's
    dedupe (the event id carries the job id and its due time) makes that a no-op.
    """
    due = await redis.zrangebyscore(
        keys.SCHEDULE, "-inf", now.timestamp(), start=0, num=limit, withscores=True
    )
    released = 0
    for job_id, score in due:
        raw_score = await redis.zscore(keys.SCHEDULE, job_id)
        body = await redis.hget(keys.SCHEDULE_EVENTS, job_id)
        if raw_score is None or body is None:
            continue  # cancelled meanwhile
        event = Event.loads(body)
        await ingest(
            redis,
            Event(
                id=f"job:{job_id}:{score:.0f}",
                type=event.type,
                conversation=event.conversation,
                data=event.data,
            ),
        )
        await redis.eval(
            _REMOVE_IF_UNCHANGED,
            2,
            keys.SCHEDULE,
            keys.SCHEDULE_EVENTS,
            job_id,
            repr(float(raw_score)),
        )
        released += 1
    return released
