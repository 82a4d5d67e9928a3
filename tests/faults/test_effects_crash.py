"""Issue 15, hash slots: a worker killed between its commit and the effects on other slots.

The dispatch commit is one script on the conversation's slot; the event's writes elsewhere (the
outbox record and stream, consent, ledger, schedule) are applied right after, each group once
(bot/engine/effects_log.py). Here a real `python -m bot worker` talks to redis-server through
a proxy that holds it at that very point — the groups' pipeline never answered, or run but its
answer swallowed — and the process is killed with SIGKILL. A second
worker must apply every effect, exactly once, and the reply must be sent once, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.clock import SystemClock
from bot.embedded_redis import EmbeddedRedis
from bot.engine import events
from bot.engine.outbox import STREAMS, Outcome, Sender
from bot.engine.pipeline import ingest
from bot.store import keys
from bot.store.conversations import transcript
from channels.base import ChannelName, InboundKind, InboundMessage
from tests.faultproxy import Action, Plan, ResetProxy, proxy_in_front_of
from tests.faults.conftest import eventually
from tests.faults.test_processes import WorkerProcess

pytestmark = pytest.mark.fault

CONV = "sms:+33633334444"
STOP = events.encode(
    "sms:SMstop1",
    CONV,
    InboundMessage(
        channel=ChannelName.SMS,
        address="+33633334444",
        provider_id="SMstop1",
        kind=InboundKind.TEXT,
        text="STOP",
    ),
)
REPLY = f"{STOP.id}:0"


@pytest.fixture
async def proxy(redis_server: EmbeddedRedis) -> AsyncIterator[ResetProxy]:
    async with proxy_in_front_of(redis_server.url) as proxied:
        yield proxied


@pytest.fixture
def processes() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def first_chunk_with(action: Action, *needles: bytes) -> Plan:
    fired = False

    def plan(chunk: bytes) -> Action:
        nonlocal fired
        if not fired and all(n in chunk for n in needles):
            fired = True
            return action
        return "forward"

    return plan


async def stream_entries_for(redis: aioredis.Redis, key: str) -> int:
    entries = [e for s in STREAMS.values() for e in await redis.xrange(s)]
    return sum(1 for _id, fields in entries if fields.get("key") == key)


@pytest.mark.parametrize(
    ("action", "needles"),
    [
        # Killed before any effect reached Redis: the groups' pipeline (each group a script
        # call with its marker) never arrives.
        ("hold_request", (b"EVALSHA", b"effects:{")),
        # Killed after the groups ran (the consent log's RPUSH is not idempotent) but before
        # their answer. (The key as a script's declared key, not inside the commit's entry.)
        ("hold_reply", (b"EVALSHA", b"\r\n$27\r\nmerchant:{none}:consent-log\r\n")),
    ],
    ids=["before-any-effect", "after-one-group"],
)
async def test_effects_of_a_killed_worker_s_commit_are_applied_once_by_the_next(
    redis: aioredis.Redis,
    redis_server: EmbeddedRedis,
    proxy: ResetProxy,
    processes: list[WorkerProcess],
    tmp_path: Path,
    action: Action,
    needles: tuple[bytes, ...],
) -> None:
    proxy.plan = first_chunk_with(action, *needles)
    await ingest(redis, STOP)
    first = WorkerProcess(proxy.url, tmp_path / "first.log")
    processes.append(first)

    async def held() -> bool:
        return proxy.held.is_set()

    await eventually(held, within=30)
    first.kill()  # well inside the 2 s socket timeout: its retry never runs

    # Committed: the event left the inbox with its state and transcript, its effects did not.
    assert await redis.llen(keys.conv_inbox(CONV)) == 0
    assert await redis.llen(keys.conv_effects(CONV)) == 1
    assert await redis.lrange(keys.outbox_conversation_queue(CONV), 0, -1) == [REPLY]
    if action == "hold_request":
        assert not await redis.exists(keys.outbox_message(REPLY))
        # A sender that meets the queued reply before its record leaves it at the head, and
        # its wake-up unacknowledged (BUSY): the reclaim brings it back.
        sender = Sender(redis, {}, SystemClock(), "early-sender")
        assert await sender.drain(CONV) is Outcome.BUSY
        assert await redis.lrange(keys.outbox_conversation_queue(CONV), 0, -1) == [REPLY]
    else:
        assert await redis.llen(keys.consent_log(keys.NO_MERCHANT)) == 1

    second = WorkerProcess(redis_server.url, tmp_path / "second.log")
    processes.append(second)

    async def applied() -> bool:
        return (
            not await redis.exists(keys.conv_effects(CONV))
            and not await redis.sismember(keys.PIPELINE_PENDING, CONV)
            and await redis.hget(keys.outbox_message(REPLY), "attempts") is not None
        )

    await eventually(applied, within=30)
    # Each effect once: the consent log entry, the reply's record and its wake-up.
    assert await redis.llen(keys.consent_log(keys.NO_MERCHANT)) == 1
    assert await redis.exists(keys.consent(keys.NO_MERCHANT, CONV))
    assert await stream_entries_for(redis, REPLY) == 1
    said = [(e["dir"], e["ref"]) for e in await transcript(redis, CONV)]
    assert said == [("in", STOP.id), ("out", REPLY)]
