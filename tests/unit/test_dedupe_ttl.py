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
    ttl = await redis.ttl(keys.conv_seen(conversation, event_id))
    assert horizon - 60 < ttl <= horizon
    assert not await ingest(redis, event)  # still a duplicate within the horizon


def test_horizons_cover_what_providers_document() -> None:
    """PROVIDERS.md: Telegram keeps updates 24 h (G2), Stripe retries 3 days (S5)."""
    assert TELEGRAM_SEEN_SECONDS > DAY
    assert DEFAULT_SEEN_SECONDS > 3 * DAY
    assert TWILIO_SEEN_SECONDS >= DAY  # no Twilio retry, but our spool replays within it
