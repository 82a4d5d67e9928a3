"""Audit 14 item 10: the dashboard's invoices list and money to review refresh live. The
dashboard's websocket forwards the merchant's own list changes (no polling), owners only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.store import keys
from bot.store.users import Role
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import pay_outside_our_link

WS = "/console/dashboard/ws"


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for b in opened:
        await b.close()


async def _subscribed(facto: Facto, merchant_id: str) -> None:
    """Wait until the socket's subscription is in Redis (no sleeping: each check is a call)."""
    for _ in range(500):
        [(_channel, count)] = await facto.redis.pubsub_numsub(keys.dashboard_channel(merchant_id))
        if count:
            return
    raise AssertionError("the dashboard websocket never subscribed")


async def test_the_lists_hear_invoices_and_money_to_review(facto: Facto, owner: Browser) -> None:
    assert facto.merchant is not None
    async with owner.session.ws_connect(
        f"{facto.base_url}{WS}", headers={"Origin": facto.base_url}
    ) as ws:
        await _subscribed(facto, facto.merchant.id)
        created = await facto.issue(invoice_body())
        assert await ws.receive_json(timeout=5) == {"ref": "invoices"}
        await pay_outside_our_link(facto, created["id"], 2000, "invoice")
        heard = set()
        for _ in range(5):
            heard.add((await ws.receive_json(timeout=5))["ref"])
            if "review" in heard:
                break
        assert "review" in heard, heard


async def test_agents_strangers_and_other_merchants_hear_nothing(
    facto: Facto, browsers: list[Browser]
) -> None:
    anonymous = Browser.open(facto)
    browsers.append(anonymous)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await anonymous.session.ws_connect(f"{facto.base_url}{WS}")
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    agent = Browser.open(facto)
    browsers.append(agent)
    await agent.log_in("agent@atelier.fr", secret)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await agent.session.ws_connect(f"{facto.base_url}{WS}", headers={"Origin": facto.base_url})
    assert refused.value.status == 403

    other, _key = await facto.add_merchant(name="Autre")
    _, secret = await add_user(facto, "eve@autre.fr", "Eve", Role.OWNER, merchant_id=other.id)
    eve = Browser.open(facto)
    browsers.append(eve)
    await eve.log_in("eve@autre.fr", secret)
    async with eve.session.ws_connect(
        f"{facto.base_url}{WS}", headers={"Origin": facto.base_url}
    ) as ws:
        await _subscribed(facto, other.id)
        await facto.issue(invoice_body())  # our merchant's, not Eve's
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.5)
