"""Stripe events into conversations, and the sweep that backs up webhooks (design rule 5).

`route_stripe_event` is the one way a verified Stripe event enters: the webhook and the
Events API sweep both call it, with the same ingest id (`stripe:<event id>`), so an event the
sweep found and its late webhook retry are one event (TESTCASES 12).

Dispatch never trusts an event's copy of a payment: `payment_facts` retrieves the payment
again (session, PaymentIntent, refunds, disputes) and the ledger applies what is new
(TESTCASES design rule 2). The event's own copy is used only when Stripe cannot be reached,
and the payment's session is then tracked again so that the sweep looks once more.

The sweep, at worker start then every few minutes:
1. Events API: every event of the types we handle since the last checkpoint, paginated;
2. tracked sessions: each Checkout Session our pay links opened is retrieved again until
   nothing more can happen to it (TESTCASES 13: the fallback when events are gone);
   flash-sale holds' sessions likewise (`offer_payments.sweep_sessions`): paid is sold once,
   expired gives its unit back once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any, Literal

import redis.asyncio as aioredis

from bot.engine import offer_payments
from bot.engine.events import PaymentLook, encode
from bot.engine.pipeline import ingest
from bot.logs import log_fields
from bot.store import keys
from bot.store.invoices import InvoiceLocation, InvoiceLocations, locate_invoice
from bot.store.payments import IntentLocation, load_records, locate_intent, save_intent_location
from payments.ledger import PaymentFacts, Verdict, facts_from_objects, needs_applying
from payments.stripe_gateway import PaymentProviderError, StripeGateway
from payments.webhook import HANDLED_EVENT_TYPES, PaymentRef, event_object, payment_ref

log = logging.getLogger(__name__)

Routed = Literal["ingested", "duplicate", "ignored", "unmatched", "wrong_mode"]

# What an event's type says when the PaymentIntent cannot be read again.
_VERDICT_HINTS: Mapping[str, Verdict] = {
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.async_payment_failed": "failed",
}


def track(pipe: aioredis.client.Pipeline, session_id: str) -> None:
    pipe.sadd(keys.CHECKOUT_SESSIONS_OPEN, session_id)


# --- Routing --------------------------------------------------------------------------------


async def route_stripe_event(
    redis: aioredis.Redis,
    event: Mapping[str, Any],
    *,
    livemode: bool,
    sessions: set[str] | None = None,
    locations: InvoiceLocations | None = None,
) -> Routed:
    """Put a verified event in its invoice's conversation (deduplicated by event id).

    `sessions` collects the Checkout Sessions of the events ingested (for the sweep);
    `locations`, the process's invoice locators (None: read each from Redis).
    """
    ref = payment_ref(event)
    if ref is None:
        return "ignored"  # TESTCASES 14
    if ref.livemode is not livemode:
        # A test event on a live endpoint (or the reverse), whatever its signature: not ours.
        await park(redis, event, "livemode_mismatch")
        log.error(
            "ALERT stripe event of the other mode ignored",
            extra=log_fields(event=ref.event_id, livemode=ref.livemode),
        )
        return "wrong_mode"
    known = locations if locations is not None else InvoiceLocations()
    target = await _locate(redis, ref, known)
    if target is None:
        if not ref.moves_money:
            return "ignored"  # a failed or expired session that is not ours moved no money
        await park(redis, event, "unknown_invoice")
        log.warning(
            "stripe payment without a known invoice parked", extra=log_fields(event=ref.event_id)
        )
        return "unmatched"
    location, session_id = target
    remember_intent = None
    if ref.session_id is not None and ref.payment_intent is not None:
        # Refund and dispute events name only the PaymentIntent: remember where it belongs
        # now, as they may be routed before this event is dispatched (sweep after an outage).
        # Written ahead of the event in its ingest's round trip.
        intent = IntentLocation(location.merchant_id, location.invoice_id, ref.session_id)
        payment_intent = ref.payment_intent

        def remember_intent(pipe: aioredis.client.Pipeline) -> object:
            return save_intent_location(pipe, payment_intent, intent)

    look = PaymentLook(
        location.merchant_id, location.invoice_id, session_id, ref, event_object(event)
    )
    fresh = await ingest(
        redis,
        encode(f"stripe:{ref.event_id}", location.conversation, look),
        before=remember_intent,
    )
    if fresh and sessions is not None and session_id is not None:
        sessions.add(session_id)
    return "ingested" if fresh else "duplicate"


async def park(redis: aioredis.Redis, event: Mapping[str, Any], reason: str) -> None:
    """Keep an event we cannot place, once per event id (not once per redelivery)."""
    record = json.dumps({"reason": reason, "event": dict(event)})
    await redis.hsetnx(keys.PAYMENTS_UNMATCHED, str(event.get("id")), record)


async def _locate(
    redis: aioredis.Redis, ref: PaymentRef, locations: InvoiceLocations
) -> tuple[InvoiceLocation, str | None] | None:
    if ref.invoice_id is not None:
        location = await locations.find(redis, ref.invoice_id)
        if location is not None and location.merchant_id == ref.merchant_id:
            return location, ref.session_id
    if ref.payment_intent is not None:
        intent = await locate_intent(redis, ref.payment_intent)
        if intent is not None:
            location = await locations.find(redis, intent.invoice_id)
            if location is not None:
                return location, intent.session_id
    return None


# --- Looking again ----------------------------------------------------------------------------


async def payment_facts(
    stripe: StripeGateway, redis: aioredis.Redis, look: PaymentLook
) -> PaymentFacts | None:
    """The payment as Stripe shows it now; the event's copy if Stripe cannot answer."""
    session_id = look.session_id
    try:
        if session_id is None and look.ref is not None and look.ref.payment_intent:
            session_id = await stripe.session_for_payment_intent(look.ref.payment_intent)
        if session_id is None:
            log.error("payment event without a session", extra=log_fields(invoice=look.invoice_id))
            return None
        objects = await stripe.retrieve_payment(session_id)
        return facts_from_objects(
            objects.session,
            intent=objects.intent,
            refunds=objects.refunds,
            disputes=objects.disputes,
        )
    except PaymentProviderError as error:
        if not error.retryable:  # Stripe does not know it: a forged or foreign reference
            log.error(
                "ALERT payment event naming an object stripe does not know",
                extra=log_fields(invoice=look.invoice_id, session=session_id),
            )
            return None
        log.warning(
            "stripe unavailable: deciding from the event, the sweep will look again",
            extra=log_fields(invoice=look.invoice_id, session=session_id),
        )
        if session_id is not None:
            await redis.sadd(keys.CHECKOUT_SESSIONS_OPEN, session_id)
        return _facts_from_event(look)


