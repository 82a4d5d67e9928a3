"""Conversation state and transcript in Redis.

Kept small, since every conversation ever started stays in memory (issue 12: an idle
conversation ≤ 2 KB; docs/decisions.md "A conversation's bytes"):
- the state is compact JSON without the fields at their default value;
- a transcript entry is a compact JSON array, `[dir, at, ref, text]` (+ `{by, late}`);
- the transcript's older turns are folded into one zlib-compressed archive value by the
  worker's housekeeping (hourly: `bot.engine.retention`), so an idle conversation keeps only
  the archive. The dispatch does not fold: its state read and its commit stay plain (a GET,
  and a commit with no script of its own), which is what keeps it at five round trips.
Everything written before (a full state, entries as JSON objects, no archive) still reads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from bot.logs import log_fields
from bot.store import keys
from channels.base import ChannelName
from flows.model import ConversationState

log = logging.getLogger(__name__)

TRANSCRIPT_LIMIT = 500

# A conversation is (channel, our sender, customer address). On the platform's shared senders
# the key is "<channel>:<address>" (every key written before merchants had their own senders);
# on a merchant's own sender it is "<channel>@<sender>:<address>", the sender being the number,
# Messaging Service SID or Telegram bot id that receives the customer's replies
# (docs/decisions.md: no migration, old keys are the platform's conversations).
SENDER_MARK = "@"


def conversation_key(channel: ChannelName, address: str, sender: str | None = None) -> str:
    if sender:
        return f"{channel.value}{SENDER_MARK}{sender}:{address}"
    return f"{channel.value}:{address}"


def split_key(conversation: str) -> tuple[ChannelName, str]:
    head, _, address = conversation.partition(":")
    channel, _, _sender = head.partition(SENDER_MARK)
    return ChannelName(channel), address


def sender_of(conversation: str) -> str | None:
    """The merchant's own sender the conversation goes through; None: the platform's."""
    head, _, _address = conversation.partition(":")
    return head.partition(SENDER_MARK)[2] or None


def person_key(conversation: str) -> str:
    """ "<channel>:<address>" whatever the sender: consent and identity follow the person."""
    head, _, address = conversation.partition(":")
    return f"{head.partition(SENDER_MARK)[0]}:{address}"


def compact_json(value: object) -> str:
    """JSON without spaces, non-ASCII kept as UTF-8 (an "é" is 2 bytes, not 6); escaped as
    before only when the text holds a lone surrogate (half an emoji), which UTF-8 cannot."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(value, separators=(",", ":"))
    return text


# --- State -----------------------------------------------------------------------------------

_DEFAULTS = ConversationState().to_dict()


def encode_state(state: ConversationState) -> str:
    """The fields that differ from a new conversation's: `from_dict` gives the others back
    (a field's default must therefore keep its meaning; a state written in full still reads)."""
    data = state.to_dict()
    return compact_json({k: v for k, v in data.items() if v != _DEFAULTS.get(k)})


def decode_state(raw: str | bytes | None) -> ConversationState:
    return ConversationState.from_dict(json.loads(raw)) if raw else ConversationState()


# The state, and the transcript's live turns and archive when there are ARGV[1] turns or more.
# KEYS: state, log, archive. ARGV: the number of live turns worth folding.
_READ = """
local state = redis.call('GET', KEYS[1])
if redis.call('LLEN', KEYS[2]) < tonumber(ARGV[1]) then return {state} end
return {state, redis.call('GET', KEYS[3]) or '', redis.call('LRANGE', KEYS[2], 0, -1)}
"""
_READ_SHA = hashlib.sha1(_READ.encode(), usedforsecurity=False).hexdigest()


async def load_state(redis: aioredis.Redis, conversation: str) -> ConversationState:
    """The conversation's state (one GET)."""
    return decode_state(await redis.get(keys.conv_state(conversation)))


def save_state(
    pipe: aioredis.client.Pipeline, conversation: str, state: ConversationState
) -> None:
    pipe.set(keys.conv_state(conversation), encode_state(state))


async def _read(redis: aioredis.Redis, conversation: str, fold_at: int) -> list[Any]:
    names = [keys.conv_state(conversation), keys.conv_log(conversation)]
    names.append(keys.conv_log_archive(conversation))
    try:
        reply = await redis.evalsha(_READ_SHA, 3, *names, fold_at)
    except NoScriptError:  # Redis restarted since: the text once, by its SHA afterwards
        reply = await redis.eval(_READ, 3, *names, fold_at)
    assert isinstance(reply, list)
    return reply


