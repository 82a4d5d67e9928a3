"""The per-sender rate limiter on a real Redis and an injected clock."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.clock import FakeClock
from bot.engine.pacing import Limits, Pacer
from channels.base import ChannelName, OutboundMessage


def tg(chat: int, n: int = 0) -> OutboundMessage:
    return OutboundMessage(ChannelName.TELEGRAM, str(chat), "Bonjour", f"k{chat}:{n}")


def sms(text: str) -> OutboundMessage:
    return OutboundMessage(ChannelName.SMS, "+33612345678", text, "s")


def pacer(redis: aioredis.Redis, clock: FakeClock, **limits: Any) -> Pacer:
    return Pacer(redis, clock, Limits(**limits), {"telegram": "42", "sms": "+33700000000"})


def windows_ok(times: list[float], limit: int) -> bool:
    """No one-second window (sliding) holds more than `limit` sends."""
    times = sorted(times)
    start = 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        if end - start + 1 > limit:
            return False
    return True


async def test_a_bot_sends_30_a_second_at_most_and_keeps_up_over_a_minute(
    redis: aioredis.Redis,
) -> None:
    clock = FakeClock()
    limiter = pacer(redis, clock, telegram_per_chat=0)
    began, sent = clock.now().timestamp(), []
    n = 0
    while clock.now().timestamp() - began < 60:
        wait = await limiter.acquire(tg(1000 + n), marketing=True)
        if wait == 0:
            sent.append(clock.now().timestamp())
            n += 1
            clock.advance(0.005)  # a send takes a moment
        else:
            await clock.sleep(wait)
    assert windows_ok(sent, 30)
    assert len(sent) >= 0.95 * 30 * 60, len(sent)


async def test_one_message_a_second_per_chat(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    limiter = pacer(redis, clock)
    assert await limiter.acquire(tg(7, 1), marketing=False) == 0
    wait = await limiter.acquire(tg(7, 2), marketing=False)
    assert 0.9 < wait <= 1.0
    assert await limiter.acquire(tg(8, 1), marketing=False) == 0  # another chat goes
    clock.advance(wait)
    assert await limiter.acquire(tg(7, 2), marketing=False) == 0


async def test_sms_counts_segments(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    limiter = pacer(redis, clock, sms_per_sender=3)
    long_text = "x" * 200  # two segments
    assert await limiter.acquire(sms(long_text), marketing=False) == 0
    assert await limiter.acquire(sms("court"), marketing=False) == 0
    assert await limiter.acquire(sms("court"), marketing=False) > 0  # 3 segments used


async def test_a_429_pauses_the_whole_sender(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    limiter = pacer(redis, clock)
    await limiter.pause(tg(1), 5.0)
    assert 4.9 < await limiter.acquire(tg(2), marketing=False) <= 5.0
    clock.advance(5.0)
    assert await limiter.acquire(tg(2), marketing=False) == 0


async def test_marketing_leaves_room_for_transactional_messages(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    limiter = pacer(redis, clock, telegram_per_chat=0)
    accepted = 0
    for n in range(40):
        accepted += await limiter.acquire(tg(n), marketing=True) == 0
    assert accepted == 29  # 30 less the 4 % kept for transactional messages
    assert await limiter.acquire(tg(99), marketing=False) == 0  # an invoice reply still goes
    assert await limiter.acquire(tg(100), marketing=False) > 0  # the limit itself holds


async def test_pacing_off(redis: aioredis.Redis) -> None:
    limiter = pacer(redis, FakeClock(), enabled=False)
    for n in range(100):
        assert await limiter.acquire(tg(1, n), marketing=False) == 0


async def test_a_waiting_transactional_sms_goes_before_the_campaign(redis: aioredis.Redis) -> None:
    clock = FakeClock()
    limiter = pacer(redis, clock, sms_per_sender=1)
    assert await limiter.acquire(sms("offre"), marketing=True) == 0
    wait = await limiter.acquire(sms("votre facture"), marketing=False)
    assert wait > 0  # the second is taken: the invoice waits, and says so
    clock.advance(wait)
    assert await limiter.acquire(sms("offre 2"), marketing=True) > 0  # the campaign steps aside
    assert await limiter.acquire(sms("votre facture"), marketing=False) == 0
    clock.advance(1.0)
    assert await limiter.acquire(sms("offre 2"), marketing=True) == 0


async def test_a_sender_can_have_its_own_rate(redis: aioredis.Redis) -> None:
    """A short code or Messaging Service sends faster than the long-code default; a merchant's
    own number is set apart from the platform's (FACTO_PACING_PER_SENDER)."""
    from dataclasses import replace

    from bot.settings import Settings

    clock = FakeClock()
    settings = Settings(FACTO_PACING_PER_SENDER='{"sms:+33700000000": 3, "sms:+33757000123": 2}')
    limits = Limits.from_settings(settings)
    assert limits.per_sender == {"sms:+33700000000": 3.0, "sms:+33757000123": 2.0}
    limiter = Pacer(redis, clock, replace(limits, sms_per_sender=1), {"sms": "+33700000000"})
    own = replace(sms("court"), sender="+33757000123")
    assert [await limiter.acquire(sms("court"), marketing=False) == 0 for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert [await limiter.acquire(own, marketing=False) == 0 for _ in range(3)] == [
        True,
        True,
        False,
    ]
    for bad in ('{"+33700000000": 3}', '{"sms:+33700000000": -1}', "[1]", "nope"):
        with pytest.raises(ValueError, match="FACTO_PACING_PER_SENDER"):
            Settings(FACTO_PACING_PER_SENDER=bad)
