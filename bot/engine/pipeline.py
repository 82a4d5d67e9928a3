"""The one way in: durable ingest, then dispatch one event at a time per conversation.

Ingest appends an event to its conversation's inbox (deduplicated by provider id) before the
webhook is acknowledged. Dispatch takes the conversation's lock, runs the event through the
flows and commits the new state, the outbound messages and the removal of the event from the
inbox in one atomic step (a script), so a crash before the commit replays the event and a
crash after it does not. That step is on the conversation's hash slot; what the event writes
elsewhere is committed with it as an effects entry and applied once right after
(`bot.engine.effects_log`), or by the next holder of the conversation if this worker dies
first. Conversations whose inbox is not
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
  over: the commit checks, in the same script, that the lock is still its own and the inbox head
  the event it handled, so the stalled worker's commit is refused instead of handling the event
  twice or popping an event it never handled.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import (
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
    WatchError,
)
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.clock import Clock, SystemClock
from bot.engine import deadletters, effects_log
from bot.engine.effects_log import APPLY
from bot.engine.lease import RELEASE_IF_OURS
from bot.engine.lua import Lua, pcall_writes, retried_all
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

# The conversation's state as the handler would read it: {stored value or false} when it is
# a string (or absent), {} when stored some other way (then the handler reads it itself).
_READ_STATE = (
    "(function() local t = redis.call('TYPE', KEYS[4])['ok']; "
    "if t == 'string' or t == 'none' then return {redis.call('GET', KEYS[4])} end; "
    "return {} end)()"
)

# Take the conversation's lock (or renew it if ours), drop the effects entry just applied
# (ARGV[3], if it is still the head), and read what the holder needs next: the effects entry
# waiting to be applied, the inbox head, and the conversation's state (the handler's first
# read). With ARGV[4] = '1' and nothing left, release the lock instead; nothing left but the
# entry ARGV[5] counts as nothing left: its groups are applied in the same round trip, just
# before this step, and it stays in the list until the caller saw them all succeed (then it
# is dropped, `Dispatcher._lingering`; else whoever holds the conversation next applies it).
# KEYS: lock, effects, inbox, state. ARGV: token, ttl ms, applied entry or '', release, the
# entry being applied or ''. Returns {0} if another holder has it, {2} if released, else
# {1, entry, head, state}.
_STEP = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if ARGV[3] ~= '' and redis.call('LINDEX', KEYS[2], 0) == ARGV[3] then
  redis.call('LPOP', KEYS[2])
end
local entry = redis.call('LINDEX', KEYS[2], 0)
local head = redis.call('LINDEX', KEYS[3], 0)
local alone = not entry
if entry and entry == ARGV[5] then alone = redis.call('LLEN', KEYS[2]) == 1 end
if ARGV[4] == '1' and alone and not head then
  redis.call('DEL', KEYS[1])
  return {2}
end
return {1, entry, head, READ_STATE}
""".replace("READ_STATE", _READ_STATE)
STEP = Lua(_STEP)
RELEASE = Lua(RELEASE_IF_OURS)
# Under the commit's WATCH: is the lock still ours, and what is the inbox head.
# KEYS: lock, inbox. ARGV: token. (The commit of a handler that queued a script of its own.)
GUARD = Lua(
    "return {redis.call('GET', KEYS[1]) == ARGV[1] and 1 or 0, redis.call('LINDEX', KEYS[2], 0)}"
)
# The guarded commit in one step: only while the lock is ours and the event handled is still
# the inbox head, write the conversation's own keys, append the effects entry, pop the event,
# renew the lock, and read the next heads and state as STEP does. Commands refused by Redis (a
# bug: a wrong type) do not stop the others, as inside EXEC; their errors are returned.
# The lock's renewal is the first write, outside pcall: Redis refuses a script for memory at
# its first write only (later ones are let through), and a refusal swallowed by pcall would
# let the pop of the event through without its state. Refused there, nothing is written.
# The effects entry this holder saw applied (ARGV[5], left in the list by the step that applied
# it) leaves the list here, if it is still its head.
# KEYS: lock, inbox, effects, state, then the keys the writes touch (declared, one slot).
# ARGV: token, event, effects entry or '', ttl ms, applied entry or '', then each write: its
# argument count, then its arguments. Returns {0} lock lost, {2} the event is no longer the
# head (committed before, the reply lost), else {1, entry, head, state, {errors}}.
COMMIT = Lua(
    """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
if redis.call('LINDEX', KEYS[2], 0) ~= ARGV[2] then return {2} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
if ARGV[5] ~= '' and redis.call('LINDEX', KEYS[3], 0) == ARGV[5] then
  redis.call('LPOP', KEYS[3])
end
local refused = {}
"""
    + pcall_writes(6)
    + """if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3]) end
redis.call('LPOP', KEYS[2])
return {1, redis.call('LINDEX', KEYS[3], 0), redis.call('LINDEX', KEYS[2], 0),
        READ_STATE, refused}
""".replace("READ_STATE", _READ_STATE)
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
    # redis-py strips the code of the replies it has a class for (OOM, READONLY): "command
    # not allowed when used memory > 'maxmemory'" says nothing about the event either.
    if isinstance(error, OutOfMemoryError | ReadOnlyError):
        return True
    if isinstance(error, ResponseError):
        return _TRANSIENT_CODE.search(str(error)) is not None
    return False


# The reply's code: first, or inside a script's error ("Error running script ...: -OOM ..."),
# or inside redis-py's wrapping of a pipeline's ("Command # 2 (...) caused error: ('BUSY ...")
_TRANSIENT_CODE = re.compile(
    r"(?:^|: -|caused error: \(?['\"]?)(?:" + "|".join(sorted(_TRANSIENT_REPLIES)) + r")\b"
)


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


async def ingest(
    redis: aioredis.Redis,
    event: Event,
    before: Callable[[aioredis.client.Pipeline], object] | None = None,
) -> bool:
    """Durably append `event` to its conversation; False if it was already received.

    One round trip: the deduplicating append (a script on the conversation's slot), then the
    pending mark and the wake-up, pipelined behind it (not a transaction: other slots). They
    run in that order, so the wake-up never comes before its event. Even for a duplicate: the
    first delivery may have died between its append and its wake-up.

    `before` queues writes that must be in place before the event can be dispatched (a
    payment's locator): ahead of it in the same round trip. They may run twice (the pipeline
    is repeated if Redis had forgotten the script), so they must be idempotent.

    A Telegram update goes before the later updates of its chat still waiting, so that
    retries and concurrent deliveries are applied in update_id order.
    """

    async def once() -> object:
        async with redis.pipeline(transaction=False) as pipe:
            if before is not None:
                before(pipe)
            ahead = len(pipe.command_stack)
            queue_ingest(pipe, event)
            replies = await pipe.execute()
        return replies[ahead]

    added = await ingest_script(event).retried(redis, once)
    if added == REORDERED:
        log.info("telegram update put back in order", extra=log_fields(event=event.id))
    return bool(added)


def ingest_script(event: Event) -> Lua:
    """The script `queue_ingest` calls for `event` (for `Lua.retried`)."""
    return INGEST if update_order(event) is None else INGEST_ORDERED


def queue_ingest(pipe: aioredis.client.Pipeline, event: Event) -> None:
    """`ingest`'s three commands (append, pending mark, wake-up) on the caller's pipeline,
    behind what it holds already; run it through `ingest_script(event).retried`."""
    order = update_order(event)
    ingest_keys, ingest_args = ingest_call(event)
    if order is not None:
        ingest_keys.append(keys.conv_lock(event.conversation))
        ingest_args.append(str(order))
    ingest_script(event).queue(pipe, ingest_keys, ingest_args)
    _queue_wake(pipe, event.conversation)


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
"""Runs one event: reads what it needs, queues its writes on the given pipeline (never executed
as such: the dispatcher sorts them by hash slot into its commit and the effects entry)."""

Stage = Callable[["aioredis.client.Pipeline"], Awaitable[None]]

Read = tuple[str, ...]
"""One read command, as sent: ("GET", key), ("EXISTS", key), ("ZRANGE", key, "0", "-1")."""

Prefetch = Callable[[aioredis.Redis, str, str | None], Awaitable[Sequence[Read]]]
"""What a handler will most likely read for a conversation whose stored state is the given
one: read in the same round trip as the lock step before its next event."""

SEEN_STATES = 4096  # conversations whose last state a dispatcher remembers, to plan reads


def stream_ms(entry_id: str) -> int:
    """The milliseconds part of a stream entry id ("1700000000000-3")."""
    ms, _, _seq = entry_id.partition("-")
    return int(ms) if ms.isdigit() else 0


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
        prefetch: Prefetch | None = None,
    ) -> None:
        self._redis = redis
        self._handler = handler
        self._prefetch = prefetch
        # The state each conversation had after this dispatcher's last step on it: what the
        # next event's reads are planned from (a guess: the reads are checked against the
        # state the lock step returns, and what was not guessed is read then).
        self._seen: OrderedDict[str, str | None] = OrderedDict()
        # When this dispatcher last released each conversation with nothing left (Redis time,
        # ms, read just before the release looked): a wake-up written before that names work
        # already done (`_stale`), so it is acknowledged without a drain (bounded like _seen).
        self._released: OrderedDict[str, int] = OrderedDict()
        # What a release left for later, sent with the next XREADGROUP (or `flush`): the
        # wake-ups whose drain applied its last effects entry in the release's round trip
        # (acknowledged only once those effects were seen to succeed: until then a reclaim
        # must find them), and those entries, still in their lists (each conversation's).
        self._held_acks: list[str] = []
        self._lingering: dict[str, str] = {}
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
        """Handle the wake-ups available now; returns how many events were dispatched.

        What the last batch left (`flush`) goes in the same round trip, before the read."""
        if not self._held_acks and not self._lingering:
            entries = await self._redis.xreadgroup(
                keys.PIPELINE_GROUP,
                self._consumer,
                {keys.PIPELINE_WAKE: ">"},
                count=50,
                block=block_ms,
            )
        else:
            async with self._redis.pipeline(transaction=False) as pipe:
                sent = self._queue_flush(pipe)
                pipe.xreadgroup(
                    keys.PIPELINE_GROUP,
                    self._consumer,
                    {keys.PIPELINE_WAKE: ">"},
                    count=50,
                    block=block_ms,
                )
                *_, entries = await pipe.execute()
            self._flushed(*sent)
        return await self._handle_wakes(entries[0][1] if entries else [])

    async def flush(self, *acks: str) -> None:
        """Acknowledge `acks` and what the releases left (`_held_acks`, `_lingering`)."""
        if not acks and not self._held_acks and not self._lingering:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            sent = self._queue_flush(pipe, *acks)
            await pipe.execute()
        self._flushed(*sent)

    def _queue_flush(
        self, pipe: aioredis.client.Pipeline, *acks: str
    ) -> tuple[list[str], dict[str, str]]:
        """The drops of the entries left in place (if still their list's head: applied, so
        whoever finds one there applies it again as a no-op) and the acknowledgements."""
        lingering = dict(self._lingering)
        for conversation, entry in lingering.items():
            pipe.eval(effects_log.POP_IF_HEAD, 1, keys.conv_effects(conversation), entry)
        held = [*self._held_acks, *acks]
        if held:
            pipe.xack(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP, *held)
        return held, lingering

    def _flushed(self, held: list[str], lingering: dict[str, str]) -> None:
        self._held_acks = [a for a in self._held_acks if a not in set(held)]
        for conversation, entry in lingering.items():
            if self._lingering.get(conversation) == entry:
                del self._lingering[conversation]

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
        await self.flush()
        return done

    async def _handle_wakes(self, entries: list[tuple[str, dict[str, str] | None]]) -> int:
        """Drain the conversations the entries name, side by side; acknowledge them.

        An entry is acknowledged only once all its conversations were drained: if Redis went
        away meanwhile, the failed ones' entries stay pending and a reclaim comes back to them
        (the first error is raised after the others are acknowledged). An entry naming one
        conversation is acknowledged in that conversation's release (same round trip), or, when
        that release also applied effects, with the next XREADGROUP (`_held_acks`); the
        others (a campaign's batch, a conversation another worker held) together after.
        """
        entries_of: dict[str, list[str]] = {}
        own: dict[str, Acks] = {}
        for entry_id, fields in entries:
            # None: the entry was trimmed from the stream; nothing to drain. A campaign's
            # batch wakes several conversations with one entry (`conversations`, one a line).
            named = [c for c in woken(fields) if not self._stale(c, entry_id)]
            for conversation in named:
                entries_of.setdefault(conversation, []).append(entry_id)
                own.setdefault(conversation, Acks())
            if len(named) == 1:
                own[named[0]].ids.append(entry_id)
        done, failures = await self.drain_many(list(entries_of), acks=own)
        unfinished = {entry_id for c in failures for entry_id in entries_of[c]}
        acked = {entry_id for a in own.values() if a.sent for entry_id in a.ids}
        held = {entry_id for a in own.values() if a.held for entry_id in a.ids}
        finished = [entry_id for entry_id, _ in entries if entry_id not in unfinished | acked]
        self._held_acks += [entry_id for entry_id in finished if entry_id in held]
        now = [entry_id for entry_id in finished if entry_id not in held]
        if now:
            await self.flush(*now)
        if failures:
            raise next(iter(failures.values()))
        return done

    def _stale(self, conversation: str, entry_id: str) -> bool:
        """True when `entry_id`'s wake-up for `conversation` was written before this
        dispatcher last released it with nothing left.

        Ingest appends the event, then marks the conversation pending, then writes the
        wake-up; the release takes Redis' time, then leaves the pending set, then looks at
        the inbox and effects. A wake-up older than that time (strictly: ids are in ms)
        follows an append and a pending mark that both came before the look and the leave:
        its event was handled (the inbox was empty) and its mark removed. Typical under
        load: the event was dispatched right after the one before it, in the same drain,
        and its wake-up only comes afterwards. Skipping it saves a lock step, its planned
        reads and a release. A newer wake-up is drained as usual."""
        released = self._released.get(conversation)
        return released is not None and stream_ms(entry_id) < released

    def _note_released(self, conversation: str, redis_ms: int) -> None:
        if redis_ms > self._released.get(conversation, 0):
            self._released[conversation] = redis_ms
        self._released.move_to_end(conversation)
        while len(self._released) > SEEN_STATES:
            self._released.popitem(last=False)

    async def sweep(self) -> int:
        """Drain every conversation still marked pending (after a restart, or a lost wake)."""
        done, failures = await self.drain_many(
            list(await self._redis.smembers(keys.PIPELINE_PENDING))
        )
        if failures:
            raise next(iter(failures.values()))
        return done

    async def drain_many(
        self, conversations: Sequence[str], acks: Mapping[str, Acks] | None = None
    ) -> tuple[int, dict[str, Exception]]:
        """Drain `conversations`, at most `concurrency` at once in this dispatcher; the events
        dispatched, and the error of each conversation that could not be drained. `acks`: the
        wake-ups to acknowledge with each conversation's release (a conversation listed there
        is drained for a wake-up, which keeps it findable until its effects are seen applied).
        """
        todo = iter(conversations)
        failures: dict[str, Exception] = {}
        done = 0

        async def lane() -> None:
            nonlocal done
            for conversation in todo:  # shared: each lane takes the next one left
                try:
                    async with self._slots:
                        done += await self.drain(conversation, (acks or {}).get(conversation))
                except Exception as exc:  # reported to the caller, per conversation
                    failures[conversation] = exc

        lanes = min(self.concurrency, len(conversations))
        await asyncio.gather(*(lane() for _ in range(lanes)))
        return done, failures

    async def drain(self, conversation: str, acks: Acks | None = None) -> int:
        """Process the conversation's inbox until empty; 0 if another worker holds it.

        Redis being away is retried here with backoff; past the last try the error goes up.
        `acks`: wake-ups acknowledged in the release's round trip (`sent` says if they were),
        or held for later (`held`); without, the drain is not for a wake-up (a sweep).
        """
        before = self._dispatched
        token = secrets.token_hex(8)  # kept across tries: a lock we failed to release is ours
        for delay in (*self._retry_delays, None):
            try:
                await self._drain(conversation, token, acks or Acks(woken=False))
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

    async def _drain(self, conversation: str, token: str, acks: Acks) -> None:
        lock = keys.conv_lock(conversation)
        heads = await self._step(
            conversation,
            lock,
            token,
            self.lock_ttl_ms,
            applied=self._lingering.get(conversation, ""),
            plan_from=self._last_seen(conversation),
        )
        if heads is None:
            # The holder re-checks the inbox before releasing, so nothing is stranded.
            return
        try:
            await self._drain_locked(conversation, lock, token, heads, acks)
        except LockLost:
            log.warning("dispatch lock lost; left to its new holder")
            await RELEASE(self._redis, [lock], [token])
        except BaseException:
            await RELEASE(self._redis, [lock], [token])
            raise

    async def _step(
        self,
        conversation: str,
        lock: str,
        token: str,
        ttl_ms: int,
        *,
        applied: str = "",
        plan_from: StateRead | None = None,
        applying: str = "",
    ) -> Heads | None:
        """Take or renew the lock, dropping the effects entry `applied`; None if another
        holder has the lock, else what is next.

        With `plan_from` (the conversation's state as last seen), the handler's likely reads
        go in the same round trip, after the step; they are kept only if no effects entry
        is waiting (its writes would land after them). With `applying`, that entry's groups
        go first in the same round trip (`effects_log.queue_entry`: all of them scripts),
        their failure raised; it stays in the list (the next commit drops it), and the reads
        after it are kept."""
        step_keys = _step_keys(conversation, lock)
        step_args = [token, str(ttl_ms), applied, "0"]
        reads: Sequence[Read] = []
        if self._prefetch is not None and plan_from is not None and plan_from.known:
            reads = await self._prefetch(self._redis, conversation, plan_from.raw)
        if not reads and not applying:
            answer = await STEP(self._redis, step_keys, step_args)
            values: list[Any] = []
        else:

            async def once() -> tuple[list[object], list[Any]]:
                async with self._redis.pipeline(transaction=False) as pipe:
                    queued = effects_log.queue_entry(pipe, applying) if applying else None
                    if applying and queued is None:  # a group calls a script: not pipelined
                        raise _NotScriptable
                    STEP.queue(pipe, step_keys, step_args)
                    for read in reads:
                        pipe.execute_command(*read)
                    result: list[Any] = await pipe.execute(raise_on_error=False)
                groups = queued[1] if queued is not None else 0
                _raise_forgotten(result)
                if isinstance(result[groups], Exception):
                    raise result[groups]  # the step's own failure
                return result[:groups], result[groups:]

            try:
                groups, replies = await retried_all(self._redis, [STEP, APPLY], once)
            except _NotScriptable:
                await effects_log.apply_entry(self._redis, applying)
                return await self._step(
                    conversation, lock, token, ttl_ms, applied=applying, plan_from=plan_from
                )
            if applying:
                effects_log.settle(effects_log.commit_id_of(applying), groups)
            answer, *values = replies
        assert isinstance(answer, list)
        if not answer[0]:
            return None
        heads = self._seeing(conversation, Heads.of(answer))
        if heads.effects not in (None, applying or None):
            return heads
        # A read Redis refused (a key stored another way than planned) is left to the handler's
        # own reader, which reads it as it always did.
        read = {r: v for r, v in zip(reads, values, strict=True) if not isinstance(v, Exception)}
        return replace(heads, reads=read)

    def _seeing(self, conversation: str, heads: Heads) -> Heads:
        """Remember the state `heads` carries (bounded, oldest forgotten first)."""
        if heads.state.known:
            self._seen[conversation] = heads.state.raw
            self._seen.move_to_end(conversation)
            while len(self._seen) > SEEN_STATES:
                self._seen.popitem(last=False)
        return heads

    def _last_seen(self, conversation: str) -> StateRead | None:
        if conversation not in self._seen:
            return None
        return StateRead(True, self._seen[conversation])

    async def _finish(
        self,
        conversation: str,
        lock: str,
        token: str,
        acks: Acks,
        *,
        applied: str = "",
        applying: str = "",
    ) -> Heads | None:
        """Nothing seemed left: leave the pending set, drop the effects entry `applied`,
        release the lock if nothing is left, and acknowledge `acks`, in one round trip. None
        when released; else (an event came meanwhile) what is next, the lock renewed and the
        conversation pending again.

        The pending set is left before the inbox is looked at (ingest appends before it adds
        to the set): an event appended after the look is marked by its own ingest, one
        appended before it is seen here and marked again. The wake-ups acknowledged name
        events already handled; one that came meanwhile has a wake-up of its own.

        `applying`, the last effects entry, is applied in the same round trip, first; the
        release leaves it in its list, and the wake-ups are held (`_held_acks`) rather than
        acknowledged: a release does not know whether the groups before it succeeded (other
        slots), so the conversation must stay findable until they are seen to have. A drain
        for no wake-up (a sweep) has nothing to hold: it applies them first, as its own
        round trip.
        """
        if applying and not acks.woken:
            await effects_log.apply_entry(self._redis, applying)
            applied, applying = applying, ""
        lock_step = _step_keys(conversation, lock)

        async def once() -> tuple[list[object], list[Any]]:
            async with self._redis.pipeline(transaction=False) as pipe:
                queued = effects_log.queue_entry(pipe, applying) if applying else None
                if applying and queued is None:  # a group calls a script: not pipelined
                    raise _NotScriptable
                pipe.time()  # before the leave and the look: see `_stale`
                pipe.srem(keys.PIPELINE_PENDING, conversation)
                STEP.queue(pipe, lock_step, [token, str(self.lock_ttl_ms), applied, "1", applying])
                if acks.ids and not acks.sent and not applying:
                    pipe.xack(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP, *acks.ids)
                result: list[Any] = await pipe.execute(raise_on_error=False)
            groups = queued[1] if queued is not None else 0
            _raise_forgotten(result)
            for reply in result[groups:]:
                if isinstance(reply, Exception):
                    raise reply
            return result[:groups], result[groups:]

        try:
            groups, (now, _removed, answer, *_) = await retried_all(
                self._redis, [STEP, APPLY], once
            )
        except _NotScriptable:
            await effects_log.apply_entry(self._redis, applying)
            return await self._finish(conversation, lock, token, acks, applied=applying)
        if applying:
            # Raised: the lock may be released already, the entry stays in the list, and the
            # wake-ups unacknowledged: this drain's retry, or a reclaim, applies it again.
            effects_log.settle(effects_log.commit_id_of(applying), groups)
        acks.sent = acks.sent or (bool(acks.ids) and not applying)
        assert isinstance(answer, list)
        if answer[0] == RELEASED:
            if applying:
                acks.held = True
                self._lingering[conversation] = applying
            seconds, micros = now if isinstance(now, tuple | list) else (0, 0)
            self._note_released(conversation, int(seconds) * 1000 + int(micros) // 1000)
            return None
        await self._redis.sadd(keys.PIPELINE_PENDING, conversation)
        if not answer[0]:
            raise LockLost
        return Heads.of(answer)

    async def _drain_locked(
        self, conversation: str, lock: str, token: str, heads: Heads, acks: Acks
    ) -> None:
        # The effects entry this holder applied and saw succeed, still in the list: the next
        # commit or step drops it.
        applied = ""
        next_heads: Heads | None = heads
        while next_heads is not None:
            heads = next_heads
            # A commit whose effects were not all applied (its worker died, or Redis went
            # away right after it) is finished first: the next event must read what it wrote.
            # Also our own commit's, just made.
            waiting = heads.effects if heads.effects != applied else None
            if heads.inbox is None:
                next_heads = await self._finish(
                    conversation, lock, token, acks, applied=applied, applying=waiting or ""
                )
                applied = waiting or ""
            elif waiting is not None:
                next_heads = await self._step(
                    conversation,
                    lock,
                    token,
                    self.lock_ttl_ms,
                    applied=applied,
                    plan_from=heads.state,
                    applying=waiting,
                )
                if next_heads is None:
                    raise LockLost
                applied = waiting
            else:
                next_heads = await self._dispatch(conversation, lock, token, heads, applied)
                applied = ""

    async def _dispatch(
        self, conversation: str, lock: str, token: str, heads: Heads, applied: str
    ) -> Heads:
        """Handle the inbox head of `heads` and commit it (or park it), dropping the effects
        entry `applied`; what is next."""
        raw = heads.inbox
        assert raw is not None
        budget, lock_ms = self._budget(raw)
        if lock_ms != self.lock_ttl_ms:  # a slow event: its lock lives longer
            renewed = await self._step(conversation, lock, token, lock_ms, applied=applied)
            if renewed is None or renewed.inbox != raw:
                raise LockLost
        stage = self._stage_handler(raw, budget, Prefetched(heads.state, heads.reads))
        try:
            next_heads = await self._commit(conversation, lock, token, raw, stage, applied=applied)
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
            next_heads = await self._commit(conversation, lock, token, raw, park, applied=applied)
            await deadletters.index(self._redis, conversation)
        self._dispatched += 1
        if next_heads is None:
            # Renewed before each event: a long backlog keeps its lock, a dead worker's
            # expires.
            next_heads = await self._step(
                conversation,
                lock,
                token,
                self.lock_ttl_ms,
                applied=applied,
                plan_from=self._last_seen(conversation),
            )
            if next_heads is None:
                raise LockLost
        return self._seeing(conversation, next_heads)

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

    def _stage_handler(self, raw: str, budget: float, read: Prefetched) -> Stage:
        async def stage(pipe: aioredis.client.Pipeline) -> None:
            event = Event.loads(raw)
            token = _state_read.set((event.conversation, read))
            try:
                async with asyncio.timeout(budget):
                    await self._handler(self._redis, event, pipe)
            finally:
                _state_read.reset(token)

        return stage

    async def _commit(
        self, conversation: str, lock: str, token: str, raw: str, stage: Stage, *, applied: str
    ) -> Heads | None:
        """Queue `stage`'s writes and the pop of `raw`; commit only while the lock is ours
        and `raw` is still the inbox head, dropping the effects entry `applied` (seen applied)
        if it is still the head of its list. What is next (as the lock step reads it), or None
        when the caller must look.

        One script (`COMMIT`) checks both and writes, so nothing can come between the check
        and the writes; a handler that queued a script of its own (Redis runs no script from
        a script) commits the older way, `_commit_watched`.
        """
        # The handler queues on a pipeline of its own, never executed: its writes are sorted
        # by hash slot, and only the conversation's own go in the commit.
        async with self._redis.pipeline(transaction=True) as writes:
            await stage(writes)
            split = effects_log.split(conversation, writes.command_stack)
        local = [args for args, _options in split.local]
        if not effects_log.scriptable(local):
            await self._commit_watched(conversation, lock, token, raw, split, applied=applied)
            return None
        entry = split.entry() if split.groups else ""
        answer = await COMMIT(
            self._redis,
            [*_commit_keys(conversation, lock), *effects_log.declared_keys(local)],
            [token, raw, entry, str(self.lock_ttl_ms), applied, *effects_log.script_args(local)],
        )
        assert isinstance(answer, list)
        if answer[0] == 0:
            raise LockLost
        if answer[0] == ALREADY_COMMITTED:
            return None  # our earlier call went through; its reply was lost
        refused = answer[4] if len(answer) > 4 and isinstance(answer[4], list) else []
        for error in refused:
            log.error(
                "a write of the commit was refused",
                extra=log_fields(error=str(error), conv=conversation, alert=True),
            )
        return Heads.of(answer)
        # Its effects are applied by the caller, which sees them waiting.

    async def _commit_watched(
        self,
        conversation: str,
        lock: str,
        token: str,
        raw: str,
        split: effects_log.Split,
        *,
        applied: str,
    ) -> None:
        """The commit as a MULTI under WATCH of the lock, the head checked under that WATCH.

        WATCH on the lock makes EXEC fail if the lock expired or changed hands meanwhile."""
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
                        return  # our earlier EXEC went through; its reply was lost
                    pipe.multi()
                    for args, options in split.local:
                        pipe.execute_command(*args, **options)
                    if applied:  # unique (its commit id): wherever it is, it was applied
                        pipe.lrem(keys.conv_effects(conversation), 1, applied)
                    if split.groups:
                        pipe.rpush(keys.conv_effects(conversation), split.entry())
                    pipe.lpop(inbox)
                    await pipe.execute()
                    return
            except WatchError:
                # The lock changed (expired, taken) or the connection dropped mid-commit:
                # look again before deciding whether anything is left to do.
                continue


RELEASED = 2  # STEP released the lock: nothing was left
ALREADY_COMMITTED = 2  # COMMIT found another head: the event was committed before


def _step_keys(conversation: str, lock: str) -> list[str]:
    return [
        lock,
        keys.conv_effects(conversation),
        keys.conv_inbox(conversation),
        keys.conv_state(conversation),
    ]


def _commit_keys(conversation: str, lock: str) -> list[str]:
    return [
        lock,
        keys.conv_inbox(conversation),
        keys.conv_effects(conversation),
        keys.conv_state(conversation),
    ]


@dataclass(slots=True)
class Acks:
    """Wake-ups to acknowledge with a conversation's release; `sent` once they were, `held`
    when they wait for the next XREADGROUP (`Dispatcher._held_acks`). `woken`: the drain is
    for a wake-up, which keeps the conversation findable while it is not acknowledged."""

    ids: list[str] = field(default_factory=list)
    sent: bool = False
    held: bool = False
    woken: bool = True


class _NotScriptable(Exception):
    """An effects entry with a group that calls a script: not pipelined with a step."""


def _raise_forgotten(replies: Sequence[object]) -> None:
    """Redis forgot a script (a restart): raised, so that `retried_all` loads them all and
    runs the pipeline again (its scripts are safe to run twice)."""
    for reply in replies:
        if isinstance(reply, NoScriptError):
            raise reply


@dataclass(frozen=True, slots=True)
class Heads:
    """What the lock holder does next: the effects entry waiting, the inbox head, and the
    conversation's stored state as read in the same step (None: none of them)."""

    effects: str | None
    inbox: str | None
    state: StateRead
    # The handler's likely reads, read right after this step (bot.engine.facts.Reads).
    reads: Mapping[Read, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, answer: list[Any]) -> Heads:
        read = answer[3]
        state = StateRead(True, _text_or_none(read[0])) if read else StateRead(False, None)
        return cls(_text_or_none(answer[1]), _text_or_none(answer[2]), state)


@dataclass(frozen=True, slots=True)
class StateRead:
    """The conversation's stored state as a lock step read it: `known` False when it is
    stored in a form the step does not read (the handler reads it itself)."""

    known: bool
    raw: str | None


@dataclass(frozen=True, slots=True)
class Prefetched:
    """What the dispatcher read for the handler running now, in its lock step's round trip:
    the conversation's state, and the reads planned for it (`Dispatcher(prefetch=...)`)."""

    state: StateRead
    reads: Mapping[Read, Any] = field(default_factory=dict)


NOTHING_READ = Prefetched(StateRead(False, None))

# Set around each handler call only: its first reads cost no round trip (`prefetched`).
_state_read: contextvars.ContextVar[tuple[str, Prefetched] | None] = contextvars.ContextVar(
    "state_read", default=None
)


def prefetched(conversation: str) -> Prefetched:
    """What the dispatcher read for `conversation` under its lock in the step before this
    handler (nothing outside a dispatch)."""
    read = _state_read.get()
    if read is None or read[0] != conversation:
        return NOTHING_READ
    return read[1]
