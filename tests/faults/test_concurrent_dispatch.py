"""Issue 12: one dispatcher drains many conversations at once, and still applies each
conversation's events in order, exactly once, even when it is killed half-way.

The handler appends the event's number to a list on the conversation's slot, so that list is
written by the dispatch commit itself: it holds what was applied, in the order it was applied.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.clock import FakeClock
from bot.engine.pipeline import Dispatcher, Event, ingest
from bot.store import keys
from tests.faults.conftest import lock_expired

pytestmark = pytest.mark.fault

CONVERSATIONS = [f"telegram:{9000 + c}" for c in range(40)]
EVENTS_EACH = 6


def applied_key(conversation: str) -> str:
    return f"{keys.conv_state(conversation)}:applied"  # same hash tag: in the commit's MULTI


class Recording:
    """Records each event in its conversation's list; counts how many run at once."""

    def __init__(self, signal_after: int | None = None) -> None:
        self.running = 0
        self.most_at_once = 0
        self.calls = 0
        self.signal_after = signal_after
        self.reached = asyncio.Event()

    async def __call__(self, redis: aioredis.Redis, event: Event, pipe: Any) -> None:
        self.running += 1
        self.calls += 1
        if self.calls == self.signal_after:
            self.reached.set()
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            # A read, as a real handler does: the other conversations run meanwhile.
            await redis.get(keys.conv_state(event.conversation))
            await asyncio.sleep(0)
            pipe.rpush(applied_key(event.conversation), str(event.data["n"]))
        finally:
            self.running -= 1


async def backlog(redis: aioredis.Redis) -> None:
    for n in range(EVENTS_EACH):
        for conversation in CONVERSATIONS:
            event = Event(f"{conversation}:{n}", "inbound", conversation, {"n": n})
            await ingest(redis, event)


async def applied(redis: aioredis.Redis) -> dict[str, list[str]]:
    return {c: await redis.lrange(applied_key(c), 0, -1) for c in CONVERSATIONS}


EXPECTED = [str(n) for n in range(EVENTS_EACH)]


async def test_conversations_dispatched_side_by_side_keep_their_order_once_each(
    redis: aioredis.Redis,
) -> None:
    handler = Recording()
    dispatcher = Dispatcher(redis, handler, "w1", clock=FakeClock(), concurrency=8)
    await dispatcher.ensure_group()
    await backlog(redis)

    done = await dispatcher.run_once()
    while more := await dispatcher.run_once():
        done += more

    assert done == len(CONVERSATIONS) * EVENTS_EACH
    assert await applied(redis) == dict.fromkeys(CONVERSATIONS, EXPECTED)
    assert 1 < handler.most_at_once <= 8  # concurrent, and bounded
    assert not await redis.scard(keys.PIPELINE_PENDING)
    # Every wake-up acknowledged (in batches): nothing left for a reclaim.
    pending = await redis.xpending(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP)
    assert pending["pending"] == 0


async def test_a_dispatcher_killed_mid_way_loses_nothing_and_doubles_nothing(
    redis: aioredis.Redis,
) -> None:
    dying = Recording(signal_after=len(CONVERSATIONS) * EVENTS_EACH // 3)
    killed = Dispatcher(redis, dying, "dies", clock=FakeClock(), concurrency=8)
    await killed.ensure_group()
    await backlog(redis)

    task = asyncio.create_task(killed.run_once())
    await dying.reached.wait()
    task.cancel()  # in the middle of several conversations' handlers and commits
    with pytest.raises(asyncio.CancelledError):
        await task
    partial = await applied(redis)
    assert any(len(done) < EVENTS_EACH for done in partial.values())
    for conversation in CONVERSATIONS:
        await lock_expired(redis, conversation)

    survivor = Dispatcher(redis, Recording(), "survives", clock=FakeClock(), concurrency=8)
    await survivor.reclaim(min_idle_ms=0)  # the dead one's wake-ups
    await survivor.sweep()  # and whatever is still marked pending

    assert await applied(redis) == dict.fromkeys(CONVERSATIONS, EXPECTED)
    assert not await redis.scard(keys.PIPELINE_PENDING)
