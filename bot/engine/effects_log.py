"""A dispatch commit on one hash slot, and its effects on other slots applied once each.

An event's handler queues writes to many keys: the conversation's own (state, transcript, send
queue), its invoice's (merchant slot), the outbox records and stream, the schedule. Redis
Cluster runs a MULTI only on one slot, so the commit is split (docs/decisions.md "One commit per
dispatched event, on one hash slot"):

1. the guarded MULTI on the conversation's slot writes the conversation's keys, pops the event
   from the inbox and appends an *effects entry* to `conv:{c}:effects`: the other writes,
   grouped by hash slot, in the order they were queued, with a commit id of its own;
2. `apply_entry` (run by the dispatcher right after the commit, and before anything else by
   whoever holds the conversation next, after a crash) applies each group atomically on its
   slot together with a marker `effects:{<slot tag>}:<commit>:<group>`, and only if that marker
   is absent: a group is applied once, whoever applies it and however often; then the entry
   leaves the list (only if it is still its head: the dispatcher's next lock step drops it).

A group is one script call (`APPLY`: marker check, marker, writes), and the groups of one entry
go in one pipeline, so the effects cost one round trip whatever their number. A group that
itself calls a script (Redis refuses EVAL inside a script) is applied the older way, a MULTI
under WATCH of its marker, in its place in the order.

Groups are applied in the order of their *last* write: a wake-up (the outbox stream's XADD) is
queued after the records it announces, so it is applied after all of them, and a sender never
reads a wake-up for a record that does not exist yet.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.crc import key_slot
from redis.exceptions import NoScriptError, ResponseError, WatchError

from bot.engine.lua import Lua, pcall_writes
from bot.logs import log_fields
from bot.store import keys

log = logging.getLogger(__name__)

# A marker must outlive any worker that could still apply the group from memory (one stalled
# past its lock's life); the effects entry itself is gone within milliseconds normally.
MARKER_TTL_SECONDS = 24 * 3600

# Commands whose keys are not just their first argument.
_ALL_ARGS_ARE_KEYS = frozenset({"DEL", "UNLINK", "EXISTS", "TOUCH"})
_SCRIPTS = frozenset({"EVAL", "EVALSHA"})

# A list's head leaves it only if it is still the given value (also the outbox's send queues).
POP_IF_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LPOP', KEYS[1])
  return 1
end
return 0
"""

Command = tuple[str, ...]


def command_keys(args: Sequence[Any]) -> list[str]:
    """The keys one queued command touches (the forms our writers use)."""
    name = str(args[0]).upper()
    if name in _SCRIPTS:
        return [str(k) for k in args[3 : 3 + int(args[2])]]
    if name in _ALL_ARGS_ARE_KEYS:
        return [str(k) for k in args[1:]]
    return [str(args[1])]


def hash_tag(key: str) -> str:
    """The part of `key` Redis Cluster hashes (its `{tag}` if it has one, else all of it)."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def marker_key(sample_key: str, commit_id: str, group: int) -> str:
    """A key on `sample_key`'s slot that records "group applied"."""
    marker = f"effects:{{{hash_tag(sample_key)}}}:{commit_id}:{group}"
    if key_slot(marker.encode()) != key_slot(sample_key.encode()):
        msg = f"no marker on the slot of {sample_key!r}"
        raise ValueError(msg)
    return marker


@dataclass(frozen=True, slots=True)
class Split:
    """A handler's writes: those on the conversation's slot, and the others by slot."""

    local: list[tuple[Command, dict[str, Any]]]
    groups: list[list[Command]]

    def entry(self) -> str:
        return json.dumps({"id": secrets.token_hex(8), "groups": self.groups})


def split(conversation: str, stack: Sequence[tuple[Sequence[Any], dict[str, Any]]]) -> Split:
    """Sort queued commands (a redis-py pipeline's `command_stack`) by hash slot."""
    home = key_slot(keys.conv_state(conversation).encode())
    local: list[tuple[Command, dict[str, Any]]] = []
    by_slot: dict[int, list[Command]] = {}
    last: dict[int, int] = {}
    for position, (raw_args, options) in enumerate(stack):
        args = tuple(_text(a) for a in raw_args)
        slots = {key_slot(k.encode()) for k in command_keys(args)}
        if len(slots) != 1:
            msg = f"{args[0]} touches keys of {len(slots)} slots"
            raise ValueError(msg)
        [slot] = slots
        if slot == home:
            local.append((args, options))
        else:
            by_slot.setdefault(slot, []).append(args)
            last[slot] = position
    ordered = sorted(by_slot, key=lambda s: last[s])
    groups = [by_slot[s] for s in ordered]
    for index, group in enumerate(groups):
        # Refused here, the event is dead-lettered; found only when applying, it would block
        # its conversation behind a commit that can never finish.
        marker_key(command_keys(group[0])[0], "check", index)
    return Split(local, groups)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


async def apply_entry(redis: aioredis.Redis, raw: str) -> None:
    """Apply every group of one effects entry, each once, in their order (not popping it).

    Runs of groups that can be scripts go in one pipeline; a group that calls a script
    itself is applied alone, between them. A transient error (Redis away, busy, out of memory)
    raises after the pipeline ran: the groups that did run are marked, and the entry stays
    for the next try, which skips them.
    """
    entry = json.loads(raw)
    commit_id = str(entry["id"])
    batch: list[tuple[int, list[list[str]]]] = []
    for index, group in enumerate(entry["groups"]):
        if scriptable(group):
            batch.append((index, group))
            continue
        await _apply_groups(redis, commit_id, batch)
        batch = []
        await _apply_group(redis, commit_id, index, group)
    await _apply_groups(redis, commit_id, batch)


