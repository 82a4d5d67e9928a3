"""The customer's own time zone (IANA, on the invoice): the ladder's 10:00 and quiet hours and
the dates read in replies ("demain") follow it; a zone that does not exist is a 422; without
one, Europe/Paris."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, invoice_body, start_facto
from tests.scenario.test_conversations import LINES, TG, texts
from tests.scenario.test_reminders import walk_to

DUE = date(2027, 2, 26)  # a Friday: -3 is Tuesday 23 February
MARTINIQUE = "America/Martinique"  # UTC-4 all year


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()
    yield app
    await app.client.close()


def in_martinique(**extra: object) -> dict[str, object]:
    body = invoice_body(*TG, due=DUE, lines=LINES)
    body["customer"] = {**body["customer"], "timezone": MARTINIQUE, **extra}
    return body


async def test_reminders_go_at_ten_in_the_customers_zone(shop: Facto) -> None:
    await shop.issue(in_martinique())
    # 10:00 in Paris (09:00 UTC) is 05:00 in Martinique: nothing yet.
    assert await walk_to(shop, datetime(2027, 2, 23, 9, 0, tzinfo=UTC)) == []
    assert await walk_to(shop, datetime(2027, 2, 23, 13, 59, tzinfo=UTC)) == []
    [before] = await walk_to(shop, datetime(2027, 2, 23, 14, 0, tzinfo=UTC))  # 10:00 there
    assert "26 février 2027" in before


async def test_tomorrow_is_read_in_the_customers_zone(shop: Facto) -> None:
    await shop.issue(in_martinique())
    # Thursday 19 November 2026 02:00 UTC: 03:00 on the 19th in Paris, 22:00 on the 18th in
    # Martinique, so "demain" is the 19th there (Paris would read the 20th).
    shop.clock.current = datetime(2026, 11, 19, 2, 0, tzinfo=UTC)
    await shop.customer_says(*TG, "je paierai demain")
    answer = (await texts(shop))[-1]
    assert "19 novembre" in answer and "20 novembre" not in answer


@pytest.mark.parametrize("zone", ["Mars/Olympus", "UTC+1", "", "Paris", 7])
async def test_a_zone_that_does_not_exist_is_a_422(shop: Facto, zone: object) -> None:
    response = await shop.post_invoice(in_martinique(timezone=zone))
    assert response.status == 422, await response.text()
    assert "customer.timezone" in await response.text()
