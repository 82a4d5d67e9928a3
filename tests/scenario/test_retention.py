"""Growth (issue 15): fill Redis, age it with the injected clock, and see what is left."""

from __future__ import annotations

from datetime import timedelta

import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.engine import retention
from bot.engine.pipeline import SEEN_TTL_SECONDS
from bot.store import keys
from bot.store.conversations import transcript
from tests.scenario.harness import Facto, invoice_body, start_facto

PHONE = "+33612345678"
POLICY = retention.RetentionPolicy(
    outbox=timedelta(days=30),
    transcripts=timedelta(days=3 * 365),
    checkout_stale=timedelta(days=2),
    consumer_idle=timedelta(0),  # idle time is the server's wall clock: "any" for this test
)


async def outbox_records(facto: Facto) -> dict[str, str]:
    names = [n async for n in facto.redis.scan_iter(match=keys.outbox_message("*"))]
    return {n: await facto.redis.hget(n, "state") for n in names}


async def housekeep(facto: Facto) -> retention.Housekept:
    return await retention.housekeep(facto.redis, facto.clock.now(), POLICY)


async def test_sent_messages_transcripts_and_states_age_out(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", PHONE))
    await facto.customer_says("sms", PHONE, "aide")
    # Another customer's invoice is dispatched but its message not sent yet (pending).
    await facto.post_invoice(invoice_body("telegram", 777))
    await facto.worker.dispatcher.run_once()
    await facto.worker.dispatcher.sweep()
    states = await outbox_records(facto)
    assert sorted(states.values()) == ["pending", "sent", "sent"]

    facto.clock.advance(timedelta(days=29).total_seconds())
    assert (await housekeep(facto)).outbox_records == 0
    facto.clock.advance(timedelta(days=2).total_seconds())
    assert (await housekeep(facto)).outbox_records == 2
    assert list((await outbox_records(facto)).values()) == ["pending"]  # never the sender's

    # Transcripts and states stay for the GDPR period after the last contact, then go.
    conversation = f"sms:{PHONE}"
    assert len(await transcript(facto.redis, conversation)) == 3
    facto.clock.advance(timedelta(days=3 * 365).total_seconds())
    await facto.customer_says("telegram", "777", "aide")  # still talking: kept
    done = await housekeep(facto)
    assert done.transcript_entries == 4  # 3 on SMS + the telegram invoice message
    assert not await facto.redis.exists(keys.conv_log(conversation))
    assert await facto.redis.exists(keys.conv_state(conversation))  # silent only from now
    facto.clock.advance(timedelta(days=31).total_seconds())
    assert (await housekeep(facto)).conversations == 1
    assert not await facto.redis.exists(keys.conv_state(conversation))
    assert await facto.redis.exists(keys.conv_state("telegram:777"))
    assert len(await transcript(facto.redis, "telegram:777")) == 2


async def test_dedupe_markers_expire_on_their_own(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", PHONE))
    await facto.customer_says("sms", PHONE, "aide")
    seen = keys.conv_seen_ids(f"sms:{PHONE}")
    now, _ = await facto.redis.time()
    markers = await facto.redis.zrange(seen, 0, -1, withscores=True)
    assert len(markers) == 2  # the invoice issued, the customer's message
    for _marker, until in markers:
        assert now < until <= now + SEEN_TTL_SECONDS
    assert 0 < await facto.redis.ttl(seen) <= SEEN_TTL_SECONDS


async def test_stale_checkout_sessions_leave_the_open_set(facto: Facto) -> None:
    await facto.redis.sadd(keys.CHECKOUT_SESSIONS_OPEN, "cs_old")
    await housekeep(facto)  # starts its clock
    facto.clock.advance(timedelta(days=1).total_seconds())
    await facto.redis.sadd(keys.CHECKOUT_SESSIONS_OPEN, "cs_new")
    await housekeep(facto)
    facto.clock.advance(timedelta(days=1, hours=1).total_seconds())
    assert (await housekeep(facto)).checkout_sessions == 1
    assert await facto.redis.smembers(keys.CHECKOUT_SESSIONS_OPEN) == {"cs_new"}
    facto.clock.advance(timedelta(days=2).total_seconds())
    await housekeep(facto)
    assert await facto.redis.scard(keys.CHECKOUT_SESSIONS_OPEN) == 0
    assert await facto.redis.zcard(keys.CHECKOUT_SESSIONS_SINCE) == 0


async def test_streams_are_trimmed_and_dead_consumers_removed(facto: Facto) -> None:
    for i in range(5):
        await facto.issue(invoice_body("sms", f"+336123456{i:02d}"))
    assert await facto.redis.xlen(keys.outbox_stream("sms")) == 5
    # A worker that died holding one unacknowledged wake-up, and one that died idle.
    await facto.redis.xadd(keys.PIPELINE_WAKE, {"conversation": "sms:+33600000000"})
    await facto.redis.xreadgroup(
        keys.PIPELINE_GROUP, "dead-busy", {keys.PIPELINE_WAKE: ">"}, count=1
    )
    await facto.redis.xgroup_createconsumer(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP, "dead-idle")

    done = await housekeep(facto)
    assert await facto.redis.xlen(keys.outbox_stream("sms")) == 0  # all sent and acknowledged
    assert await facto.redis.xlen(keys.PIPELINE_WAKE) == 1  # the pending one is kept
    consumers = {
        c["name"]
        for c in await facto.redis.xinfo_consumers(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP)
    }
    assert "dead-busy" in consumers and "dead-idle" not in consumers
    assert done.consumers >= 1 and done.stream_entries >= 10


async def test_the_failed_messages_listing_ages_out_with_the_records(facto: Facto) -> None:
    listing = keys.merchant_failed_messages("m_1")
    await facto.redis.zadd(listing, {"old": facto.clock.now().timestamp()})
    facto.clock.advance(timedelta(days=29).total_seconds())
    await facto.redis.zadd(listing, {"recent": facto.clock.now().timestamp()})
    facto.clock.advance(timedelta(days=2).total_seconds())
    assert (await housekeep(facto)).failed_listings == 1
    assert await facto.redis.zrange(listing, 0, -1) == ["recent"]


async def test_a_shorter_transcript_retention_setting_is_what_the_worker_applies(
    redis_server: EmbeddedRedis, redis: aioredis.Redis
) -> None:
    """FACTO_TRANSCRIPT_RETENTION_DAYS=30 (a merchant's policy shorter than 3 years): the
    worker's own housekeeping trims after 30 days, not the default."""
    facto = await start_facto(redis_server.url, redis, FACTO_TRANSCRIPT_RETENTION_DAYS=30)
    try:
        await facto.add_merchant()
        await facto.issue(invoice_body("sms", PHONE))
        await facto.customer_says("sms", PHONE, "aide")
        conversation = f"sms:{PHONE}"
        assert len(await transcript(facto.redis, conversation)) == 3

        facto.clock.advance(timedelta(days=29).total_seconds())
        assert (await facto.worker.housekeep()).transcript_entries == 0
        assert len(await transcript(facto.redis, conversation)) == 3

        facto.clock.advance(timedelta(days=2).total_seconds())
        assert (await facto.worker.housekeep()).transcript_entries == 3
        assert len(await transcript(facto.redis, conversation)) == 0
        facto.clock.advance(timedelta(days=31).total_seconds())  # then its state, when silent
        assert (await facto.worker.housekeep()).conversations == 1
        assert not await facto.redis.exists(keys.conv_state(conversation))
    finally:
        await facto.client.close()