# Apply one group once: nothing if its marker (KEYS[1]) exists, else the marker (ARGV[1]: its
# life in seconds) and the group's commands (ARGV[2..]: each its argument count, then its
# arguments). KEYS[2..] declare the keys the commands touch (one slot). A command Redis refuses
# (a wrong type: a bug) does not stop the others, as inside EXEC; its error is returned. The
# marker is the first write: a script refused for memory is refused before it, so a group is
# written whole or not at all.
APPLY = Lua(
    """
if redis.call('EXISTS', KEYS[1]) == 1 then return {0} end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
local refused = {1}
"""
    + pcall_writes(2)
    + """return refused
"""
)


# Lua's unpack is bounded by its C stack (8,000 slots): a longer command takes the MULTI path.
_MAX_SCRIPTED_ARGS = 1_000


def scriptable(commands: Sequence[Sequence[str]]) -> bool:
    """Whether these commands can run inside a script: no script of their own, none too long."""
    return all(
        str(c[0]).upper() not in _SCRIPTS and len(c) <= _MAX_SCRIPTED_ARGS for c in commands
    )


def script_args(commands: Sequence[Sequence[str]]) -> list[str]:
    """The commands flattened for a script: each its argument count, then its arguments."""
    flat: list[str] = []
    for command in commands:
        flat.append(str(len(command)))
        flat.extend(command)
    return flat


def declared_keys(commands: Sequence[Sequence[str]]) -> list[str]:
    """Every key the commands touch, once each, in order (a script declares its keys)."""
    return list(dict.fromkeys(k for c in commands for k in command_keys(c)))


async def _apply_groups(
    redis: aioredis.Redis, commit_id: str, groups: Sequence[tuple[int, list[list[str]]]]
) -> None:
    """Apply scriptable groups in one round trip (a pipeline of `APPLY` calls, in order)."""
    if not groups:
        return

    async def once() -> list[object]:
        async with redis.pipeline(transaction=False) as pipe:
            for index, group in groups:
                _queue_apply(pipe, commit_id, index, group)
            replies: list[object] = await pipe.execute(raise_on_error=False)
        for reply in replies:
            if isinstance(reply, NoScriptError):
                # Redis restarted and forgot it: loaded, then the whole pipeline again (the
                # groups that did run are marked, so they are skipped).
                raise reply
        return replies

    settle(commit_id, await APPLY.retried(redis, once))


def queue_entry(pipe: aioredis.client.Pipeline, raw: str) -> tuple[str, int] | None:
    """Queue the application of every group of the effects entry `raw` on `pipe`, one script
    call each, in their order; its commit id and the number of replies to give `settle`. None
    (nothing queued) when a group calls a script itself: then `apply_entry`."""
    entry = json.loads(raw)
    groups = entry["groups"]
    if not all(scriptable(group) for group in groups):
        return None
    commit_id = str(entry["id"])
    for index, group in enumerate(groups):
        _queue_apply(pipe, commit_id, index, group)
    return commit_id, len(groups)


def commit_id_of(raw: str) -> str:
    """The commit id of the effects entry `raw` (what `settle` logs)."""
    return str(json.loads(raw)["id"])


def _queue_apply(
    pipe: aioredis.client.Pipeline, commit_id: str, index: int, group: list[list[str]]
) -> None:
    marker = marker_key(command_keys(group[0])[0], commit_id, index)
    APPLY.queue(
        pipe, [marker, *declared_keys(group)], [str(MARKER_TTL_SECONDS), *script_args(group)]
    )


def settle(commit_id: str, replies: Sequence[object]) -> None:
    """Check the replies of a pipeline of `APPLY` calls (a pipeline executed with
    `raise_on_error=False`): the refused writes are logged, and the first failure raised."""
    failure: BaseException | None = None
    for reply in replies:
        if isinstance(reply, BaseException):
            failure = failure or reply
        elif isinstance(reply, list) and len(reply) > 1:
            _refused(commit_id, [str(r) for r in reply[1:]])
    if failure is not None:
        # Transient (Redis busy, out of memory...) or a bug: either way the entry stays and
        # the groups that ran are marked; the next try applies the rest.
        raise failure


def _refused(commit_id: str, errors: Sequence[str]) -> None:
    # A command refused inside a group (a wrong type: a bug) did not stop the others nor the
    # marker; looping would not help. Said loudly, and the conversation goes on.
    for error in errors:
        log.error(
            "an effect was refused", extra=log_fields(error=error, commit=commit_id, alert=True)
        )


async def _apply_group(
    redis: aioredis.Redis, commit_id: str, index: int, group: list[list[str]]
) -> None:
    """A group that calls a script itself: one MULTI under WATCH of its marker."""
    marker = marker_key(command_keys(group[0])[0], commit_id, index)
    while True:
        try:
            async with redis.pipeline(transaction=True) as pipe:
                await pipe.watch(marker)
                if await pipe.exists(marker):
                    return  # applied already (by us before a lost reply, or by another)
                pipe.multi()
                pipe.set(marker, "1", ex=MARKER_TTL_SECONDS)
                for args in group:
                    pipe.execute_command(*args)
                await pipe.execute()
                return
        except WatchError:
            continue  # another applier was faster, or the connection dropped: look again
        except ResponseError as exc:
            from bot.engine.pipeline import is_transient  # it imports this module

            if is_transient(exc):
                raise
            _refused(commit_id, [str(exc)])
            return


async def has_pending(redis: aioredis.Redis, conversation: str) -> bool:
    return bool(await redis.exists(keys.conv_effects(conversation)))
