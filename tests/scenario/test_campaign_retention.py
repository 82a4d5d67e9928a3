"""Campaign data ages out on the injected clock: personal links 30 days after the sale ended,
per-recipient records after the campaign retention (90 days); the campaign's definition, its
aggregate counts and the orders' invoices stay (docs/decisions.md "Retention")."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlparse

from bot.engine import retention
from bot.store import keys
from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import _links, get

POLICY = retention.RetentionPolicy(consumer_idle=timedelta(0))


async def housekeep(facto: Facto) -> retention.Housekept:
    return await retention.housekeep(facto.redis, facto.clock.now(), POLICY)


async def test_personal_records_age_out_and_the_counts_stay(facto: Facto) -> None:
    cid, links = await _links(facto, 3, stock=2)
    tap = await facto.client.post(links[0], allow_redirects=False)
    await facto.client.post(f"{urlparse(tap.headers['Location']).path}/card")
    await facto.drain()
    await facto.client.post(links[1], allow_redirects=False)  # a hold never paid
    assert facto.merchant is not None
    merchant_id = facto.merchant.id
    [order] = (await get(facto, f"/api/v1/campaigns/{cid}/orders"))["orders"]
    before = await get(facto, f"/api/v1/campaigns/{cid}")
    personal = [
        keys.campaign_recipients(merchant_id, cid),
        keys.campaign_holds(merchant_id, cid),
        keys.campaign_bought(merchant_id, cid),
        keys.campaign_orders(merchant_id, cid),
    ]
    assert await facto.redis.exists(*personal) == 4
    ended = datetime.fromisoformat(before["window"]["end"])

    facto.clock.advance((ended + timedelta(days=29) - facto.clock.now()).total_seconds())
    done = await housekeep(facto)
    assert done.offer_links == 0 and done.campaigns_forgotten == 0
    assert (await facto.client.get(links[2])).status == 200  # "offer ended", still readable

    facto.clock.advance(timedelta(days=2).total_seconds())  # 31 days after the end
    done = await housekeep(facto)
    assert done.offer_links == 3 and done.campaigns_forgotten == 0
    assert (await facto.client.get(links[2])).status == 404
    assert await facto.redis.exists(*personal) == 4

    facto.clock.advance(timedelta(days=60).total_seconds())  # 91 days after the end
    done = await housekeep(facto)
    assert done.campaigns_forgotten == 1
    assert await facto.redis.exists(*personal) == 0
    holds = [
        k async for k in facto.redis.scan_iter(match=keys.offer_session(merchant_id, cid, "*"))
    ]
    assert holds == []
    assert await facto.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0
    after = await get(facto, f"/api/v1/campaigns/{cid}")
    assert after["counts"] == before["counts"] and after["variants"] == before["variants"]
    assert after["recipients"] == 3
    assert (await get(facto, f"/api/v1/campaigns/{cid}/orders"))["orders"] == []
    invoice = await get(facto, f"/api/v1/invoices/{order['invoice_id']}")  # accounting: kept
    assert invoice["status"] == "paid"
    assert (await housekeep(facto)).campaigns_forgotten == 0  # once
