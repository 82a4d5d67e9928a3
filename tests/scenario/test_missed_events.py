"""Missed events: the Events API half of reconciliation (TESTCASES 12, 13).

Webhooks are dropped for a simulated 3 days (wrong endpoint registered) while payments
succeed, a SEPA debit fails, a payment is refunded and another disputed and lost. One sweep
must leave 0 invoices in a wrong state and count nothing twice; late webhook retries after
that change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.store import dedupe, keys
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import (
    GROSS,
    deaf,  # noqa: F401  (fixture)
    invoice,
    pay,
    post_event,
    refund,
    sepa_verdict,
    texts,
)
from tests.scenario.test_refunds import close, dispute

DAY = timedelta(days=1).total_seconds()


async def _three_days_without_webhooks(app: Facto) -> dict[str, dict[str, Any]]:
    """One invoice per story, one chat each; the clock moves a day between stories."""
    stories: dict[str, dict[str, Any]] = {}
    for chat, name in enumerate(("paid", "failed", "refunded", "lost", "pending"), start=501):
        stories[name] = {"chat": str(chat), **await app.issue(invoice_body(address=chat))}
    stories["paid"]["session"] = await pay(app, stories["paid"]["pay_url"])
    failed = await pay(app, stories["failed"]["pay_url"], "sepa")
    await sepa_verdict(app, failed, "fail")
    app.clock.advance(DAY)
    refunded = await pay(app, stories["refunded"]["pay_url"])
    await refund(app, refunded)
    lost = await pay(app, stories["lost"]["pay_url"])
    app.clock.advance(DAY)
    await close(app, (await dispute(app, lost))["id"], "lost")
    await pay(app, stories["pending"]["pay_url"], "sepa")
    app.clock.advance(DAY)
    return stories


async def _states(app: Facto, stories: dict[str, dict[str, Any]]) -> dict[str, Any]:
    states = {}
    for name, story in stories.items():
        body = await invoice(app, story["id"])
        notes = [(n["number"], n["reason"], n["totals"]["gross"]) for n in body["credit_notes"]]
        states[name] = (body["status"], body["amount_paid"], body["amount_refunded"], notes)
    return states


async def test_12_one_sweep_after_three_days_of_lost_webhooks(deaf: Facto) -> None:  # noqa: F811
    stories = await _three_days_without_webhooks(deaf)
    assert all(s == "open" for s, *_ in (await _states(deaf, stories)).values())
    assert all(e.deliveries == [404] for e in deaf.sandbox.events.values())

    await deaf.worker.reconcile()
    await deaf.drain()

    # The two credit notes come from two conversations dispatched concurrently: which one
    # gets number 1 is not ordered, that together they take 1 and 2 without a gap is.
    states = await _states(deaf, stories)
    numbers = sorted(states[name][3][0][0] for name in ("refunded", "lost"))
    assert numbers == ["A-2026-000001", "A-2026-000002"]
    number = {name: states[name][3][0][0] for name in ("refunded", "lost")}
    expected = {
        "paid": ("paid", GROSS, 0, []),
        "failed": ("open", 0, 0, []),
        "refunded": ("refunded", GROSS, GROSS, [(number["refunded"], "refund", GROSS)]),
        "lost": ("refunded", GROSS, GROSS, [(number["lost"], "dispute_lost", GROSS)]),
        "pending": ("processing", 0, 0, []),
    }
    assert states == expected
    paid_texts = await texts(deaf, stories["paid"]["chat"])
    assert sum("Paiement enregistré" in t for t in paid_texts) == 1
    refunded_texts = await texts(deaf, stories["refunded"]["chat"])
    assert not any("Paiement enregistré" in t for t in refunded_texts)  # it was given back
    assert sum("avoir" in t for t in refunded_texts) == 1
    failed_texts = await texts(deaf, stories["failed"]["chat"])
    assert "n'a pas abouti" in failed_texts[-1]

    # A second sweep finds nothing; Stripe's late retries are the same events: no change.
    said = {n: await texts(deaf, s["chat"]) for n, s in stories.items()}
    assert await deaf.worker.reconcile() == 0
    for event in list(deaf.sandbox.events.values()):
        assert await post_event(deaf, event.payload) == 200
    await deaf.drain()
    assert await _states(deaf, stories) == expected
    assert {n: await texts(deaf, s["chat"]) for n, s in stories.items()} == said
    assert await deaf.redis.llen(keys.PAYMENTS_MISMATCH) == 0
    assert await deaf.redis.hlen(keys.PAYMENTS_UNMATCHED) == 0  # the dispute was placed too


async def test_12_checkpoint_only_new_events_are_listed(deaf: Facto) -> None:  # noqa: F811
    first = await deaf.issue(invoice_body(address=601))
    await pay(deaf, first["pay_url"])
    assert await deaf.worker.reconcile() == 1
    checkpoint = await deaf.redis.get(keys.STRIPE_EVENTS_CHECKPOINT)
    newest = list(deaf.sandbox.events)[-1]
    assert checkpoint == newest

    second = await deaf.issue(invoice_body(address=602))
    await pay(deaf, second["pay_url"])
    stripe = deaf.worker.services.stripe
    listed = await stripe.events_since(["checkout.session.completed"], checkpoint, page_size=1)
    assert [e["data"]["object"]["metadata"]["invoice_id"] for e in listed] == [second["id"]]
    await deaf.worker.reconcile()
    await deaf.drain()
    assert (await invoice(deaf, second["id"]))["status"] == "paid"


async def test_13_checkpoint_stripe_no_longer_has_falls_back_to_everything(
    deaf: Facto,  # noqa: F811
) -> None:
    created = await deaf.issue(invoice_body(address=701))
    await pay(deaf, created["pay_url"])
    await deaf.redis.set(keys.STRIPE_EVENTS_CHECKPOINT, "evt_older_than_30_days")
    assert await deaf.worker.reconcile() == 1
    await deaf.drain()
    assert (await invoice(deaf, created["id"]))["status"] == "paid"


async def test_13_sessions_are_swept_when_the_events_api_has_nothing(
    deaf: Facto,  # noqa: F811
) -> None:
    created = await deaf.issue(invoice_body(address=801))
    await pay(deaf, created["pay_url"])
    deaf.sandbox.events.clear()  # beyond 30 days: the Events API returns nothing
    assert await deaf.worker.reconcile() == 1
    await deaf.drain()
    assert (await invoice(deaf, created["id"]))["status"] == "paid"


async def test_payment_counted_before_records_existed_is_not_counted_again(
    deaf: Facto,  # noqa: F811
) -> None:
    created = await deaf.issue(invoice_body(address=901))
    session_id = await pay(deaf, created["pay_url"])
    await deaf.worker.reconcile()
    await deaf.drain()
    assert deaf.merchant is not None
    # As stored by the previous version: the applied-sessions set, no per-payment record.
    await deaf.redis.delete(keys.invoice_payments(deaf.merchant.id, created["id"]))
    await deaf.redis.sadd(
        keys.invoice_applied_sessions(deaf.merchant.id, created["id"]), session_id
    )
    await deaf.redis.delete(keys.STRIPE_EVENTS_CHECKPOINT)
    await deaf.redis.sadd(keys.CHECKOUT_SESSIONS_OPEN, session_id)
    for event in deaf.sandbox.events.values():  # and the seen markers have expired
        await dedupe.forget(deaf.redis, "telegram:901", f"stripe:{event.id}")
    await deaf.worker.reconcile()
    await deaf.drain()
    body = await invoice(deaf, created["id"])
    assert (body["status"], body["amount_paid"]) == ("paid", GROSS)
    assert sum("Paiement enregistré" in t for t in await texts(deaf, "901")) == 1
    assert await deaf.redis.llen(keys.PAYMENTS_MISMATCH) == 0  # not even seen as a duplicate
