"""Applying a dispatch's effects entry (bot/engine/effects_log.py) and gathering its reads
(bot/engine/facts.Reads), against the tests' real redis-server."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ResponseError

from bot.engine.effects_log import apply_entry
from bot.engine.facts import Reads, extras_reads
from bot.engine.pipeline import Dispatcher, Event, Read, ingest, prefetched
from bot.store import keys
from bot.store.ledger import load_extras

PUSH_BY_SCRIPT = "redis.call('RPUSH', KEYS[1], ARGV[1]) return 1"


def entry(*groups: Sequence[tuple[str, ...]]) -> str:
    return json.dumps({"id": "c0ffee", "groups": [[list(c) for c in g] for g in groups]})


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    sent: list[int] = []
    original = Connection.send_packed_command

    async def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        sent.append(1)
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    yield sent


async def test_each_group_is_applied_once_however_often_the_entry_is(
    redis: aioredis.Redis,
) -> None:
    raw = entry(
        [("SET", "a:{one}:x", "1"), ("RPUSH", "a:{one}:log", "said")],
        [("XADD", "a:{two}:stream", "*", "key", "k")],
        [("RPUSH", "a:{three}:log", "once")],
    )
    await apply_entry(redis, raw)
    await apply_entry(redis, raw)  # a lost reply, a crash: the next holder applies it again
    assert await redis.get("a:{one}:x") == "1"
    assert await redis.lrange("a:{one}:log", 0, -1) == ["said"]
    assert await redis.xlen("a:{two}:stream") == 1
    assert await redis.lrange("a:{three}:log", 0, -1) == ["once"]


async def test_the_groups_of_an_entry_cost_one_round_trip(
    redis: aioredis.Redis, round_trips: list[int]
) -> None:
    await redis.script_flush()  # the first call meets NOSCRIPT, loads, and runs again
    raw = entry(*([("RPUSH", f"b:{{{n}}}:log", "x")] for n in range(6)))
    await apply_entry(redis, raw)
    round_trips.clear()
    again = entry(*([("RPUSH", f"b:{{{n}}}:log", "y")] for n in range(6)))
    await apply_entry(redis, again.replace("c0ffee", "c0ffef"))
    assert len(round_trips) == 1
    for n in range(6):
        assert await redis.lrange(f"b:{{{n}}}:log", 0, -1) == ["x", "y"]


async def test_a_group_that_calls_a_script_is_applied_in_its_place_once(
    redis: aioredis.Redis,
) -> None:
    """Redis runs no script from a script: such a group takes the MULTI way, in order."""
    raw = entry(
        [("RPUSH", "c:{one}:log", "first")],
        [("EVAL", PUSH_BY_SCRIPT, "1", "c:{two}:log", "by script")],
        [("RPUSH", "c:{one}:log", "last")],
    )
    await apply_entry(redis, raw)
    await apply_entry(redis, raw)
    assert await redis.lrange("c:{two}:log", 0, -1) == ["by script"]
    # The two groups on slot {one} were not merged: order of the last write is kept.
    assert await redis.lrange("c:{one}:log", 0, -1) == ["first", "last"]


async def test_a_refused_write_does_not_stop_the_rest_of_its_group(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    raw = entry(
        [
            ("SET", "d:{one}:x", "text"),
            ("LPUSH", "d:{one}:x", "wrong type"),
            ("SET", "d:{one}:y", "1"),
        ]
    )
    with caplog.at_level(logging.ERROR):
        await apply_entry(redis, raw)
    assert await redis.get("d:{one}:y") == "1"
    assert any("an effect was refused" in r.message for r in caplog.records)


async def test_gathered_reads_are_served_without_another_round_trip(
    redis: aioredis.Redis, round_trips: list[int]
) -> None:
    await redis.set(keys.invoice_promise("m_1", "inv_1"), json.dumps({"date": "2026-05-01"}))
    await redis.set(keys.invoice_paused("m_1", "inv_1"), "x")
    direct = await load_extras(redis, "m_1", "inv_1")
    reads = Reads(redis)
    round_trips.clear()
    await reads.fetch([*extras_reads("m_1", "inv_1"), ("GET", "e:{x}:absent")])
    assert len(round_trips) == 1
    assert await load_extras(reads, "m_1", "inv_1") == direct
    assert await reads.get("e:{x}:absent") is None
    await reads.fetch(extras_reads("m_1", "inv_1"))  # nothing new to read: no round trip
    assert len(round_trips) == 1
    # Not gathered: read from Redis as before.
    assert await reads.get(keys.invoice_promise("m_1", "inv_1")) is not None
    assert await reads.get("e:{x}:other") is None
    assert len(round_trips) == 2


async def test_a_gathered_read_redis_refuses_is_left_to_the_reader_s_own_call(
    redis: aioredis.Redis,
) -> None:
    """A key stored another way than planned (a hash where a string was guessed) does not
    fail the gathering; the reader's own call meets Redis's answer as it always did."""
    await redis.hset("f:{x}:hash", "field", "1")
    reads = Reads(redis)
    await reads.fetch([("GET", "f:{x}:hash"), ("GET", "f:{x}:absent")])
    assert await reads.get("f:{x}:absent") is None
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await reads.get("f:{x}:hash")
    assert await reads.hget("f:{x}:hash", "field") == "1"  # other commands go to Redis


async def test_the_handler_reads_what_a_dead_worker_s_effects_wrote(
    redis: aioredis.Redis,
) -> None:
    """A dead worker's committed effects are applied before the next event; reads gathered
    with the lock step that found them would predate their writes: the handler is served
    those gathered after the effects, never the older value."""
    conversation = "telegram:777"
    shared = "g:{merchant}:ledger"
    await redis.set(shared, "before the dead worker's commit")
    dead_entry = entry([("SET", shared, "written by the dead worker's commit")])
    await redis.rpush(keys.conv_effects(conversation), dead_entry)
    seen: list[object] = []
    planned: list[str] = []

    async def plan(_redis: aioredis.Redis, _conversation: str, _state: str | None) -> list[Read]:
        planned.append(await redis.get(shared))  # what the store holds when planning
        return [("GET", shared)]

    async def handler(redis: aioredis.Redis, event: Event, pipe: aioredis.client.Pipeline) -> None:
        done = prefetched(event.conversation)
        seen.append(done.reads.get(("GET", shared), "not gathered"))
        reads = Reads(redis)
        reads.know_all(done.reads)
        seen.append(await reads.get(shared))

    dispatcher = Dispatcher(redis, handler, "w1", prefetch=plan)
    dispatcher._seen[conversation] = None  # as if it had dispatched here before
    await ingest(redis, Event("e1", "inbound", conversation, {}))
    assert await dispatcher.drain(conversation) == 1
    assert seen == ["written by the dead worker's commit"] * 2
    assert not await redis.exists(keys.conv_effects(conversation))
    # Planned twice: with the first lock step, then for the round trip that applies the
    # effects (planned before it is sent; the reads go after the effects in it).
    assert planned == ["before the dead worker's commit"] * 2


async def test_a_reader_s_pipeline_with_other_commands_goes_to_redis_as_it_is(
    redis: aioredis.Redis,
) -> None:
    await redis.hset("h:{x}:hash", "field", "1")
    await redis.set("h:{x}:text", "t")
    reads = Reads(redis)
    async with reads.pipeline(transaction=False) as pipe:
        pipe.get("h:{x}:text")
        pipe.hget("h:{x}:hash", "field")
        pipe.exists("h:{x}:absent")
        assert await pipe.execute() == ["t", "1", 0]
