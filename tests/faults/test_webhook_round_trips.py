"""Issue 12: Redis round trips of an inbound webhook, counted at the connection, pinned.

An SMS to the platform's number and a payment event of a known invoice cost their ingest's
one round trip once the process has seen that number and that invoice (bot.store.sender_routes,
bot.engine.reconcile): no per-request reads of what does not change per message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio.connection import Connection
from twilio.request_validator import RequestValidator

from bot.web.app_keys import SENDER_ROUTES
from tests.scenario.harness import Facto, invoice_body

pytestmark = pytest.mark.fault

PLATFORM_TOKEN = "sandbox-twilio-token"


class Tally:
    """Commands and pipelines sent by any client of this process while `on` (the worker
    does not run in the background here, and nothing else talks to Redis meanwhile)."""

    def __init__(self) -> None:
        self.on = False
        self.sent: list[bytes] = []


@pytest.fixture
def tally(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tally]:
    found = Tally()
    original = Connection.send_packed_command

    async def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        if found.on:
            found.sent.append(b"".join(command) if isinstance(command, list) else command)
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    yield found


async def _counted(tally: Tally, facto: Facto, path: str, **post: Any) -> int:
    tally.sent.clear()
    tally.on = True
    try:
        response = await facto.client.post(path, **post)
    finally:
        tally.on = False
    assert response.status == 200, await response.text()
    return len(tally.sent)


def _sms(facto: Facto, n: int) -> dict[str, Any]:
    form = {
        "MessageSid": f"SM{n:032d}",
        "From": "+33612345678",
        "To": facto.settings.twilio_sms_from or "",
        "MessagingServiceSid": "MG" + "5" * 32,
        "Body": "aide",
        "AccountSid": facto.settings.twilio_account_sid or "",
    }
    url = f"{facto.base_url}/webhooks/twilio/sms"
    signature = RequestValidator(PLATFORM_TOKEN).compute_signature(url, form)
    return {"data": form, "headers": {"X-Twilio-Signature": signature}}


async def test_an_sms_webhook_costs_its_ingest_only(facto: Facto, tally: Tally) -> None:
    routes = facto.client.app[SENDER_ROUTES]
    routes.notice("subscribe")  # as the listener does once subscribed
    # The first: the number and the service looked up in one pipeline, then ingest (and the
    # script's loading, this Redis being new).
    await _counted(tally, facto, "/webhooks/twilio/sms", **_sms(facto, 1))
    assert await _counted(tally, facto, "/webhooks/twilio/sms", **_sms(facto, 2)) == 1


def _payment(facto: Facto, invoice: dict[str, Any], n: int) -> dict[str, Any]:
    event = {
        "id": f"evt_rt{n}",
        "object": "event",
        "type": "checkout.session.completed",
        "livemode": False,
        "created": int(facto.clock.now().timestamp()),
        "data": {
            "object": {
                "id": f"cs_test_rt{n}",
                "object": "checkout.session",
                "payment_status": "paid",
                "status": "complete",
                "amount_total": 7200,
                "currency": "eur",
                "payment_intent": f"pi_rt{n}",
                "metadata": {"invoice_id": invoice["id"], "merchant_id": invoice["merchant_id"]},
            }
        },
    }
    payload = json.dumps(event).encode()
    stamp = int(facto.clock.now().timestamp())
    secret = facto.settings.stripe_webhook_secrets[0]
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {"data": payload, "headers": {"Stripe-Signature": f"t={stamp},v1={mac}"}}


async def test_a_payment_event_costs_its_ingest_only(facto: Facto, tally: Tally) -> None:
    invoice = await facto.issue(invoice_body())
    assert facto.merchant is not None
    invoice = {"id": invoice["id"], "merchant_id": facto.merchant.id}
    first = await _counted(tally, facto, "/webhooks/stripe", **_payment(facto, invoice, 1))
    second = await _counted(tally, facto, "/webhooks/stripe", **_payment(facto, invoice, 2))
    assert first == 2  # the invoice's locator, then ingest with the PaymentIntent's locator
    assert second == 1
    # The PaymentIntent's locator went with the event: a refund naming it finds the invoice.
    assert await facto.redis.exists("locate:payment_intent:pi_rt2")
