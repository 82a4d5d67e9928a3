"""Issue 15, "A reminder moved while it is being released fires now and the moved one is lost".

The move is interleaved at every point of a release: after the release's first, second, ...
command to Redis, another client moves the job (as a dispatch commit would). Whatever the
point, the moved job stays scheduled at its new time with its new content, and nothing of the
new content fires now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.engine import schedule
from bot.engine.pipeline import Event
from bot.store import keys

pytestmark = pytest.mark.fault

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CONV = "telegram:31"
JOB = "promise:inv_9"


class Interleaving(aioredis.Redis):  # type: ignore[misc]  # redis is untyped here
    """A client that lets another actor act right after its n-th command."""

    after: int = 0
    sent: int = 0
    action: Callable[[], Awaitable[None]] | None = None

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        result = await super().execute_command(*args, **options)
        self.sent += 1
        if self.sent == self.after and self.action is not None:
            await self.action()
        return result


def reminder(version: str) -> Event:
    return Event(id=JOB, type="reminder", conversation=CONV, data={"v": version})


async def plan(redis: aioredis.Redis, at: datetime, version: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        schedule.schedule(pipe, JOB, at, reminder(version))
        await pipe.execute()


async def fired(redis: aioredis.Redis) -> list[str]:
    return [Event.loads(r).data["v"] for r in await redis.lrange(keys.conv_inbox(CONV), 0, -1)]


@pytest.mark.parametrize("move_after", [1, 2, 3, 4, 5, 6])
async def test_a_move_during_release_is_never_lost_nor_fired_early(
    redis: aioredis.Redis, redis_server: EmbeddedRedis, move_after: int
) -> None:
    due, moved_to = NOW - timedelta(hours=1), NOW + timedelta(days=3)
    await plan(redis, due, "old")

    async def move() -> None:
        await plan(redis, moved_to, "new")  # the customer said "next week" meanwhile

    releaser = Interleaving.from_url(redis_server.url, decode_responses=True)
    releaser.after, releaser.action = move_after, move
    try:
        await schedule.release_due(releaser, NOW)
    finally:
        await releaser.aclose()
    if releaser.sent < move_after:
        await move()  # the release was over before this point: the move comes after it

    assert set(await fired(redis)) <= {"old"}  # the old reminder may have fired: it was due
    assert await schedule.when(redis, JOB) == moved_to.timestamp()
    assert Event.loads(await redis.hget(keys.SCHEDULE_EVENTS, JOB)).data == {"v": "new"}
    await schedule.release_due(redis, moved_to)
    assert (await fired(redis)).count("new") == 1
