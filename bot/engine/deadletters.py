"""Events whose dispatch failed deterministically, kept for a person to look at.

A dead letter lives beside its conversation (`conv:{c}:dead`, a hash: event id -> record), so
parking it commits with the pop from the inbox on one hash slot. A global set indexes the
conversations that have some, for `python -m bot dead-letters list`. Operators address a dead
letter by a short id derived from its conversation and event id, which shows no phone number.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.logs import redact
from bot.store import keys

ERROR_CHARS = 500

# Put the event back at the head of its inbox and forget the dead letter, in one step, so a
# replay run twice puts it back once. Refused (-1) while a dispatcher holds the conversation:
# only the lock holder may change the inbox head.
_REPLAY = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return 0 end
redis.call('LPUSH', KEYS[2], cjson.decode(record)['event'])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    event_id: str
    type: str
    conversation: str
    error: str
    at: str
    event: str


def letter_id(conversation: str, event_id: str) -> str:
    digest = hashlib.sha256(f"{conversation}\n{event_id}".encode()).hexdigest()
    return digest[:12]


def parking(
    conversation: str, raw: str, error: BaseException, now: datetime
) -> Callable[[aioredis.client.Pipeline], Awaitable[None]]:
    """The writes that park `raw`, to be committed with its removal from the inbox."""
    event_id, event_type = _identify(raw)
    record = {
        "event_id": event_id,
        "type": event_type,
        "conversation": conversation,
        # Exception texts may quote customer input: phone numbers are masked like in logs.
        "error": redact(f"{type(error).__name__}: {error}")[:ERROR_CHARS],
        "at": now.isoformat(),
        "event": raw,
    }

    async def stage(pipe: aioredis.client.Pipeline) -> None:
        pipe.hset(keys.conv_dead(conversation), event_id, json.dumps(record))

    return stage


async def index(redis: aioredis.Redis, conversation: str) -> None:
    """List the conversation among those with dead letters; called before parking (a crash
    after the park leaves it listed) and after (an operator's cleanup in between is undone)."""
    await redis.sadd(keys.PIPELINE_DEAD_CONVERSATIONS, conversation)


async def list_all(redis: aioredis.Redis) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for conversation in sorted(await redis.smembers(keys.PIPELINE_DEAD_CONVERSATIONS)):
        records = await redis.hgetall(keys.conv_dead(conversation))
        if not records:
            await _unindex_if_empty(redis, conversation)
        for event_id, raw in records.items():
            record = json.loads(raw)
            letters.append(
                DeadLetter(
                    id=letter_id(conversation, event_id),
                    event_id=event_id,
                    type=record["type"],
                    conversation=conversation,
                    error=record["error"],
                    at=record["at"],
                    event=record["event"],
                )
            )
    return sorted(letters, key=lambda letter: letter.at)


async def find(redis: aioredis.Redis, dead_id: str) -> DeadLetter | None:
    return next((d for d in await list_all(redis) if d.id == dead_id), None)


async def replay(
    redis: aioredis.Redis, letter: DeadLetter, *, tries: int = 50, pause: float = 0.1
) -> bool:
    """Put the event back at the head of its inbox and wake a dispatcher; False if it was
    already replayed or dropped. Waits while a dispatcher holds the conversation."""
    from bot.engine.pipeline import wake  # the pipeline parks letters: import at call time

    for _ in range(tries):
        moved = await redis.eval(
            _REPLAY,
            3,
            keys.conv_dead(letter.conversation),
            keys.conv_inbox(letter.conversation),
            keys.conv_lock(letter.conversation),
            letter.event_id,
        )
        if moved != -1:
            break
        await asyncio.sleep(pause)  # an operator's command: real time
    else:
        msg = "the conversation is being dispatched; try again"
        raise TimeoutError(msg)
    await wake(redis, letter.conversation)
    await _unindex_if_empty(redis, letter.conversation)
    return bool(moved)


async def drop(redis: aioredis.Redis, letter: DeadLetter) -> bool:
    removed = await redis.hdel(keys.conv_dead(letter.conversation), letter.event_id)
    await _unindex_if_empty(redis, letter.conversation)
    return bool(removed)


async def _unindex_if_empty(redis: aioredis.Redis, conversation: str) -> None:
    # A letter parked between these two calls is indexed again by its parker right after its
    # commit (see `index`); a stale index entry only costs an empty read.
    if not await redis.exists(keys.conv_dead(conversation)):
        await redis.srem(keys.PIPELINE_DEAD_CONVERSATIONS, conversation)


def _identify(raw: str) -> tuple[str, str]:
    try:
        obj = json.loads(raw)
        return str(obj["id"]), str(obj["type"])
    except (ValueError, KeyError, TypeError):
        # A corrupt event has no id to trust: name it by its content.
        return "corrupt:" + hashlib.sha256(raw.encode()).hexdigest()[:16], "corrupt"