def _facts_from_event(look: PaymentLook) -> PaymentFacts | None:
    ref, obj = look.ref, look.object
    if ref is None or obj is None or obj.get("object") != "checkout.session":
        return None  # refund and dispute copies are partial: wait for the sweep
    return facts_from_objects(obj, verdict_hint=_VERDICT_HINTS.get(ref.event_type))


# --- The sweep ------------------------------------------------------------------------------


async def sweep(redis: aioredis.Redis, stripe: StripeGateway, *, now: float) -> int:
    """Both halves; returns how many payment events they delivered."""
    looked_at: set[str] = set()
    delivered = await sweep_events(redis, stripe, looked_at)
    delivered += await offer_payments.sweep_sessions(redis, stripe, now=now)
    return delivered + await sweep_sessions(redis, stripe, skip=looked_at)


async def sweep_events(
    redis: aioredis.Redis, stripe: StripeGateway, sessions: set[str] | None = None
) -> int:
    """Every handled event since the checkpoint, oldest first, through the webhook's route.

    `sessions` collects the sessions these events will make dispatch look at again."""
    checkpoint = await redis.get(keys.STRIPE_EVENTS_CHECKPOINT)
    try:
        events = await stripe.events_since(HANDLED_EVENT_TYPES, checkpoint)
    except PaymentProviderError as error:
        if error.retryable or checkpoint is None:
            raise
        # The checkpoint is older than what Stripe keeps (30 days): start from what it has;
        # replays are harmless, the session sweep covers the rest (TESTCASES 13).
        log.error("ALERT events checkpoint unknown to stripe; full sweep")
        await redis.delete(keys.STRIPE_EVENTS_CHECKPOINT)
        events = await stripe.events_since(HANDLED_EVENT_TYPES, None)
    delivered = 0
    for event in events:
        # A flash-sale hold's event goes to its recipient's conversation, as from the webhook.
        offer = await offer_payments.route_event(redis, event)
        if offer is None:
            routed = await route_stripe_event(
                redis, event, livemode=stripe.livemode, sessions=sessions
            )
        else:
            routed = "ingested" if offer else "duplicate"
        if routed == "ingested":
            delivered += 1
            log.info("stripe event found by the sweep", extra=log_fields(event=event.get("id")))
        await redis.set(keys.STRIPE_EVENTS_CHECKPOINT, str(event["id"]))
    return delivered


