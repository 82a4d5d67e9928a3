"""Flash-sale checkout sessions whose webhook is lost are settled by the sweep: a paid one is
sold once (receipt once, counted once, whichever of webhook, Events API and session sweep
comes first), an expired one gives its unit back once."""

from __future__ import annotations

from urllib.parse import urlparse

from bot.engine import offer_payments
from bot.store import keys
from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import _links, get
from tests.scenario.test_reconcile import deaf

__all__ = ["deaf"]  # the fixture: a Facto whose Stripe webhooks are all lost


async def _tap(facto: Facto, link: str) -> str:
    tap = await facto.client.post(link, allow_redirects=False)
    assert tap.status == 303, await tap.text()
    return urlparse(tap.headers["Location"]).path


async def _paid(facto: Facto, cid: str) -> int:
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    return sum(v["paid"] for v in view["variants"].values())


def _receipts(texts: list[str]) -> list[str]:
    return [t for t in texts if t.startswith("Merci ! Votre paiement")]


async def test_a_lost_webhook_of_a_paid_offer_is_sold_once_by_the_sweep(deaf: Facto) -> None:
    cid, [link] = await _links(deaf, 1, stock=1)
    checkout = await _tap(deaf, link)
    await deaf.client.post(f"{checkout}/card", allow_redirects=False)
    await deaf.drain()
    assert await _paid(deaf, cid) == 0  # nothing arrived
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 1
    # The Events API and the session sweep both find it: two events, one sale.
    assert await deaf.worker.reconcile() >= 1
    await deaf.drain()
    assert await deaf.worker.reconcile() == 0
    await deaf.drain()
    assert await _paid(deaf, cid) == 1
    texts = [m["text"] for m in await deaf.messages("telegram", "8000")]
    assert len(_receipts(texts)) == 1
    assert deaf.merchant is not None
    bought = keys.campaign_bought(deaf.merchant.id, cid)
    assert await deaf.redis.hget(bought, "p000") == "1"
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0  # settled: no longer tracked
    view = await get(deaf, f"/api/v1/campaigns/{cid}")
    assert sum(v["revenue"] for v in view["variants"].values()) == 2900


async def test_the_session_sweep_alone_sells_it_and_a_late_event_adds_nothing(
    deaf: Facto,
) -> None:
    cid, [link] = await _links(deaf, 1, stock=1)
    checkout = await _tap(deaf, link)
    await deaf.client.post(f"{checkout}/card", allow_redirects=False)
    assert (
        await offer_payments.sweep_sessions(
            deaf.redis, deaf.worker.services.stripe, now=deaf.clock.now().timestamp()
        )
        == 1
    )
    assert (
        await offer_payments.sweep_sessions(
            deaf.redis, deaf.worker.services.stripe, now=deaf.clock.now().timestamp()
        )
        == 0
    )  # same state
    await deaf.drain()
    assert await _paid(deaf, cid) == 1
    # The paid event found later by the Events API (a late webhook): settled already.
    await deaf.worker.reconcile()
    await deaf.drain()
    assert await _paid(deaf, cid) == 1
    texts = [m["text"] for m in await deaf.messages("telegram", "8000")]
    assert len(_receipts(texts)) == 1


async def test_an_expired_session_without_its_webhook_gives_the_unit_back_once(
    deaf: Facto,
) -> None:
    cid, links = await _links(deaf, 2, stock=1)
    checkout = await _tap(deaf, links[0])
    assert (await deaf.client.post(links[1], allow_redirects=False)).status == 410  # sold out
    deaf.clock.advance(31 * 60)
    await deaf.client.get(checkout)  # Stripe expires the session; its webhook is lost
    await deaf.drain()
    assert deaf.merchant is not None
    campaign = keys.campaign(deaf.merchant.id, cid)
    assert await deaf.redis.hget(campaign, "reserved") == "1"  # still pinned
    for _ in range(3):  # swept again and again: released once
        await deaf.worker.reconcile()
        await deaf.drain()
    assert await deaf.redis.hget(campaign, "reserved") == "0"
    assert await deaf.redis.hlen(keys.campaign_holds(deaf.merchant.id, cid)) == 0
    counts = await deaf.redis.hgetall(keys.campaign_counts(deaf.merchant.id, cid))
    assert counts["expired"] == "1"
    assert (await get(deaf, f"/api/v1/campaigns/{cid}"))["counts"]["expired"] == 1
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0
    assert (await deaf.client.post(links[1], allow_redirects=False)).status == 303


async def test_a_failed_sepa_debit_gives_the_unit_back_once(facto: Facto) -> None:
    """The issue's "released when the session expires or fails": a SEPA debit that fails
    after the checkout completed (session complete, unpaid; PaymentIntent back to needing a
    payment method) gives the unit back, by its webhook or, if lost, by the sweep."""
    cid, links = await _links(facto, 2, stock=1)
    checkout = await _tap(facto, links[0])
    await facto.client.post(f"{checkout}/sepa", allow_redirects=False)
    await facto.drain()
    assert facto.merchant is not None
    campaign = keys.campaign(facto.merchant.id, cid)
    assert await facto.redis.hget(campaign, "reserved") == "1"  # processing: still held
    await facto.client.post(f"{checkout}/sepa/fail", allow_redirects=False)
    await facto.drain()
    for _ in range(2):
        await facto.worker.reconcile()
        await facto.drain()
    assert await facto.redis.hget(campaign, "reserved") == "0"
    assert await facto.redis.hlen(keys.campaign_holds(facto.merchant.id, cid)) == 0
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert (view["counts"]["payment_failed"], view["counts"]["expired"]) == (1, 0)
    assert sum(v["paid"] for v in view["variants"].values()) == 0
    assert await facto.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0
    assert (await facto.client.post(links[1], allow_redirects=False)).status == 303


async def test_a_failed_sepa_debit_without_its_webhook_is_released_by_the_sweep(
    deaf: Facto,
) -> None:
    cid, [link] = await _links(deaf, 1, stock=1)
    checkout = await _tap(deaf, link)
    await deaf.client.post(f"{checkout}/sepa", allow_redirects=False)
    await deaf.client.post(f"{checkout}/sepa/fail", allow_redirects=False)
    for _ in range(3):
        await deaf.worker.reconcile()
        await deaf.drain()
    assert deaf.merchant is not None
    assert await deaf.redis.hget(keys.campaign(deaf.merchant.id, cid), "reserved") == "0"
    assert await deaf.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 0