# --- Transcript ------------------------------------------------------------------------------


def append_transcript(
    pipe: aioredis.client.Pipeline,
    conversation: str,
    *,
    direction: str,
    text: str,
    at: datetime,
    ref: str,
    by: str | None = None,
    late: bool = False,
) -> None:
    """Keep what was said (card numbers already redacted by the caller) for support.

    `by`: the person who wrote an outbound message (none: the bot). `late`: a message that
    arrived after a later one was already answered, kept but not acted upon."""
    entry = encode_entry(direction=direction, text=text, at=at, ref=ref, by=by, late=late)
    pipe.rpush(keys.conv_log(conversation), entry)
    pipe.ltrim(keys.conv_log(conversation), -TRANSCRIPT_LIMIT, -1)


def encode_entry(
    *,
    direction: str,
    text: str,
    at: datetime,
    ref: str,
    by: str | None = None,
    late: bool = False,
) -> str:
    row: list[object] = [direction, _stamp(at), ref, text]
    extra: dict[str, str] = {}
    if by is not None:
        extra["by"] = by
    if late:
        extra["late"] = "1"  # transcripts are read as strings (`transcript`)
    if extra:
        row.append(extra)
    return compact_json(row)


def decode_entry(raw: str | bytes) -> dict[str, str]:
    """One entry as `transcript` gives it: dir, text, at (ISO 8601), ref[, by][, late]."""
    data = json.loads(raw)
    if isinstance(data, dict):  # written as an object before entries were compact
        return data
    direction, at, ref, text, *rest = data
    entry = {"dir": direction, "text": text, "at": _iso(at), "ref": ref}
    if rest:
        entry.update(rest[0])
    return entry


