"""Issue 10, "A reward for paying fast", end to end: the policy through the API (422s), the
offer announced in the invoice message and on the page with its mention, the reward given once
in the receipt when the card payment's signed Stripe webhooks land within the window (even when
Stripe delivers them twice, at the same time), nothing after the window, the paying streak
celebrated, points added up, and the KPIs counting it. Every date comes from the injected clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.harness import DUE, Facto, invoice_body, start_facto
from tests.scenario.test_conversations import texts
from tests.scenario.test_documents import download, text_of

TG = ("telegram", "424242")
PERCENT = {
    "enabled": True,
    "within_hours": 48,
    "kind": "percent",
    "percent": 10,
    "code": "MERCI10",
}
POINTS = {"enabled": True, "within_hours": 24, "kind": "points", "points": 50, "streak": 3}


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()
    yield app
    await app.client.close()


def auth(shop: Facto) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.api_key}"}


async def put(shop: Facto, body: Any) -> tuple[int, dict[str, Any]]:
    response = await shop.client.put("/api/v1/policy", json=body, headers=auth(shop))
    return response.status, await response.json()


async def page_of(shop: Facto, url: str) -> str:
    text = await (await shop.client.get(urlparse(url).path)).text()
    return text.replace("\xa0", " ").replace("\u202f", " ").replace("&#39;", "'")


async def invoice(shop: Facto, invoice_id: str) -> dict[str, Any]:
    response = await shop.client.get(f"/api/v1/invoices/{invoice_id}", headers=auth(shop))
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def pay_twice_at_once(shop: Facto, pay_url: str) -> None:
    """A card payment, then Stripe delivers its signed `checkout.session.completed` twice
    more, concurrently, before the worker looks: one payment, one reward."""
    response = await shop.client.post(urlparse(pay_url).path, allow_redirects=False)
    assert response.status == 303, await response.text()
    checkout = urlparse(response.headers["Location"]).path
    paid = await shop.client.post(f"{checkout}/card", allow_redirects=False)
    assert paid.status in (200, 303)
    events = await (await shop.client.get("/sandbox/api/stripe/events")).json()
    session_id = checkout.rsplit("/", 1)[-1]
    [event] = [
        e for e in events if e["type"] == "checkout.session.completed" and session_id in str(e)
    ]
    again = f"/sandbox/api/stripe/redeliver/{event['id']}"
    await asyncio.gather(shop.client.post(again), shop.client.post(again))
    await shop.drain()


@pytest.mark.parametrize(
    ("reward", "field"),
    [
        ({**PERCENT, "applies_to": "this_invoice"}, "reward.applies_to"),
        ({**PERCENT, "applies_to": "anything"}, "reward.applies_to"),
        ({**PERCENT, "kind": "cash"}, "reward.kind"),
        ({**PERCENT, "code": None}, "reward.code"),
        ({**PERCENT, "code": "merci 10"}, "reward.code"),
        ({**PERCENT, "percent": 0}, "reward.percent"),
        ({**PERCENT, "percent": 60}, "reward.percent"),
        ({**PERCENT, "percent": "10"}, "reward.percent"),
        ({**PERCENT, "points": 5}, "reward.points"),
        ({**PERCENT, "within_hours": 0}, "reward.within_hours"),
        ({**PERCENT, "within_hours": 721}, "reward.within_hours"),
        ({**PERCENT, "within_hours": True}, "reward.within_hours"),
        ({**PERCENT, "enabled": "yes"}, "reward.enabled"),
        ({**PERCENT, "streak": -1}, "reward.streak"),
        ({**PERCENT, "colour": "gold"}, "reward.colour"),
        ({**POINTS, "points": None}, "reward.points"),
        ({**POINTS, "code": "MERCI10"}, "reward.code"),
        ("on", "reward"),
    ],
)
async def test_bad_rewards_are_422_naming_the_field(shop: Facto, reward: Any, field: str) -> None:
    status, body = await put(shop, {"reward": reward})
    assert (status, body["field"]) == (422, field), body
    if reward != "on" and reward.get("applies_to") == "this_invoice":
        assert "escompte" in body["error"]  # why: the invoice says there is none
    response = await shop.client.get("/api/v1/policy", headers=auth(shop))
    assert (await response.json())["reward"]["enabled"] is False  # nothing stored


async def test_paid_within_the_window_the_reward_is_given_once(shop: Facto) -> None:
    before = await shop.issue(invoice_body(*TG, lines=None))  # issued before the policy
    status, body = await put(shop, {"reward": PERCENT})
    assert status == 200 and body["reward"] == {
        **PERCENT,
        "points": None,
        "streak": 3,
        "applies_to": "next_purchase",
    }
    assert before["reward"] is None
    created = await shop.issue(invoice_body(*TG))
    assert created["reward"]["deadline"] == "2026-11-20T09:00:00+00:00"  # 48 h after issue

    # Announced in the invoice message (Telegram: what it is; 10:00 in Paris), never the code.
    announced = (await texts(shop))[-1]
    assert "Réglée d'ici le 20 nov. 2026 à 10:00 : 10 % de réduction sur votre prochain achat" in (
        announced
    )
    assert "MERCI10" not in announced
    # The invoice page: the offer, and the mention that keeps "pas d'escompte" true.
    page = await page_of(shop, created["invoice_url"])
    assert "Pas d'escompte pour paiement anticipé." in page
    assert "Paiement intégral sous 48 h : avantage sur un prochain achat" in page
    assert "10 % de réduction sur votre prochain achat" in page
    pdf = await download(shop, urlparse(created["invoice_url"]).path + "/pdf")
    assert "Pas d'escompte pour paiement anticipé." in text_of(pdf)
    assert "avantage sur un prochain achat" in text_of(pdf)  # the archived document says it too
    old_page = await page_of(shop, before["invoice_url"])
    assert "Paiement intégral sous" not in old_page  # the policy came after it

    shop.clock.advance(timedelta(hours=47).total_seconds())
    await pay_twice_at_once(shop, created["pay_url"])
    receipts = [t for t in await texts(shop) if t.startswith("Paiement enregistré")]
    assert len(receipts) == 1, receipts
    assert "-10 % au prochain achat avec le code MERCI10" in receipts[0]
    granted = (await invoice(shop, created["id"]))["reward"]["granted"]
    assert granted["paid_at"].startswith("2026-11-20T08:00")  # when the webhook counted it
    assert {k: v for k, v in granted.items() if k != "paid_at"} == {
        "kind": "percent",
        "percent": 10,
        "code": "MERCI10",
    }
    paid_page = await page_of(shop, created["pay_url"])
    assert "avec le code MERCI10" in paid_page

    # The sweep finds the same payment again: nothing more.
    await shop.worker.reconcile()
    await shop.drain()
    assert len([t for t in await texts(shop) if t.startswith("Paiement enregistré")]) == 1


async def test_a_backlog_never_costs_the_reward_stripe_says_when_the_money_landed(
    shop: Facto,
) -> None:
    """Paid 47 h after issue, but the worker only gets to the webhook 3 h later (a backlog,
    a restart): the signed event's own time is what counts."""
    assert (await put(shop, {"reward": PERCENT}))[0] == 200
    created = await shop.issue(invoice_body(*TG))
    shop.clock.advance(timedelta(hours=47).total_seconds())
    response = await shop.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    checkout = urlparse(response.headers["Location"]).path
    assert (await shop.client.post(f"{checkout}/card", allow_redirects=False)).status in (200, 303)
    shop.clock.advance(timedelta(hours=3).total_seconds())  # now past the deadline
    await shop.drain()
    [receipt] = [t for t in await texts(shop) if t.startswith("Paiement enregistré")]
    assert "MERCI10" in receipt
    granted = (await invoice(shop, created["id"]))["reward"]["granted"]
    assert granted["paid_at"].startswith("2026-11-20T08:00")


