"""The one way out: every customer-facing message is recorded, then sent once by a sender.

A message is queued inside the dispatch commit (`queue`), so it exists if and only if the
state change that produced it does. It is recorded three times over: its record (state,
attempts, claim), the tail of its conversation's send queue (commit order), and an entry of
its channel's outbox stream (the wake-up a sender reads; each channel has its own, so a backlog
on one never delays another's reading).

Sending a conversation means sending the head of its queue, then the next, in order. A sender
first *claims* the head: a Lua step on the record sets the owner and a deadline, refused while
another sender's claim is alive, and renewed while the provider call lasts; so a slow sender is
never doubled by a reclaim, and a dead sender's message is taken over once its claim expires.
A retryable failure (429, 5xx) parks the head until its time comes, honouring `Retry-After`
(capped backoff with jitter otherwise); later messages of that conversation wait behind it,
other conversations do not (a marketing head the send-time gate parks, a paused sale's
or one in quiet hours, goes behind them instead: it is not failing). Past the retry horizon
the message is marked failed, listed for its merchant, and its content is queued once on the
customer's other known channel. A run of 5xx opens a per-channel circuit: heads are deferred
without calling the provider, then one probe at a time tries until the provider answers again.
Provider status callbacks move the delivery state forward only. Once sent, a record keeps only
what later steps read (state, provider id, conversation); its content stays beside it for the
hours a status callback may need it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import json
import logging
import random
import secrets
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from bot.clock import Clock
from bot.engine import events, marketing_gate, pacing
from bot.engine.facts import customer_addresses
from bot.engine.fallback_route import next_address
from bot.engine.pacing import Pacer, Slot
from bot.engine.pipeline import ingest
from bot.logs import log_fields
from bot.settings import Settings
from bot.store import consent, delivery_timeline, handover, keys, senders, sms_reach
from bot.store.conversations import (
    SENDER_MARK,
    append_transcript,
    conversation_key,
    sender_of,
    split_key,
    transcript,
)
from bot.store.handover import DELIVERY, conversation_ref
from bot.store.invoices import get_invoice, invoice_from_json
from bot.store.merchants import get_merchant
from bot.store.telegram_buttons import (
    PAYING_CHOICES,
    buttons_edit,
    offers_payment,
    settled,
    without_payment_offers,
)
from channels.base import (
    ChannelAdapter,
    ChannelError,
    ChannelName,
    DeliveryReport,
    DeliveryState,
    MarketingOptedOut,
    NotSmsCapable,
    OptedOut,
    OutboundMessage,
    OutsideWindow,
    ProviderUnavailable,
    RateLimited,
    SendResult,
)
from flows.campaign import require_marketing_mentions
from payments.invoice import Invoice

log = logging.getLogger(__name__)

# A sent message's record keeps only what is read later (its state, provider id, when, its
# conversation, what replaced it); its content, merchant, invoice and cost move to a companion
# key kept this long: a status callback saying it did not arrive, which sends the content
# again elsewhere, comes within minutes, hours at worst. The provider id -> message map and the
# per-provider-id delivery state serve those callbacks, and live as long.
SENT_BODY_SECONDS = 12 * 3600
DELIVERY_TTL_SECONDS = SENT_BODY_SECONDS
BACKOFF_BASE_SECONDS = 2.0
BATCH = 50
# Entries one sender holds at most per channel (read, not yet acknowledged) in its long-lived
# send loop: a slow channel's backlog waits in memory for that channel's slots while the loop
# reads on; past this (plus at most one batch), that channel's stream is not read until some
# of its sends finish, while the other channels' streams still are (issue 12: a 10,000-SMS
# flash sale paced by the provider no longer holds back a Telegram reply).
HELD_PER_CHANNEL = 2000
# Each channel's wake-ups have a stream (and consumer group) of their own.
STREAMS: dict[ChannelName, str] = {c: keys.outbox_stream(c.value) for c in ChannelName}
LEGACY_MOVE_BATCH = 500
# Real seconds a stopping sender gives provider calls under way to finish: within the
# 5 s the web process gives its worker to stop (bot.web.app).
STOP_GRACE_SECONDS = 3.0
PACE_TRIES = 20  # waits for the rate limit before the message is parked as a retry
MAX_PACE_WAIT_SECONDS = 2.0

_ACTIVE = (DeliveryState.PENDING, DeliveryState.SENDING)
_ACTIVE_VALUES = frozenset(state.value for state in _ACTIVE)

# A due retry leaves the retry queue only if it was not moved meanwhile (same score): the
# stream and the retry queue live on different hash slots, so the wake-up is added first and
# the retry removed after; a crash in between wakes the message twice, which claims make
# harmless. ARGV: key, score, key, score...
_FORGET_MOVED = """
local forgotten = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    forgotten = forgotten + 1
  end
end
return forgotten
"""

# The upgrade to per-channel streams: entries left in the old single stream move to their
# channel's stream, each once (two workers starting together both try; an entry already moved
# is gone from the old stream), and the old stream (with its group) goes once it is empty.
# Every key shares one slot (keys.outbox_stream). KEYS: the old stream, then the channels'.
# ARGV: entry id, index of its channel's stream in KEYS, message key, conversation...
_MOVE_LEGACY = """
local moved = 0
for i = 1, #ARGV, 4 do
  if #redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i], 'COUNT', 1) == 1 then
    local fields = {'key', ARGV[i + 2]}
    if ARGV[i + 3] ~= '' then
      fields[3] = 'conv'
      fields[4] = ARGV[i + 3]
    end
    redis.call('XADD', KEYS[tonumber(ARGV[i + 1])], 'MAXLEN', '~', 1000000, '*', unpack(fields))
    redis.call('XDEL', KEYS[1], ARGV[i])
    moved = moved + 1
  end
end
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return moved
"""


def _take_claim(refused: str) -> str:
    """Lua shared by `_CLAIM_LOAD` and `_CLAIM` (`state` read, ARGV: owner, now, deadline):
    return `refused` while another sender's claim is alive; taking over a message another
    sender left `sending` records since when it is unsure, and which sender was interrupted
    and when its claim began (`interrupted_by`, `interrupted_at`: kept once sent, the proof
    that a copy the customer got twice is the at-least-once window, not a double send); then
    the claim is ours."""
    return f"""
local owner = redis.call('HGET', KEYS[1], 'claim_owner')
local deadline = tonumber(redis.call('HGET', KEYS[1], 'claim_until') or '0')
if owner and owner ~= ARGV[1] and deadline > tonumber(ARGV[2]) then return {refused} end
if state == 'sending' and owner and owner ~= ARGV[1] then
  local began = redis.call('HGET', KEYS[1], 'claimed_at') or redis.call('HGET', KEYS[1], 'since')
  redis.call('HSETNX', KEYS[1], 'unsure_since', began or ARGV[2])
  redis.call('HSETNX', KEYS[1], 'interrupted_by', owner)
  redis.call('HSETNX', KEYS[1], 'interrupted_at', began or ARGV[2])
end
redis.call('HSET', KEYS[1], 'state', 'sending', 'claim_owner', ARGV[1], 'claim_until', ARGV[3],
           'claimed_at', ARGV[2])
"""


# Load and claim the head in one step (the send's first round trip). Returns {code, unsure
# since or '', the record's fields, its state before, '1' if `since` was set now}: 0 no record,
# 2 nothing left to send (popped), 3 not due yet (the fields, unclaimed), -1 another live
# sender's claim, 1 claimed (as `_CLAIM`). ARGV: owner, now, deadline.
_CLAIM_LOAD = (
    """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, '', {}} end
if state ~= 'pending' and state ~= 'sending' then return {2, '', {}} end
local now = tonumber(ARGV[2])
local retry_at = tonumber(redis.call('HGET', KEYS[1], 'retry_at') or '') or 0
if retry_at > now then return {3, '', redis.call('HGETALL', KEYS[1])} end
"""
    + _take_claim("{-1, '', {}}")
    + """local since_set = redis.call('HSETNX', KEYS[1], 'since', ARGV[2])
