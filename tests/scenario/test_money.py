"""Money you can trust: failed debits, any order of events, modes and secrets, amounts.

Stripe events are the emulator's own signed events; to reorder or replay them, a test takes
a Facto whose webhooks are lost (wrong endpoint registered) and posts the stored payloads to
`/webhooks/stripe` itself, signed like Stripe would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis
import stripe
from pydantic import ValidationError

from bot.embedded_redis import EmbeddedRedis
from bot.engine import deadletters
from bot.settings import Settings
from bot.store import keys
from tests.scenario.harness import Facto, invoice_body, start_facto

GROSS = 8580  # invoice_body(): 71.50 + 20 %
HOOK = "/webhooks/stripe"


@pytest.fixture
async def deaf(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    """A Facto whose Stripe webhooks are all lost on the way (wrong endpoint registered)."""
    app = await start_facto(redis_server.url, redis, stripe_webhook_path="/webhooks/lost")
    await app.add_merchant()
    yield app
    await app.client.close()


def signature(payload: str, facto: Facto, *secrets: str) -> str:
    t = int(facto.clock.now().timestamp())
    headers: list[str] = [
        stripe.WebhookSignature.generate_signature_header(payload, s, t)
        for s in (secrets or ("whsec_sandbox",))
    ]
    return headers[0] + "".join(h[h.index(",") :] for h in headers[1:])


async def post_event(facto: Facto, payload: str, *secrets: str) -> int:
    response = await facto.client.post(
        HOOK,
        data=payload.encode(),
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": signature(payload, facto, *secrets),
        },
    )
    return response.status


def events_of(facto: Facto, session_id: str) -> dict[str, str]:
    """Stored event payloads about one session or its PaymentIntent, by type (the last)."""
    ours = {session_id, facto.sandbox.sessions[session_id].payment_intent}
    found = {}
    for event in facto.sandbox.events.values():
        obj = json.loads(event.payload)["data"]["object"]
        if {obj.get("id"), obj.get("payment_intent")} & ours - {None}:
            found[event.type] = event.payload
    return found


async def open_checkout(facto: Facto, pay_url: str) -> str:
    response = await facto.client.post(urlparse(pay_url).path, allow_redirects=False)
    assert response.status == 303, await response.text()
    return urlparse(response.headers["Location"]).path


async def pay_outside_our_link(facto: Facto, invoice_id: str, amount: int, purpose: str) -> str:
    """A Checkout Session naming the invoice but not minted by our pay link (a second device
    on an older session, or a forged one), paid by card; returns its id."""
    assert facto.merchant is not None
    session = await facto.worker.services.stripe.create_checkout_session(
        amount=amount,
        currency="EUR",
        description="outside our pay link",
        invoice_id=invoice_id,
        merchant_id=facto.merchant.id,
        purpose=purpose,
        idempotency_key=f"outside:{invoice_id}:{purpose}:{amount}",
        success_url=f"{facto.base_url}/ok",
        cancel_url=f"{facto.base_url}/ko",
        expires_at=facto.clock.now() + timedelta(hours=1),
        locale="fr",
    )
    await facto.client.post(f"/sandbox/stripe/pay/{session.id}/card", allow_redirects=False)
    await facto.drain()
    return session.id


async def pay(facto: Facto, pay_url: str, how: str = "card") -> str:
    """Pay through the test checkout page; returns the session id."""
    checkout = await open_checkout(facto, pay_url)
    response = await facto.client.post(f"{checkout}/{how}", allow_redirects=False)
    assert response.status in (200, 303), await response.text()
    await facto.drain()
    return checkout.rsplit("/", 1)[-1]


async def sepa_verdict(facto: Facto, session_id: str, verdict: str) -> None:
    await facto.client.post(f"/sandbox/stripe/pay/{session_id}/sepa/{verdict}")
    await facto.drain()


async def invoice(facto: Facto, invoice_id: str) -> dict[str, Any]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def texts(facto: Facto, chat: str = "424242") -> list[str]:
    return [m["text"] for m in await facto.messages("telegram", chat)]


async def refund(facto: Facto, session_id: str, amount: int | None = None) -> None:
    """The merchant refunds through Stripe's API (the real SDK, POST /v1/refunds)."""
    intent = facto.sandbox.sessions[session_id].payment_intent
    assert intent is not None
    key = f"test-refund-{intent}-{amount}-{len(facto.sandbox.refunds)}"
    await facto.worker.services.stripe.refund(intent, amount, key)
    await facto.drain()


# --- 1. A failed SEPA debit stays failed --------------------------------------------------


