"""The Redis connection Facto uses (bot.services._Connection): a command is sent without a
timer when the socket takes it at once, and a write the server does not take still fails
after `socket_timeout` (TimeoutError, the connection dropped), as with redis-py's own."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.embedded_redis import EmbeddedRedis
from bot.services import _Connection


async def test_commands_go_through(redis_server: EmbeddedRedis) -> None:
    client = aioredis.Redis.from_url(
        redis_server.url, decode_responses=True, socket_timeout=2.0, connection_class=_Connection
    )
    try:
        async with client.pipeline(transaction=False) as pipe:
            pipe.set("conn:test", "x" * 300_000)  # above the write buffer's low-water mark
            pipe.get("conn:test")
            pipe.delete("conn:test")
            assert await pipe.execute() == [True, "x" * 300_000, 1]
    finally:
        await client.aclose()


async def test_a_write_the_server_does_not_read_times_out() -> None:
    stalled: list[asyncio.StreamWriter] = []

    async def never_reads(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stalled.append(writer)

    server = await asyncio.start_server(never_reads, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = aioredis.Redis.from_url(
        f"redis://127.0.0.1:{port}", socket_timeout=0.2, connection_class=_Connection
    )
    try:
        with pytest.raises(RedisTimeoutError):
            await client.set("k", b"x" * 50_000_000)  # far more than the socket buffers
    finally:
        await client.aclose()
        for writer in stalled:
            writer.close()
        server.close()
        await server.wait_closed()
