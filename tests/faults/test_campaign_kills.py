"""A flash sale survives killed workers, a Redis restart and a start clicked twice: every
consenting recipient's message is committed exactly once, nobody is skipped.

Real `python -m bot worker` processes (system clock) enqueue and dispatch a 600-recipient
campaign; they are SIGKILLed at random moments and replaced. Sends go nowhere (a closed port),
so what is checked is what the pipeline committed: one outbox record and one transcript entry
per recipient, no second entry in any send queue, and counts that add up.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.clock import SystemClock
from bot.embedded_redis import EmbeddedRedis
from bot.engine import campaigns as engine
from bot.store import campaigns, customers, keys
from bot.store.conversations import transcript
from bot.store.merchants import Merchant
from flows.campaign import next_marketing_moment
from tests.faults.conftest import eventually
from tests.faults.test_processes import WorkerProcess, workers  # noqa: F401 - fixture

pytestmark = pytest.mark.fault

MERCHANT = "m_kill"
RECIPIENTS = 600


def open_zone(now: datetime) -> str | None:
    """A time zone where marketing may go out now and for the next hour (workers use the
    system clock): the test is about faults, not quiet hours."""
    for offset in range(-12, 15):
        zone = f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"
        if all(
            next_marketing_moment(now + timedelta(minutes=m), zone) == now + timedelta(minutes=m)
            for m in (0, 60)
        ):
            return zone
    return None


async def seed(redis: aioredis.Redis, zone: str, now: datetime) -> str:
    # The merchant itself: every promotional message is signed with its name (test 79).
    merchant = Merchant(
        id=MERCHANT,
        name="Atelier Kill",
        legal_name="Atelier Kill SAS",
        siren="732829320",
        vat_number=None,
        address="1 rue de la Paix, 75002 Paris",
        created_at=now.isoformat(),
    )
    await redis.set(keys.merchant(MERCHANT), json.dumps(merchant.to_dict()))
    proof = customers.OptIn("test", now, "oui")
    people = [
        (
            customers.Customer(
                id=f"k{i:04d}",
                name=f"Client {i}",
                timezone=zone,
                channels={"telegram": str(7_000_000 + i)}
                if i % 2
                else {"sms": f"+3361200{i:04d}"},
            ),
            proof if i % 5 else None,  # every fifth one never opted in
        )
        for i in range(RECIPIENTS)
    ]
    await customers.save_many(redis, MERCHANT, people)
    audience = customers.parse_audience({"name": "all", "filter": {}})
    await customers.save_audience(redis, MERCHANT, audience)
    campaign = campaigns.parse_campaign(
        {
            "offer": {
                "product": "Lampe",
                "amount": 2900,
                "stock": 10,
                "expires_at": (now + timedelta(hours=2)).isoformat(),
            },
            "audience_id": audience.id,
            "variants": [
                {"name": "A", "share": 1, "text": {"fr": "A {name}", "en": "A {name}"}},
                {"name": "B", "share": 1, "text": {"fr": "B {name}", "en": "B {name}"}},
            ],
        },
        merchant_id=MERCHANT,
        now=now,
    )
    await campaigns.create(redis, campaign, now)
    return campaign.id


async def test_killed_workers_a_redis_restart_and_a_double_start_send_each_message_once(
    own_redis: EmbeddedRedis,
    workers: list[WorkerProcess],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    redis_server = own_redis
    redis = aioredis.Redis.from_url(own_redis.url, decode_responses=True)
    try:
        await _run(redis, redis_server, workers, tmp_path)
    finally:
        await redis.aclose()


async def _run(
    redis: aioredis.Redis,
    redis_server: EmbeddedRedis,
    workers: list[WorkerProcess],  # noqa: F811 - the fixture's list
    tmp_path: Path,
) -> None:
    clock = SystemClock()
    zone = open_zone(clock.now())
    if zone is None:  # Sunday in every zone at once (about 14 h a week)
        pytest.skip("no time zone allows marketing right now")
    campaign_id = await seed(redis, zone, clock.now())
    rng = random.Random(9)
    for _ in range(2):  # a double start
        await engine.start(redis, MERCHANT, campaign_id, clock, "start")

    def spawn(n: int) -> WorkerProcess:
        worker = WorkerProcess(redis_server.url, tmp_path / f"w{n}.log")
        workers.append(worker)
        return worker

    alive = [spawn(0), spawn(1)]
    for kill in range(4):
        await asyncio.sleep(rng.uniform(0.5, 2.5))
        victim = alive.pop(rng.randrange(len(alive)))
        victim.kill()
        if kill == 1:  # Redis restarts (AOF fsynced always) while workers run
            redis_server.stop_process()
            redis_server.start()
        alive.append(spawn(kill + 2))
    expected = RECIPIENTS - RECIPIENTS // 5
    counts = keys.campaign_counts(MERCHANT, campaign_id)

    async def all_decided() -> bool:
        sent = int(await redis.hget(counts, "sent") or 0)
        skipped = int(await redis.hget(counts, "no_consent") or 0)
        return sent + skipped >= RECIPIENTS

    await eventually(all_decided, within=120)
    await asyncio.sleep(1)  # anything doubled would be counted by now
    found = await redis.hgetall(counts)
    assert int(found["sent"]) == expected and int(found["no_consent"]) == RECIPIENTS // 5
    assert int(found["A:sent"]) + int(found["B:sent"]) == expected
    recipients = await redis.lrange(keys.campaign_recipients(MERCHANT, campaign_id), 0, -1)
    assert len(recipients) == RECIPIENTS
    for i in range(0, RECIPIENTS, 1):
        conversation = f"telegram:{7_000_000 + i}" if i % 2 else f"sms:+3361200{i:04d}"
        queued = await redis.lrange(keys.outbox_conversation_queue(conversation), 0, -1)
        said = [e for e in await transcript(redis, conversation) if e["dir"] == "out"]
        wanted = 0 if i % 5 == 0 else 1
        assert len(said) == wanted, (conversation, said)
        assert len(queued) <= wanted, (conversation, queued)

    async def finished() -> bool:
        running = await redis.sismember(keys.CAMPAIGNS_RUNNING, f"{MERCHANT}/{campaign_id}")
        return not running

    # The campaign is marked finished by whichever worker holds its enqueue lease when the
    # cursor reaches the end; if the holder was one of the killed workers, another takes the
    # lease only when it expires (engine.LEASE_MS), after every message was decided.
    await eventually(finished, within=engine.LEASE_MS / 1000 + 60)
