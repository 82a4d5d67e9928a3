"""Whole conversations through the sandbox: split in 3, pay later, dispute, handoff, STOP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.harness import Facto, invoice_body, start_facto

WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # 10:00 in Paris
TG = ("telegram", "424242")
LINES = [{"description": "Canapé", "quantity": 1, "unit_amount": 10000, "vat_rate": "20"}]


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    await app.add_merchant()
    yield app
    await app.client.close()


async def texts(facto: Facto, channel: str = TG[0], to: str = TG[1]) -> list[str]:
    # Telegram keeps babel's non-breaking spaces; compare with plain ones.
    return [
        m["text"].replace("\xa0", " ").replace("\u202f", " ")
        for m in await facto.messages(channel, to)
    ]


async def pay(facto: Facto, url: str, twice: bool = False) -> None:
    response = await facto.client.post(urlparse(url).path, allow_redirects=False)
    assert response.status == 303, await response.text()
    checkout = urlparse(response.headers["Location"]).path
    paid = await facto.client.post(f"{checkout}/card", allow_redirects=False)
    assert paid.status in (200, 303)
    if twice:  # Stripe delivers the same event again
        events = await (await facto.client.get("/sandbox/api/stripe/events")).json()
        session_id = checkout.rsplit("/", 1)[-1]
        [event] = [
            e for e in events if e["type"] == "checkout.session.completed" and session_id in str(e)
        ]
        await facto.client.post(f"/sandbox/api/stripe/redeliver/{event['id']}")
    await facto.drain()


async def status_of(facto: Facto, invoice_id: str) -> dict[str, Any]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    body: dict[str, Any] = await response.json()
    return body


async def test_split_in_three_journey(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, due=date(2026, 12, 15), lines=LINES))
    assert created["totals"]["gross"] == 12000

    await shop.customer_says(*TG, "je préfère payer en 3 fois svp")
    proposal = (await texts(shop))[-1]
    assert (
        "40,00 €" in proposal and "18 décembre 2026" in proposal and "18 janvier 2027" in proposal
    )
    await shop.customer_says(*TG, action="yes")
    confirmation = (await texts(shop))[-1]
    link_1 = created["pay_url"] + "/1"
    assert link_1 in confirmation

    await pay(shop, link_1)
    assert (await status_of(shop, created["id"]))["status"] == "partially_paid"
    after_first = (await texts(shop))[-1]
    assert "Reste à payer : 80,00 €" in after_first and "18 décembre 2026" in after_first

    shop.clock.current = datetime(2026, 12, 18, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    await shop.drain()
    due_notice = (await texts(shop))[-1]
    assert created["pay_url"] + "/2" in due_notice

    await pay(shop, created["pay_url"] + "/3")  # the customer pays the last one first
    await pay(shop, created["pay_url"] + "/2", twice=True)
    final = await status_of(shop, created["id"])
    assert final["status"] == "paid" and final["amount_paid"] == 12000

    shop.clock.current = datetime(2027, 1, 25, 9, 0, tzinfo=UTC)  # past every reminder date
    await shop.drain()
    history = await texts(shop)
    assert len(history) == 7, history  # exactly one message per step
    assert "entièrement réglée" in history[-1]
    assert await shop.redis.zcard(keys.SCHEDULE) == 0


async def test_split_on_the_customers_terms_journey(shop: Facto) -> None:
    """ "50 € maintenant et le reste vendredi": that schedule, confirmed, then each link on
    its day, through the webhook, the flow, the outbox and the payments."""
    created = await shop.issue(invoice_body(*TG, due=date(2026, 12, 15), lines=LINES))

    await shop.customer_says(*TG, "je peux payer 50 € maintenant et le reste vendredi ?")
    proposal = (await texts(shop))[-1]
    assert "50,00 €" in proposal and "70,00 €" in proposal and "20 novembre 2026" in proposal
    await shop.customer_says(*TG, action="yes")
    link_1 = created["pay_url"] + "/1"
    assert link_1 in (await texts(shop))[-1]

    await pay(shop, link_1)
    after_first = await status_of(shop, created["id"])
    assert after_first["status"] == "partially_paid" and after_first["amount_paid"] == 5000

    shop.clock.current = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday, 09:00 in Paris
    await shop.drain()
    due_notice = (await texts(shop))[-1]
    assert created["pay_url"] + "/2" in due_notice and "70,00 €" in due_notice

    await pay(shop, created["pay_url"] + "/2")
    final = await status_of(shop, created["id"])
    assert final["status"] == "paid" and final["amount_paid"] == 12000


async def test_split_in_three_on_the_customers_terms_journey(shop: Facto) -> None:
    """ "30 aujourd'hui, 30 le 25 et le reste le 2 décembre": three payments on those days,
    the rest computed, each link on its day."""
    created = await shop.issue(invoice_body(*TG, due=date(2026, 12, 15), lines=LINES))

    await shop.customer_says(*TG, "30 aujourd'hui, 30 le 25 et le reste le 2 décembre")
    proposal = (await texts(shop))[-1]
    assert "25 novembre 2026" in proposal and "2 décembre 2026" in proposal
    assert proposal.count("30,00 €") == 2 and "60,00 €" in proposal
    await shop.customer_says(*TG, action="yes")
    await pay(shop, created["pay_url"] + "/1")

    shop.clock.current = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    await shop.drain()
    second = (await texts(shop))[-1]
    assert created["pay_url"] + "/2" in second and "30,00 €" in second
    await pay(shop, created["pay_url"] + "/2")

    shop.clock.current = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    await shop.drain()
    third = (await texts(shop))[-1]
    assert created["pay_url"] + "/3" in third and "60,00 €" in third
    await pay(shop, created["pay_url"] + "/3")
    final = await status_of(shop, created["id"])
    assert final["status"] == "paid" and final["amount_paid"] == 12000


async def test_pay_later_then_reminder_then_pay(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, due=date(2026, 11, 30), lines=LINES))
    await shop.customer_says(*TG, "je peux pas payer maintenant")
    assert "Quand pouvez-vous payer" in (await texts(shop))[-1]
    await shop.customer_says(*TG, "vendredi")
    assert (
        "vendredi 20 novembre" in (await texts(shop))[-1]
        or "20 novembre 2026" in (await texts(shop))[-1]
    )

    shop.clock.current = datetime(2026, 11, 20, 8, 59, tzinfo=UTC)
    await shop.drain()
    assert len(await texts(shop)) == 3  # not yet: 09:59 in Paris
    shop.clock.advance(60)
    await shop.drain()
    reminder = (await texts(shop))[-1]
    assert created["pay_url"] in reminder and "120,00" not in reminder  # discreet preview

    await pay(shop, created["pay_url"])
    assert (await status_of(shop, created["id"]))["status"] == "paid"
    assert "Paiement enregistré" in (await texts(shop))[-1]


async def test_date_beyond_policy_is_refused_with_the_latest_date(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, due=date(2026, 11, 30), lines=LINES))
    await shop.customer_says(*TG, "je paierai le 15 janvier")
    assert "30 décembre 2026" in (await texts(shop))[-1]
    # No promise: only the invoice's own reminder ladder is scheduled.
    assert await shop.redis.zrange(keys.SCHEDULE, 0, -1) == [f"ladder:{created['id']}"]


async def test_dispute_pauses_reminders_and_queues_for_a_human(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, due=date(2026, 11, 30), lines=LINES))
    await shop.customer_says(*TG, "le 25")
    await shop.customer_says(*TG, "je conteste, je n'ai jamais commandé ça")
    assert "transmis" in (await texts(shop))[-1]

    response = await shop.client.get(
        "/api/v1/conversations",
        params={"status": "waiting_agent"},
        headers={"Authorization": f"Bearer {shop.api_key}"},
    )
    [waiting] = (await response.json())["conversations"]
    assert waiting["reason"] == "dispute" and waiting["invoice_id"] == created["id"]

    _, other_key = await shop.add_merchant(name="Autre")
    other = await shop.client.get(
        "/api/v1/conversations",
        params={"status": "waiting_agent"},
        headers={"Authorization": f"Bearer {other_key}"},
    )
    assert (await other.json())["conversations"] == []

    before = len(await texts(shop))
    shop.clock.current = datetime(2026, 11, 19, 8, 0, tzinfo=UTC)
    await shop.customer_says(*TG, "allo ?")
    assert len(await texts(shop)) == before  # the bot leaves it to a human

    # Nobody took it for a day (FACTO_AGENT_RETURN_HOURS): the bot takes it back, and the
    # dispute's pause stays (no person said it was settled), so the promised day stays quiet.
    shop.clock.current = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    await shop.drain()
    [handback] = (await texts(shop))[before:]
    assert "de nouveau l'assistant" in handback and "/p/" not in handback
    assert shop.merchant is not None
    assert await shop.redis.zcard(keys.waiting_conversations(shop.merchant.id)) == 0


async def test_bad_conversation_query_is_422(shop: Facto) -> None:
    response = await shop.client.get(
        "/api/v1/conversations",
        params={"status": "everything"},
        headers={"Authorization": f"Bearer {shop.api_key}"},
    )
    assert response.status == 422


async def test_stop_is_recorded_across_channels_with_one_confirmation(shop: Facto) -> None:
    body = invoice_body(*TG, due=date(2026, 11, 30), lines=LINES)
    body["customer"]["phone"] = "+33612345678"
    created = await shop.issue(body)
    await shop.customer_says(*TG, "STOP")
    await shop.customer_says(*TG, "stop.")
    history = await texts(shop)
    assert sum("Répondez START" in t for t in history) == 1  # one opt-out, confirmed once
    assert sum("déjà fait" in t for t in history) == 1  # the second STOP: "already done"

    merchant = shop.merchant.id if shop.merchant else ""
    for address in ("telegram:424242", "sms:+33612345678"):
        assert await shop.redis.exists(keys.consent(merchant, address))
    log_entries = await shop.redis.lrange(keys.consent_log(merchant), 0, -1)
    assert len(log_entries) == 1 and '"words": "STOP"' in log_entries[0]

    # Transactional messages still reach an opted-out customer (documented policy).
    await pay(shop, created["pay_url"])
    assert "Paiement enregistré" in (await texts(shop))[-1]

    await shop.customer_says(*TG, "START")
    assert "vous recevez de nouveau nos messages" in (await texts(shop))[-1]


async def test_split_by_numbers_on_sms(shop: Facto) -> None:
    sms = ("sms", "+33612345678")
    await shop.issue(invoice_body(*sms, due=date(2026, 12, 15), lines=LINES))
    await shop.customer_says(*sms, "3")  # "3. Payer en plusieurs fois"
    question = (await texts(shop, *sms))[-1]
    assert "En combien de fois" in question and "(2, 3)" in question
    assert "1. " not in question  # the answer is the number of payments, not a rank
    await shop.customer_says(*sms, "en 10 fois")
    assert "3 fois maximum" in (await texts(shop, *sms))[-1]
    await shop.customer_says(*sms, "3")
    proposal = (await texts(shop, *sms))[-1]
    assert "3 fois" in proposal and "1. Oui" in proposal
    await shop.customer_says(*sms, "1")
    assert "/p/" in (await texts(shop, *sms))[-1]
    assert len(await shop.redis.keys("merchant:*:plan")) == 1


async def test_a_promise_of_an_older_invoice_is_kept_when_a_newer_one_arrives(
    shop: Facto,
) -> None:
    first = await shop.issue(invoice_body(*TG, due=date(2026, 11, 30), lines=LINES))
    await shop.customer_says(*TG, "demain")
    await shop.issue(invoice_body(*TG, due=date(2026, 12, 30), lines=LINES))
    shop.clock.advance(timedelta(days=2).total_seconds())
    await shop.drain()
    reminder = (await texts(shop))[-1]
    assert "voici le lien" in reminder and first["pay_url"] in reminder
    assert first["number"] in reminder
    await shop.customer_says(*TG, action="pay")  # a reply to that reminder is about it
    assert first["pay_url"] in (await texts(shop))[-1]


async def test_split_in_three_then_a_second_invoice_keeps_instalment_two(shop: Facto) -> None:
    first = await shop.issue(invoice_body(*TG, due=date(2026, 12, 15), lines=LINES))
    await shop.customer_says(*TG, "je préfère payer en 3 fois svp")
    await shop.customer_says(*TG, action="yes")
    await pay(shop, first["pay_url"] + "/1")
    second = await shop.issue(invoice_body(*TG, due=date(2026, 12, 30), lines=LINES))
    assert second["number"] in (await texts(shop))[-1]

    shop.clock.current = datetime(2026, 12, 18, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    await shop.drain()
    due_notice = (await texts(shop))[-1]
    assert first["pay_url"] + "/2" in due_notice and first["number"] in due_notice
