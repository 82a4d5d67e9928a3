"""Outgoing webhooks end to end: a payment through the real path emits invoice.paid, the
merchant's endpoint gets it signed, a failure is retried after the backoff, duplicates are
dropped by event id, and the dashboard shows the delivery log."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.engine.merchant_webhooks import BACKOFF_SECONDS, next_attempt, signature, verify
from bot.store import keys
from bot.store import merchant_webhooks as store
from bot.store.users import Role
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import START, Facto, invoice_body
from tests.scenario.test_money import pay, pay_outside_our_link


class Receiver:
    """The merchant's system: records every request, answers with the next queued status."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], str]] = []
        self.answers: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.text()))
        return web.Response(status=self.answers.pop(0) if self.answers else 200)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver()
    app = web.Application()
    app.router.add_post("/hooks", got.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield got, str(server.make_url("/hooks"))
    await server.close()


async def register(facto: Facto, url: str, events: list[str]) -> dict[str, Any]:
    response = await facto.client.post(
        "/api/v1/webhook-endpoints",
        json={"url": url, "events": events},
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def test_invoice_paid_is_signed_retried_and_logged(
    facto: Facto, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    endpoint = await register(facto, url, ["invoice.paid", "payment.needs_review"])
    created = await facto.issue(invoice_body())
    got.answers = [500]  # the merchant's system is down at first
    await pay(facto, created["pay_url"])
    assert await facto.worker.merchant_webhooks.run_once() == 1
    [(headers, body)] = got.received
    event = json.loads(body)
    assert event["type"] == "invoice.paid" and event["data"]["invoice_id"] == created["id"]
    now = int(facto.clock.now().timestamp())
    assert verify(endpoint["secret"], headers["Facto-Signature"], body, now)
    assert not verify("whsec_other", headers["Facto-Signature"], body, now)
    assert not verify(endpoint["secret"], headers["Facto-Signature"], body, now + 3600)
    assert headers["Facto-Event-Id"] == event["id"]

    # Not due yet: nothing; after the backoff: the same event again, now accepted.
    assert await facto.worker.merchant_webhooks.run_once() == 0
    facto.clock.advance(BACKOFF_SECONDS[0])
    assert await facto.worker.merchant_webhooks.run_once() == 1
    assert json.loads(got.received[1][1])["id"] == event["id"]
    assert facto.merchant is not None
    log = await store.delivery_log(facto.redis, facto.merchant.id)
    assert [(e["attempt"], e["status"], e["state"]) for e in log] == [
        (2, 200, "delivered"),
        (1, 500, "pending"),
    ]

    # The same event emitted again (a replayed commit): dropped by its id.
    await store.emit_now(
        facto.redis,
        facto.merchant.id,
        "invoice.paid",
        event["id"],
        data=event["data"],
        at=facto.clock.now(),
    )
    assert await facto.worker.merchant_webhooks.run_once() == 0
    assert len(got.received) == 2
    assert not await facto.redis.sismember(keys.WEBHOOK_MERCHANTS, facto.merchant.id)

    response = await facto.client.get(
        "/api/v1/webhook-deliveries", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert [d["state"] for d in (await response.json())["deliveries"]] == [
        "delivered",
        "pending",
    ]
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    browser = Browser.open(facto)
    try:
        await browser.log_in("owner@atelier.fr", secret)
        status, text = await browser.get("/console/dashboard/webhooks")
        assert status == 200 and "delivery-delivered" in text and event["id"] in text
    finally:
        await browser.close()


async def test_payment_needing_review_is_sent_and_unsubscribed_events_are_not(
    facto: Facto, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    await register(facto, url, ["payment.needs_review"])
    created = await facto.issue(invoice_body(address=4343))
    await pay_outside_our_link(facto, created["id"], 10, "instalment:1")
    other = await facto.issue(invoice_body(address=4344))
    await pay(facto, other["pay_url"])  # invoice.paid: not subscribed
    assert await facto.worker.merchant_webhooks.run_once() == 1
    [(_, body)] = got.received
    event = json.loads(body)
    assert event["type"] == "payment.needs_review"
    assert "no such instalment" in event["data"]["reason"]


async def test_a_dead_endpoint_is_given_up_after_the_last_backoff(
    facto: Facto, receiver: tuple[Receiver, str]
) -> None:
    got, url = receiver
    await register(facto, url, ["invoice.paid"])
    created = await facto.issue(invoice_body(address=4345))
    got.answers = [503] * 20
    await pay(facto, created["pay_url"])
    for delay in (0, *BACKOFF_SECONDS):
        facto.clock.advance(delay)
        assert await facto.worker.merchant_webhooks.run_once() == 1
    facto.clock.advance(10**6)
    assert await facto.worker.merchant_webhooks.run_once() == 0
    assert len(got.received) == len(BACKOFF_SECONDS) + 1
    assert facto.merchant is not None
    [last, *_] = await store.delivery_log(facto.redis, facto.merchant.id)
    assert (last["state"], last["next_at"]) == ("failed", None)


def test_signature_and_backoff_schedule() -> None:
    expected = hmac.new(b"whsec_k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert signature("whsec_k", 1700000000, "{}") == f"t=1700000000,v1={expected}"
    assert next_attempt(1, START) == START + timedelta(seconds=30)
    assert next_attempt(len(BACKOFF_SECONDS), START) == START + timedelta(hours=6)
    assert next_attempt(len(BACKOFF_SECONDS) + 1, START) is None
