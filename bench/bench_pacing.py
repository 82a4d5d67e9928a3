"""Pacing against the configured limits, on a real Redis and the real clock.

    python bench/bench_pacing.py [--seconds 60] [--senders 4] [--in-flight 8]

Several senders (as separate workers would be: each its own Redis connection) share one
Telegram bot (30 msg/s) and one SMS number (MPS 4 here, 2-segment messages), each keeping
several sends in flight with a provider latency of 100-300 ms. Prints, per sender, the most
sends seen in any one-second window (must never exceed the limit) and the rate over the run
against the limit (must be >= 95 % when there is work).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.embedded_redis import EmbeddedRedis  # noqa: E402
from bot.engine.pacing import Limits, Pacer  # noqa: E402
from channels.base import ChannelName, OutboundMessage  # noqa: E402

LIMITS = Limits(telegram_per_bot=30, telegram_per_chat=1, sms_per_sender=4)
SMS_TEXT = "Vente flash : " + "x" * 180  # two GSM-7 segments


def most_in_a_window(times: list[float], weights: list[int]) -> int:
    pairs = sorted(zip(times, weights, strict=True))
    best = start = used = 0
    for end in range(len(pairs)):
        used += pairs[end][1]
        while pairs[end][0] - pairs[start][0] >= 1.0:
            used -= pairs[start][1]
            start += 1
        best = max(best, used)
    return best


async def worker(
    url: str, channel: ChannelName, until: float, in_flight: int, log: list[tuple[float, int]]
) -> None:
    redis = aioredis.Redis.from_url(url, decode_responses=True)
    pacer = Pacer(redis, None, LIMITS, {"telegram": "42", "sms": "+33700000000"})
    rng = random.Random()
    counter = 0

    async def lane() -> None:
        nonlocal counter
        while time.time() < until:
            counter += 1
            if channel is ChannelName.TELEGRAM:
                message = OutboundMessage(channel, str(rng.randrange(10**9)), "Bonjour", "k")
            else:
                message = OutboundMessage(channel, "+33612345678", SMS_TEXT, "k")
            wait, judged = await pacer.acquire_at(message, marketing=True)
            if wait:
                await asyncio.sleep(wait)
                continue
            # The instant the limiter (Redis' clock) let it go; the provider call follows.
            log.append((judged, 2 if channel is ChannelName.SMS else 1))
            await asyncio.sleep(rng.uniform(0.1, 0.3))

    try:
        await asyncio.gather(*(lane() for _ in range(in_flight)))
    finally:
        await redis.aclose()


async def run(seconds: float, senders: int, in_flight: int) -> None:
    server = EmbeddedRedis().start()
    try:
        until = time.time() + seconds
        results = {}
        for channel, limit in ((ChannelName.TELEGRAM, 30), (ChannelName.SMS, 4)):
            log: list[tuple[float, int]] = []
            began = time.time()
            await asyncio.gather(
                *(worker(server.url, channel, until, in_flight, log) for _ in range(senders))
            )
            elapsed = time.time() - began
            units = sum(w for _, w in log)
            worst = most_in_a_window([t for t, _ in log], [w for _, w in log])
            results[channel.value] = (limit, worst, units / elapsed / limit)
            until = time.time() + seconds
        for name, (limit, worst, ratio) in results.items():
            unit = "segments" if name == "sms" else "messages"
            print(
                f"{name:9} limit {limit}/s {unit}: max in any 1 s window {worst} "
                f"({'ok' if worst <= limit else 'OVER'}), over the run {ratio:.1%} of the limit "
                f"({'ok' if ratio >= 0.95 else 'under 95 %'})"
            )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--in-flight", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.senders, args.in_flight))


if __name__ == "__main__":
    main()
