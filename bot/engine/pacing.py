"""Per-sender rate limits in front of every send: one Lua call per send, shared by all workers.

Each sender (a Telegram bot, an SMS number, a WhatsApp sender) has a sliding one-second log
of what it sent (a sorted set scored by milliseconds), so no window of one second ever holds
more than its limit; a Telegram chat has its own log beside its bot's (1 msg/s). An SMS costs
its segments, not one. A 429 / RetryAfter pauses the sender as a whole (`pause`), so every
worker waits, not only the one that met it. All keys of one sender share one hash tag, so the
script stays on one slot.

Transactional messages go first: a marketing send leaves a little room in each window (4 % of
the limit, and as many as the transactional sends of the last second), and steps aside while
a transactional send that was refused waits for the next free slot (on a 1-per-second SMS
number that is the only room there is), so a campaign never holds back an invoice or a receipt
by more than a moment, and uses the rest.

`acquire` answers 0 (go: the send is recorded) or how long to wait (nothing recorded).
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import redis.asyncio as aioredis

from bot.clock import Clock, SystemClock
from bot.services import Services
from bot.settings import Settings
from bot.store import keys
from channels.base import ChannelName, OutboundMessage
from channels.sms_text import render_sms, segment_count

WINDOW_MS = 1000
MARKETING_HEADROOM = 0.04

# KEYS: sender log, chat log (or the sender log again), pause, transactional log,
# "a transactional send is waiting" flag.
# ARGV: now_ms ('' for Redis' own clock), sender limit, chat limit (0: none), cost,
# member, marketing (1/0), headroom.
# Returns {0 (recorded) or the milliseconds to wait, the time judged (ms)}.
_ACQUIRE = """
local now = tonumber(ARGV[1])
if ARGV[1] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local window = 1000
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return {paused - now, now} end
local function wait_for(key, limit, cost)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local used = redis.call('ZCARD', key)
  if used == 0 or used + cost <= limit then return 0 end
  local k = math.min(used + cost - limit, used)
  local oldest = redis.call('ZRANGE', key, k - 1, k - 1, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
local cost = tonumber(ARGV[4])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
if ARGV[6] == '1' then
  -- a refused transactional send asked for the next free slot: marketing steps aside
  if redis.call('EXISTS', KEYS[5]) == 1 then return {50, now} end
  local reserve = math.max(tonumber(ARGV[7]), redis.call('ZCARD', KEYS[4]))
  limit = math.max(limit - reserve, 0)
  if limit == 0 then return {window, now} end
end
local wait = wait_for(KEYS[1], limit, cost)
if wait == 0 and tonumber(ARGV[3]) > 0 then wait = wait_for(KEYS[2], tonumber(ARGV[3]), 1) end
if wait > 0 then
  if ARGV[6] ~= '1' then redis.call('SET', KEYS[5], '1', 'PX', wait + 500) end
  return {wait, now}
end
for i = 1, cost do redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i) end
redis.call('PEXPIRE', KEYS[1], window * 2)
if tonumber(ARGV[3]) > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[2], window * 2)
end
if ARGV[6] ~= '1' then
  redis.call('ZADD', KEYS[4], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[4], window * 2)
  redis.call('DEL', KEYS[5])
end
return {0, now}
"""

# A slot taken for a send that did not go after all (its claim did not stand, it waited on
# something else) is given back. KEYS: sender log, chat log, transactional log.
# ARGV: member, cost.
_GIVE_BACK = """
for i = 1, tonumber(ARGV[2]) do redis.call('ZREM', KEYS[1], ARGV[1] .. ':' .. i) end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# KEYS: pause. ARGV: seconds_ms, now_ms ('' for Redis' own clock). Only lengthens a pause.
_PAUSE = """
local now = tonumber(ARGV[2])
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return 1
"""


