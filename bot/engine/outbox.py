"""The one way out: every customer-facing message is recorded, then sent once by a sender.

A message is queued inside the dispatch commit (`queue`), so it exists if and only if the
state change that produced it does. The sender marks it `sending` before calling the provider
and `sent` after; a retryable failure (429, 5xx) parks it in a retry zset until its time comes,
honouring `Retry-After`. Provider status callbacks move the state forward only.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.clock import Clock
from bot.logs import log_fields
from bot.store import keys
from channels.base import (
    ChannelAdapter,
    ChannelError,
    ChannelName,
    DeliveryReport,
    DeliveryState,
    OutboundMessage,
    ProviderUnavailable,
    RateLimited,
)

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 600.0
DELIVERY_TTL_SECONDS = 90 * 24 * 3600

# Move due retries back into the stream atomically, so two movers never double-queue one.
_MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, key in ipairs(due) do
  redis.call('ZREM', KEYS[1], key)
  redis.call('XADD', KEYS[2], '*', 'key', key)
end
return #due
"""

# A status callback only moves a delivery forward (TESTCASES 36).
_ADVANCE = """
local rank = tonumber(redis.call('HGET', KEYS[1], 'rank') or '-1')
if tonumber(ARGV[2]) > rank then
  redis.call('HSET', KEYS[1], 'state', ARGV[1], 'rank', ARGV[2], 'error_code', ARGV[3])
  return 1
end
return 0
"""


def queue(pipe: aioredis.client.Pipeline, message: OutboundMessage, conversation: str) -> None:
    """Record `message` and queue it for sending, as part of the caller's MULTI."""
    record = keys.outbox_message(message.idempotency_key)
    pipe.hsetnx(record, "message", json.dumps(message.to_dict()))
    pipe.hsetnx(record, "conversation", conversation)
    pipe.hsetnx(record, "state", DeliveryState.PENDING.value)
    pipe.xadd(keys.OUTBOX_STREAM, {"key": message.idempotency_key}, maxlen=1_000_000)


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    key: str
    message: OutboundMessage
    state: DeliveryState
    attempts: int
    provider_message_id: str | None


async def load(redis: aioredis.Redis, key: str) -> OutboxRecord | None:
    raw = await redis.hgetall(keys.outbox_message(key))
    if not raw or "message" not in raw:
        return None
    return OutboxRecord(
        key=key,
        message=OutboundMessage.from_dict(json.loads(raw["message"])),
        state=DeliveryState(raw.get("state", "pending")),
        attempts=int(raw.get("attempts", "0")),
        provider_message_id=raw.get("provider_id"),
    )


async def record_delivery(redis: aioredis.Redis, report: DeliveryReport) -> bool:
    """Apply a provider status callback; False if it is not a step forward.

    Kept per provider message id, apart from our own send state: a callback may arrive before
    the sender has written down the id the provider gave it.
    """
    moved = await redis.eval(
        _ADVANCE,
        1,
        keys.outbox_delivery(report.provider_message_id),
        report.state.value,
        str(report.state.rank),
        report.error_code or "",
    )
    if moved:
        await redis.expire(keys.outbox_delivery(report.provider_message_id), DELIVERY_TTL_SECONDS)
    return bool(moved)


async def delivery_state(redis: aioredis.Redis, provider_message_id: str) -> DeliveryState | None:
    state = await redis.hget(keys.outbox_delivery(provider_message_id), "state")
    return DeliveryState(state) if state else None


def backoff(attempts: int, error: ChannelError) -> float:
    """Seconds before the next try: the provider's Retry-After when it gives one."""
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, RateLimited | ProviderUnavailable) and retry_after:
        return float(retry_after)
    return float(min(MAX_BACKOFF_SECONDS, 2 ** max(attempts, 1)))


