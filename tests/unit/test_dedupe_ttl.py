"""Each inbound event's dedupe marker lives as long as its source may deliver it again."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bot.engine.pipeline import Event, ingest
from bot.store import keys
from bot.store.dedupe import (
    DAY,
    DEFAULT_SEEN_SECONDS,
    TELEGRAM_SEEN_SECONDS,
    TWILIO_SEEN_SECONDS,
    marker,
)


@pytest.mark.parametrize(
    ("event_id", "conversation", "horizon"),
    [
        ("sms:SM0123456789abcdef", "sms:+33612345678", TWILIO_SEEN_SECONDS),
        ("whatsapp:SMfedcba9876543210", "whatsapp:+33612345678", TWILIO_SEEN_SECONDS),
        ("telegram:987654", "telegram:424242", TELEGRAM_SEEN_SECONDS),
        ("stripe:evt_1Abc", "telegram:424242", DEFAULT_SEEN_SECONDS),
        ("issued:inv_1", "sms:+33612345678", DEFAULT_SEEN_SECONDS),
    ],
)
async def test_marker_expires_after_its_sources_retry_horizon(
    redis: aioredis.Redis, event_id: str, conversation: str, horizon: int
) -> None:
    event = Event(id=event_id, type="inbound", conversation=conversation, data={})
    assert await ingest(redis, event)
    now, _ = await redis.time()
    until = await redis.zscore(keys.conv_seen_ids(conversation), marker(event_id))
    assert horizon - 60 < until - now <= horizon
    assert horizon - 60 < await redis.ttl(keys.conv_seen_ids(conversation)) <= horizon
    assert not await ingest(redis, event)  # still a duplicate within the horizon


async def test_a_conversation_keeps_one_small_set_of_markers(redis: aioredis.Redis) -> None:
    """One sorted set per conversation, in Redis's compact encoding; it lives as long as its
    longest marker, and a marker past its time is dropped as the next one comes."""
    conversation = "sms:+33612345678"
    seen = keys.conv_seen_ids(conversation)
    issued = Event(id="issued:inv_1", type="invoice_issued", conversation=conversation, data={})
    assert await ingest(redis, issued)
    for n in range(20):
        sms = Event(id=f"sms:SM{n:032x}", type="inbound", conversation=conversation, data={})
        assert await ingest(redis, sms)
    assert await redis.zcard(seen) == 21
    assert await redis.object("encoding", seen) in {"ziplist", "listpack"}
    assert await redis.ttl(seen) > TWILIO_SEEN_SECONDS  # the invoice's marker: 14 days
    assert [k async for k in redis.scan_iter(match=f"conv:{{{conversation}}}:seen:*")] == []
    # A marker whose time has passed (as after a day) no longer counts, and goes.
    first = Event(id=f"sms:SM{0:032x}", type="inbound", conversation=conversation, data={})
    await redis.zadd(seen, {marker(first.id): 1})
    assert await ingest(redis, first)  # no longer a duplicate: its horizon has passed
    late = Event(id="sms:SMlate", type="inbound", conversation=conversation, data={})
    await redis.zadd(seen, {marker(late.id): 1})
    assert await ingest(
        redis, Event(id="sms:SMnew", type="inbound", conversation=conversation, data={})
    )
    assert await redis.zscore(seen, marker(late.id)) is None


async def test_a_marker_written_one_key_each_is_still_honoured(redis: aioredis.Redis) -> None:
    """Markers written by the previous version (`conv:{..}:seen:<id>`, SET NX EX) count until
    their TTL ends: a redelivery straddling the upgrade is still a duplicate."""
    event = Event(id="sms:SM0123", type="inbound", conversation="sms:+33612345678", data={})
    await redis.set(keys.conv_seen(event.conversation, event.id), "1", ex=TWILIO_SEEN_SECONDS)
    assert not await ingest(redis, event)
    assert await redis.llen(keys.conv_inbox(event.conversation)) == 0
    await redis.delete(keys.conv_seen(event.conversation, event.id))  # its TTL ended
    assert await ingest(redis, event)


def test_horizons_cover_what_providers_document() -> None:
    """PROVIDERS.md: Telegram keeps updates 24 h (G2), Stripe retries 3 days (S5)."""
    assert TELEGRAM_SEEN_SECONDS > DAY
    assert DEFAULT_SEEN_SECONDS > 3 * DAY
    assert TWILIO_SEEN_SECONDS >= DAY  # no Twilio retry, but our spool replays within it