@dataclass(frozen=True, slots=True)
class Limits:
    """Messages (SMS: segments) per second, per sender; 0 turns a limit off."""

    telegram_per_bot: float = 30.0
    telegram_per_chat: float = 1.0
    sms_per_sender: float = 1.0  # a long code: 1 segment/s; a short code or service: more
    whatsapp_per_sender: float = 80.0
    enabled: bool = True
    # "<channel>:<sender>" -> its own rate (a short code, a Messaging Service's MPS...).
    per_sender: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            telegram_per_bot=settings.pacing_telegram_per_second,
            telegram_per_chat=settings.pacing_telegram_per_chat_per_second,
            sms_per_sender=settings.pacing_sms_mps,
            whatsapp_per_sender=settings.pacing_whatsapp_per_second,
            enabled=settings.pacing_enabled,
            per_sender=settings.pacing_per_sender,
        )


@dataclass(frozen=True, slots=True)
class Quota:
    """What one send asks of its sender."""

    sender: str  # "<channel>:<sender id>", the hash tag of its keys
    limit: int  # per window
    chat_limit: int  # 0: none
    chat: str
    cost: int


def hint(message: OutboundMessage, *, marketing: bool) -> str:
    """What a send of `message` asks of the pacer, whatever the limits: written on its
    wake-up, so the sender can take the slot in the round trip that loads and claims it."""
    cost = 1
    if message.channel is ChannelName.SMS:
        cost = segment_count(render_sms(message.text, message.buttons))
    return json.dumps([message.sender or "", message.address, cost, int(marketing)])


@dataclass(slots=True)
class Slot:
    """A try at the rate limit queued before the message was loaded: its answer, once read,
    and whether the send it was for used it (if not, it is given back)."""

    quota: Quota
    marketing: bool
    member: str
    hint: str
    wait: float | None = None
    used: bool = False
    # The invoice a message offering to pay is checked against (merchant, invoice), read
    # in the same round trip as the try (as stored; None: none).
    invoice: tuple[str, str] | None = None
    invoice_raw: str | None = None