async def test_failed_debit_is_not_revived_by_the_sweep(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    session_id = await pay(facto, created["pay_url"], "sepa")
    await sepa_verdict(facto, session_id, "fail")
    assert (await invoice(facto, created["id"]))["status"] == "open"
    told = len(await texts(facto))

    assert await facto.worker.reconcile() == 0
    await facto.drain()
    assert (await invoice(facto, created["id"]))["status"] == "open"
    assert len(await texts(facto)) == told  # no second "en cours de traitement"
    assert not await facto.redis.sismember(keys.CHECKOUT_SESSIONS_OPEN, session_id)
    assert await open_checkout(facto, created["pay_url"]) != f"/sandbox/stripe/pay/{session_id}"


# --- 2. Any order, same state (TESTCASES 8, 9, 16) -----------------------------------------


async def test_16_failed_before_completed_ends_open(deaf: Facto) -> None:
    created = await deaf.issue(invoice_body())
    session_id = await pay(deaf, created["pay_url"], "sepa")
    await sepa_verdict(deaf, session_id, "fail")
    stored = events_of(deaf, session_id)
    for event_type in (
        "checkout.session.async_payment_failed",
        "checkout.session.completed",
    ):
        assert await post_event(deaf, stored[event_type]) == 200
        await deaf.drain()
    assert (await invoice(deaf, created["id"]))["status"] == "open"
    assert not any("en cours de traitement" in t for t in await texts(deaf))
    await deaf.worker.reconcile()
    await deaf.drain()
    assert (await invoice(deaf, created["id"]))["status"] == "open"


def _state(body: dict[str, Any]) -> tuple[Any, ...]:
    notes = [(n["totals"]["gross"], n["reason"]) for n in body["credit_notes"]]
    return body["status"], body["amount_paid"], body["amount_refunded"], body["amount_due"], notes


async def test_8_refund_and_payment_in_either_order(deaf: Facto) -> None:
    """TESTCASES 8: completed → refunded, then the reverse: identical state, no "paid" SMS
    after the refund."""
    finals = []
    for chat, order in ((111, ("completed", "refunded")), (222, ("refunded", "completed"))):
        created = await deaf.issue(invoice_body(address=chat))
        session_id = await pay(deaf, created["pay_url"])
        await refund(deaf, session_id)
        stored = events_of(deaf, session_id)
        types = {"completed": "checkout.session.completed", "refunded": "charge.refunded"}
        for name in order:
            assert await post_event(deaf, stored[types[name]]) == 200
            await deaf.drain()
        finals.append(_state(await invoice(deaf, created["id"])))
        said = await texts(deaf, str(chat))
        last_receipt = max(
            (i for i, t in enumerate(said) if "Paiement enregistré" in t), default=-1
        )
        first_avoir = min(i for i, t in enumerate(said) if "avoir" in t)
        assert last_receipt < first_avoir
    assert finals[0] == finals[1] == ("refunded", GROSS, GROSS, 0, [(GROSS, "refund")])


async def test_9_late_processing_after_paid_stays_paid(deaf: Facto) -> None:
    created = await deaf.issue(invoice_body())
    session_id = await pay(deaf, created["pay_url"], "sepa")
    await sepa_verdict(deaf, session_id, "confirm")
    stored = events_of(deaf, session_id)
    await post_event(deaf, stored["checkout.session.async_payment_succeeded"])
    await deaf.drain()
    await post_event(deaf, stored["checkout.session.completed"])  # the older "processing"
    await deaf.drain()
    body = await invoice(deaf, created["id"])
    assert (body["status"], body["amount_paid"]) == ("paid", GROSS)
    assert sum("Paiement enregistré" in t for t in await texts(deaf)) == 1


# --- 5. Mode confusion and secret rotation (TESTCASES 4, 5, 6) -----------------------------


async def test_6_event_of_the_other_mode_is_ignored_and_alerted(deaf: Facto) -> None:
    created = await deaf.issue(invoice_body())
    session_id = await pay(deaf, created["pay_url"])
    payload = events_of(deaf, session_id)["checkout.session.completed"]
    live = payload.replace('"livemode": false', '"livemode": true')
    assert live != payload
    assert await post_event(deaf, live) == 200  # signed with the right (test) secret
    await deaf.drain()
    assert (await invoice(deaf, created["id"]))["status"] == "open"
    [parked] = (await deaf.redis.hgetall(keys.PAYMENTS_UNMATCHED)).values()
    assert json.loads(parked)["reason"] == "livemode_mismatch"


@pytest.mark.parametrize(
    "value", ["", " ", "whsec_kept_secret, ", ",whsec_kept_secret", "whsec_kept_secret,,whsec_b"]
)
def test_5_blank_webhook_secret_refuses_to_start(value: str) -> None:
    with pytest.raises(ValidationError, match="STRIPE_WEBHOOK_SECRET must be one or more") as info:
        Settings.model_validate({"STRIPE_WEBHOOK_SECRET": value})
    assert "whsec_kept_secret" not in str(info.value)


async def test_4_rotation_accepts_both_secrets_then_only_the_new(
    redis_server: EmbeddedRedis, redis: aioredis.Redis
) -> None:
    rolling = await start_facto(
        redis_server.url,
        redis,
        stripe_webhook_path="/webhooks/lost",
        STRIPE_WEBHOOK_SECRET="whsec_new, whsec_old",
    )
    await rolling.add_merchant()
    try:
        created = await rolling.issue(invoice_body())
        session_id = await pay(rolling, created["pay_url"])
        payload = events_of(rolling, session_id)["checkout.session.completed"]
        assert await post_event(rolling, payload, "whsec_old") == 200
        assert await post_event(rolling, payload, "whsec_new", "whsec_old") == 200
        assert await post_event(rolling, payload, "whsec_retired") == 400
        await rolling.drain()
        assert (await invoice(rolling, created["id"]))["status"] == "paid"
    finally:
        await rolling.client.close()


async def test_4_emulator_signs_with_every_secret_while_rolling(
    redis_server: EmbeddedRedis, redis: aioredis.Redis
) -> None:
    rolling = await start_facto(
        redis_server.url, redis, STRIPE_WEBHOOK_SECRET="whsec_new,whsec_old"
    )
    await rolling.add_merchant()
    try:
        created = await rolling.issue(invoice_body())
        await pay(rolling, created["pay_url"])
        assert (await invoice(rolling, created["id"]))["status"] == "paid"
    finally:
        await rolling.client.close()


# --- 6. Amounts are always checked (TESTCASES 23, 24) --------------------------------------


async def test_23_instalment_claim_on_an_invoice_without_plan_is_not_credited(
    facto: Facto,
) -> None:
    created = await facto.issue(invoice_body())
    forged = await pay_outside_our_link(facto, created["id"], 10, "instalment:1")
    body = await invoice(facto, created["id"])
    assert (body["status"], body["amount_paid"]) == ("open", 0)
    assert not any("Paiement enregistré" in t for t in await texts(facto))
    [alert] = await facto.redis.lrange(keys.PAYMENTS_MISMATCH, 0, -1)
    assert "no such instalment" in json.loads(alert)["reason"]

    event = next(e for e in facto.sandbox.events.values() if e.session_id == forged)
    for _ in range(3):  # redeliveries and the sweep alert nothing more
        await facto.client.post(f"/sandbox/api/stripe/redeliver/{event.id}")
    await facto.worker.reconcile()
    await facto.drain()
    assert await facto.redis.llen(keys.PAYMENTS_MISMATCH) == 1


async def test_24_unmatched_event_is_recorded_once(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    checkout = await open_checkout(facto, created["pay_url"])
    session_id = checkout.rsplit("/", 1)[-1]
    facto.sandbox.sessions[session_id].metadata.pop("invoice_id")
    await facto.client.post(f"{checkout}/card", allow_redirects=False)
    [event] = [e for e in facto.sandbox.events.values() if e.session_id == session_id]
    for _ in range(5):
        response = await facto.client.post(f"/sandbox/api/stripe/redeliver/{event.id}")
        assert response.status == 200
    assert await facto.redis.hlen(keys.PAYMENTS_UNMATCHED) == 1


async def test_event_naming_another_invoice_than_its_payment_is_alerted(deaf: Facto) -> None:
    victim = await deaf.issue(invoice_body(address=311))
    paid = await deaf.issue(invoice_body(address=312))
    session_id = await pay(deaf, paid["pay_url"])
    await refund(deaf, session_id)
    payload = events_of(deaf, session_id)["charge.refunded"]
    forged = payload.replace(paid["id"], victim["id"])
    assert forged != payload
    assert await post_event(deaf, forged) == 200
    await deaf.drain()
    body = await invoice(deaf, victim["id"])
    assert (body["status"], body["amount_refunded"], body["credit_notes"]) == ("open", 0, [])
    [alert] = await deaf.redis.lrange(keys.PAYMENTS_MISMATCH, 0, -1)
    assert json.loads(alert)["reason"] == "session belongs to another invoice"
    assert await deadletters.list_all(deaf.redis) == []
