"""TESTCASES 80, "≤ 2 reminders a week": across all of a customer's invoices with one
merchant, no more than two ladder reminders in any rolling 7 days. A step that would exceed
it waits until the week allows one and goes with whatever else fell due by then (merged); no
invoice loses its reminders and no final notice is skipped. End to end on the injected clock:
scheduler -> inbox -> dispatch -> flow -> outbox -> emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.harness import Facto, invoice_body, start_facto
from tests.scenario.test_conversations import LINES

TG = ("telegram", "424242")
# Three invoices due a day apart in January–March 2027 (no French public holiday then): their
# ladders (-3, 0, +3, +10, +30 days) would send up to 3 reminders a day and 9 in one week.
DUES = (date(2027, 1, 20), date(2027, 1, 21), date(2027, 1, 22))
WEEK = timedelta(days=7)


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    await app.add_merchant()
    yield app
    await app.client.close()


async def reminders(shop: Facto, after: int) -> list[dict[str, Any]]:
    return (await shop.messages(*TG))[after:]


async def test_at_most_two_a_week_across_invoices_none_lost_final_notices_sent(
    shop: Facto,
) -> None:
    invoices = [await shop.issue(invoice_body(*TG, due=due, lines=LINES)) for due in DUES]
    issued = len(await shop.messages(*TG))
    assert issued == len(DUES)

    # Move the clock from one scheduled job to the next until none is left before the end.
    end = datetime(2027, 3, 25, 9, 0, tzinfo=UTC)
    while due := await shop.redis.zrange(keys.SCHEDULE, 0, 0, withscores=True):
        moment = datetime.fromtimestamp(due[0][1], UTC)
        if moment > end:
            break
        shop.clock.current = max(shop.clock.current, moment)
        await shop.drain()

    sent = await reminders(shop, issued)
    times = sorted(datetime.fromisoformat(m["time"]) for m in sent)
    for i, first in enumerate(times):
        in_week = [t for t in times[i:] if t < first + WEEK]
        assert len(in_week) <= 2, [t.isoformat() for t in times]
    # Never lost: every invoice is reminded, and each one's final notice goes out.
    for invoice in invoices:
        about = [m["text"] for m in sent if invoice["number"] in m["text"]]
        assert about, f"{invoice['number']} was never reminded"
        assert any("dernier rappel" in text for text in about), about
    # Merged, not dropped one by one: fewer messages than ladder steps, more than finals.
    assert len(DUES) < len(sent) < 5 * len(DUES)