async def transcript(redis: aioredis.Redis, conversation: str) -> list[dict[str, str]]:
    """Everything kept of the conversation, oldest first: the archive, then the live turns."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.conv_log_archive(conversation))
        pipe.lrange(keys.conv_log(conversation), 0, -1)
        archive, live = await pipe.execute()
    entries = [*_readable(conversation, archive), *live]
    said = []
    for raw in entries:
        try:
            said.append(decode_entry(raw))
        except (ValueError, TypeError, AttributeError):
            log.warning(
                "transcript entry unreadable; skipped", extra=log_fields(conv=conversation)
            )
    return said


def _readable(conversation: str, archive: str | None) -> list[str]:
    """The archive's entries, or none if it cannot be read back: the console, the export and
    the erasure still work on what is left (never a 500 for a damaged value)."""
    try:
        return archived(archive)
    except (ValueError, zlib.error, UnicodeDecodeError, KeyError):
        log.warning("transcript archive unreadable; left out", extra=log_fields(conv=conversation))
        return []


# An archive is its entries, one a line, compressed with zlib and written in base85: text, as
# every value a dispatch commits is (bot.engine.effects_log), at 5 characters per 4 bytes. The
# compressor starts from a preset dictionary, the bot's own phrases (`transcript_words.txt`, the
# catalogs' messages when archives began): a phrase said once in a conversation then costs a
# few bytes. That file never changes: an archive names its dictionary ("1:"), and a new one
# would get a new name, so that every archive ever written still reads.
_WORDS = {"1": (Path(__file__).parent / "transcript_words.txt").read_bytes()}
_WRITTEN_WITH = "1"


def archived(value: str | None) -> list[str]:
    """The entries of an archive value, oldest first."""
    if not value:
        return []
    name, _, data = value.partition(":")
    inflate = zlib.decompressobj(zdict=_WORDS[name])
    raw = inflate.decompress(base64.b85decode(data)) + inflate.flush()
    return raw.decode().split("\n")


def archive_value(entries: list[str]) -> str:
    deflate = zlib.compressobj(9, zdict=_WORDS[_WRITTEN_WITH])
    data = deflate.compress("\n".join(entries).encode()) + deflate.flush()
    return f"{_WRITTEN_WITH}:{base64.b85encode(data).decode()}"


# Entries are timed to the second when the time has no fraction, else to the microsecond;
# times not in UTC are kept as written (ISO 8601), so every entry reads back as it was.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS = 10**11  # larger stamps are microseconds (10**11 s is in the year 5138)


def _stamp(at: datetime) -> int | str:
    if at.utcoffset() != timedelta(0):
        return at.isoformat()
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    return micros // 1_000_000 if micros % 1_000_000 == 0 else micros


def _iso(at: int | str) -> str:
    if isinstance(at, str):
        return at
    delta = timedelta(microseconds=at) if at >= _MICROS else timedelta(seconds=at)
    return (_EPOCH + delta).isoformat()


def compact_entry(raw: str) -> str:
    """An entry in the compact form, whichever form it was written in (one written as an
    object without a readable time is kept as it was: the reader takes both)."""
    if not raw.startswith("{"):
        return raw
    try:
        entry = json.loads(raw)
        at = datetime.fromisoformat(str(entry["at"]))
    except (ValueError, KeyError, TypeError):
        return raw
    return encode_entry(
        direction=str(entry.get("dir", "")),
        text=str(entry.get("text", "")),
        at=at,
        ref=str(entry.get("ref", "")),
        by=entry.get("by"),
        late=bool(entry.get("late")),
    )


# --- Folding older turns into the archive ----------------------------------------------------

# Written only if the live head and the archive are still what the fold was computed from
# (another writer may have appended, trimmed or erased meanwhile: then nothing is written).
# KEYS: log, archive. ARGV: turns folded, sha1 of those turns joined by "\n", sha1 of the
# archive read ("" hashed when there was none), the new archive.
_FOLD = """
local n = tonumber(ARGV[1])
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n or redis.sha1hex(table.concat(head, '\\n')) ~= ARGV[2] then return 0 end
if redis.sha1hex(redis.call('GET', KEYS[2]) or '') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[2], ARGV[4])
redis.call('LTRIM', KEYS[1], n, -1)
return 1
"""


@dataclass(frozen=True, slots=True)
class Fold:
    """The live turns read, folded with the archive read into a new archive value."""

    turns: int
    turns_sha: str
    archive_sha: str
    archive: str

    def queue(self, pipe: aioredis.client.Pipeline, conversation: str) -> None:
        names = (keys.conv_log(conversation), keys.conv_log_archive(conversation))
        args = (self.turns, self.turns_sha, self.archive_sha, self.archive)
        pipe.eval(_FOLD, 2, *names, *args)


def fold_of(archive: str, turns: list[str]) -> Fold:
    entries = [*archived(archive), *(compact_entry(e) for e in turns)][-TRANSCRIPT_LIMIT:]
    return Fold(
        turns=len(turns),
        turns_sha=sha1("\n".join(turns)),
        archive_sha=sha1(archive),
        archive=archive_value(entries),
    )


def _fold_or_none(conversation: str, archive: str, live: list[str]) -> Fold | None:
    """The fold, or None if the archive cannot be read back: reading the state or
    housekeeping must not fail on it; the turns stay live and the transcript as it is."""
    try:
        return fold_of(archive, live)
    except (ValueError, zlib.error, UnicodeDecodeError, KeyError):
        log.warning(
            "transcript archive unreadable; not folded", extra=log_fields(conv=conversation)
        )
        return None


def sha1(text: str) -> str:
    """As Lua's redis.sha1hex computes it (archives are compared by it before replacing)."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


async def prepare_fold(redis: aioredis.Redis, conversation: str) -> Fold | None:
    """Every live turn of the conversation folded with its archive, not written yet; None if
    there is nothing live or the archive cannot be read back."""
    reply = await _read(redis, conversation, 1)
    return _fold_or_none(conversation, reply[1], reply[2]) if len(reply) == 3 else None


async def write_fold(redis: aioredis.Redis, conversation: str, fold: Fold) -> bool:
    """Write a prepared fold, unless another writer appended, trimmed or erased meanwhile."""
    async with redis.pipeline(transaction=False) as pipe:
        fold.queue(pipe, conversation)
        (done,) = await pipe.execute()
    return bool(done)


async def fold_transcript(redis: aioredis.Redis, conversation: str) -> bool:
    """Fold every live turn of the conversation into its archive now (housekeeping: what an
    idle conversation's last exchange left live). False if there was nothing to fold or
    another writer got there first."""
    fold = await prepare_fold(redis, conversation)
    return fold is not None and await write_fold(redis, conversation, fold)
