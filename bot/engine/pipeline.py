"""The one way in: durable ingest, then dispatch one event at a time per conversation.

Ingest appends an event to its conversation's inbox (deduplicated by provider id) before the
webhook is acknowledged. Dispatch takes the conversation's lock, runs the event through the
flows and commits the new state, the outbound messages and the removal of the event from the
inbox in one MULTI, so a crash before the commit replays the event and a crash after it does
not. That MULTI is on the conversation's hash slot; what the event writes elsewhere is committed
with it as an effects entry and applied once right after (`bot.engine.effects_log`), or by the
next holder of the conversation if this worker dies first. Conversations whose inbox is not
empty are listed in a set that a restarted worker sweeps, so an acknowledged event is never
stranded.

What can go wrong while dispatching, and what happens then:
- Redis unreachable, slow or busy (a *transient* error): the event stays at the head of its
  inbox and the conversation is tried again after a backoff on the injected clock; if Redis is
  still away after the last try, the wake-up stays unacknowledged and the conversation stays
  pending, so the reclaim or the sweep comes back to it. Nothing is dead-lettered for this.
- The handler fails deterministically (a bug, a corrupt event): the event is parked as a dead
  letter with its error and time (`bot.engine.deadletters`), and the conversation moves on.
- The worker stalls (GC, a frozen VM, SIGSTOP) past the lock's life and another worker takes
  over: the commit WATCHes the lock and checks the inbox head, so the stalled worker's commit is
  refused instead of handling the event twice or popping an event it never handled.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError, WatchError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.clock import Clock, SystemClock
from bot.engine import deadletters, effects_log
from bot.engine.lease import RELEASE_IF_OURS
from bot.engine.lua import Lua
from bot.logs import log_fields
from bot.store import keys
from bot.store.dedupe import FIRST_SIGHTING_LUA, marker, marker_keys, seen_ttl_seconds

log = logging.getLogger(__name__)

SEEN_TTL_SECONDS = 14 * 24 * 3600  # longer than any provider's retry window (Stripe: 3 days)
LOCK_TTL_MS = 5_000  # renewed before each event; a killed worker's lock frees this fast
# Backoff between tries of a conversation while Redis is unreachable or busy (seconds).
RETRY_DELAYS = (0.1, 0.3, 1.0, 2.0)

# Error replies that mean "not now" rather than "never": a long script or a load in progress,
# a replica or a cluster moving, a full memory under `noeviction`.
_TRANSIENT_REPLIES = frozenset(
    {"BUSY", "LOADING", "READONLY", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN", "OOM"}
)

# Dedupe and append in one step: a redelivery finds its marker and appends nothing.
# KEYS: marker set, inbox, the event's one-key marker of earlier versions. ARGV: event, the
# marker's life (s), its marker (bot.store.dedupe).
_INGEST = (
    FIRST_SIGHTING_LUA
    + """
if first_sighting(KEYS[1], KEYS[3], ARGV[3], ARGV[2]) then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
"""
)
INGEST = Lua(_INGEST)

# Take the conversation's lock (or renew it if ours), drop the effects entry just applied
# (ARGV[3], if it is still the head), and read what the holder needs next: the effects entry
# waiting to be applied, and the inbox head. KEYS: lock, effects, inbox. ARGV: token, ttl
# ms, applied entry or ''. Returns {0} if another holder has it, else {1, entry, head}.
_STEP = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if ARGV[3] ~= '' and redis.call('LINDEX', KEYS[2], 0) == ARGV[3] then
  redis.call('LPOP', KEYS[2])
end
return {1, redis.call('LINDEX', KEYS[2], 0), redis.call('LINDEX', KEYS[3], 0)}
"""
STEP = Lua(_STEP)
RELEASE = Lua(RELEASE_IF_OURS)
# Under the commit's WATCH: is the lock still ours, and what is the inbox head.
# KEYS: lock, inbox. ARGV: token.
GUARD = Lua(
    "return {redis.call('GET', KEYS[1]) == ARGV[1] and 1 or 0, redis.call('LINDEX', KEYS[2], 0)}"
)


