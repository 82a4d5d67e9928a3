"""Scheduled events: due ones enter the inbox once; moving replaces, cancelling removes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis

from bot.engine import schedule
from bot.engine.pipeline import Event
from bot.store import keys

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CONV = "telegram:1"


def reminder() -> Event:
    return Event(id="promise:inv_1", type="reminder", conversation=CONV, data={"invoice_id": "i"})


async def plan(redis: aioredis.Redis, at: datetime, job: str = "promise:inv_1") -> None:
    async with redis.pipeline(transaction=True) as pipe:
        schedule.schedule(pipe, job, at, reminder())
        await pipe.execute()


async def test_only_due_jobs_are_released_once(redis: aioredis.Redis) -> None:
    await plan(redis, NOW + timedelta(days=1))
    assert await schedule.release_due(redis, NOW) == 0
    assert await schedule.release_due(redis, NOW + timedelta(days=1)) == 1
    assert await schedule.release_due(redis, NOW + timedelta(days=2)) == 0
    [raw] = await redis.lrange(keys.conv_inbox(CONV), 0, -1)
    assert Event.loads(raw).type == "reminder"


async def test_scheduling_again_moves_the_job(redis: aioredis.Redis) -> None:
    await plan(redis, NOW + timedelta(days=1))
    await plan(redis, NOW + timedelta(days=5))
    assert await schedule.release_due(redis, NOW + timedelta(days=2)) == 0
    assert await schedule.when(redis, "promise:inv_1") == (NOW + timedelta(days=5)).timestamp()


async def test_cancelled_job_never_fires(redis: aioredis.Redis) -> None:
    await plan(redis, NOW)
    async with redis.pipeline(transaction=True) as pipe:
        schedule.cancel(pipe, "promise:inv_1")
        await pipe.execute()
    assert await schedule.release_due(redis, NOW + timedelta(days=9)) == 0


async def test_a_job_released_twice_is_delivered_once(redis: aioredis.Redis) -> None:
    """A worker that dies after delivering, before removing, leaves the job for another."""
    await plan(redis, NOW)
    fired = Event(
        id=f"job:promise:inv_1:{NOW.timestamp():.0f}",
        type="reminder",
        conversation=CONV,
        data={"invoice_id": "i"},
    )
    from bot.engine.pipeline import ingest

    await ingest(redis, fired)  # the dead worker's delivery
    assert await schedule.release_due(redis, NOW) == 1
    assert await redis.llen(keys.conv_inbox(CONV)) == 1