class Pacer:
    def __init__(
        self,
        redis: aioredis.Redis,
        clock: Clock | None,
        limits: Limits,
        senders: dict[str, str],
    ) -> None:
        """`senders`: channel -> our sender id (the bot's id, the SMS number).

        `clock` None: Redis' own clock judges the windows. That is what production uses: one
        clock for every worker, read when the script runs, so the log is in arrival order
        (times taken by each worker before its call could arrive out of order and let a
        window hold more than its limit). Tests inject theirs.
        """
        self._redis = redis
        self._clock = clock
        self.limits = limits
        self._senders = senders
        self._acquire = redis.register_script(_ACQUIRE)

    def quota(self, message: OutboundMessage) -> Quota | None:
        cost = 1
        if message.channel is ChannelName.SMS:
            # The body as the adapter sends it (GSM-7 safe, links and choices added).
            cost = segment_count(render_sms(message.text, message.buttons))
        return self._quota(message.channel, message.sender, message.address, cost)

    def _quota(
        self, channel: ChannelName, own_sender: str | None, address: str, cost: int
    ) -> Quota | None:
        # A merchant's own sender has its own limit: its number, service or bot id.
        own = own_sender or self._senders.get(channel.value, "default")
        sender = f"{channel.value}:{own}"
        if channel is ChannelName.TELEGRAM:
            rate, chat_rate = self.limits.telegram_per_bot, self.limits.telegram_per_chat
        elif channel is ChannelName.SMS:
            rate, chat_rate = self.limits.sms_per_sender, 0.0
        else:  # WhatsApp, once its adapter exists
            rate, chat_rate = self.limits.whatsapp_per_sender, 0.0
        rate = self.limits.per_sender.get(sender, rate)  # this sender's own MPS, if set
        if not self.limits.enabled or rate <= 0:
            return None
        return Quota(sender, max(int(rate), 1), int(chat_rate), address, cost)

    def queue_hinted(
        self, pipe: aioredis.client.Pipeline, channel: ChannelName, hinted: str
    ) -> Slot | None:
        """A try at the rate limit from a wake-up's `hint`, queued on the caller's pipeline
        (its answer goes to `judged`); None when the hint is unreadable or nothing is paced."""
        try:
            own, address, cost, marketing = json.loads(hinted)
            quota = self._quota(channel, str(own) or None, str(address), int(cost))
        except (ValueError, TypeError):
            return None
        if quota is None:
            return None
        member = secrets.token_hex(6)
        script_keys, args = self._call(quota, marketing=bool(marketing), member=member)
        pipe.eval(_ACQUIRE, len(script_keys), *script_keys, *args)
        return Slot(quota, bool(marketing), member, hinted)

    def queue_give_back(self, pipe: aioredis.client.Pipeline, slot: Slot) -> None:
        """The slot a send did not use, freed (on the caller's pipeline)."""
        base = keys.pacing(*slot.quota.sender.split(":", 1))
        chat = f"{base}:chat:{slot.quota.chat}" if slot.quota.chat_limit else f"{base}:log"
        pipe.eval(
            _GIVE_BACK,
            3,
            f"{base}:log",
            chat,
            f"{base}:transactional",
            slot.member,
            slot.quota.cost,
        )

    async def acquire(self, message: OutboundMessage, *, marketing: bool) -> float:
        """0.0 when the send may go now (it is counted), else the seconds to wait first."""
        wait, _at = await self.acquire_at(message, marketing=marketing)
        return wait

    async def acquire_at(
        self, message: OutboundMessage, *, marketing: bool
    ) -> tuple[float, float]:
        """`acquire`, with the time (unix seconds) at which the limiter judged it."""
        quota = self.quota(message)
        if quota is None:
            return 0.0, 0.0
        script_keys, args = self._call(quota, marketing=marketing)
        answer = await self._acquire(keys=script_keys, args=args)
        return self.judged(answer)

    def queue_acquire(
        self, pipe: aioredis.client.Pipeline, message: OutboundMessage, *, marketing: bool
    ) -> bool:
        """`acquire` queued on the caller's pipeline (its answer goes to `judged`), so the
        send's other reads share its round trip; False when the message is not paced."""
        quota = self.quota(message)
        if quota is None:
            return False
        script_keys, args = self._call(quota, marketing=marketing)
        pipe.eval(_ACQUIRE, len(script_keys), *script_keys, *args)
        return True

    @staticmethod
    def judged(answer: object) -> tuple[float, float]:
        """The seconds to wait (0: go) and the time judged, from the script's answer."""
        wait_ms, at_ms = cast("list[int]", answer)
        return int(wait_ms) / 1000, int(at_ms) / 1000

    def _call(
        self, quota: Quota, *, marketing: bool, member: str | None = None
    ) -> tuple[list[str], list[str | int]]:
        base = keys.pacing(*quota.sender.split(":", 1))
        headroom = math.floor(quota.limit * MARKETING_HEADROOM) if marketing else 0
        script_keys = [
            f"{base}:log",
            f"{base}:chat:{quota.chat}" if quota.chat_limit else f"{base}:log",
            f"{base}:paused",
            f"{base}:transactional",
            f"{base}:transactional-waiting",
        ]
        args: list[str | int] = [
            self._now_ms(),
            quota.limit,
            quota.chat_limit,
            quota.cost,
            member or secrets.token_hex(6),
            1 if marketing else 0,
            headroom,
        ]
        return script_keys, args

    async def pause(self, message: OutboundMessage, seconds: float) -> None:
        """The provider said "too many": every worker holds this sender for `seconds`."""
        quota = self.quota(message)
        if quota is None:
            return
        base = keys.pacing(*quota.sender.split(":", 1))
        await self._redis.eval(_PAUSE, 1, f"{base}:paused", int(seconds * 1000), self._now_ms())

    def _now_ms(self) -> int | str:
        return "" if self._clock is None else int(self._clock.now().timestamp() * 1000)


def pacer_for(services: Services) -> Pacer:
    """The pacer of this deployment's senders (the platform's bot and SMS number)."""
    settings = services.settings
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    senders = {
        "telegram": token.split(":", 1)[0] or "default",  # the bot's id, never its secret
        "sms": settings.twilio_sms_from or "default",
    }
    # The system clock: Redis' own (see Pacer); an injected clock (tests, demo) is used as is.
    clock = None if isinstance(services.clock, SystemClock) else services.clock
    return Pacer(services.redis, clock, Limits.from_settings(settings), senders)