# Telegram updates of one chat are applied in update_id order (PROVIDERS G3): a retried or
# concurrent delivery that arrives after a later update of the same chat is put before it, if
# that one still waits. Not before the head while a dispatcher holds the conversation: it may
# be handling the head right now (its commit checks the head). KEYS and ARGV as _INGEST's,
# then KEYS[4]: the lock, ARGV[4]: the update_id.
_INGEST_ORDERED = (
    FIRST_SIGHTING_LUA
    + """
if not first_sighting(KEYS[1], KEYS[3], ARGV[3], ARGV[2]) then
  return 0
end
local order = tonumber(ARGV[4])
local first = redis.call('EXISTS', KEYS[4])
local waiting = redis.call('LRANGE', KEYS[2], first, -1)
for _, raw in ipairs(waiting) do
  local ok, event = pcall(cjson.decode, raw)
  if ok and event['type'] == 'inbound' and type(event['data']) == 'table'
      and event['data']['channel'] == 'telegram' then
    local other = tonumber(event['data']['provider_id'])
    if other ~= nil and other > order then
      redis.call('LINSERT', KEYS[2], 'BEFORE', raw, ARGV[1])
      return 2
    end
  end
end
redis.call('RPUSH', KEYS[2], ARGV[1])
return 1
"""
)


INGEST_ORDERED = Lua(_INGEST_ORDERED)
REORDERED = 2  # _INGEST_ORDERED put the update before a later one


def update_order(event: Event) -> int | None:
    """The update_id of an inbound Telegram event (its order in its chat), else None."""
    data = event.data
    if event.type != "inbound" or data.get("channel") != "telegram":
        return None
    provider_id = str(data.get("provider_id", ""))
    return int(provider_id) if provider_id.isdigit() else None


def is_transient(error: BaseException) -> bool:
    """True for failures that say nothing about the event: retry it later, never park it."""
    if isinstance(error, RedisConnectionError | RedisTimeoutError | TimeoutError | WatchError):
        return True
    if isinstance(error, ResponseError):
        return str(error).split(" ", 1)[0] in _TRANSIENT_REPLIES
    return False


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


def ingest_call(event: Event) -> tuple[list[str], list[str]]:
    """_INGEST's keys and arguments for `event` (bot.store.dedupe: each source's horizon)."""
    seen, legacy = marker_keys(event.conversation, event.id)
    ttl = str(seen_ttl_seconds(event.id))
    args = [event.dumps(), ttl, marker(event.id)]
    return [seen, keys.conv_inbox(event.conversation), legacy], args


async def ingest(redis: aioredis.Redis, event: Event) -> bool:
    """Durably append `event` to its conversation; False if it was already received.

    One round trip: the deduplicating append (a script on the conversation's slot), then the
    pending mark and the wake-up, pipelined behind it (not a transaction: other slots). They
    run in that order, so the wake-up never comes before its event. Even for a duplicate: the
    first delivery may have died between its append and its wake-up.

    A Telegram update goes before the later updates of its chat still waiting, so that
    retries and concurrent deliveries are applied in update_id order.
    """
    conversation = event.conversation
    order = update_order(event)
    script = INGEST
    ingest_keys, ingest_args = ingest_call(event)
    if order is not None:
        script = INGEST_ORDERED
        ingest_keys.append(keys.conv_lock(conversation))
        ingest_args.append(str(order))

    async def once() -> object:
        async with redis.pipeline(transaction=False) as pipe:
            script.queue(pipe, ingest_keys, ingest_args)
            _queue_wake(pipe, conversation)
            added, *_ = await pipe.execute()
        return added

    added = await script.retried(redis, once)
    if added == REORDERED:
        log.info("telegram update put back in order", extra=log_fields(event=event.id))
    return bool(added)


async def wake(redis: aioredis.Redis, conversation: str) -> None:
    """Mark the conversation pending and wake a dispatcher for it."""
    async with redis.pipeline(transaction=False) as pipe:
        _queue_wake(pipe, conversation)
        await pipe.execute()


