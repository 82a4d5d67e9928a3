"""The one way in: durable ingest, then dispatch one event at a time per conversation.

Ingest appends an event to its conversation's inbox (deduplicated by provider id) before the
webhook is acknowledged. Dispatch takes the conversation's lock, runs the event through the
flows and commits the new state, the outbound messages and the removal of the event from the
inbox in one MULTI, so a crash before the commit replays the event and a crash after it does
not. Conversations whose inbox is not empty are listed in a set that a restarted worker sweeps,
so an acknowledged event is never stranded.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.logs import log_fields
from bot.store import keys

log = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 14 * 24 * 3600  # longer than any provider's retry window (Stripe: 3 days)
LOCK_TTL_MS = 30_000

# Dedupe and append in one step: a redelivery finds the marker and appends nothing.
_INGEST = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Leave the pending set only when nothing is left: ingest adds before it wakes anyone.
_MARK_DRAINED = """
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to a conversation: a message, an issued invoice, a payment."""

    id: str
    type: str
    conversation: str
    data: dict[str, Any]

    def dumps(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "type": self.type,
                "conversation": self.conversation,
                "data": self.data,
            },
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, raw: str) -> Event:
        obj = json.loads(raw)
        return cls(
            id=obj["id"], type=obj["type"], conversation=obj["conversation"], data=obj["data"]
        )


async def ingest(redis: aioredis.Redis, event: Event) -> bool:
    """Durably append `event` to its conversation; False if it was already received."""
    added = await redis.eval(
        _INGEST,
        2,
        keys.conv_seen(event.conversation, event.id),
        keys.conv_inbox(event.conversation),
        event.dumps(),
        str(SEEN_TTL_SECONDS),
    )
    # Even for a duplicate: the first delivery may have died between its append and this wake.
    async with redis.pipeline(transaction=False) as pipe:
        pipe.sadd(keys.PIPELINE_PENDING, event.conversation)
        pipe.xadd(keys.PIPELINE_WAKE, {"conversation": event.conversation}, maxlen=100_000)
        await pipe.execute()
    return bool(added)


# `ingest` as a Lua function, for a script that must ingest in the same atomic step as its own
# writes (the merchant API's create: bot.engine.issuing). Same effect as `ingest`, wake included.
INGEST_LUA = """
local function facto_ingest(k_seen, k_inbox, k_pending, k_wake, event, ttl, conversation)
  if redis.call('SET', k_seen, '1', 'NX', 'EX', ttl) then redis.call('RPUSH', k_inbox, event) end
  redis.call('SADD', k_pending, conversation)
  redis.call('XADD', k_wake, 'MAXLEN', '~', '100000', '*', 'conversation', conversation)
end
"""
INGEST_KEYS = 4
INGEST_ARGS = 3


def ingest_step(event: Event) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of `facto_ingest` (INGEST_LUA) for `event`."""
    script_keys = [
        keys.conv_seen(event.conversation, event.id),
        keys.conv_inbox(event.conversation),
        keys.PIPELINE_PENDING,
        keys.PIPELINE_WAKE,
    ]
    return script_keys, [event.dumps(), str(SEEN_TTL_SECONDS), event.conversation]


Handler = Callable[[aioredis.Redis, Event, "aioredis.client.Pipeline"], Awaitable[None]]
"""Runs one event: reads what it needs, queues its writes on the given MULTI pipeline."""


class Dispatcher:
    """Drains conversation inboxes, one event at a time per conversation."""

    def __init__(self, redis: aioredis.Redis, handler: Handler, consumer: str) -> None:
        self._redis = redis
        self._handler = handler
        self._consumer = consumer

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                keys.PIPELINE_WAKE, keys.PIPELINE_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run_once(self, block_ms: int | None = None) -> int:
        """Handle the wake-ups available now; returns how many events were dispatched."""
        entries = await self._redis.xreadgroup(
            keys.PIPELINE_GROUP,
            self._consumer,
            {keys.PIPELINE_WAKE: ">"},
            count=50,
            block=block_ms,
        )
        done = 0
        for _stream, messages in entries or []:
            for entry_id, fields in messages:
                done += await self.drain(fields["conversation"])
                await self._redis.xack(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP, entry_id)
        return done

    async def sweep(self) -> int:
        """Drain every conversation still marked pending (after a restart, or a lost wake)."""
        done = 0
        for conversation in await self._redis.smembers(keys.PIPELINE_PENDING):
            done += await self.drain(conversation)
        return done

    async def drain(self, conversation: str) -> int:
        """Process the conversation's inbox until empty; 0 if another worker holds it."""
        done = 0
        while True:
            token = secrets.token_hex(8)
            lock = keys.conv_lock(conversation)
            if not await self._redis.set(lock, token, nx=True, px=LOCK_TTL_MS):
                # The holder re-checks the inbox after releasing, so nothing is stranded.
                return done
            try:
                done += await self._drain_locked(conversation)
            finally:
                await self._redis.eval(_RELEASE, 1, lock, token)
            drained = await self._redis.eval(
                _MARK_DRAINED,
                2,
                keys.conv_inbox(conversation),
                keys.PIPELINE_PENDING,
                conversation,
            )
            if drained:
                return done

    async def _drain_locked(self, conversation: str) -> int:
        done = 0
        inbox = keys.conv_inbox(conversation)
        while (raw := await self._redis.lindex(inbox, 0)) is not None:
            try:
                event = Event.loads(raw)
                async with self._redis.pipeline(transaction=True) as pipe:
                    await self._handler(self._redis, event, pipe)
                    pipe.lpop(inbox)
                    await pipe.execute()
            except Exception:
                # A bug or corrupt event must not block the conversation behind it forever:
                # park it with the error for a human to look at, and move on.
                log.exception("dispatch failed; event parked", extra=log_fields(conv=conversation))
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.rpush(keys.PIPELINE_DEAD, raw)
                    pipe.lpop(inbox)
                    await pipe.execute()
            done += 1
        return done
