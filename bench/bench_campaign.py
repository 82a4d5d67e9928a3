"""Campaign enqueue: 100,000 recipients rendered and enqueued in one process.

    python bench/bench_campaign.py [--recipients 100000]

Starts its own redis-server, stores the customers (with opt-ins) and an audience, then times
what a worker does when the campaign starts: fix the recipients (audience scan, channel and
variant per recipient) and enqueue one event per recipient in its conversation (batches of
`ingest`'s script, pending set, wake-ups). Prints messages per second (target ≥ 10,000) and
Redis memory per queued recipient.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.clock import FakeClock  # noqa: E402
from bot.embedded_redis import EmbeddedRedis  # noqa: E402
from bot.engine.campaigns import Enqueuer, start  # noqa: E402
from bot.store import campaigns, customers, keys  # noqa: E402

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
MERCHANT = "m_bench"


async def seed(redis: aioredis.Redis, count: int) -> str:
    optin = customers.OptIn("bench", NOW, "oui")
    for first in range(0, count, 5000):
        batch = [
            (
                customers.Customer(
                    id=f"c{i:07d}",
                    name=f"Client {i}",
                    tags=("vip",),
                    channels={"telegram": str(10_000_000 + i)}
                    if i % 2
                    else {"sms": f"+3361{i:07d}"},
                ),
                optin,
            )
            for i in range(first, min(first + 5000, count))
        ]
        await customers.save_many(redis, MERCHANT, batch)
    audience = customers.parse_audience({"name": "all", "filter": {"tags": ["vip"]}})
    await customers.save_audience(redis, MERCHANT, audience)
    return audience.id


async def run(count: int) -> None:
    server = EmbeddedRedis().start()
    redis = aioredis.Redis.from_url(server.url, decode_responses=True)
    try:
        audience_id = await seed(redis, count)
        campaign = campaigns.parse_campaign(
            {
                "name": "bench",
                "offer": {
                    "product": "Lampe",
                    "amount": 2900,
                    "stock": 100,
                    "expires_at": (NOW + timedelta(days=1)).isoformat(),
                },
                "audience_id": audience_id,
                "variants": [
                    {
                        "name": "A",
                        "share": 50,
                        "text": {"fr": "Bonjour {name}", "en": "Hi {name}"},
                    },
                    {"name": "B", "share": 50, "text": {"fr": "{name} : {link}", "en": "{link}"}},
                ],
            },
            merchant_id=MERCHANT,
            now=NOW,
        )
        await campaigns.create(redis, campaign, NOW)
        await start(redis, MERCHANT, campaign.id, FakeClock(NOW), "start")
        before = int((await redis.info("memory"))["used_memory"])
        began, cpu = time.perf_counter(), time.process_time()
        enqueued = await Enqueuer(redis, "bench").run(MERCHANT, campaign.id)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        after = int((await redis.info("memory"))["used_memory"])
        inboxes = await redis.scard(keys.PIPELINE_PENDING)
        print(f"recipients enqueued : {enqueued} ({inboxes} conversations pending)")
        print(f"elapsed             : {elapsed:.2f} s")
        print(f"rate                : {enqueued / elapsed:,.0f} messages/s (target >= 10,000)")
        # On a shared machine the wall clock includes waiting for a core; this one does not.
        print(f"python CPU time     : {cpu:.2f} s ({enqueued / cpu:,.0f} messages per CPU second)")
        per = (after - before) / max(enqueued, 1)
        print(f"redis memory        : {per:,.0f} bytes per queued recipient")
    finally:
        await redis.aclose()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=100_000)
    asyncio.run(run(parser.parse_args().recipients))


if __name__ == "__main__":
    main()
