"""Issue 15, "A Redis connection error dead-letters a customer's message".

Transient failures (a reset connection, a busy or frozen server) leave the event at the head of
its inbox and are retried with backoff on the injected clock; only a deterministic failure
becomes a dead letter.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.clock import FakeClock
from bot.embedded_redis import EmbeddedRedis
from bot.engine import deadletters
from bot.engine.pipeline import RETRY_DELAYS, Dispatcher, Event, ingest, is_transient
from bot.services import bounded, redis_client
from bot.settings import Settings
from bot.store import keys
from tests.faults.conftest import SPIN, Faults, lock_expired

pytestmark = pytest.mark.fault

CONV = "sms:+33600000009"


def event(n: int) -> Event:
    return Event(id=f"sms:SM{n}", type="inbound", conversation=CONV, data={"n": n})


async def test_a_reset_connection_mid_dispatch_is_retried_not_parked(
    redis: aioredis.Redis, faults: Faults
) -> None:
    resets: list[int] = []

    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if not resets:  # the first try loses its connections mid-event, like a Redis restart
            resets.append(await faults.reset_connections())
        await r.get(keys.conv_state(CONV))
        pipe.incr(f"effects:{ev.data['n']}")

    dispatcher = Dispatcher(redis, handler, "w1", clock=FakeClock())
    await ingest(redis, event(1))
    await ingest(redis, event(2))

    assert await dispatcher.drain(CONV) == 2

    assert resets and resets[0] >= 1
    assert await redis.mget("effects:1", "effects:2") == ["1", "1"]  # each committed once
    assert await deadletters.list_all(redis) == []
    assert await redis.llen(keys.conv_inbox(CONV)) == 0


async def test_redis_away_for_a_while_is_waited_for_with_backoff(
    redis: aioredis.Redis, faults: Faults
) -> None:
    busy: list[asyncio.Task[None]] = []

    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        pipe.incr("effects")

    clock = FakeClock()

    class WaitsForBusyToEnd(FakeClock):
        """Each backoff also lets real time pass until the busy script has ended."""

        async def sleep(self, seconds: float) -> None:
            await clock.sleep(seconds)
            await busy[0]

    dispatcher = Dispatcher(redis, handler, "w1", clock=WaitsForBusyToEnd())
    await ingest(redis, event(1))
    busy.append(faults.busy_in_background(0.3))
    while True:  # wait until the server answers BUSY
        try:
            await redis.ping()
        except ResponseError:
            break
    assert await dispatcher.drain(CONV) == 1
    assert clock.slept == [RETRY_DELAYS[0]]  # one backoff, on the injected clock
    assert await redis.get("effects") == "1"
    assert await deadletters.list_all(redis) == []


async def test_a_busy_redis_leaves_the_event_in_place_until_it_answers(
    redis: aioredis.Redis, faults: Faults
) -> None:
    busy: list[asyncio.Task[None]] = []
    handled: list[int] = []

    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if not busy:  # a long script starts on the server while this event is handled
            busy.append(faults.busy_in_background(0.4))
            while True:  # until the server answers BUSY
                await r.get(keys.conv_state(CONV))
        handled.append(ev.data["n"])
        pipe.incr("effects")

    clock = FakeClock()
    dispatcher = Dispatcher(redis, handler, "w1", clock=clock, lock_ttl_ms=300)
    await ingest(redis, event(1))

    with pytest.raises(ResponseError) as raised:
        await dispatcher.drain(CONV)  # every try finds the server busy: give up for now
    assert str(raised.value).startswith("BUSY") and is_transient(raised.value)
    assert clock.slept == list(RETRY_DELAYS)
    await busy[0]

    assert await redis.lrange(keys.conv_inbox(CONV), 0, -1) == [event(1).dumps()]
    assert await redis.sismember(keys.PIPELINE_PENDING, CONV)
    assert await deadletters.list_all(redis) == []
    await lock_expired(redis, CONV)  # it could not be released while the server was busy
    assert await dispatcher.sweep() == 1  # the sweep comes back to it
    assert handled == [1]
    assert await redis.get("effects") == "1"


async def test_a_wake_up_whose_dispatch_failed_stays_pending_for_a_reclaim(
    redis: aioredis.Redis, faults: Faults
) -> None:
    calls: list[int] = []

    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        calls.append(ev.data["n"])
        if len(calls) == 1:
            busy = faults.busy_in_background(0.3)
            with pytest.raises(ResponseError):
                while True:
                    await r.get("x")
            await busy
            raise RedisConnectionError("Connection reset by peer")
        pipe.incr("effects")

    dispatcher = Dispatcher(redis, handler, "w1", clock=FakeClock(), retry_delays=())
    await dispatcher.ensure_group()
    await ingest(redis, event(1))
    with pytest.raises(RedisConnectionError):
        await dispatcher.run_once()
    pending = await redis.xpending(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP)
    assert pending["pending"] == 1  # not acknowledged: nothing was done

    assert await Dispatcher(redis, handler, "w2").reclaim(min_idle_ms=0) == 1
    assert await redis.get("effects") == "1"
    assert (await redis.xpending(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP))["pending"] == 0


async def test_a_deterministic_failure_is_parked_with_its_error_and_time(
    redis: aioredis.Redis,
) -> None:
    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if ev.data["n"] == 1:
            raise KeyError("invoice_id")  # a bug: retrying would fail the same way
        pipe.incr("effects")

    clock = FakeClock()
    dispatcher = Dispatcher(redis, handler, "w1", clock=clock)
    await ingest(redis, event(1))
    await ingest(redis, event(2))
    assert await dispatcher.drain(CONV) == 2
    assert await redis.get("effects") == "1"
    [letter] = await deadletters.list_all(redis)
    assert letter.event_id == "sms:SM1" and letter.type == "inbound"
    assert letter.error == "KeyError: 'invoice_id'"
    assert letter.at == clock.now().isoformat()
    assert clock.slept == []  # no retry for a bug


def test_the_production_client_rides_over_a_reset_connection(redis_server: EmbeddedRedis) -> None:
    async def scenario() -> None:
        client = redis_client(redis_server.url, Settings(_env_file=None))  # type: ignore[call-arg]
        admin = aioredis.Redis.from_url(redis_server.url)
        try:
            await client.set("k", "v")
            await Faults(admin).reset_connections()
            assert await client.get("k") == "v"  # retried on a fresh connection
        finally:
            await client.aclose()
            await admin.aclose()

    asyncio.run(scenario())


def impatient_settings() -> Settings:
    return Settings(
        REDIS_SOCKET_TIMEOUT=0.1,
        REDIS_RETRIES=3,
        _env_file=None,  # type: ignore[call-arg]
    )


async def freeze(faults: Faults) -> asyncio.Task[object]:
    """The server frozen by a long script, silently (no BUSY reply): await the task to thaw."""
    await faults.admin.config_set("lua-time-limit", 5000)
    frozen: asyncio.Task[object] = asyncio.create_task(faults.admin.eval(SPIN, 0, 400_000))
    await asyncio.sleep(0)  # the script is sent before our read
    return frozen


async def test_the_production_client_gives_up_on_a_frozen_server(
    redis_server: EmbeddedRedis, faults: Faults
) -> None:
    settings = impatient_settings()
    client = redis_client(redis_server.url, settings)
    # Retried: a reset connection; not retried: a timeout (the README's promise). redis-py's
    # Retry retries timeouts too unless its errors are given.
    retried = client.get_retry()
    assert retried is not None
    assert set(retried._supported_errors) == {RedisConnectionError}
    try:
        await client.ping()
        frozen = await freeze(faults)
        with pytest.raises(RedisTimeoutError):
            await asyncio.wait_for(client.get("k"), timeout=2)
        await frozen
    finally:
        await client.aclose()


async def test_the_ingest_client_gives_up_within_its_bound_and_reads_no_stale_reply(
    redis_server: EmbeddedRedis, faults: Faults
) -> None:
    settings = impatient_settings()
    client = redis_client(redis_server.url, settings, bounded_by_caller=True)
    try:
        await client.mset({"first": "1", "second": "2"})
        frozen = await freeze(faults)
        with pytest.raises(RedisTimeoutError):
            async with bounded(settings):
                await asyncio.wait_for(client.get("first"), timeout=2)
        # Closed while the server is still frozen: its late reply can never be read.
        pooled = client.connection_pool._available_connections
        assert pooled and not any(c.is_connected for c in pooled)
        await frozen
        # The late reply to "first" was left on a dropped connection, not read as this one's.
        async with bounded(settings):
            assert await client.get("second") == "2"
    finally:
        await client.aclose()


def test_the_ingest_client_reads_without_a_timer_per_reply(redis_server: EmbeddedRedis) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    bounded_by_caller = redis_client(redis_server.url, settings, bounded_by_caller=True)
    usual = redis_client(redis_server.url, settings)
    kwargs = [c.connection_pool.connection_kwargs for c in (bounded_by_caller, usual)]
    assert [k["socket_timeout"] for k in kwargs] == [None, settings.redis_socket_timeout]
    # Everything else is the same: connect timeout, retries, health checks.
    assert {k: v for k, v in kwargs[0].items() if k not in {"socket_timeout", "retry"}} == {
        k: v for k, v in kwargs[1].items() if k not in {"socket_timeout", "retry"}
    }
    retries = [k["retry"] for k in kwargs]
    assert [r._retries for r in retries] == [settings.redis_retries] * 2
    assert [set(r._supported_errors) for r in retries] == [{RedisConnectionError}] * 2


async def test_bounded_takes_the_shorter_of_its_limit_and_the_socket_timeout() -> None:
    settings = Settings(REDIS_SOCKET_TIMEOUT=5, _env_file=None)  # type: ignore[call-arg]
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RedisTimeoutError):
        async with bounded(settings, within=0.05):
            await asyncio.Event().wait()
    assert loop.time() - started < 5


async def test_a_commit_refused_for_memory_writes_nothing_and_is_retried(
    redis: aioredis.Redis, faults: Faults
) -> None:
    """Redis reaches maxmemory between the lock step and the commit: the commit must land
    whole or not at all. A refused write inside the commit script must not let the pop of
    the event through (the event would be gone, its state never written)."""
    tries: list[int] = []

    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if not tries:  # memory runs out while the handler runs, before its commit
            await faults.admin.config_set("maxmemory", 1)
        tries.append(1)
        pipe.set(keys.conv_state(CONV), "after")
        pipe.rpush(keys.conv_log(CONV), "said")

    class FreesMemory(FakeClock):
        """The backoff's wait is when memory is freed again."""

        async def sleep(self, seconds: float) -> None:
            await faults.admin.config_set("maxmemory", 0)
            await super().sleep(seconds)

    dispatcher = Dispatcher(redis, handler, "w1", clock=FreesMemory())
    await ingest(redis, event(1))
    try:
        assert await dispatcher.drain(CONV) == 1
    finally:
        await faults.admin.config_set("maxmemory", 0)

    assert len(tries) == 2  # refused whole, then handled again
    assert await redis.get(keys.conv_state(CONV)) == "after"
    assert await redis.lrange(keys.conv_log(CONV), 0, -1) == ["said"]
    assert await redis.llen(keys.conv_inbox(CONV)) == 0


