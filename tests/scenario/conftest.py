from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, start_facto


@pytest.fixture
async def facto(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()
    yield app
    await app.client.close()