def _queue_wake(pipe: aioredis.client.Pipeline, conversation: str) -> None:
    pipe.sadd(keys.PIPELINE_PENDING, conversation)
    pipe.xadd(keys.PIPELINE_WAKE, {"conversation": conversation}, maxlen=100_000)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None  # a Lua false comes back as None


def woken(fields: Mapping[str, str] | None) -> list[str]:
    """The conversations a wake-up entry names: one, or a batch's (bot.engine.campaigns)."""
    if not fields:
        return []
    if "conversations" in fields:
        return fields["conversations"].split("\n")
    return [fields["conversation"]]


Handler = Callable[[aioredis.Redis, Event, "aioredis.client.Pipeline"], Awaitable[None]]
"""Runs one event: reads what it needs, queues its writes on the given MULTI pipeline."""

Stage = Callable[["aioredis.client.Pipeline"], Awaitable[None]]


class LockLost(Exception):
    """The conversation's lock expired and may be another worker's: stop, commit nothing."""


class Dispatcher:
    """Drains conversation inboxes, one event at a time per conversation."""

    def __init__(
        self,
        redis: aioredis.Redis,
        handler: Handler,
        consumer: str,
        *,
        clock: Clock | None = None,
        lock_ttl_ms: int = LOCK_TTL_MS,
        handler_timeout: float | None = None,
        slow_events: Mapping[str, float] | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        concurrency: int = 1,
    ) -> None:
        self._redis = redis
        self._handler = handler
        self._consumer = consumer
        self._clock: Clock = clock or SystemClock()
        self.lock_ttl_ms = lock_ttl_ms
        # Well under the lock's life: a handler that overruns is cut short and retried rather
        # than left to commit after its lock may have gone to another worker.
        self._handler_timeout = (
            handler_timeout if handler_timeout is not None else lock_ttl_ms / 3000
        )
        # Event types whose handler waits on a provider (a payment is re-read at Stripe): their
        # own time budget, with the lock held three times as long for that event only, so a
        # crash in the middle of one delays its conversation by that much and no other.
        self._slow_events = dict(slow_events or {})
        self._retry_delays = tuple(retry_delays)
        self._dispatched = 0
        # Conversations drained at once by this dispatcher, whoever asks (wake-ups, reclaim,
        # sweep): each still one event at a time under its lock, so order is kept per
        # conversation while Redis round trips of different conversations overlap.
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)

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
        return await self._handle_wakes(entries[0][1] if entries else [])

    async def reclaim(self, min_idle_ms: int, max_pages: int = 10) -> int:
        """Take over wake-ups another dispatcher read but never acknowledged (it died).

        Its conversations' locks expire within `lock_ttl_ms`, so reclaiming entries idle for
        longer than that finds them free.
        """
        done, cursor = 0, "0-0"
        for _ in range(max_pages):
            cursor, claimed, *_ = await self._redis.xautoclaim(
                keys.PIPELINE_WAKE,
                keys.PIPELINE_GROUP,
                self._consumer,
                min_idle_ms,
                cursor,
                count=100,
            )
            done += await self._handle_wakes(claimed)
            if cursor == "0-0":
                break
        return done

    async def _handle_wakes(self, entries: list[tuple[str, dict[str, str] | None]]) -> int:
        """Drain the conversations the entries name, side by side; acknowledge them together.

        An entry is acknowledged only once all its conversations were drained: if Redis went
        away meanwhile, the failed ones' entries stay pending and a reclaim comes back to them
        (the first error is raised after the others are acknowledged).
        """
        entries_of: dict[str, list[str]] = {}
        for entry_id, fields in entries:
            # None: the entry was trimmed from the stream; nothing to drain. A campaign's
            # batch wakes several conversations with one entry (`conversations`, one a line).
            for conversation in woken(fields):
                entries_of.setdefault(conversation, []).append(entry_id)
        done, failures = await self.drain_many(list(entries_of))
        unfinished = {entry_id for c in failures for entry_id in entries_of[c]}
        finished = [entry_id for entry_id, _ in entries if entry_id not in unfinished]
        if finished:
            await self._redis.xack(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP, *finished)
        if failures:
            raise next(iter(failures.values()))
        return done

    async def sweep(self) -> int:
        """Drain every conversation still marked pending (after a restart, or a lost wake)."""
        done, failures = await self.drain_many(
            list(await self._redis.smembers(keys.PIPELINE_PENDING))
        )
        if failures:
            raise next(iter(failures.values()))
        return done

    async def drain_many(self, conversations: Sequence[str]) -> tuple[int, dict[str, Exception]]:
        """Drain `conversations`, at most `concurrency` at once in this dispatcher; the events
        dispatched, and the error of each conversation that could not be drained."""
        todo = iter(conversations)
        failures: dict[str, Exception] = {}
        done = 0

        async def lane() -> None:
            nonlocal done
            for conversation in todo:  # shared: each lane takes the next one left
                try:
                    async with self._slots:
                        done += await self.drain(conversation)
                except Exception as exc:  # reported to the caller, per conversation
                    failures[conversation] = exc

        lanes = min(self.concurrency, len(conversations))
        await asyncio.gather(*(lane() for _ in range(lanes)))
        return done, failures

    async def drain(self, conversation: str) -> int:
        """Process the conversation's inbox until empty; 0 if another worker holds it.

        Redis being away is retried here with backoff; past the last try the error goes up.
        """
        before = self._dispatched
        token = secrets.token_hex(8)  # kept across tries: a lock we failed to release is ours
        for delay in (*self._retry_delays, None):
            try:
                await self._drain(conversation, token)
                return self._dispatched - before
            except Exception as exc:
                if delay is None or not is_transient(exc):
                    raise
                log.warning(
                    "dispatch deferred: redis unavailable",
                    extra=log_fields(error=type(exc).__name__, retry_in=delay),
                )
                await self._clock.sleep(delay)
        return self._dispatched - before  # pragma: no cover - the loop returns or raises

    async def _drain(self, conversation: str, token: str) -> None:
        lock = keys.conv_lock(conversation)
        while True:
            step = await self._step(conversation, lock, token, self.lock_ttl_ms)
            if step is None:
                # The holder re-checks the inbox after releasing, so nothing is stranded.
                return
            try:
                await self._drain_locked(conversation, lock, token, step)
            except LockLost:
                log.warning("dispatch lock lost; left to its new holder")
                await RELEASE(self._redis, [lock], [token])
                return
            except BaseException:
                await RELEASE(self._redis, [lock], [token])
                raise
            if await self._release_and_mark_drained(conversation, lock, token):
                return

    async def _step(
        self, conversation: str, lock: str, token: str, ttl_ms: int, applied: str = ""
    ) -> tuple[str | None, str | None] | None:
        """Take or renew the lock, dropping the effects entry `applied`; None if another
        holder has the lock, else (effects entry waiting, inbox head)."""
        answer = await STEP(
            self._redis,
            [lock, keys.conv_effects(conversation), keys.conv_inbox(conversation)],
            [token, str(ttl_ms), applied],
        )
        assert isinstance(answer, list)
        if not answer[0]:
            return None
        return _text_or_none(answer[1]), _text_or_none(answer[2])

    async def _release_and_mark_drained(self, conversation: str, lock: str, token: str) -> bool:
        """Release the lock and leave the pending set if nothing is left, in one round trip;
        False (and pending again) if something is left.

        Not one script: the inbox and the pending set live on different slots. Safe without:
        ingest appends before it adds to the set, so an event appended after our LLEN is
        re-marked by its own ingest, and one appended before it is seen here and re-added.
        """

        async def once() -> list[object]:
            async with self._redis.pipeline(transaction=False) as pipe:
                RELEASE.queue(pipe, [lock], [token])
                pipe.srem(keys.PIPELINE_PENDING, conversation)
                pipe.llen(keys.conv_inbox(conversation))
                pipe.exists(keys.conv_effects(conversation))
                result: list[object] = await pipe.execute()
            return result

        _released, _removed, left, effects = await RELEASE.retried(self._redis, once)
        if not left and not effects:
            return True
        await self._redis.sadd(keys.PIPELINE_PENDING, conversation)
        return False

    async def _drain_locked(
        self, conversation: str, lock: str, token: str, step: tuple[str | None, str | None]
    ) -> None:
        effects, raw = step
        while True:
            if effects is not None:
                # A commit whose effects were not all applied (its worker died, or Redis went
                # away right after it) is finished first: the next event must read what it
                # wrote. Also our own commit's, just made.
                await effects_log.apply_pending(self._redis, conversation)
                step_after = await self._step(conversation, lock, token, self.lock_ttl_ms)
                if step_after is None:
                    raise LockLost
                effects, raw = step_after
                continue
            if raw is None:
                return
            budget, lock_ms = self._budget(raw)
            if lock_ms != self.lock_ttl_ms:  # a slow event: its lock lives longer
                renewed = await self._step(conversation, lock, token, lock_ms)
                if renewed is None or renewed[1] != raw:
                    raise LockLost
            try:
                await self._commit(
                    conversation, lock, token, raw, self._stage_handler(raw, budget)
                )
            except LockLost:
                raise
            except Exception as exc:
                if is_transient(exc):
                    raise
                # A bug or corrupt event must not block the conversation behind it forever:
                # park it with the error for a human to look at, and move on.
                log.exception("dispatch failed; event parked", extra=log_fields(conv=conversation))
                park = deadletters.parking(conversation, raw, exc, self._clock.now())
                await deadletters.index(self._redis, conversation)
                await self._commit(conversation, lock, token, raw, park)
                await deadletters.index(self._redis, conversation)
            self._dispatched += 1
            # Renewed before each event: a long backlog keeps its lock, a dead worker's expires.
            step_after = await self._step(conversation, lock, token, self.lock_ttl_ms)
            if step_after is None:
                raise LockLost
            effects, raw = step_after

    def _budget(self, raw: str) -> tuple[float, int]:
        """How long the handler may take for this event, and how long the lock lives for it."""
        try:
            kind = json.loads(raw).get("type")
        except (ValueError, AttributeError):
            kind = None  # corrupt: the handler will say so, and the event is parked
        slow = self._slow_events.get(str(kind))
        if slow is None:
            return self._handler_timeout, self.lock_ttl_ms
        return slow, max(self.lock_ttl_ms, int(slow * 3000))

    def _stage_handler(self, raw: str, budget: float) -> Stage:
        async def stage(pipe: aioredis.client.Pipeline) -> None:
            event = Event.loads(raw)
            async with asyncio.timeout(budget):
                await self._handler(self._redis, event, pipe)

        return stage

    async def _commit(
        self, conversation: str, lock: str, token: str, raw: str, stage: Stage
    ) -> None:
        """Queue `stage`'s writes and the pop of `raw`; commit only while the lock is ours
        and `raw` is still the inbox head.

        WATCH on the lock makes EXEC fail if the lock expired or changed hands while the
        handler ran; the head is checked under that WATCH, and only the lock holder pops it.
        """
        inbox = keys.conv_inbox(conversation)
        while True:
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    await pipe.watch(lock)
                    guard = await GUARD(pipe, [lock, inbox], [token])
                    assert isinstance(guard, list)
                    ours, head = guard
                    if not ours:
                        raise LockLost
                    if head != raw:
                        break  # our earlier EXEC went through; its reply was lost
                    # The handler queues on a pipeline of its own, never executed: its writes
                    # are sorted by hash slot, and only the conversation's own go in this MULTI.
                    async with self._redis.pipeline(transaction=True) as writes:
                        await stage(writes)
                        split = effects_log.split(conversation, writes.command_stack)
                    pipe.multi()
                    for args, options in split.local:
                        pipe.execute_command(*args, **options)
                    if split.groups:
                        pipe.rpush(keys.conv_effects(conversation), split.entry())
                    pipe.lpop(inbox)
                    await pipe.execute()
                    break
            except WatchError:
                # The lock changed (expired, taken) or the connection dropped mid-commit:
                # look again before deciding whether anything is left to do.
                continue
        # Its effects are applied by the caller's next step, which sees them waiting.
