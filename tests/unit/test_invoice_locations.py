"""The invoice locators a process keeps (bot.store.invoices.InvoiceLocations): per object,
bounded, never the absence of one."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.invoices import InvoiceLocation, InvoiceLocations
from channels.base import ChannelName


def _location(n: int) -> InvoiceLocation:
    return InvoiceLocation("m_1", f"inv_{n}", ChannelName.SMS, "+33612345678")


async def test_a_locator_read_once_is_kept_and_the_oldest_dropped(redis: aioredis.Redis) -> None:
    for n in (1, 2, 3):
        await redis.set(keys.invoice_locator(f"inv_{n}"), _location(n).dumps())
    kept = InvoiceLocations(kept=2)
    assert await kept.find(redis, "inv_1") == _location(1)
    assert await kept.find(redis, "inv_2") == _location(2)
    await redis.delete(keys.invoice_locator("inv_1"), keys.invoice_locator("inv_2"))
    assert await kept.find(redis, "inv_1") == _location(1)  # kept: Redis not read again
    assert await kept.find(redis, "inv_3") == _location(3)  # inv_2, least recently used, goes
    assert len(kept) == 2
    assert await kept.find(redis, "inv_2") is None  # read again, and gone
    assert await kept.find(redis, "inv_1") == _location(1)


async def test_an_absence_is_not_kept_and_each_object_keeps_its_own(
    redis: aioredis.Redis,
) -> None:
    kept, other = InvoiceLocations(), InvoiceLocations()
    assert await kept.find(redis, "inv_9") is None
    await redis.set(keys.invoice_locator("inv_9"), _location(9).dumps())
    assert await kept.find(redis, "inv_9") == _location(9)  # issued a moment later: found
    assert len(other) == 0