local unsure = redis.call('HGET', KEYS[1], 'unsure_since') or ''
return {1, unsure, redis.call('HGETALL', KEYS[1]), state, tostring(since_set)}
"""
)

# Undo a `_CLAIM_LOAD` made on a guess that was not the head after all (rare: the send
# queue's head was another message). ARGV: owner, the state before, '1' if `since` was set.
_UNCLAIM = """
if redis.call('HGET', KEYS[1], 'claim_owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
redis.call('HDEL', KEYS[1], 'claim_owner', 'claim_until', 'claimed_at')
if ARGV[3] == '1' then redis.call('HDEL', KEYS[1], 'since') end
return 1
"""

# The head leaves the send queue (only if it still is the head); returns the next one.
_POP_NEXT = """
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
return redis.call('LINDEX', KEYS[1], 0)
"""

# Sent: the record keeps what later steps read, the rest moves to its body (kept for the
# status callbacks' hours), claim and retry fields go. KEYS: record, body.
# ARGV: provider id, sent at, attempts, body ttl, record ttl, slim (1/0), detail field/value...
_MARK_SENT = """
local keep = {state=1, provider_id=1, sent_at=1, attempts=1, conversation=1, fallback=1,
              campaign=1, enqueued=1, undelivered_code=1, arrival_counted=1, delivery=1,
              interrupted_by=1, interrupted_at=1}
local drop = {claim_owner=1, claim_until=1, claimed_at=1, since=1, retry_at=1,
              unsure_since=1, ordered=1, last_error=1}
local body = {}
for i = 7, #ARGV, 2 do
  body[#body + 1] = ARGV[i]
  body[#body + 1] = ARGV[i + 1]
end
if ARGV[6] == '1' then
  local fields = redis.call('HGETALL', KEYS[1])
  local kept = {}
  for i = 1, #fields, 2 do
    local name = fields[i]
    if keep[name] then
      kept[#kept + 1] = name
      kept[#kept + 1] = fields[i + 1]
    elseif not drop[name] then
      body[#body + 1] = name
      body[#body + 1] = fields[i + 1]
    end
  end
  if #body > 0 then
    redis.call('HSET', KEYS[2], unpack(body))
    redis.call('EXPIRE', KEYS[2], ARGV[4])
  end
  -- Written anew rather than trimmed: a hash that once held the long content stays in Redis's
  -- large encoding after its fields go (784 bytes instead of about 250).
  redis.call('DEL', KEYS[1])
  if #kept > 0 then redis.call('HSET', KEYS[1], unpack(kept)) end
  redis.call('HSET', KEYS[1], 'state', 'sent', 'provider_id', ARGV[1], 'sent_at', ARGV[2],
             'attempts', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
else
  if #body > 0 then redis.call('HSET', KEYS[1], unpack(body)) end
  redis.call('HDEL', KEYS[1], 'claim_owner', 'claim_until', 'retry_at', 'unsure_since')
end
redis.call('HSET', KEYS[1], 'state', 'sent', 'provider_id', ARGV[1], 'sent_at', ARGV[2],
           'attempts', ARGV[3])
return 1
"""

# A delivered or read callback, noted on the record itself (forward only): the console and
# the invoice's timeline still show it once the per-provider-id state has expired.
_NOTE_DELIVERY = """
local rank = {delivered=1, read=2}
local now = redis.call('HGET', KEYS[1], 'delivery')
if redis.call('EXISTS', KEYS[1]) == 1 and (not now or rank[ARGV[1]] > (rank[now] or 0)) then
  redis.call('HSET', KEYS[1], 'delivery', ARGV[1])
end
return 1
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

# Claim a message for one sender: refused (-1) while another sender's claim is alive, 0 when
# the message is no longer to be sent. ARGV: owner, now, deadline. Taking over a message that
# another sender left `sending` (it died during the provider call, which may have gone
# through) records since when it is `unsure` (the dead sender's claim time), until a lookup at
# the provider settles it; returns {1, unsure since or ''}.
_CLAIM = (
    """
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'pending' and state ~= 'sending' then return {0, ''} end
"""
    + _take_claim("{-1, ''}")
    + """redis.call('HSETNX', KEYS[1], 'since', ARGV[2])
return {1, redis.call('HGET', KEYS[1], 'unsure_since') or ''}
"""
)

# Extend our claim, or change the record while it is still ours. ARGV: owner, field/value...
_IF_OURS = """
if redis.call('HGET', KEYS[1], 'claim_owner') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1
"""

# Let go of our claim, writing the message's new state with it. ARGV: owner, field/value...
_RELEASE = """
if redis.call('HGET', KEYS[1], 'claim_owner') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HDEL', KEYS[1], 'claim_owner', 'claim_until')
return 1
"""

# `_RELEASE`, and the retry horizon starts again at the next claim (which sets `since`).
_RELEASE_AND_RESTART = """
if redis.call('HGET', KEYS[1], 'claim_owner') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HDEL', KEYS[1], 'claim_owner', 'claim_until', 'since')
return 1
"""

# A held marketing head goes behind the rest of its conversation's queue, if anything is
# behind it (returns 1). ARGV: the head.
_ROTATE_IF_HEAD = """
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return 0 end
if redis.call('LLEN', KEYS[1]) < 2 then return 0 end
redis.call('LPOP', KEYS[1])
redis.call('RPUSH', KEYS[1], ARGV[1])
return 1
"""

# The provider said the message did not go out: it is no longer unsure. ARGV: owner.
_FORGET_UNSURE = """
if redis.call('HGET', KEYS[1], 'claim_owner') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'unsure_since')
return 1
"""

# Circuit of one channel. Closed: returns 0 (send). Open: the time to try again. Half-open
# (cool-down over): one probe at a time gets 0, the others wait a little.
# ARGV: now, probe_ttl, follower_wait.
_CIRCUIT_ALLOW = """
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if open_until == 0 then return 0 end
local now = tonumber(ARGV[1])
if open_until > now then return tostring(open_until) end
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if probe > now then return tostring(math.min(probe, now + tonumber(ARGV[3]))) end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[2]))
return 0
"""

# A 5xx: count it; open the circuit after `threshold` in a row, re-open (longer) when a probe
# fails. Returns 1 when this failure opened it. ARGV: now, threshold, cooldown, max_cooldown.
_CIRCUIT_FAILURE = """
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local now = tonumber(ARGV[1])
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until') or '0')
if open_until > now then return 0 end
local cooldown = tonumber(ARGV[3])
if open_until > 0 then
  cooldown = math.min(tonumber(redis.call('HGET', KEYS[1], 'cooldown') or ARGV[3]) * 2,
                      tonumber(ARGV[4]))
elseif failures < tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], 'open_until', now + cooldown, 'cooldown', cooldown)
redis.call('HDEL', KEYS[1], 'probe_until')
return 1
"""

# A send went through: the circuit closes. Returns 1 if it was open.
_CIRCUIT_SUCCESS = """
local was_open = redis.call('HEXISTS', KEYS[1], 'open_until')
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DEL', KEYS[1]) end
return was_open
"""


@runtime_checkable
class SentLookup(Protocol):
    """An adapter whose provider can say whether a message went out (Twilio's list)."""

    async def find_sent(
        self,
        message: OutboundMessage,
        since: datetime,
        others: Callable[[Sequence[str]], Awaitable[Collection[str]]] | None = None,
    ) -> str | None:
        """The provider id of `message` if the provider accepted it at or after `since`;
        `others` says which of the candidate ids are already another message's."""
        ...


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """How hard the sender tries, and how it shares the work with other senders."""

    retry_horizon_seconds: float = 24 * 3600.0  # then: failed, merchant told, other channel
    max_backoff_seconds: float = 300.0
    claim_ttl_seconds: float = 15.0  # a dead sender's message waits at most this long
    renew_every_seconds: float = 5.0  # real seconds between claim renewals during a send
    concurrency: int = 8  # sends in flight per channel in one sender, unless `per_channel`
    per_channel: Mapping[ChannelName, int] = field(default_factory=dict)
    # A sent message's (slimmed) record: the "did it go out?" answer, kept for the retention
    # (`FACTO_OUTBOX_RETENTION_DAYS`; the housekeeping also deletes it by its own clock).
    sent_record_seconds: float = 30 * 24 * 3600.0
    circuit_threshold: int = 5  # 5xx in a row that open a channel's circuit
    circuit_cooldown_seconds: float = 30.0  # first pause; doubles per failed probe
    circuit_max_cooldown_seconds: float = 60.0  # so the provider's return is seen within 1 min
    probe_follower_wait_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SendPolicy:
        return cls(
            retry_horizon_seconds=settings.outbox_retry_horizon_hours * 3600.0,
            max_backoff_seconds=settings.outbox_max_backoff_seconds,
            sent_record_seconds=settings.outbox_retention_days * 24 * 3600.0,
            per_channel={
                ChannelName.SMS: settings.send_concurrency_sms,
                ChannelName.WHATSAPP: settings.send_concurrency_whatsapp,
                ChannelName.TELEGRAM: settings.send_concurrency_telegram,
            },
        )

    def slots_for(self, channel: ChannelName) -> int:
        return self.per_channel.get(channel, self.concurrency)


@dataclass(frozen=True, slots=True)
class SmsReach:
    """Whether an SMS conversation's number was marked unable to take SMS, as read with a
    message's claim (the message is sent to it only if it is still that number)."""

    phone: str
    marked: bool


def channel_of(conversation: str) -> ChannelName | None:
    """The channel of a conversation key ("sms:+33...", "whatsapp@<sender>:+33...")."""
    head = conversation.partition(":")[0].partition(SENDER_MARK)[0]
    try:
        return ChannelName(head)
    except ValueError:
        return None


def stream_of(conversation: str, fallback: ChannelName = ChannelName.SMS) -> str:
    """The stream that wakes the senders of `conversation`'s channel."""
    return STREAMS[channel_of(conversation) or fallback]


async def unacknowledged(redis: aioredis.Redis) -> int:
    """Wake-ups read by some sender and not acknowledged yet, over every channel's stream."""
    async with redis.pipeline(transaction=False) as pipe:
        for stream in STREAMS.values():
            pipe.xpending(stream, keys.OUTBOX_GROUP)
        summaries = await pipe.execute(raise_on_error=False)
    return sum(s["pending"] for s in summaries if isinstance(s, dict))


def queue(
    pipe: aioredis.client.Pipeline,
    message: OutboundMessage,
    conversation: str,
    *,
    merchant_id: str | None = None,
    invoice_id: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> None:
    """Record `message` and queue it for sending, as part of the caller's MULTI.

    `extra` fields (a marketing class, a campaign) are written with the record, before the
    wake-up: the dispatch commit applies its groups in the order of their last write, so a
    field written after this call would order the record's group after the wake-up's and a
    sender could wake up to a record not written yet.
    """
    record = keys.outbox_message(message.idempotency_key)
    fields = _record_fields(message, conversation, merchant_id, invoice_id)
    fields.update(extra or {})
    if fields.get("class") == "marketing":
        # Every promotional text passes here: none goes without its sender and STOP (test 79).
        require_marketing_mentions(message.text, fields.get("sender", ""))
    for name, value in fields.items():
        pipe.hsetnx(record, name, value)
    pipe.rpush(keys.outbox_conversation_queue(conversation), message.idempotency_key)
    pipe.xadd(
        stream_of(conversation, message.channel),
        _wakeup(message, conversation, fields),
        maxlen=1_000_000,
    )


def _wakeup(
    message: OutboundMessage, conversation: str, fields: Mapping[str, str]
) -> dict[str, str]:
    """A wake-up's fields: the message, its conversation, and what it asks of the pacer (so
    the rate limit is tried in the round trip that loads and claims it)."""
    marketing = fields.get("class") == "marketing"
    # From the conversation's sender, as the record is loaded (`parse`).
    sent_as = replace(message, sender=sender_of(conversation))
    pace = pacing.hint(sent_as, marketing=marketing)
    wakeup = {"key": message.idempotency_key, "conv": conversation, "pace": pace}
    if offers_payment(message) and fields.get("merchant_id") and fields.get("invoice_id"):
        # The invoice it offers to pay, read with the claim (checked against the record's).
        wakeup["inv"] = json.dumps([fields["merchant_id"], fields["invoice_id"]])
    return wakeup


async def queue_now(
    redis: aioredis.Redis,
    message: OutboundMessage,
    conversation: str,
    *,
    merchant_id: str | None,
    invoice_id: str | None,
    fallback_of: str | None = None,
) -> None:
    """Queue `message` outside a dispatch commit; calling it again queues nothing more.

    Each step is idempotent and the record remembers the last one (`enqueued`), so a crash
    in between is finished by the next call rather than doubled.
    """
    key = message.idempotency_key
    record = keys.outbox_message(key)
    fields = _record_fields(message, conversation, merchant_id, invoice_id)
    if fallback_of is not None:
        fields["fallback_of"] = fallback_of
    async with redis.pipeline(transaction=False) as pipe:
        for name, value in fields.items():
            pipe.hsetnx(record, name, value)
        pipe.hget(record, "enqueued")
        *_, enqueued = await pipe.execute()
    if enqueued:
        return
    conversation_queue = keys.outbox_conversation_queue(conversation)
    if await redis.lpos(conversation_queue, key) is None:
        await redis.rpush(conversation_queue, key)
    await redis.xadd(
        stream_of(conversation, message.channel),
        _wakeup(message, conversation, fields),
        maxlen=1_000_000,
    )
    await redis.hset(record, "enqueued", "1")


def _record_fields(
    message: OutboundMessage, conversation: str, merchant_id: str | None, invoice_id: str | None
) -> dict[str, str]:
    fields = {
        "message": json.dumps(message.to_dict()),
        "conversation": conversation,
        "state": DeliveryState.PENDING.value,
        "ordered": "1",  # queued on its conversation's send queue (records before it are not)
    }
    if merchant_id:
        fields["merchant_id"] = merchant_id
    if invoice_id:
        fields["invoice_id"] = invoice_id
    return fields


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    key: str
    message: OutboundMessage
    state: DeliveryState
    attempts: int
    provider_message_id: str | None
    conversation: str = ""
    merchant_id: str | None = None
    invoice_id: str | None = None
    ordered: bool = False
    retry_at: float | None = None
    since: float | None = None
    fallback_of: str | None = None
    last_error: str | None = None
    failed_at: str | None = None
    sent_at: str | None = None
    marketing: bool = False  # a campaign's message: paced after transactional ones


async def load(redis: aioredis.Redis, key: str) -> OutboxRecord | None:
    """The record with its content; a sent one's content comes from its body while it is
    kept (None after: nothing can be sent again from a slimmed record)."""
    raw = await redis.hgetall(keys.outbox_message(key))
    if raw and "message" not in raw and raw.get("state") not in _ACTIVE_VALUES:
        raw = {**await redis.hgetall(keys.outbox_sent_body(key)), **raw}
    return parse(key, raw)


@dataclass(frozen=True, slots=True)
class SentRecord:
    """What a message's record says once it may be slimmed (sent): enough to answer "did it
    go out, how, where?" without its content."""

    key: str
    state: DeliveryState
    provider_message_id: str | None
    conversation: str

    @property
    def channel(self) -> ChannelName | None:
        return channel_of(self.conversation)


async def load_sent(redis: aioredis.Redis, key: str) -> SentRecord | None:
    """The record's state, provider id and conversation, whether slimmed or not."""
    state, provider_id, conversation = await redis.hmget(
        keys.outbox_message(key), ["state", "provider_id", "conversation"]
    )
    if state is None:
        return None
    if not conversation:  # a record older than the conversation field
        record = await load(redis, key)
        conversation = record.conversation if record is not None else ""
    return SentRecord(key, DeliveryState(state), provider_id, str(conversation))


def parse(key: str, raw: Mapping[str, str]) -> OutboxRecord | None:
    """An outbox record from its hash fields (None without content)."""
    if not raw or "message" not in raw:
        return None
    message = OutboundMessage.from_dict(json.loads(raw["message"]))
    conversation = raw.get("conversation") or conversation_key(message.channel, message.address)
    # The conversation names the merchant's own sender, if it has one: the message goes
    # from it (the adapters and the pacer read `sender`).
    message = replace(message, sender=sender_of(conversation))
    return OutboxRecord(
        key=key,
        message=message,
        state=DeliveryState(raw.get("state", "pending")),
        attempts=int(raw.get("attempts", "0")),
        provider_message_id=raw.get("provider_id"),
        conversation=conversation,
        merchant_id=raw.get("merchant_id"),
        invoice_id=raw.get("invoice_id"),
        ordered=raw.get("ordered") == "1",
        retry_at=_float(raw.get("retry_at")),
        since=_float(raw.get("since")),
        fallback_of=raw.get("fallback_of"),
        last_error=raw.get("last_error"),
        failed_at=raw.get("failed_at"),
        sent_at=raw.get("sent_at"),
        marketing=raw.get("class") == "marketing",
    )


def _float(value: str | None) -> float | None:
    return float(value) if value else None


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
        if report.state in (DeliveryState.DELIVERED, DeliveryState.READ):
            key = await redis.get(keys.outbox_by_provider_id(report.provider_message_id))
            if key:
                await redis.eval(_NOTE_DELIVERY, 1, keys.outbox_message(key), report.state.value)
    return bool(moved)


async def sent_from(redis: aioredis.Redis, provider_message_id: str, sender: str) -> bool:
    """False when the message the provider names went out through another sender than
    `sender` (a merchant's own); True when it did, or when we do not know it yet (a callback
    may come before the sender wrote the provider's id down)."""
    key = await redis.get(keys.outbox_by_provider_id(provider_message_id))
    conversation = await redis.hget(keys.outbox_message(key), "conversation") if key else None
    return conversation is None or sender_of(str(conversation)) == sender


async def delivery_state(redis: aioredis.Redis, provider_message_id: str) -> DeliveryState | None:
    state = await redis.hget(keys.outbox_delivery(provider_message_id), "state")
    return DeliveryState(state) if state else None


async def failed_messages(
    redis: aioredis.Redis, merchant_id: str, limit: int
) -> list[OutboxRecord]:
    """The merchant's messages that could not be delivered, newest first."""
    found = []
    for key in await redis.zrevrange(keys.merchant_failed_messages(merchant_id), 0, limit - 1):
        record = await load(redis, key)
        if record is not None:
            found.append(record)
    return found


FALLBACK_MARK = ":fallback"  # in the key of every message sent in place of another


async def fall_back_once(
    redis: aioredis.Redis, record: OutboxRecord, at: datetime
) -> ChannelName | None:
    """Queue the same content once on the customer's next known channel (WhatsApp -> SMS,
    Telegram -> SMS), unless the merchant turned that off. Returns the channel, if any."""
    if record.fallback_of or FALLBACK_MARK in record.key:
        return None  # a fallback does not fall back again
    if not (record.merchant_id and record.invoice_id):
        return None  # no invoice, no other address
    merchant = await get_merchant(redis, record.merchant_id)
    if merchant is not None and not merchant.channel_fallback:
        return None
    invoice = await get_invoice(redis, record.merchant_id, record.invoice_id)
    if invoice is None:
        return None
    target = next_address(customer_addresses(invoice, record.conversation), record.message.channel)
    if target is None:
        return None
    channel, address = split_key(target)
    # On the merchant's own sender of that channel, if it has one.
    own = await senders.merchant_refs(redis, record.merchant_id)
    target = conversation_key(channel, address, own.get(channel.value))
    if record.key == f"issued:{invoice.id}:0":
        # The invoice itself: announced again on that conversation, so that it is rendered
        # for its channel and the customer's answers there find the invoice.
        issued = events.InvoiceIssued(invoice.id, invoice.merchant_id)
        event = events.encode(f"issued:{invoice.id}{FALLBACK_MARK}", target, issued)
        await ingest(redis, event)
        await redis.hset(keys.outbox_message(record.key), "fallback", f"{event.id}:0")
        log.warning("invoice falls back to another channel", extra=log_fields(channel=channel))
        return channel
    message = OutboundMessage(
        channel=channel,
        address=address,
        text=record.message.text,
        idempotency_key=f"{record.key}{FALLBACK_MARK}",
        # Choice buttons answer the failed conversation's questions; links still work.
        buttons=tuple(b for b in record.message.buttons if b.url),
        template=record.message.template,  # WhatsApp may need it outside its window
    )
    await queue_now(
        redis,
        message,
        target,
        merchant_id=record.merchant_id,
        invoice_id=record.invoice_id,
        fallback_of=record.key,
    )
    await _log_fallback(redis, target, message, at)
    await redis.hset(keys.outbox_message(record.key), "fallback", message.idempotency_key)
    log.warning(
        "message falls back to another channel",
        extra=log_fields(key=record.key, channel=channel),
    )
    return channel


async def _log_fallback(
    redis: aioredis.Redis, conversation: str, message: OutboundMessage, at: datetime
) -> None:
    """Write the fallback into the other conversation's transcript, as said there.

    Once: a give-up finished again after a crash finds its entry by reference. (One
    conversation's slot: the RPUSH and LTRIM go in one MULTI.)
    """
    said = await transcript(redis, conversation)
    if any(entry.get("ref") == message.idempotency_key for entry in said):
        return
    async with redis.pipeline(transaction=True) as pipe:
        append_transcript(
            pipe,
            conversation,
            direction="out",
            text=message.text,
            at=at,
            ref=message.idempotency_key,
        )
        await pipe.execute()


async def record_carrier_opt_out(
    redis: aioredis.Redis, record: OutboxRecord, at: datetime
) -> None:
    """Twilio 21610: the customer replied STOP to the carrier. Our consent registry learns it,
    so marketing stops on every channel of theirs, as if they had told us."""
    if not record.merchant_id:
        return
    address = conversation_key(record.message.channel, record.message.address)
    async with redis.pipeline(transaction=True) as pipe:
        consent.record(
            pipe,
            record.merchant_id,
            [address],
            opted_in=False,
            words="carrier opt-out (Twilio 21610)",
            channel=record.message.channel.value,
            at=at,
        )
        await pipe.execute()
    log.warning("carrier opt-out recorded", extra=log_fields(key=record.key))


async def record_whatsapp_marketing_opt_out(
    redis: aioredis.Redis, record: OutboxRecord, at: datetime
) -> None:
    """Meta 131050: the customer stopped this business's marketing inside WhatsApp. Recorded
    for WhatsApp only: marketing there stops, transactional messages and other channels go on."""
    merchant_id = record.merchant_id  # campaign and cart messages carry it too
    if not merchant_id:
        return
    async with redis.pipeline(transaction=True) as pipe:
        consent.record_channel_marketing_opt_out(
            pipe,
            merchant_id,
            record.conversation,
            words="WhatsApp marketing opt-out (Meta 131050)",
            at=at,
        )
        await pipe.execute()
    log.warning("whatsapp marketing opt-out recorded", extra=log_fields(key=record.key))


def backoff(attempts: int, error: ChannelError, policy: SendPolicy, rng: random.Random) -> float:
    """Seconds before the next try: the provider's Retry-After when it gives one; otherwise
    exponential, capped, with jitter (half fixed, half random) so that senders spread out."""
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, RateLimited | ProviderUnavailable) and retry_after:
        return float(retry_after)
    exponent = min(max(attempts - 1, 0), 30)
    ceiling = min(policy.max_backoff_seconds, BACKOFF_BASE_SECONDS * float(2**exponent))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Outcome(enum.Enum):
    DONE = "done"  # the conversation has nothing left to send now
    SENT = "sent"
    FAILED = "failed"  # given up: the next message of the conversation may go
    WAITING = "waiting"  # the head waits for its retry time; the retry queue will wake it
    # A marketing head parked by its gate (a paused sale, quiet hours): it waits like WAITING,
    # but it is not a failure of the conversation, so the messages behind it may go first.
    HELD = "held"
    BUSY = "busy"  # another live sender holds the head and will carry on


# A marketing message dropped at send time (bot.engine.marketing_gate): its record's error,
# and the log's reason.
_DROPPED = {
    "cancelled": ("CampaignCancelled", "its campaign was cancelled"),
    "ended": ("CampaignEnded", "its sale is over"),
    "no_consent": ("NoMarketingConsent", "no consent any more"),
}


# What a wake-up says its message asks of the pacer, and the invoice it offers to pay.
_Hint = tuple[str, str]

# A wake-up read from a channel's stream: (stream, entry id, fields).
Entry = tuple[str, str, dict[str, str]]


@dataclass(slots=True)
class _Finish:
    """The queue step that rides on the round trip recording a send: the head leaves its
    conversation's queue, its wake-ups are acknowledged, the next head is read."""

    queue_key: str
    head: str
    acks: list[tuple[str, str]]
    popped: bool = False
    next_head: str | None = None


def _queue_acks(pipe: aioredis.client.Pipeline, acks: Sequence[tuple[str, str]]) -> None:
    """One XACK per stream (the answers' count is the number of streams)."""
    by_stream: dict[str, list[str]] = {}
    for stream, entry_id in acks:
        by_stream.setdefault(stream, []).append(entry_id)
    for stream, ids in by_stream.items():
        pipe.xack(stream, keys.OUTBOX_GROUP, *ids)


def _invoice_named(field: str) -> tuple[str, str] | None:
    """(merchant, invoice) from a wake-up's `inv` field; None when absent or unreadable."""
    try:
        merchant_id, invoice_id = json.loads(field) if field else ("", "")
    except (ValueError, TypeError):
        return None
    return (str(merchant_id), str(invoice_id)) if merchant_id and invoice_id else None


def _asks(slot: Slot | None, record: OutboxRecord) -> bool:
    """Whether `slot` (tried from a wake-up's hint) is what sending `record` asks of the pacer
    (a wake-up of another version of the message would not be)."""
    return slot is not None and slot.hint == pacing.hint(
        record.message, marketing=record.marketing
    )


def _invoice_of(record: OutboxRecord) -> tuple[str, str]:
    return record.merchant_id or "", record.invoice_id or ""


def _offers_to_note(record: OutboxRecord) -> tuple[str, str] | None:
    """(merchant, invoice) of a Telegram message whose buttons offer to pay: noted once
    sent, so that settling the invoice takes its buttons off (bot.store.telegram_buttons's
    `note_sent`, folded into the send's last round trip)."""
    message = record.message
    if (
        message.channel is ChannelName.TELEGRAM
        and message.remove_buttons_of is None
        and record.merchant_id
        and record.invoice_id
        and any(b.url is not None or b.action in PAYING_CHOICES for b in message.buttons)
    ):
        return record.merchant_id, record.invoice_id
    return None


class Sender:
    """Reads the outbox streams and sends each conversation's messages once, in order."""

    def __init__(
        self,
        redis: aioredis.Redis,
        adapters: Mapping[ChannelName, ChannelAdapter],
        clock: Clock,
        consumer: str,
        *,
        policy: SendPolicy | None = None,
        rng: random.Random | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self._redis = redis
        self._adapters = adapters
        self._clock = clock
        self._consumer = consumer
        self.policy = policy or SendPolicy()
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._pacer = pacer  # provider rate limits per sender (bot.engine.pacing)
        # Claims name this sender instance: a restarted process with the same consumer name
        # must still wait for the claims of the one that died.
        self._owner = f"{consumer}:{secrets.token_hex(6)}"
        # One bound per channel: a slow or rate-limited provider fills its own slots only.
        self._slots = {
            channel: asyncio.Semaphore(self.policy.slots_for(channel)) for channel in ChannelName
        }
        # Claims tell senders apart, not the coroutines of one sender: recovery and the send
        # loop of one worker may both reach a conversation, so one drains it at a time.
        self._draining: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # The long-lived send loop's sends (`start_sends`): each task with whether it has its
        # channel's slot yet, and the stream entries they hold, not acknowledged yet, by stream.
        self._in_flight: dict[asyncio.Task[None], asyncio.Event] = {}
        self._held: dict[str, set[str]] = {stream: set() for stream in STREAMS.values()}

    async def ensure_group(self) -> None:
        """Each channel's stream and group exist; what the old single stream held is moved."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for stream in STREAMS.values():
                pipe.xgroup_create(stream, keys.OUTBOX_GROUP, id="0", mkstream=True)
            results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, ResponseError) and "BUSYGROUP" not in str(result):
                raise result
        await self.move_legacy_entries()

    async def move_legacy_entries(self) -> int:
        """Move the wake-ups left in the single stream of earlier versions to their channel's
        stream (an upgrade loses no queued message); entries some old sender read and did not
        acknowledge move too: the message's claim keeps it from going twice."""
        moved = 0
        streams = list(STREAMS.values())
        while True:
            entries = await self._redis.xrange(
                keys.OUTBOX_STREAM, "-", "+", count=LEGACY_MOVE_BATCH
            )
            if not entries:
                # Empty (or left empty by an old process): the script deletes it, with its group.
                await self._redis.eval(
                    _MOVE_LEGACY, 1 + len(streams), keys.OUTBOX_STREAM, *streams
                )
                break
            missing = [fields.get("key", "") for _id, fields in entries if not fields.get("conv")]
            found = dict(zip(missing, await self._conversations_of(missing), strict=True))
            args: list[str] = []
            for entry_id, fields in entries:
                key = fields.get("key", "")
                conversation = fields.get("conv") or found.get(key, "")
                index = streams.index(stream_of(conversation)) + 2  # KEYS[1] is the old stream
                args += [entry_id, str(index), key, conversation]
            moved += int(
                await self._redis.eval(
                    _MOVE_LEGACY, 1 + len(streams), keys.OUTBOX_STREAM, *streams, *args
                )
            )
        if moved:
            log.warning("outbox wake-ups moved to per-channel streams", extra=log_fields(n=moved))
        return moved

    async def _conversations_of(self, message_keys: Sequence[str]) -> list[str]:
        """The conversation each record names ('' for none), in one round trip."""
        if not message_keys:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in message_keys:
                pipe.hget(keys.outbox_message(key), "conversation")
            return [c or "" for c in await pipe.execute()]

    async def move_due_retries(self) -> int:
        """Wake the messages whose retry time has come (under the periodic lease); and move
        what a sender of an earlier version (a rolling upgrade) woke on the old stream."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zrangebyscore(
                keys.OUTBOX_RETRY, "-inf", self._now(), start=0, num=100, withscores=True
            )
            pipe.exists(keys.OUTBOX_STREAM)
            due, legacy = await pipe.execute()
        if legacy:
            await self.move_legacy_entries()
        if not due:
            return 0
        conversations = await self._conversations_of([key for key, _score in due])
        async with self._redis.pipeline(transaction=False) as pipe:
            for (key, _score), conversation in zip(due, conversations, strict=True):
                fields = {"key": key, "conv": conversation} if conversation else {"key": key}
                pipe.xadd(stream_of(conversation), fields, maxlen=1_000_000)
            await pipe.execute()
        scores = [item for key, score in due for item in (key, repr(score))]
        await self._redis.eval(_FORGET_MOVED, 1, keys.OUTBOX_RETRY, *scores)
        return len(due)

    async def _read(self, streams: Mapping[str, str], block_ms: int | None) -> list[Entry]:
        """One XREADGROUP over the given streams (all on one slot): up to a batch from each."""
        answer = await self._redis.xreadgroup(
            keys.OUTBOX_GROUP, self._consumer, dict(streams), count=BATCH, block=block_ms
        )
        return [
            (stream, entry_id, fields)
            for stream, messages in answer or []
            for entry_id, fields in messages
        ]

    async def run_once(self, block_ms: int | None = None, *, pending: bool = False) -> int:
        """Send what is queued; with `pending`, first what this consumer left unacknowledged."""
        start = "0" if pending else ">"
        batch = await self._read(dict.fromkeys(STREAMS.values(), start), block_ms)
        return await self._handle_entries(batch)

    async def start_sends(self, block_ms: int | None = None) -> int:
        """Read the next entries and start their sends without waiting for them to finish.

        The send loop's step (`run_once` waits for its whole batch, for recovery and tests):
        each conversation's send runs as its own task, under its channel's slots, and
        acknowledges its own entries when it is done; so a channel paced slowly (a flash
        sale's SMS) fills its own slots only, while the loop reads on and starts the other
        channels' sends. A channel holding its budget of entries is not read meanwhile; the
        others still are. Order within a conversation is kept by its lock and send queue.
        """
        readable = {
            stream: ">" for stream, held in self._held.items() if len(held) < HELD_PER_CHANNEL
        }
        if not readable:
            # Every channel is full: wait for some send to finish instead of reading.
            timeout = block_ms / 1000 if block_ms else None
            await asyncio.wait(
                set(self._in_flight), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            return 0
        batch = await self._read(readable, block_ms)
        await self._start_entries(batch)
        return len(batch)

    async def reclaim_in_background(self, min_idle_ms: int) -> int:
        """`reclaim`, starting the sends like `start_sends` rather than waiting for them.

        Entries this sender holds already (waiting for their channel's slots longer than
        `min_idle_ms`) are not started twice."""
        started = 0
        async for claimed in self._autoclaimed(min_idle_ms):
            fresh = [e for e in claimed if e[1] not in self._held[e[0]]]
            await self._start_entries(fresh)
            started += len(fresh)
        return started

    async def stop_sends(self, grace_seconds: float = STOP_GRACE_SECONDS) -> None:
        """On shutdown: sends not started yet are dropped (their entries stay pending, so
        the next run or another sender takes them), provider calls under way get
        `grace_seconds` to finish; the rest are cancelled, leaving their claims to expire
        (a dead sender's case: the message is looked up at the provider before a resend)."""
        try:
            for task, started in list(self._in_flight.items()):
                if not started.is_set():
                    task.cancel()
            if self._in_flight:
                await asyncio.wait(set(self._in_flight), timeout=grace_seconds)
        finally:
            # Also when this wait is itself cancelled (a stop that times out): no send is
            # left running on its own.
            for task in list(self._in_flight):
                task.cancel()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    @property
    def sends_in_flight(self) -> int:
        return len(self._in_flight)

    def held(self, channel: ChannelName) -> int:
        """Entries of `channel` this sender's send loop has read and not acknowledged."""
        return len(self._held[STREAMS[channel]])

    async def wait_for_sends(self) -> None:
        """Until every send started by `start_sends` is done."""
        while self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _start_entries(self, batch: Sequence[Entry]) -> None:
        for conversation, entries in (await self._by_conversation(batch)).items():
            started = asyncio.Event()
            task = asyncio.create_task(self._handle_conversation(conversation, entries, started))
            ids = [(stream, entry_id) for stream, entry_id, _key, _hint in entries]
            self._in_flight[task] = started
            for stream, entry_id in ids:
                self._held[stream].add(entry_id)
            task.add_done_callback(functools.partial(self._finished, ids))

    def _finished(self, ids: list[tuple[str, str]], task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task, None)
        for stream, entry_id in ids:
            self._held[stream].discard(entry_id)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Unacknowledged: the entries come back through the reclaim.
            log.error("sending a conversation failed", exc_info=error)

    async def reclaim(self, min_idle_ms: int) -> int:
        """Take over entries another sender read but has not acknowledged for a while.

        Safe however eager: a message still being sent is claimed by its sender, so the
        entry only leads back to a conversation whose head is refused until that claim ends.
        """
        handled = 0
        async for claimed in self._autoclaimed(min_idle_ms):
            handled += await self._handle_entries(claimed)
        return handled

    async def _autoclaimed(self, min_idle_ms: int) -> AsyncIterator[list[Entry]]:
        """Batches of entries idle for `min_idle_ms`, now this sender's, channel by channel;
        bounded: 1,000 entries per stream per pass. Entries trimmed from the stream have
        nothing left to send: acknowledged."""
        for stream in STREAMS.values():
            cursor = "0-0"
            for _ in range(20):
                cursor, claimed, *_ = await self._redis.xautoclaim(
                    stream,
                    keys.OUTBOX_GROUP,
                    self._consumer,
                    min_idle_ms,
                    cursor,
                    count=BATCH,
                )
                gone = [entry_id for entry_id, fields in claimed if not fields]
                if gone:
                    await self._redis.xack(stream, keys.OUTBOX_GROUP, *gone)
                yield [(stream, i, f) for i, f in claimed if f]
                if cursor == "0-0":
                    break

    async def _handle_entries(self, batch: Sequence[Entry]) -> int:
        """Group the entries by conversation; send the conversations side by side."""
        by_conversation = await self._by_conversation(batch)
        results = await asyncio.gather(
            *(self._handle_conversation(c, e) for c, e in by_conversation.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                # Unacknowledged: the entries come back through the reclaim.
                log.error("sending a conversation failed", exc_info=result)
        return len(batch)

    async def _by_conversation(
        self, batch: Sequence[Entry]
    ) -> dict[str, list[tuple[str, str, str, _Hint]]]:
        """(stream, entry id, message key, pacing hint) by conversation."""
        by_conversation: dict[str, list[tuple[str, str, str, _Hint]]] = {}
        for stream, entry_id, fields in batch:
            key = fields.get("key", "")
            conversation = fields.get("conv") or await self._conversation_of(key)
            wakeup = (stream, entry_id, key, (fields.get("pace", ""), fields.get("inv", "")))
            by_conversation.setdefault(conversation, []).append(wakeup)
        return by_conversation

    async def _conversation_of(self, key: str) -> str:
        conversation = await self._redis.hget(keys.outbox_message(key), "conversation")
        if conversation:
            return str(conversation)
        record = await load(self._redis, key)  # a record older than the conversation field
        return record.conversation if record is not None else ""

    async def _handle_conversation(
        self,
        conversation: str,
        entries: list[tuple[str, str, str, _Hint]],
        started: asyncio.Event | None = None,
    ) -> None:
        # Each message's wake-ups, acknowledged with the send that finishes it; what is left
        # (a waiting head's, a repeated one) is acknowledged once the conversation is drained.
        wakeups: dict[str, list[tuple[str, str]]] = {}
        hints: dict[str, _Hint] = {}
        for stream, entry_id, key, hint in entries:
            wakeups.setdefault(key, []).append((stream, entry_id))
            if hint[0]:
                hints[key] = hint
        async with self._conversation_lock(conversation), self._slots_of(conversation):
            if started is not None:
                started.set()  # from here on, a send may be at the provider
            done: set[str] = set()
            outcome = (
                await self.drain(conversation, wakeups, done, hints)
                if conversation
                else Outcome.DONE
            )
            for key in list(wakeups):  # not a head of this drain
                if key not in done:
                    await self._send_unordered(key)
        if outcome is Outcome.BUSY:
            # Left pending on purpose: if that sender dies, these entries lead back here.
            return
        await self._acknowledge([entry for key in wakeups for entry in wakeups[key]])

    async def _acknowledge(self, entries: Sequence[tuple[str, str]]) -> None:
        by_stream: dict[str, list[str]] = {}
        for stream, entry_id in entries:
            by_stream.setdefault(stream, []).append(entry_id)
        for stream, ids in by_stream.items():
            await self._redis.xack(stream, keys.OUTBOX_GROUP, *ids)

    def _slots_of(self, conversation: str) -> asyncio.Semaphore:
        # An entry without a conversation (legacy): any channel's will do.
        return self._slots[channel_of(conversation) or ChannelName.SMS]

    def _conversation_lock(self, conversation: str) -> asyncio.Lock:
        lock = self._draining.get(conversation)
        if lock is None:
            lock = self._draining[conversation] = asyncio.Lock()
        return lock

    async def _send_unordered(self, key: str) -> None:
        """A message recorded before conversations had send queues is sent on its own."""
        state, ordered = await self._redis.hmget(keys.outbox_message(key), ["state", "ordered"])
        if state is None:
            log.error("outbox entry without record", extra=log_fields(key=key))
            return
        if ordered == "1" or state not in _ACTIVE_VALUES:
            return  # sent by its conversation's drain, or done
        record = await load(self._redis, key)
        if record is not None and self._due(record):
            await self._send(record)

    async def drain(
        self,
        conversation: str,
        wakeups: dict[str, list[tuple[str, str]]] | None = None,
        done: set[str] | None = None,
        hints: Mapping[str, _Hint] | None = None,
    ) -> Outcome:
        """Send the conversation's queue head by head, until it is empty or must wait.

        `wakeups`: stream entries by message key; a message's are acknowledged in the round
        trip that records it sent (and leave the mapping). `done` receives the keys of
        `wakeups` found already sent or failed on the way: nothing left to look at for them
        (under load, most wake-ups come after an earlier drain sent their message). `hints`:
        what each woken message asks of the pacer (its wake-up's), tried with its claim."""
        queue_key = keys.outbox_conversation_queue(conversation)
        wakeups = {} if wakeups is None else wakeups
        # The first wake-up's message is almost always the head: it is loaded and claimed in
        # the round trip that reads the head, and let go if it was not.
        guess = next(iter(wakeups), None)
        head = guess if guess is not None else await self._redis.lindex(queue_key, 0)
        guessed = guess is not None
        # Rate-limit slots taken for heads that did not go: given back in the next head's
        # first round trip, or on their own once the drain stops.
        spare: list[Slot] = []
        try:
            while head is not None:
                outcome, head = await self._drain_head(
                    conversation,
                    queue_key,
                    head,
                    wakeups,
                    guessed=guessed,
                    done=done,
                    hint=(hints or {}).get(head),
                    spare=spare,
                )
                guessed = False
                if outcome is not None:
                    return outcome
            return Outcome.DONE
        finally:
            await self._give_back(spare)

    async def _give_back(self, spare: list[Slot]) -> None:
        """Slots taken and not used, freed; one that cannot be (Redis away) only holds its
        place in its sender's one-second window until the window moves past it."""
        if not spare or not isinstance(self._pacer, Pacer):
            return
        pacer = self._pacer
        with contextlib.suppress(RedisError):
            async with self._redis.pipeline(transaction=False) as pipe:
                for slot in spare:
                    pacer.queue_give_back(pipe, slot)
                await pipe.execute()
        spare.clear()

    async def _drain_head(
        self,
        conversation: str,
        queue_key: str,
        head: str,
        wakeups: dict[str, list[tuple[str, str]]],
        *,
        guessed: bool = False,
        done: set[str] | None = None,
        hint: _Hint | None = None,
        spare: list[Slot] | None = None,
    ) -> tuple[Outcome | None, str | None]:
        """One head (`guessed`: maybe not the head; the real one is read alongside): (an
        outcome that ends the drain, or None and the next head). `hint`: what the head asks
        of the pacer (from its wake-up), tried with the claim; a slot taken and not used
        joins `spare` (given back in the next round trip)."""
        spare = [] if spare is None else spare
        answers, slot, reach = await self._load_and_claim(
            conversation, queue_key, head, guessed=guessed, hint=hint, spare=spare
        )
        try:
            *actual, (code, unsure, fields, *before), circuit = answers
            code = int(code)
            if guessed and actual[0] != head:
                await self._not_the_head(head, code, before, done)
                return None, actual[0]
            if code == -1:
                return Outcome.BUSY, head
            record = parse(head, dict(zip(fields[::2], fields[1::2], strict=True)))
            if code == 0 or (code != 2 and record is None):
                return await self._without_record(conversation, queue_key, head, wakeups)
            if code == 2 or record is None:
                return None, await self._pop_next(queue_key, head, wakeups)
            if code == 3:
                await self._keep_waiting(record)
                return Outcome.WAITING, head
            finish = _Finish(queue_key, head, wakeups.get(head, []))
            outcome = await self._send_claimed(
                record,
                unsure_since=float(unsure) if unsure else None,
                circuit=circuit,
                finish=finish,
                slot=slot if _asks(slot, record) else None,
                reach=reach,
            )
        finally:
            if slot is not None and slot.wait == 0 and not slot.used:
                spare.append(slot)
        if finish.popped:
            wakeups.pop(head, None)
            return None, finish.next_head
        if outcome is Outcome.HELD:
            # An invoice reply must not wait days behind a paused sale's offer: the offer
            # goes to the tail (parked, so not due when it is the head again) and the
            # loop carries on; alone in the queue, it simply waits.
            if await self._redis.eval(_ROTATE_IF_HEAD, 1, queue_key, head):
                return None, await self._redis.lindex(queue_key, 0)
            return Outcome.WAITING, head
        if outcome not in (Outcome.SENT, Outcome.FAILED, Outcome.DONE):
            return outcome, head
        return None, await self._pop_next(queue_key, head, wakeups)

    async def _load_and_claim(
        self,
        conversation: str,
        queue_key: str,
        head: str,
        *,
        guessed: bool,
        hint: _Hint | None,
        spare: list[Slot],
    ) -> tuple[list[Any], Slot | None, SmsReach | None]:
        """Load-and-claim, whether the channel's circuit is open, the rate limit the
        wake-up says the message asks for (after the slots of heads that did not go are given
        back) and, on an SMS conversation, whether its number was marked unable to take SMS:
        one round trip. ([the real head if `guessed`,] the claim, the circuit; the slot
        tried, its answer read; the number's mark)."""
        now = self._now()
        channel = channel_of(conversation) or ChannelName.SMS
        pacer = self._pacer if isinstance(self._pacer, Pacer) else None
        async with self._redis.pipeline(transaction=False) as pipe:
            given_back = 0
            if pacer is not None:
                for unused in spare:
                    pacer.queue_give_back(pipe, unused)
                given_back = len(spare)
                spare.clear()
            if guessed:
                pipe.lindex(queue_key, 0)
            pipe.eval(
                _CLAIM_LOAD,
                1,
                keys.outbox_message(head),
                self._owner,
                repr(now),
                repr(now + self.policy.claim_ttl_seconds),
            )
            pipe.hget(keys.outbox_circuit(channel), "open_until")
            slot = pacer.queue_hinted(pipe, channel, hint[0]) if pacer and hint else None
            if slot is not None and hint and (invoice := _invoice_named(hint[1])):
                slot.invoice = invoice
                pipe.get(keys.invoice(*invoice))
            phone = conversation.partition(":")[2] if channel is ChannelName.SMS else ""
            if phone:
                pipe.exists(keys.sms_not_capable(phone))
            answers = list((await pipe.execute())[given_back:])
        reach = SmsReach(phone, bool(answers.pop())) if phone else None
        if slot is not None:
            if slot.invoice is not None:
                raw = answers.pop()
                slot.invoice_raw = str(raw) if raw else None
            slot.wait = Pacer.judged(answers.pop())[0]
        return answers, slot, reach

    async def _not_the_head(
        self, head: str, code: int, before: list[str], done: set[str] | None
    ) -> None:
        """A guessed head that was not: let go if claimed, noted in `done` if finished."""
        if code == 2 and done is not None:
            done.add(head)  # sent or failed: `_send_unordered` would only read that again
        if code == 1:
            await self._redis.eval(_UNCLAIM, 1, keys.outbox_message(head), self._owner, *before)

    async def _without_record(
        self,
        conversation: str,
        queue_key: str,
        head: str,
        wakeups: dict[str, list[tuple[str, str]]],
    ) -> tuple[Outcome | None, str | None]:
        """A head without record: its commit's effects may still be being applied. Not
        acknowledged (BUSY): if the wake-up we hold is the one meant for this record (a caller
        that wrote the record after the wake-up), acknowledging it would strand the message;
        left pending, the reclaim brings it back once the record is there. Missing once none
        are left (looked at again after that check, as they may just have been applied), it
        is gone for good and the head is skipped."""
        if await self._redis.exists(keys.conv_effects(conversation)):
            return Outcome.BUSY, head
        if await self._redis.exists(keys.outbox_message(head)):
            return None, head  # written meanwhile: look again
        return None, await self._pop_next(queue_key, head, wakeups)

    async def _pop_next(
        self, queue_key: str, head: str, wakeups: dict[str, list[tuple[str, str]]]
    ) -> str | None:
        """The head leaves the queue, its wake-ups are acknowledged; returns the next head."""
        acks = wakeups.pop(head, [])
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.eval(_POP_NEXT, 1, queue_key, head)
            _queue_acks(pipe, acks)
            next_head, *_ = await pipe.execute()
        return str(next_head) if next_head is not None else None

    def _due(self, record: OutboxRecord) -> bool:
        return record.retry_at is None or record.retry_at <= self._now()

    async def _keep_waiting(self, record: OutboxRecord) -> None:
        # The retry queue holds it already; `NX` repairs the rare case where a mover with a
        # clock ahead of ours released it early, so the conversation is never stranded.
        await self._redis.zadd(keys.OUTBOX_RETRY, {record.key: record.retry_at or 0}, nx=True)

    async def _send(self, record: OutboxRecord) -> Outcome:
        """Claim, send and record one message (one not on a send queue)."""
        claimed_at = self._now()
        claimed, unsure_since = await self._claim(record.key, claimed_at)
        if claimed != 1:
            return Outcome.BUSY if claimed == -1 else Outcome.DONE
        record = replace(record, since=record.since or claimed_at)  # as the claim wrote it
        return await self._send_claimed(record, unsure_since=unsure_since, circuit="?")

    async def _send_claimed(
        self,
        record: OutboxRecord,
        *,
        unsure_since: float | None,
        circuit: str | None,
        finish: _Finish | None = None,
        slot: Slot | None = None,
        reach: SmsReach | None = None,
    ) -> Outcome:
        """Send and record a message claimed by this sender; the claim is renewed while the
        call lasts. `circuit`: the channel's `open_until` as read with the claim (None: the
        circuit is closed, not asked again). `finish`: the queue step that rides on the
        round trip recording the send. `slot`: the rate limit, tried with the claim.
        `reach`: the SMS number's mark, read with the claim (else read before sending)."""
        if unsure_since is not None:
            settled = await self._settle_unsure(record, unsure_since)
            if settled is not None:
                return settled
        if record.marketing and record.merchant_id:
            gated = await self._marketing_gate(record, record.merchant_id)
            if gated is not None:
                return gated
        if circuit is not None:
            defer_until = await self._circuit_allows(record.message.channel)
            if defer_until is not None:
                error = record.last_error or "CircuitOpen"
                return await self._retry_or_give_up(record, defer_until, error)
        # Renewed from here on: waiting for the rate limit can outlast the claim's 15 s.
        stop_renewing = asyncio.Event()
        renewal = asyncio.create_task(self._renew_claim(record.key, stop_renewing))
        attempts = record.attempts + 1  # written with the send's outcome
        try:
            paced, invoice = await self._paced(record, slot)
            if paced is not None:
                return paced
            adapter = self._adapters.get(record.message.channel)
            record = replace(record, attempts=attempts)
            if adapter is None:  # e.g. WhatsApp turned off since the message was written
                return await self._give_up(record, "ChannelDisabled", attempts)
            written = record.message
            record = replace(record, message=self._offers_given(record, invoice))
            result = await self._call(adapter, record.message, written, reach)
            if result is None:
                return await self._settled_before_sending(record)
        except ChannelError as error:
            return await self._failed(record, attempts, error)
        finally:
            # The event as well as the cancel: a renewal that did not end on its cancel (one
            # did in the demo, taken inside its Redis call, and went on renewing: the sender
            # waited here for good and every channel stalled) still ends at its next turn.
            stop_renewing.set()
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
        await self._mark_sent(record, result.provider_message_id, result.details, finish)
        return Outcome.SENT

    async def _call(
        self,
        adapter: ChannelAdapter,
        message: OutboundMessage,
        written: OutboundMessage,
        reach: SmsReach | None,
    ) -> SendResult | None:
        """The provider's call for *message* (*written*: before its offers were settled);
        None when a WhatsApp template that only offered to pay is no longer needed."""
        if await self._cannot_take_sms(message, reach):
            # Twilio would bill a send that cannot arrive (PROVIDERS §2.4): the message goes
            # to the customer's next channel, or is given up.
            raise NotSmsCapable("the number cannot receive SMS (marked after Twilio 30006)")
        try:
            return await adapter.send(message)
        except OutsideWindow:
            if message.template is None and written.template is not None:
                return None
            raise

    async def _cannot_take_sms(self, message: OutboundMessage, reach: SmsReach | None) -> bool:
        """Whether an SMS goes to a number marked unable to take SMS (bot.store.sms_reach),
        from the mark read with the claim when it was this number's."""
        if message.channel is not ChannelName.SMS:
            return False
        if reach is not None and reach.phone == message.address:
            return reach.marked
        return await sms_reach.cannot_receive(self._redis, message.address)

    def _needs_invoice(self, record: OutboxRecord) -> bool:
        return bool(record.merchant_id and record.invoice_id and offers_payment(record.message))

    async def _offers_as_of_now(self, record: OutboxRecord) -> OutboundMessage:
        """`_offers_given`, reading the invoice."""
        if not self._needs_invoice(record):
            return record.message
        invoice = await get_invoice(self._redis, record.merchant_id or "", record.invoice_id or "")
        return self._offers_given(record, invoice)

    def _offers_given(self, record: OutboxRecord, invoice: Invoice | None) -> OutboundMessage:
        """The message as it may go now: one written while its invoice was due, but sent
        after it was settled (paid, paid offline, refunded, voided: a queue, an outage, quiet
        hours), goes without its buttons to pay, pay later or split (issue 13). Decided here,
        right before the provider call, not when the message was written (`invoice` is read
        in the round trip of the rate limit's go)."""
        message = record.message
        if not self._needs_invoice(record) or invoice is None or not settled(invoice):
            return message
        log.info(
            "payment offers taken off a message of a settled invoice",
            extra=log_fields(key=record.key, invoice=invoice.id),
        )
        return without_payment_offers(message)

    async def _unbutton_settled_meanwhile(
        self, record: OutboxRecord, invoice: Invoice, provider_message_id: str
    ) -> None:
        """The invoice was settled during the provider call: its dispatch found no note of
        this message to retire (it was written just now), so the edit is queued here. Both
        may queue it: same idempotency key, one record, sent once."""
        edit = buttons_edit(record.key, record.message, provider_message_id)
        await queue_now(self._redis, edit, record.conversation, merchant_id=None, invoice_id=None)
        await self._redis.srem(
            keys.invoice_telegram_buttons(invoice.merchant_id, invoice.id), record.key
        )

    async def _settled_before_sending(self, record: OutboxRecord) -> Outcome:
        """WhatsApp's window is closed and the message's only template offers to pay an
        invoice settled meanwhile: it is not sent (the receipt or the void notice, queued
        after it, tells the customer), and not carried by another channel either."""
        await self._if_ours(
            record.key,
            _RELEASE,
            state=DeliveryState.FAILED.value,
            last_error="InvoiceSettled",
            failed_at=self._clock.now().isoformat(),
            attempts=str(record.attempts),
        )
        log.info(
            "message of a settled invoice not sent: its template offers to pay",
            extra=log_fields(key=record.key),
        )
        return Outcome.FAILED

    async def _marketing_gate(self, record: OutboxRecord, merchant_id: str) -> Outcome | None:
        """The sale's state, STOP and quiet hours again at send time: the rate limit may have
        held it for hours, the merchant may have cancelled or paused the sale meanwhile."""
        now = self._clock.now()
        gate = await marketing_gate.judge(
            self._redis, record.key, merchant_id, record.conversation, now
        )
        if gate.send:
            return None
        if gate.wait_until is not None:
            # Parked until the morning or the next look at a paused sale, outside the retry
            # horizon: this is not a failure. A pause (the merchant's choice, maybe for days)
            # also starts the horizon again from the next claim, so that a message resumed
            # after a long pause is not given up at its first rate-limit wait.
            due = gate.wait_until.timestamp()
            await self._redis.zadd(keys.OUTBOX_RETRY, {record.key: due})
            await self._if_ours(
                record.key,
                _RELEASE_AND_RESTART if gate.reason == "paused" else _RELEASE,
                state=DeliveryState.PENDING.value,
                retry_at=repr(due),
                last_error="CampaignPaused" if gate.reason == "paused" else "QuietHours",
            )
            return Outcome.HELD
        error, why = _DROPPED[gate.reason]
        released = await self._if_ours(
            record.key,
            _RELEASE,
            state=DeliveryState.FAILED.value,
            last_error=error,
            failed_at=now.isoformat(),
        )
        if released:
            await marketing_gate.count_dropped(self._redis, record.key, merchant_id, gate.reason)
            log.info(
                "marketing message dropped at send time: " + why,
                extra=log_fields(key=record.key),
            )
        return Outcome.FAILED

    async def _paced(
        self, record: OutboxRecord, slot: Slot | None = None
    ) -> tuple[Outcome | None, Invoice | None]:
        """Wait for the sender's rate limit; a long wait (a paused sender) parks the message.

        The invoice a message offering to pay must be checked against is read in the same
        round trip as each try (returned with the go). `slot`: the first try, made with the
        claim."""
        needs_invoice = self._needs_invoice(record)
        slept = False
        wait = 0.0
        for turn in range(PACE_TRIES):
            if turn == 0 and slot is not None and slot.wait is not None:
                slot.used = slot.wait <= 0
                if slot.used:
                    raw = await self._invoice_with(record, slot) if needs_invoice else None
                    return None, invoice_from_json(raw) if raw else None
                wait = slot.wait
                if wait > MAX_PACE_WAIT_SECONDS:
                    break
                await self._clock.sleep(wait)
                slept = True
                continue
            # After a wait, the try also renews the claim on the injected clock, and says
            # whether it is still ours: each wait (at most 2 s) stays far below the claim's
            # lifetime, so no other sender takes the message over while this one waits its
            # turn (the renewal task covers real time); a renewal missed (a blip, a stalled
            # loop) lets another sender take it over, and then only that one may send it.
            wait, raw, ours = await self._acquire(record, needs_invoice, renew=slept)
            if not ours:
                log.warning("outbox claim lost while pacing", extra=log_fields(key=record.key))
                return Outcome.BUSY, None
            if wait <= 0:
                return None, invoice_from_json(raw) if raw else None
            if wait > MAX_PACE_WAIT_SECONDS:
                break
            await self._clock.sleep(wait)
            slept = True
        due = self._now() + max(wait, 1.0)
        return await self._retry_or_give_up(record, due, "Paced"), None

    async def _acquire(
        self, record: OutboxRecord, needs_invoice: bool, *, renew: bool
    ) -> tuple[float, str | None, bool]:
        """One try at the rate limit in one round trip, with the claim's renewal when `renew`
        and the invoice when the message offers to pay it: (seconds to wait, 0 to go; the
        invoice as stored; whether the claim is still ours)."""
        pacer = self._pacer
        if pacer is not None and not isinstance(pacer, Pacer):  # a limiter of its own (tests)
            if renew and not await self._renew(record.key):
                return 0.0, None, False
            wait = await pacer.acquire(record.message, marketing=record.marketing)
            raw = (
                await self._redis.get(keys.invoice(*_invoice_of(record)))
                if needs_invoice
                else None
            )
            return wait, raw, True
        async with self._redis.pipeline(transaction=False) as pipe:
            if renew:
                deadline = repr(self._now() + self.policy.claim_ttl_seconds)
                pipe.eval(
                    _IF_OURS,
                    1,
                    keys.outbox_message(record.key),
                    self._owner,
                    "claim_until",
                    deadline,
                )
            paced = pacer is not None and pacer.queue_acquire(
                pipe, record.message, marketing=record.marketing
            )
            if needs_invoice:
                pipe.get(keys.invoice(*_invoice_of(record)))
            answers = await pipe.execute() if renew or paced or needs_invoice else []
        ours = bool(answers[0]) if renew else True
        wait = Pacer.judged(answers[1 if renew else 0])[0] if paced else 0.0
        return wait, answers[-1] if needs_invoice else None, ours

    async def _invoice_with(self, record: OutboxRecord, slot: Slot) -> str | None:
        """The record's invoice as stored: the one read with the claim, if that was it."""
        if slot.invoice == _invoice_of(record):
            return slot.invoice_raw
        raw = await self._redis.get(keys.invoice(*_invoice_of(record)))
        return str(raw) if raw else None

    async def _renew(self, key: str) -> bool:
        deadline = self._now() + self.policy.claim_ttl_seconds
        if await self._if_ours(key, _IF_OURS, claim_until=repr(deadline)):
            return True
        log.warning("outbox claim lost while pacing", extra=log_fields(key=key))
        return False

    async def _claim(self, key: str, now: float) -> tuple[int, float | None]:
        claimed, unsure_since = await self._redis.eval(
            _CLAIM,
            1,
            keys.outbox_message(key),
            self._owner,
            repr(now),
            repr(now + self.policy.claim_ttl_seconds),
        )
        return int(claimed), float(unsure_since) if unsure_since else None

    async def _settle_unsure(self, record: OutboxRecord, since: float) -> Outcome | None:
        """A sender died during this message's provider call: did the message go out?

        Asked of providers that can tell (Twilio's Messages list); the provider id found is
        adopted instead of sending again. None: not found, or the provider cannot tell (Telegram:
        at-least-once, docs/decisions.md), so the caller sends.
        """
        adapter = self._adapters[record.message.channel]
        if not isinstance(adapter, SentLookup):
            return None
        # The dead sender may have sent it without its offers to pay (its invoice was settled
        # meanwhile: `_offers_as_of_now`); that text is looked for too, or it would go twice.
        variants = [record.message]
        if (now_sent := await self._offers_as_of_now(record)) != record.message:
            variants.append(now_sent)
        others = functools.partial(self._ids_of_others, record.key)
        try:
            found = None
            for message in variants:
                found = await adapter.find_sent(
                    message, datetime.fromtimestamp(since, UTC), others
                )
                if found is not None:
                    break
        except ChannelError as error:
            # Cannot tell now: try again later, still unsure (the mark stays on the record).
            log.warning(
                "could not ask the provider whether a message went out",
                extra=log_fields(key=record.key, error=type(error).__name__),
            )
            due = self._now() + backoff(record.attempts + 1, error, self.policy, self._rng)
            return await self._retry_or_give_up(record, due, type(error).__name__)
        if found is None:
            await self._if_ours(record.key, _FORGET_UNSURE)
            return None
        log.warning(
            "message found at the provider after its sender died; not sent again",
            extra=log_fields(key=record.key, channel=record.message.channel),
        )
        # The dead sender's call counts: attempts are written with a call's outcome.
        await self._mark_sent(replace(record, attempts=record.attempts + 1), found)
        return Outcome.SENT

    async def _ids_of_others(self, key: str, provider_ids: Sequence[str]) -> set[str]:
        """The provider ids already recorded for another message than `key`: the same text
        sent to the same number just before (a second "bonjour" gets the same answer) is not
        the message in doubt, and adopting its id would mark this one sent unsent."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for provider_id in provider_ids:
                pipe.get(keys.outbox_by_provider_id(provider_id))
            owners = await pipe.execute()
        return {
            pid
            for pid, owner in zip(provider_ids, owners, strict=True)
            if owner not in (None, key)
        }

    async def _renew_claim(self, key: str, stop: asyncio.Event) -> None:
        """Push the claim's deadline forward while the provider call lasts (until `stop`)."""
        while not stop.is_set():
            await asyncio.sleep(self.policy.renew_every_seconds)
            if stop.is_set():
                return
            deadline = self._now() + self.policy.claim_ttl_seconds
            try:
                ours = await self._if_ours(key, _IF_OURS, claim_until=repr(deadline))
            except RedisError:
                continue  # a blip: the claim outlives two more tries
            if not ours:
                log.warning("outbox claim lost during a send", extra=log_fields(key=key))
                return

    async def _if_ours(self, key: str, script: str, **fields: str) -> bool:
        args = [item for pair in fields.items() for item in pair]
        done = await self._redis.eval(script, 1, keys.outbox_message(key), self._owner, *args)
        return bool(done)

    async def _mark_sent(
        self,
        record: OutboxRecord,
        provider_message_id: str,
        details: Mapping[str, str] | None = None,
        finish: _Finish | None = None,
    ) -> None:
        """Record the send, and what follows it, in one round trip: the provider id's map
        (first: a failure reported later by a Twilio status callback must find its message;
        Telegram ids are per chat and get no callback), the slimmed record, the circuit, the
        note of a Telegram message offering to pay (with its invoice as it is now), the
        console's refresh, and `finish` (the head leaves its queue, its wake-ups are
        acknowledged, the next head is read)."""
        message = record.message
        channel = message.channel
        slim = "{" not in record.key and "}" not in record.key  # see keys.outbox_sent_body
        noted = _offers_to_note(record)
        async with self._redis.pipeline(transaction=False) as pipe:
            if channel is not ChannelName.TELEGRAM:
                pipe.set(
                    keys.outbox_by_provider_id(provider_message_id),
                    record.key,
                    ex=DELIVERY_TTL_SECONDS,
                )
            pipe.eval(
                _MARK_SENT,
                2,
                keys.outbox_message(record.key),
                keys.outbox_sent_body(record.key),
                provider_message_id,
                self._clock.now().isoformat(timespec="seconds"),  # the retention's clock
                str(record.attempts),
                str(SENT_BODY_SECONDS),
                str(int(self.policy.sent_record_seconds)),
                "1" if slim else "0",
                *[item for pair in (details or {}).items() for item in pair],
            )
            pipe.eval(_CIRCUIT_SUCCESS, 1, keys.outbox_circuit(channel))
            if noted is not None:
                pipe.sadd(keys.invoice_telegram_buttons(*noted), record.key)
                pipe.get(keys.invoice(*noted))
            if record.merchant_id:  # the console shows it "sent" without a reload
                ref = conversation_ref(record.merchant_id, record.conversation)
                pipe.publish(
                    keys.console_channel(record.merchant_id),
                    json.dumps({"ref": ref, "kind": DELIVERY}),
                )
            if finish is not None:
                pipe.eval(_POP_NEXT, 1, finish.queue_key, finish.head)
                _queue_acks(pipe, finish.acks)
            answers = await pipe.execute()
        if finish is not None:
            finish.popped = True
            popped_at = len(answers) - 1 - len({stream for stream, _id in finish.acks})
            next_head = answers[popped_at]
            finish.next_head = str(next_head) if next_head is not None else None
        circuit_at = 1 if channel is ChannelName.TELEGRAM else 2
        if answers[circuit_at]:
            log.warning("provider circuit closed", extra=log_fields(channel=channel))
        log.info("message sent", extra=log_fields(key=record.key, channel=channel))
        raw = answers[circuit_at + 2] if noted is not None else None
        offered = invoice_from_json(raw) if raw else None
        if offered is not None and settled(offered):
            await self._unbutton_settled_meanwhile(record, offered, provider_message_id)

    async def _failed(self, record: OutboxRecord, attempts: int, error: ChannelError) -> Outcome:
        name = type(error).__name__
        if isinstance(error, OptedOut):
            await record_carrier_opt_out(self._redis, record, self._clock.now())
        if isinstance(error, MarketingOptedOut):
            await record_whatsapp_marketing_opt_out(self._redis, record, self._clock.now())
        if not error.retryable:
            return await self._give_up(record, name, attempts, fall_back=error.falls_back)
        if isinstance(error, ProviderUnavailable):
            await self._circuit_failure(record.message.channel)
        if isinstance(error, RateLimited) and self._pacer is not None:
            # The whole sender waits, on every worker, not only this message.
            await self._pacer.pause(record.message, error.retry_after or 1.0)
        due = self._now() + backoff(attempts, error, self.policy, self._rng)
        log.warning(
            "send failed, will retry",
            extra=log_fields(key=record.key, error=name, attempts=attempts),
        )
        return await self._retry_or_give_up(record, due, name)

    async def _retry_or_give_up(self, record: OutboxRecord, due: float, error: str) -> Outcome:
        """Park the message until `due`, or give up if the retry horizon has passed."""
        now = self._now()
        horizon = (record.since or now) + self.policy.retry_horizon_seconds
        if now >= horizon:
            return await self._give_up(record, error, record.attempts)
        due = min(due, horizon)  # one last try at the horizon itself
        # The retry queue first: whatever happens next, the message is woken again.
        await self._redis.zadd(keys.OUTBOX_RETRY, {record.key: due})
        await self._if_ours(
            record.key,
            _RELEASE,
            state=DeliveryState.PENDING.value,
            retry_at=repr(due),
            last_error=error,
            attempts=str(record.attempts),
        )
        return Outcome.WAITING

    async def _give_up(
        self, record: OutboxRecord, error: str, attempts: int, *, fall_back: bool = True
    ) -> Outcome:
        """Failed for good: fall back to the customer's other channel, tell the merchant."""
        replaced_by = (
            await fall_back_once(self._redis, record, self._clock.now()) if fall_back else None
        )
        now = self._clock.now()
        if record.merchant_id:
            await self._redis.zadd(
                keys.merchant_failed_messages(record.merchant_id), {record.key: now.timestamp()}
            )
            if record.invoice_id:
                await delivery_timeline.note(
                    self._redis,
                    record.merchant_id,
                    record.invoice_id,
                    at=now,
                    message_id=record.key,
                    channel=record.message.channel.value,
                    error=error,
                    replaced_by=replaced_by.value if replaced_by else None,
                )
        await self._if_ours(
            record.key,
            _RELEASE,
            state=DeliveryState.FAILED.value,
            last_error=error,
            failed_at=now.isoformat(),
            attempts=str(max(attempts, record.attempts)),
        )
        if record.merchant_id:
            await handover.publish_delivery(self._redis, record.merchant_id, record.conversation)
        log.error(
            "send failed for good",
            extra=log_fields(key=record.key, error=error, attempts=attempts, alert=True),
        )
        return Outcome.FAILED

    async def _circuit_allows(self, channel: ChannelName) -> float | None:
        """None if we may call the provider now; otherwise when to try again."""
        now = self._now()
        answer = await self._redis.eval(
            _CIRCUIT_ALLOW,
            1,
            keys.outbox_circuit(channel),
            repr(now),
            repr(self.policy.claim_ttl_seconds),
            repr(self.policy.probe_follower_wait_seconds),
        )
        if answer in (0, "0"):
            return None
        # Spread the deferred heads over a few seconds: they must not all probe at once.
        return float(answer) + self._rng.uniform(0, self.policy.probe_follower_wait_seconds)

    async def _circuit_failure(self, channel: ChannelName) -> None:
        opened = await self._redis.eval(
            _CIRCUIT_FAILURE,
            1,
            keys.outbox_circuit(channel),
            repr(self._now()),
            str(self.policy.circuit_threshold),
            repr(self.policy.circuit_cooldown_seconds),
            repr(self.policy.circuit_max_cooldown_seconds),
        )
        if opened:
            log.error(
                "provider circuit open: sends paused",
                extra=log_fields(channel=channel, alert=True),
            )

    def _now(self) -> float:
        return self._clock.now().timestamp()


__all__ = [
    "OutboxRecord",
    "Outcome",
    "SendPolicy",
    "Sender",
    "SentRecord",
    "backoff",
    "delivery_state",
    "failed_messages",
    "fall_back_once",
    "load",
    "load_sent",
    "queue",
    "queue_now",
    "record_delivery",
]
