"""Issue 15, "Stalls": a worker frozen past its lock's life must not commit.

The freeze is real: the handler awaits an asyncio.Event the test controls, the lock's PX runs
out on Redis's clock (short TTLs, not 30 s), and another Dispatcher takes the conversation over.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.clock import FakeClock
from bot.engine import deadletters
from bot.engine.pipeline import Dispatcher, Event, ingest
from bot.store import keys
from tests.faults.conftest import lock_expired

pytestmark = pytest.mark.fault

CONV = "telegram:777"


def event(n: int) -> Event:
    return Event(id=f"telegram:{n}", type="inbound", conversation=CONV, data={"n": n})


class Counting:
    """Commits one INCR per event handled; optionally freezes on one event until released."""

    def __init__(self, freeze_on: int | None = None) -> None:
        self.freeze_on = freeze_on
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, redis: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if ev.data["n"] == self.freeze_on:
            self.freeze_on = None
            self.entered.set()
            await self.release.wait()
        pipe.incr(f"handled:{ev.data['n']}")


async def handled(redis: aioredis.Redis, *numbers: int) -> list[str | None]:
    return list(await redis.mget([f"handled:{n}" for n in numbers]))


async def test_a_frozen_worker_neither_handles_twice_nor_pops_an_unhandled_event(
    redis: aioredis.Redis,
) -> None:
    frozen = Counting(freeze_on=1)
    # A freeze (GC pause, stopped VM) is not cut by the handler's timeout: make it long.
    stalled = Dispatcher(redis, frozen, "a", lock_ttl_ms=200, handler_timeout=60)
    other = Dispatcher(redis, Counting(), "b", lock_ttl_ms=200)
    for n in (1, 2, 3):
        await ingest(redis, event(n))

    first = asyncio.create_task(stalled.drain(CONV))
    await frozen.entered.wait()
    await lock_expired(redis, CONV)
    assert await other.drain(CONV) == 3  # takes over and handles 1, 2, 3
    await ingest(redis, event(4))  # arrives after; nobody has handled it yet

    frozen.release.set()  # the frozen worker wakes up and tries to commit event 1
    assert await first == 0

    assert await handled(redis, 1, 2, 3, 4) == ["1", "1", "1", None]
    assert await redis.lrange(keys.conv_inbox(CONV), 0, -1) == [event(4).dumps()]
    assert await other.drain(CONV) == 1
    assert await handled(redis, 4) == ["1"]


async def test_a_handler_is_cut_well_before_its_lock_expires_and_retried(
    redis: aioredis.Redis,
) -> None:
    hangs = Counting(freeze_on=1)  # never released: only the timeout ends it
    clock = FakeClock()
    dispatcher = Dispatcher(redis, hangs, "a", clock=clock, lock_ttl_ms=300)
    await ingest(redis, event(1))
    assert await dispatcher.drain(CONV) == 1  # cut at 0.1 s, retried, committed once
    assert await handled(redis, 1) == ["1"]
    assert len(clock.slept) == 1  # one backoff, on the injected clock
    assert await deadletters.list_all(redis) == []


async def test_a_long_backlog_keeps_its_lock(redis: aioredis.Redis) -> None:
    """The lock is renewed before each event, so a backlog longer than its life stays ours."""
    order: list[int] = []
    started = asyncio.Event()

    async def working(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        started.set()
        order.append(ev.data["n"])
        await asyncio.sleep(0.06)  # real work time: the lock lives on Redis's clock
        pipe.incr(f"handled:{ev.data['n']}")

    owner = Dispatcher(redis, working, "a", lock_ttl_ms=200, handler_timeout=1)
    rival = Dispatcher(redis, working, "b", lock_ttl_ms=200, handler_timeout=1)
    for n in range(8):  # about 0.5 s of work, 2.5 lock lives
        await ingest(redis, event(n))
    draining = asyncio.create_task(owner.drain(CONV))
    await started.wait()
    rival_got = 0
    while not draining.done():
        rival_got += await rival.drain(CONV)
        await asyncio.sleep(0.03)
    assert await draining == 8
    assert rival_got == 0
    assert order == list(range(8))
    assert await handled(redis, *range(8)) == ["1"] * 8


async def test_a_payment_event_has_its_own_budget_and_holds_its_lock_for_it(
    redis: aioredis.Redis,
) -> None:
    """A payment is re-read at Stripe inside its handler: a slow Stripe used to overrun a third
    of the lock's life on every try, so the event was retried forever and the conversation
    stalled behind it."""
    asked_stripe, stripe_answered = asyncio.Event(), asyncio.Event()

    async def rereads_stripe(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        asked_stripe.set()
        await asyncio.sleep(0.35)  # real time: longer than the whole lock's normal life
        stripe_answered.set()
        pipe.incr(f"handled:{ev.data['n']}")

    clock = FakeClock()
    owner = Dispatcher(
        redis, rereads_stripe, "a", clock=clock, lock_ttl_ms=300, slow_events={"payment": 2.0}
    )
    rival = Dispatcher(redis, Counting(), "b", lock_ttl_ms=300)
    await ingest(redis, Event(id="stripe:1", type="payment", conversation=CONV, data={"n": 1}))

    draining = asyncio.create_task(owner.drain(CONV))
    await asked_stripe.wait()
    rival_got = 0
    while not stripe_answered.is_set():
        rival_got += await rival.drain(CONV)
        await asyncio.sleep(0.05)
    assert await draining == 1
    assert rival_got == 0
    assert await handled(redis, 1) == ["1"]
    assert clock.slept == []  # committed at the first try, no retry
