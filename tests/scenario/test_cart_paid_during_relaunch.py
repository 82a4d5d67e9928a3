"""A cart paid while its relaunch is being decided gets no relaunch message."""

from __future__ import annotations

from typing import Any

import pytest

from bot.store import consent
from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import _seed, cart, post


@pytest.mark.fault
async def test_a_cart_paid_during_its_relaunch_is_not_relaunched(
    facto: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _seed(facto)
    assert (await post(facto, "/api/v1/carts", cart()))[0] == 201
    original = consent.may_market
    paid: list[Any] = []

    async def payment_lands_meanwhile(*args: Any, **kwargs: Any) -> bool:
        # The relaunch has read the cart open; the shop's payment is recorded right now.
        paid.append(await post(facto, "/api/v1/carts/cart-1/paid", {}))
        return await original(*args, **kwargs)

    monkeypatch.setattr(consent, "may_market", payment_lands_meanwhile)
    facto.clock.advance(61 * 60)
    await facto.drain()
    monkeypatch.undo()
    assert paid and paid[0][1]["state"] == "paid"
    assert await facto.messages("telegram", "5001") == []
    facto.clock.advance(3600)
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    _, view = await post(facto, "/api/v1/carts/cart-1/paid", {})
    assert view["merchant_totals"].get("relaunched", 0) == 0
    assert view["merchant_totals"]["paid"] == 1
