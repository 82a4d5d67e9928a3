"""Every outgoing webhook event, each triggered through the real path (a payment on the pay
page, a customer's words, a campaign run) and received signed by the merchant's endpoint with
its type and payload."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.engine.merchant_webhooks import verify
from bot.store import merchant_webhooks as store
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_campaigns import _seed, campaign_body, post
from tests.scenario.test_merchant_webhooks import Receiver, register
from tests.scenario.test_money import pay

LINES = [{"description": "Canapé", "quantity": 1, "unit_amount": 10000, "vat_rate": "20"}]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", got.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield got, str(server.make_url("/hooks"))
    await server.close()


async def delivered(facto: Facto, got: Receiver, secret: str) -> list[dict[str, Any]]:
    """Deliver what is due; the events received since the last call, signatures checked."""
    await facto.worker.merchant_webhooks.run_once()
    now = int(facto.clock.now().timestamp())
    events = []
    for headers, body in got.received:
        assert verify(secret, headers["Facto-Signature"], body, now)
        event = json.loads(body)
        assert headers["Facto-Event-Type"] == event["type"]
        events.append(event)
    got.received.clear()
    return events


async def test_every_event_type_reaches_a_subscriber(
    facto: Facto, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    secret = (await register(facto, url, list(store.EVENT_TYPES)))["secret"]
    seen: set[str] = set()

    # "Je paierai vendredi": promise.made, with the Friday.
    promised = await facto.issue(invoice_body("telegram", "7001"))
    await facto.customer_says("telegram", "7001", "je paierai vendredi")
    [event] = await delivered(facto, got, secret)
    assert event["type"] == "promise.made" and event["data"]["invoice_id"] == promised["id"]
    assert date.fromisoformat(event["data"]["pay_on"]).weekday() == 4
    seen.add(event["type"])

    # "Un conseiller svp": handoff.requested.
    helped = await facto.issue(invoice_body("telegram", "7002"))
    await facto.customer_says("telegram", "7002", "un conseiller svp")
    [event] = await delivered(facto, got, secret)
    assert event["type"] == "handoff.requested" and event["data"]["invoice_id"] == helped["id"]
    assert event["data"]["number"] == helped["number"] and event["data"]["reason"]
    seen.add(event["type"])

    # Three instalments, the first paid: instalment.paid and invoice.partially_paid.
    split = await facto.issue(invoice_body("telegram", "7003", lines=LINES))
    await facto.customer_says("telegram", "7003", "je préfère payer en 3 fois svp")
    await facto.customer_says("telegram", "7003", action="yes")
    await pay(facto, split["pay_url"] + "/1")
    events = {e["type"]: e["data"] for e in await delivered(facto, got, secret)}
    assert set(events) == {"instalment.paid", "invoice.partially_paid"}, events
    assert events["instalment.paid"]["instalment"] == 1
    partial = events["invoice.partially_paid"]
    assert partial["invoice_id"] == split["id"] and partial["status"] == "partially_paid"
    assert 0 < partial["amount_paid"] < split["amount_due"]
    assert partial["amount_paid"] + partial["amount_due"] == split["amount_due"]
    seen |= set(events)

    # The other two instalments: the last one makes invoice.paid.
    await pay(facto, split["pay_url"] + "/2")
    await pay(facto, split["pay_url"] + "/3")
    events = {e["type"]: e["data"] for e in await delivered(facto, got, secret)}
    assert events["invoice.paid"]["amount_due"] == 0, events
    seen |= set(events)

    # A small campaign run to its end: campaign.finished with its recipients.
    status, campaign = await post(facto, "/api/v1/campaigns", campaign_body(await _seed(facto)))
    assert status == 201, campaign
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.drain()
    await facto.drain()
    finished = [e for e in await delivered(facto, got, secret) if e["type"] == "campaign.finished"]
    assert [e["data"]["campaign_id"] for e in finished] == [campaign["id"]]
    assert finished[0]["data"]["recipients"] == 5
    seen.add("campaign.finished")

    # payment.needs_review has its own test (test_merchant_webhooks): all seven are covered.
    assert seen | {"payment.needs_review"} == set(store.EVENT_TYPES)