class Sender:
    """Reads the outbox stream and sends each message once through its channel."""

    def __init__(
        self,
        redis: aioredis.Redis,
        adapters: Mapping[ChannelName, ChannelAdapter],
        clock: Clock,
        consumer: str,
    ) -> None:
        self._redis = redis
        self._adapters = adapters
        self._clock = clock
        self._consumer = consumer

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                keys.OUTBOX_STREAM, keys.OUTBOX_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def move_due_retries(self) -> int:
        now = self._clock.now().timestamp()
        moved = await self._redis.eval(
            _MOVE_DUE, 2, keys.OUTBOX_RETRY, keys.OUTBOX_STREAM, str(now)
        )
        return int(moved)

    async def run_once(self, block_ms: int | None = None, *, pending: bool = False) -> int:
        """Send what is queued; with `pending`, first what this consumer left unacknowledged."""
        start = "0" if pending else ">"
        entries = await self._redis.xreadgroup(
            keys.OUTBOX_GROUP,
            self._consumer,
            {keys.OUTBOX_STREAM: start},
            count=50,
            block=block_ms,
        )
        handled = 0
        for _stream, messages in entries or []:
            for entry_id, fields in messages:
                await self._handle(fields["key"])
                await self._redis.xack(keys.OUTBOX_STREAM, keys.OUTBOX_GROUP, entry_id)
                handled += 1
        return handled

    async def reclaim(self, min_idle_ms: int) -> int:
        """Take over entries another sender read but never acknowledged (it died)."""
        _next, claimed, *_ = await self._redis.xautoclaim(
            keys.OUTBOX_STREAM, keys.OUTBOX_GROUP, self._consumer, min_idle_ms, "0-0", count=100
        )
        for entry_id, fields in claimed:
            if fields:
                await self._handle(fields["key"])
            await self._redis.xack(keys.OUTBOX_STREAM, keys.OUTBOX_GROUP, entry_id)
        return len(claimed)

    async def _handle(self, key: str) -> None:
        record = await load(self._redis, key)
        if record is None:
            log.error("outbox entry without record", extra=log_fields(key=key))
            return
        if record.state not in (DeliveryState.PENDING, DeliveryState.SENDING):
            return  # already sent or given up: a replayed entry sends nothing
        await self._send(record)

    async def _send(self, record: OutboxRecord) -> None:
        name = keys.outbox_message(record.key)
        attempts = record.attempts + 1
        await self._redis.hset(
            name, mapping={"state": DeliveryState.SENDING.value, "attempts": str(attempts)}
        )
        adapter = self._adapters[record.message.channel]
        try:
            result = await adapter.send(record.message)
        except ChannelError as error:
            await self._failed(record, attempts, error)
            return
        await self._redis.hset(name, mapping=_sent_fields(result.provider_message_id, self._clock))
        log.info("message sent", extra=log_fields(key=record.key, channel=record.message.channel))

    async def _failed(self, record: OutboxRecord, attempts: int, error: ChannelError) -> None:
        name = keys.outbox_message(record.key)
        if error.retryable and attempts < MAX_ATTEMPTS:
            due = self._clock.now().timestamp() + backoff(attempts, error)
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(
                    name,
                    mapping={
                        "state": DeliveryState.PENDING.value,
                        "last_error": type(error).__name__,
                    },
                )
                pipe.zadd(keys.OUTBOX_RETRY, {record.key: due})
                await pipe.execute()
            log.warning(
                "send failed, will retry",
                extra=log_fields(key=record.key, error=type(error).__name__, attempts=attempts),
            )
            return
        await self._redis.hset(
            name,
            mapping={
                "state": DeliveryState.FAILED.value,
                "last_error": type(error).__name__,
            },
        )
        log.error(
            "send failed for good",
            extra=log_fields(key=record.key, error=type(error).__name__, attempts=attempts),
        )


def _sent_fields(provider_message_id: str, clock: Clock) -> dict[str, Any]:
    return {
        "state": DeliveryState.SENT.value,
        "provider_id": provider_message_id,
        "sent_at": clock.now().isoformat(),
    }
