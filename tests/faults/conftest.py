"""Fault injection against the real redis-server: reset connections, make it busy, freeze it.

Every fault here is something Redis itself does (CLIENT KILL, a long script), not a stand-in
for our code; each test that uses them is marked `fault` and runs alone with `-m fault`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys

# Spins on the server for ARGV[1] microseconds: nothing else runs meanwhile. Other clients
# get no answer (a freeze) until `lua-time-limit` ms have passed, then BUSY until it ends.
SPIN = """
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local start = now()
while now() - start < tonumber(ARGV[1]) do end
return 1
"""


async def lock_expired(redis: aioredis.Redis, conversation: str, within: float = 5) -> None:
    """Wait until the conversation lock's PX runs out: Redis expires keys on its own (real)
    clock, so this is the one wait a fault test cannot take from the injected clock."""
    async with asyncio.timeout(within):
        while await redis.exists(keys.conv_lock(conversation)):  # noqa: ASYNC110 - polls Redis
            await asyncio.sleep(0.02)


async def eventually(check: Callable[[], Awaitable[object]], within: float = 10) -> None:
    """Poll `check` until it is truthy: for real processes, which run on real time."""
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 - polls another process's state
            await asyncio.sleep(0.02)


class Faults:
    """An admin connection that the faults never hit."""

    def __init__(self, admin: aioredis.Redis) -> None:
        self.admin = admin

    async def reset_connections(self) -> int:
        """Close every other client's connection, as a restart or a proxy reset would."""
        killed: int = await self.admin.execute_command(
            "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"
        )
        return killed

    async def busy_for(self, seconds: float, *, busy_after_ms: int = 5) -> None:
        """Run a script for `seconds`; after `busy_after_ms` others get BUSY replies."""
        await self.admin.config_set("lua-time-limit", busy_after_ms)
        try:
            await self.admin.eval(SPIN, 0, int(seconds * 1_000_000))
        finally:
            await self.admin.config_set("lua-time-limit", 5000)

    def busy_in_background(self, seconds: float) -> asyncio.Task[None]:
        return asyncio.create_task(self.busy_for(seconds))


@pytest.fixture
async def faults(redis_server: EmbeddedRedis) -> AsyncIterator[Faults]:
    admin = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    yield Faults(admin)
    await admin.aclose()
