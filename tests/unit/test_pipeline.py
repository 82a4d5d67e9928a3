"""Ingest dedupes and orders; dispatch commits atomically and parks what it cannot handle."""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

from bot.engine import deadletters
from bot.engine.pipeline import Dispatcher, Event, ingest, stream_ms
from bot.store import keys


def event(n: int, conv: str = "sms:+33600000001") -> Event:
    return Event(id=f"sms:SM{n}", type="inbound", conversation=conv, data={"n": n})


class Recorder:
    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.seen: list[int] = []
        self.fail_on = fail_on or set()

    async def __call__(self, redis: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if ev.data["n"] in self.fail_on:
            raise RuntimeError("boom")
        self.seen.append(ev.data["n"])
        pipe.incr("effects")


async def test_duplicate_delivery_is_stored_once(redis: aioredis.Redis) -> None:
    assert await ingest(redis, event(1))
    assert not await ingest(redis, event(1))
    assert await redis.llen(keys.conv_inbox("sms:+33600000001")) == 1


async def test_concurrent_duplicates_are_stored_once(redis: aioredis.Redis) -> None:
    results = await asyncio.gather(*(ingest(redis, event(7)) for _ in range(20)))
    assert results.count(True) == 1


async def test_events_are_dispatched_in_order_with_their_effects(redis: aioredis.Redis) -> None:
    recorder = Recorder()
    dispatcher = Dispatcher(redis, recorder, "w1")
    await dispatcher.ensure_group()
    for n in range(5):
        await ingest(redis, event(n))
    assert await dispatcher.run_once() == 5
    assert recorder.seen == [0, 1, 2, 3, 4]
    assert await redis.get("effects") == "5"
    assert await redis.scard(keys.PIPELINE_PENDING) == 0


async def test_a_failing_event_is_parked_and_does_not_block_the_next(
    redis: aioredis.Redis,
) -> None:
    recorder = Recorder(fail_on={1})
    dispatcher = Dispatcher(redis, recorder, "w1")
    await dispatcher.ensure_group()
    for n in range(3):
        await ingest(redis, event(n))
    await dispatcher.run_once()
    assert recorder.seen == [0, 2]
    assert await redis.get("effects") == "2"  # the failed event's queued writes never ran
    [parked] = await deadletters.list_all(redis)
    assert Event.loads(parked.event).data == {"n": 1}
    assert parked.error == "RuntimeError: boom"


async def test_a_locked_conversation_is_left_to_its_holder(redis: aioredis.Redis) -> None:
    recorder = Recorder()
    dispatcher = Dispatcher(redis, recorder, "w1")
    await dispatcher.ensure_group()
    await ingest(redis, event(1))
    await redis.set(keys.conv_lock("sms:+33600000001"), "someone-else")
    assert await dispatcher.drain("sms:+33600000001") == 0
    assert recorder.seen == []
    await redis.delete(keys.conv_lock("sms:+33600000001"))
    assert await dispatcher.sweep() == 1  # the sweep finds it still pending


async def test_two_workers_never_interleave_one_conversation(redis: aioredis.Redis) -> None:
    order: list[int] = []

    async def slow(redis: aioredis.Redis, ev: Event, pipe: Any) -> None:
        order.append(ev.data["n"])
        await asyncio.sleep(0)  # yield to the other worker mid-event
        order.append(ev.data["n"])

    first, second = Dispatcher(redis, slow, "a"), Dispatcher(redis, slow, "b")
    await first.ensure_group()
    for n in range(10):
        await ingest(redis, event(n))
    await asyncio.gather(first.drain("sms:+33600000001"), second.drain("sms:+33600000001"))
    await first.sweep()
    assert order == [n for n in range(10) for _ in range(2)]


async def test_a_wake_up_for_events_already_drained_is_acknowledged_without_a_drain(
    redis: aioredis.Redis,
) -> None:
    """Under load an event is often dispatched in the drain of the one before it, and its
    wake-up comes after the release: acknowledged as it is, no lock step, no reads."""
    conv = "sms:+33600000001"
    recorder = Recorder()
    dispatcher = Dispatcher(redis, recorder, "w1")
    await dispatcher.ensure_group()
    for n in range(3):
        await ingest(redis, event(n))
    assert await dispatcher.drain(conv) == 3  # directly: the three wake-ups are still unread
    last_wake = (await redis.xinfo_stream(keys.PIPELINE_WAKE))["last-generated-id"]
    # Redis' clock moved past the wake-ups before the release looked (in a test it may not
    # have: then the wake-ups are drained, finding nothing, which is as correct).
    dispatcher._note_released(conv, stream_ms(last_wake) + 1)
    drained: list[str] = []
    real_drain = dispatcher.drain

    async def spy(conversation: str, acks: Any = None) -> int:
        drained.append(conversation)
        return await real_drain(conversation, acks)

    dispatcher.drain = spy  # type: ignore[method-assign]
    assert await dispatcher.run_once() == 0
    assert drained == []
    assert recorder.seen == [0, 1, 2]
    pending = await redis.xpending(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP)
    assert pending["pending"] == 0
    assert await redis.scard(keys.PIPELINE_PENDING) == 0

    # A wake-up written after the release has an id at or past its time, even when the test
    # runs within that millisecond (a stream's ids never go back: no wait for the clock).
    await redis.execute_command("XSETID", keys.PIPELINE_WAKE, f"{stream_ms(last_wake) + 1}-0")
    await ingest(redis, event(3))  # written after the release: drained as usual
    assert await dispatcher.run_once() == 1
    assert drained == [conv]
    assert recorder.seen == [0, 1, 2, 3]


async def test_a_release_remembers_redis_time_before_it_looked(redis: aioredis.Redis) -> None:
    conv = "sms:+33600000001"
    dispatcher = Dispatcher(redis, Recorder(), "w1")
    await dispatcher.ensure_group()
    await ingest(redis, event(1))
    wake = (await redis.xinfo_stream(keys.PIPELINE_WAKE))["last-generated-id"]
    seconds, micros = await redis.time()
    assert await dispatcher.drain(conv) == 1
    seconds_after, micros_after = await redis.time()
    released = dispatcher._released[conv]
    assert seconds * 1000 + micros // 1000 <= released
    assert released <= seconds_after * 1000 + micros_after // 1000
    assert not dispatcher._stale(conv, f"{released}-0")  # same ms: drained, to be safe
    assert dispatcher._stale(conv, f"{released - 1}-5")
    assert stream_ms(wake) <= released