async def test_paid_after_the_window_no_reward(shop: Facto) -> None:
    assert (await put(shop, {"reward": PERCENT}))[0] == 200
    created = await shop.issue(invoice_body(*TG))
    shop.clock.advance(timedelta(hours=48, minutes=1).total_seconds())
    page = await page_of(shop, created["invoice_url"])
    assert "prochain achat." not in page  # the offer is over
    await pay_twice_at_once(shop, created["pay_url"])
    [receipt] = [t for t in await texts(shop) if t.startswith("Paiement enregistré")]
    assert "MERCI10" not in receipt
    assert (await invoice(shop, created["id"]))["reward"]["granted"] is None


async def test_points_add_up_and_the_streak_is_celebrated_in_english(shop: Facto) -> None:
    assert (await put(shop, {"reward": POINTS}))[0] == 200
    receipts = []
    for _ in range(3):
        created = await shop.issue(invoice_body(*TG, locale="en", due=DUE))
        announced = (await texts(shop))[-1]
        assert "50 loyalty points" in announced
        shop.clock.advance(timedelta(hours=2).total_seconds())
        await pay_twice_at_once(shop, created["pay_url"])
        receipts.append((await texts(shop))[-1])
    assert "Paid quickly: 50 loyalty points, 50 in all." in receipts[0]
    assert "150 in all" in receipts[2]
    assert "in a row" not in receipts[1]
    assert "Well done: 3 invoices paid on time in a row!" in receipts[2]
    payer = await shop.redis.hgetall(keys.payer(shop.merchant.id, "tg:424242"))  # type: ignore[union-attr]
    assert payer == {"streak": "3", "on_time": "3", "points": "150"}

    # A fourth one paid after its due date: no reward, the run starts again.
    late = await shop.issue(invoice_body(*TG, locale="en", due=shop.clock.now().date()))
    shop.clock.advance(timedelta(days=1).total_seconds())
    await pay_twice_at_once(shop, late["pay_url"])
    receipt = (await texts(shop))[-1]
    assert "loyalty points" not in receipt and "in a row" not in receipt
    payer = await shop.redis.hgetall(keys.payer(shop.merchant.id, "tg:424242"))  # type: ignore[union-attr]
    assert payer == {"streak": "0", "on_time": "3", "points": "150"}

    # Counted in the KPIs: 4 invoices offered the reward, 3 earned it.
    response = await shop.client.get("/api/v1/kpis", headers=auth(shop))
    assert response.status == 200, await response.text()
    figures = (await response.json())["figures"]["all"]
    assert (figures["rewards_offered"], figures["rewards_granted"]) == (4, 3)
    assert figures["fast_payment_rate"] == 0.75
