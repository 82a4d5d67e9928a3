"""The real stripe client against the emulator after payment: PaymentIntents, refunds,
disputes and the Events API (list, pagination both ways, types[] filter)."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from tests.adapters.conftest import Sandbox
from tests.adapters.test_stripe_emulator import client, create, verified_events

__all__ = ["client"]  # the fixture, imported for these tests


async def paid_session(sandbox: Sandbox, client: stripe.StripeClient, key: str) -> Any:
    session = await create(client, key)
    async with sandbox.http.post(session.url + "/card", allow_redirects=False) as paid:
        assert paid.status in (200, 303)
    return await client.v1.checkout.sessions.retrieve_async(session.id)


async def test_payment_intent_refunds_and_their_event(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    session = await paid_session(sandbox, client, "pay-1")
    intent = await client.v1.payment_intents.retrieve_async(session.payment_intent)
    assert (intent.status, intent.amount, intent.metadata["invoice_id"]) == (
        "succeeded",
        7550,
        "F-42",
    )
    partial = await client.v1.refunds.create_async(
        {"payment_intent": intent.id, "amount": 550}, {"idempotency_key": "refund-1"}
    )
    again = await client.v1.refunds.create_async(
        {"payment_intent": intent.id, "amount": 550}, {"idempotency_key": "refund-1"}
    )
    assert again.id == partial.id  # same key, same refund
    rest = await client.v1.refunds.create_async({"payment_intent": intent.id})
    assert (partial.amount, rest.amount, rest.status) == (550, 7000, "succeeded")
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
        await client.v1.refunds.create_async({"payment_intent": intent.id, "amount": 1})

    listed = await client.v1.refunds.list_async({"payment_intent": intent.id})
    assert sorted(r.amount for r in listed.data) == [550, 7000]
    refunded = [e for e in verified_events(sandbox) if e.type == "charge.refunded"]
    assert [e.data.object["amount_refunded"] for e in refunded] == [550, 7550]
    assert refunded[-1].data.object["metadata"]["invoice_id"] == "F-42"


async def test_refund_of_an_unknown_or_unpaid_intent_is_refused(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await client.v1.refunds.create_async({"payment_intent": "pi_missing"})
    assert missing.value.http_status == 404
    session = await create(client, "pay-sepa")
    async with sandbox.http.post(session.url + "/sepa", allow_redirects=False):
        pass
    pending = await client.v1.checkout.sessions.retrieve_async(session.id)
    assert isinstance(pending.payment_intent, str)
    with pytest.raises(stripe.InvalidRequestError, match="no successful charge"):
        await client.v1.refunds.create_async({"payment_intent": pending.payment_intent})


async def test_dispute_open_and_close_send_their_events(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    session = await paid_session(sandbox, client, "pay-2")
    opened = await sandbox.post_json(
        "/sandbox/api/stripe/disputes", {"payment_intent": session.payment_intent}
    )
    assert opened.status == 200
    [dispute] = (
        await client.v1.disputes.list_async({"payment_intent": session.payment_intent})
    ).data
    assert (dispute.status, dispute.amount) == ("needs_response", 7550)
    bad = await sandbox.post_json(
        f"/sandbox/api/stripe/disputes/{dispute.id}/close", {"outcome": "maybe"}
    )
    assert bad.status == 400
    closed = await sandbox.post_json(
        f"/sandbox/api/stripe/disputes/{dispute.id}/close", {"outcome": "lost"}
    )
    assert closed.status == 200
    types = [e.type for e in verified_events(sandbox)]
    assert types[-2:] == ["charge.dispute.created", "charge.dispute.closed"]


async def test_events_list_pages_both_ways_and_filters_types(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    for n in range(3):
        session = await paid_session(sandbox, client, f"pay-ev-{n}")
        await client.v1.refunds.create_async({"payment_intent": session.payment_intent})
    stored = list(sandbox.state.events)  # oldest first: completed, refunded, x3
    assert len(stored) == 6

    first = await client.v1.events.list_async({"limit": 4})
    assert [e.id for e in first.data] == stored[::-1][:4] and first.has_more
    everything = [e.id async for e in first.auto_paging_iter()]
    assert everything == stored[::-1]  # newest first, through starting_after pages

    newer = await client.v1.events.list_async({"ending_before": stored[1], "limit": 2})
    assert [e.id async for e in newer.auto_paging_iter()] == stored[2:]  # oldest first

    refunds = await client.v1.events.list_async({"types": ["charge.refunded"], "limit": 100})
    assert [e.id for e in refunds.data] == stored[1::2][::-1]
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.events.list_async({"starting_after": "evt_missing"})