async def test_redis_out_of_memory_is_transient_however_it_is_reported(
    redis: aioredis.Redis, faults: Faults
) -> None:
    """redis-py strips the OOM code from its message, and a script or a pipeline wraps it:
    each way Redis being full must read as "try later", never as the event's own fault."""
    script = "redis.call('SET', KEYS[1], '1') return 1"
    errors: list[Exception] = []
    await faults.admin.config_set("maxmemory", 1)
    try:
        for attempt in (
            redis.set("k", "1"),
            redis.eval(script, 1, "k"),
        ):
            with pytest.raises(ResponseError) as raised:
                await attempt
            errors.append(raised.value)
        for command in (("SET", "k", "1"), ("EVAL", script, "1", "k")):
            async with redis.pipeline(transaction=False) as pipe:
                pipe.execute_command(*command)
                with pytest.raises(ResponseError) as raised:
                    await pipe.execute()
            errors.append(raised.value)
    finally:
        await faults.admin.config_set("maxmemory", 0)
    assert [is_transient(e) for e in errors] == [True] * 4, errors
    await redis.set("k", "1")
    with pytest.raises(ResponseError) as wrong:
        await redis.eval("return redis.call('LPUSH', KEYS[1], 'x')", 1, "k")
    assert not is_transient(wrong.value)  # a bug stays a bug
