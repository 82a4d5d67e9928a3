"""A customer with several open invoices from one merchant, end to end over signed HTTP
(flows/several.mmd): a free-text action asks which invoice and applies to the one picked (a
Telegram button, a number on SMS); naming an invoice needs no question; "il reste combien ?"
answers with one statement of everything open."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.harness import DUE, Facto, invoice_body, start_facto
from tests.scenario.test_conversations import TG, texts

PHONE = "+33612345678"
SMS = ("sms", PHONE)
SOFA = [{"description": "Canapé", "quantity": 1, "unit_amount": 10000, "vat_rate": "20"}]
LAMP = [{"description": "Lampe", "quantity": 1, "unit_amount": 5000, "vat_rate": "20"}]
EARLIER = DUE - timedelta(days=10)


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()
    yield app
    await app.client.close()


async def two_invoices(shop: Facto, channel: str, address: str) -> tuple[dict[str, Any], ...]:
    """120 € due on DUE, then 60 € due ten days earlier (listed first: soonest due)."""
    sofa = await shop.issue(invoice_body(channel, address, due=DUE, lines=SOFA))
    lamp = await shop.issue(invoice_body(channel, address, due=EARLIER, lines=LAMP))
    return sofa, lamp


async def last_message(shop: Facto, channel: str, address: str) -> dict[str, Any]:
    return (await shop.messages(channel, address))[-1]


async def promised(shop: Facto, invoice: dict[str, Any]) -> str | None:
    assert shop.merchant is not None
    value: str | None = await shop.redis.get(keys.invoice_promise(shop.merchant.id, invoice["id"]))
    return value


async def test_telegram_which_invoice_then_the_promise_lands_on_the_one_picked(
    shop: Facto,
) -> None:
    sofa, lamp = await two_invoices(shop, *TG)
    await shop.customer_says(*TG, "je paierai vendredi")
    question = await last_message(shop, *TG)
    assert "Laquelle" in question["text"]
    labels = [b["label"] for b in question["buttons"]]
    assert [b["action"] for b in question["buttons"]] == ["invoice:1", "invoice:2"]
    assert lamp["number"] in labels[0] and "60,00" in labels[0]
    assert sofa["number"] in labels[1] and "120,00" in labels[1]
    assert await promised(shop, sofa) is None and await promised(shop, lamp) is None

    await shop.customer_says(*TG, action="invoice:2")  # the sofa, although the lamp came last
    assert "20 novembre" in (await texts(shop))[-1]
    assert await promised(shop, sofa) is not None
    assert await promised(shop, lamp) is None
    jobs = await shop.redis.zrange(keys.SCHEDULE, 0, -1)
    assert f"promise:{sofa['id']}" in jobs and f"promise:{lamp['id']}" not in jobs


async def test_sms_numbered_choices_and_a_named_invoice(shop: Facto) -> None:
    sofa, lamp = await two_invoices(shop, *SMS)
    response = await shop.sms(PHONE, 1, "je veux payer")
    assert response.status == 200
    await shop.drain()
    body = (await texts(shop, *SMS))[-1]
    assert f"1. {lamp['number']}" in body and f"2. {sofa['number']}" in body

    await shop.sms(PHONE, 2, "2")
    await shop.drain()
    assert sofa["pay_url"] in (await texts(shop, *SMS))[-1]

    sequence = int(lamp["number"].rsplit("-", 1)[-1])
    await shop.sms(PHONE, 3, f"je paie la facture {sequence}")
    await shop.drain()
    assert lamp["pay_url"] in (await texts(shop, *SMS))[-1]  # named: no question


async def test_what_is_left_is_one_statement(shop: Facto) -> None:
    sofa, lamp = await two_invoices(shop, *TG)
    await shop.customer_says(*TG, "il reste combien ?")
    statement = (await texts(shop))[-1]
    assert sofa["number"] in statement and lamp["number"] in statement
    assert statement.index(lamp["number"]) < statement.index(sofa["number"])
    assert "Total restant à payer : 180,00 €" in statement