async def sweep_sessions(
    redis: aioredis.Redis, stripe: StripeGateway, *, skip: set[str] | None = None
) -> int:
    """Check every tracked session once (but those an event just sent to dispatch)."""
    delivered = 0
    for session_id in await redis.smembers(keys.CHECKOUT_SESSIONS_OPEN):
        if skip and session_id in skip:
            continue
        try:
            objects = await stripe.retrieve_payment(session_id)
        except PaymentProviderError as error:
            if not error.retryable:  # unknown to Stripe: nothing will ever happen to it
                await redis.srem(keys.CHECKOUT_SESSIONS_OPEN, session_id)
            continue
        facts = facts_from_objects(
            objects.session,
            intent=objects.intent,
            refunds=objects.refunds,
            disputes=objects.disputes,
        )
        if facts.verdict is None:
            continue  # still open
        if await _deliver(redis, facts):
            delivered += 1
    return delivered


async def _deliver(redis: aioredis.Redis, facts: PaymentFacts) -> bool:
    """Ask dispatch to apply what the ledger has not seen yet; stop tracking settled ones."""
    if facts.verdict == "expired" or facts.invoice_id is None or facts.merchant_id is None:
        # An expired session moved no money; one without our metadata is not ours.
        await redis.srem(keys.CHECKOUT_SESSIONS_OPEN, facts.session_id)
        return False
    location = await locate_invoice(redis, facts.invoice_id)
    if location is None or location.merchant_id != facts.merchant_id:
        await redis.srem(keys.CHECKOUT_SESSIONS_OPEN, facts.session_id)
        return False
    records = await load_records(redis, facts.merchant_id, facts.invoice_id)
    if not needs_applying(records.get(facts.session_id), facts):
        if facts.verdict in ("paid", "failed", "expired"):
            await redis.srem(keys.CHECKOUT_SESSIONS_OPEN, facts.session_id)
        return False
    look = PaymentLook(facts.merchant_id, facts.invoice_id, facts.session_id, None, None)
    # One event per distinct state of the payment: a second sweep of the same state is a
    # duplicate, a later change (refund...) a new look.
    state = json.dumps(dataclasses.asdict(facts), sort_keys=True, default=str)
    digest = hashlib.sha256(state.encode()).hexdigest()[:16]
    fresh = await ingest(
        redis,
        encode(f"stripe-session:{facts.session_id}:{digest}", location.conversation, look),
    )
    if fresh:
        # Debug: the webhook's own event may still be on its way to dispatch, which applies
        # each change once; at INFO this line repeated payments already applied (issue 13).
        log.debug(
            "payment found by the sweep",
            extra=log_fields(session=facts.session_id, verdict=facts.verdict),
        )
    return fresh
