"""Payments of flash-sale holds: Stripe's events, reconciled through the recipient's
conversation like an invoice's (ingest deduplicated by event id, then dispatch).

A hold's id names its campaign (`hold.<campaign>.<random>`) and is the Checkout Session's
`invoice_id` metadata, so a webhook finds it without a lookup table. The dispatch re-reads the
session at Stripe (never trusts the event's copy): paid → the unit is sold (counted per variant
with its revenue), its invoice is issued (bot.engine.order_invoices) and the customer gets a
receipt in the chat naming it; expired → the unit goes back to
the stock. Each write happens once: they are committed with the event (bot.engine.effects_log).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from bot.clock import Clock
from bot.engine import events, order_invoices, outbox
from bot.engine.pipeline import Event, ingest
from bot.logs import log_fields
from bot.store import campaigns, customers, keys
from bot.store.announcement_retirer import AnnouncementRetirer
from bot.store.conversations import append_transcript, split_key
from bot.store.merchants import get_merchant
from channels.base import OutboundMessage
from flows.campaign import receipt_text
from payments.invoice import Invoice
from payments.ledger import Verdict, facts_from_objects
from payments.money import Money, format_money
from payments.stripe_gateway import PaymentProviderError, StripeGateway
from payments.webhook import payment_ref

log = logging.getLogger(__name__)

EVENT_TYPE = events.HoldSettlementDue.TYPE
HOLD_PREFIX = "hold."
SESSION_LIFETIME_SECONDS = 30 * 60  # Stripe's minimum: a hold lasts as long
# A tap reserves, then calls Stripe, then records the session: the sweep leaves a hold alone
# this long so as not to race a live tap, and allows this much between its clock and Stripe's.
TAP_GRACE_SECONDS = 120
CLOCK_SKEW_SECONDS = 300


def hold_id(campaign_id: str, suffix: str) -> str:
    return f"{HOLD_PREFIX}{campaign_id}.{suffix}"


def campaign_of_hold(hold: str) -> str | None:
    if not hold.startswith(HOLD_PREFIX):
        return None
    parts = hold.split(".")
    return parts[1] if len(parts) == 3 else None


async def register(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str, hold: str, *, at: float
) -> None:
    """Put a hold on the sweep's list BEFORE it is reserved (the reservation is on the
    merchant's slot, this list is not, so they cannot be one step): whatever dies after it,
    the sweep finds the hold. A hold that was never reserved is dropped by the sweep."""
    member = _member(merchant_id, campaign_id, hold)
    await redis.zadd(keys.OFFER_SESSIONS_OPEN, {member: at}, nx=True)


async def forget(redis: aioredis.Redis, merchant_id: str, campaign_id: str, hold: str) -> None:
    """A registered hold id that was not used (sold out, ended, or the customer's open hold)."""
    await redis.zrem(keys.OFFER_SESSIONS_OPEN, _member(merchant_id, campaign_id, hold))


async def track_session(
    redis: aioredis.Redis,
    merchant_id: str,
    campaign_id: str,
    hold: str,
    session_id: str,
    *,
    at: float,
) -> bool:
    """Remember a hold's session for the sweep; True the first time."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hsetnx(keys.offer_session(merchant_id, campaign_id, hold), "session_id", session_id)
        pipe.zadd(keys.OFFER_SESSIONS_OPEN, {_member(merchant_id, campaign_id, hold): at}, nx=True)
        first, _ = await pipe.execute()
    return bool(first)


def _member(merchant_id: str, campaign_id: str, hold: str) -> str:
    return f"{merchant_id}/{campaign_id}/{hold}"


async def route(redis: aioredis.Redis, event: Mapping[str, Any]) -> bool:
    """True when the event is about a hold's session (ingested into its conversation)."""
    return await route_event(redis, event) is not None


async def route_event(redis: aioredis.Redis, event: Mapping[str, Any]) -> bool | None:
    """None when not a hold's event; else whether it was new (a duplicate is not)."""
    ref = payment_ref(event)
    if ref is None or ref.invoice_id is None or ref.merchant_id is None:
        return None
    campaign_id = campaign_of_hold(ref.invoice_id)
    if campaign_id is None:
        return None
    record = await redis.hgetall(keys.offer_session(ref.merchant_id, campaign_id, ref.invoice_id))
    if not record or ref.session_id is None:
        log.warning("stripe event for an unknown hold", extra=log_fields(event=ref.event_id))
        return False  # ours by its shape, but nothing to apply it to: acknowledged, ignored
    due = events.HoldSettlementDue(ref.merchant_id, campaign_id, ref.invoice_id, ref.session_id)
    settled = events.encode(f"stripe:{ref.event_id}", record["conversation"], due)
    return await ingest(redis, settled)


async def sweep_sessions(redis: aioredis.Redis, stripe: StripeGateway, *, now: float) -> int:
    """Each tracked hold's session, read again at Stripe: paid or expired becomes the same
    `offer_payment` event a webhook would have caused (dispatch settles a hold once, whichever
    comes first); settled holds stop being tracked. A hold whose session was never recorded
    (the web process died around the Stripe call) is looked for at Stripe by its reference;
    one with no session at all once its session's expiry has passed gives its unit back.
    Returns how many events were new."""
    delivered = 0
    for member, since in await redis.zrange(keys.OFFER_SESSIONS_OPEN, 0, -1, withscores=True):
        merchant_id, campaign_id, hold = member.split("/", 2)
        record = await redis.hgetall(keys.offer_session(merchant_id, campaign_id, hold))
        if record.get("outcome") or (not record and now - since > TAP_GRACE_SECONDS):
            await redis.zrem(keys.OFFER_SESSIONS_OPEN, member)  # settled, or never reserved
            continue
        if not record:
            continue  # registered a moment ago: its tap may still be reserving it
        session_id = record.get("session_id") or await _find_session(
            redis, stripe, member, record, now=now
        )
        if session_id is None:
            continue
        event = await _settled(stripe, member, session_id, record)
        if event is None:
            continue
        if isinstance(event, str):  # "gone"
            await redis.zrem(keys.OFFER_SESSIONS_OPEN, member)
            continue
        if await ingest(redis, event):
            delivered += 1
            log.info("flash-sale session found by the sweep", extra=log_fields(hold=hold))
    return delivered


async def _find_session(
    redis: aioredis.Redis,
    stripe: StripeGateway,
    member: str,
    record: Mapping[str, str],
    *,
    now: float,
) -> str | None:
    """The session of a hold whose id was never recorded, found at Stripe by the hold (its
    `client_reference_id`) and recorded; None while there is none (yet). A hold that still has
    none once no session could still exist for it is given back through its conversation."""
    merchant_id, campaign_id, hold = member.split("/", 2)
    if not record.get("reserved_at") or not record.get("expires_at"):
        return None  # reserved before holds kept their times: not judged without them
    reserved_at, expires_at = float(record["reserved_at"]), float(record["expires_at"])
    if now - reserved_at < TAP_GRACE_SECONDS:
        return None  # its tap may be calling Stripe right now
    try:
        # Stripe refuses a session expiring in under 30 min, and the hold fixed `expires_at`
        # 30 min after the reservation: any session of the hold was created around then.
        session = await stripe.find_checkout_session(
            hold,
            created_from=datetime.fromtimestamp(reserved_at - CLOCK_SKEW_SECONDS, UTC),
            created_to=datetime.fromtimestamp(expires_at + CLOCK_SKEW_SECONDS, UTC),
        )
    except PaymentProviderError:
        log.warning("stripe unavailable: hold without session looked at next sweep")
        return None
    if session is not None:
        await track_session(redis, merchant_id, campaign_id, hold, session.id, at=reserved_at)
        log.info("flash-sale session recovered by the sweep", extra=log_fields(hold=hold))
        return session.id
    if now < expires_at + TAP_GRACE_SECONDS:
        return None  # a slow create may still land; its session would expire by then
    if await ingest(redis, _unopened(member, record)):
        log.info("flash-sale hold without a session released", extra=log_fields(hold=hold))
    return None


def _unopened(member: str, record: Mapping[str, str]) -> Event:
    """The event that gives back a hold Stripe has no session for (one id per hold)."""
    merchant_id, campaign_id, hold = member.split("/", 2)
    due = events.HoldSettlementDue(merchant_id, campaign_id, hold)
    return events.encode(f"offer-hold:{hold}:unopened", record["conversation"], due)


async def settle_hold(
    redis: aioredis.Redis,
    stripe: StripeGateway,
    link: Mapping[str, str],
    record: Mapping[str, str],
    session_id: str | None,
) -> bool:
    """Have the hold's conversation settle it now, as the sweep would later (same event
    ids): its session's end state, or (`session_id` None) that it has none. A tap that finds
    its customer's hold over uses it: the unit changes hands only in the conversation's
    dispatch, never beside it. `link`: merchant_id, campaign_id, hold."""
    member = _member(link["merchant_id"], link["campaign_id"], link["hold"])
    if session_id is None:
        return await ingest(redis, _unopened(member, record))
    event = await _settled(stripe, member, session_id, record)
    return isinstance(event, Event) and await ingest(redis, event)


async def _settled(
    stripe: StripeGateway, member: str, session_id: str, record: Mapping[str, str]
) -> Event | str | None:
    """The event for a session that reached its end state; "gone" if Stripe does not know
    it; None while it is open (or Stripe is unavailable)."""
    merchant_id, campaign_id, hold = member.split("/", 2)
    try:
        verdict, _amount = await session_verdict(stripe, session_id)
    except PaymentProviderError as error:
        # Unknown to Stripe: nothing will ever happen to it.
        return None if error.retryable else "gone"
    if verdict not in ("paid", "expired", "failed"):
        return None  # still open, or a delayed debit (SEPA) on its way
    # One id per end state: a second sweep before dispatch settled it adds nothing.
    due = events.HoldSettlementDue(merchant_id, campaign_id, hold, session_id)
    return events.encode(f"stripe-session:{session_id}:{verdict}", record["conversation"], due)


async def session_verdict(stripe: StripeGateway, session_id: str) -> tuple[Verdict | None, int]:
    """Where a hold's session stands at Stripe now, and the amount it was for: paid, expired,
    failed (a delayed debit refused: the session stays complete and unpaid, only its
    PaymentIntent says so), processing, or None while open."""
    objects = await stripe.retrieve_payment(session_id)
    facts = facts_from_objects(objects.session, intent=objects.intent)
    return facts.verdict, facts.amount or 0


# A hold's record `outcome` once settled at Stripe; "refused" and "unopened" holds were given
# back without a session (bot.web.offers, the sweep).
SETTLED = ("paid", "expired", "failed")


@dataclass
class OfferPaymentDispatch:
    redis: aioredis.Redis
    pipe: aioredis.client.Pipeline
    event: Event
    due: events.HoldSettlementDue
    clock: Clock
    stripe: StripeGateway
    retirer: AnnouncementRetirer  # the process's: its order invoice's announcement
    base_url: str = ""  # for the invoice's link in the receipt

    async def run(self) -> None:
        merchant_id, campaign_id = self.due.merchant_id, self.due.campaign_id
        hold, session_id = self.due.hold, self.due.session_id or ""
        record = await self.redis.hgetall(keys.offer_session(merchant_id, campaign_id, hold))
        status = await campaigns.load(self.redis, merchant_id, campaign_id)
        if not record or status is None or record.get("outcome") in SETTLED:
            return  # unknown, or already settled (a redelivery, the other of two events)
        released = record.get("outcome")  # given back as having no session ("refused"...)
        customer_id, variant = record["customer_id"], record["variant"]
        name = keys.offer_session(merchant_id, campaign_id, hold)
        counts = keys.campaign_counts(merchant_id, campaign_id)
        holds = keys.campaign_holds(merchant_id, campaign_id)
        if not session_id:  # the sweep found no session for it, past its expiry
            await self._unopened(record, hold)
            return
        verdict, amount = await session_verdict(self.stripe, session_id)
        if not record.get("session_id"):  # the web process died before recording it
            self.pipe.hset(name, "session_id", session_id)
        paid = verdict == "paid"
        if released and not paid:
            return  # its unit went back already
        if released:
            # Money taken for a hold given back as sessionless: only if Stripe forgot the
            # key (kept 24 h) while the sweep was down. The sale stands; the unit is taken
            # again, which may exceed the stock by this one.
            log.error("ALERT offer paid after its hold was released", extra=log_fields(hold=hold))
            self.pipe.hincrby(keys.campaign(merchant_id, campaign_id), "reserved", 1)
        if paid:
            invoice = await self._invoice(record, status, hold, amount)
            now = self.clock.now()
            order = {"outcome": "paid", "amount": amount, "paid_at": now.isoformat()}
            if invoice is not None:
                order |= {"invoice_id": invoice.id, "invoice_number": invoice.number}
            self.pipe.hset(name, mapping=order)
            self.pipe.zadd(keys.campaign_orders(merchant_id, campaign_id), {hold: now.timestamp()})
            # Sold: the unit stays taken; the customer may buy again up to the offer's limit.
            if await self.redis.hget(holds, customer_id) == hold:
                self.pipe.hdel(holds, customer_id)
            self.pipe.hincrby(keys.campaign_bought(merchant_id, campaign_id), customer_id, 1)
            for counter, value in (("paid", 1), ("revenue", amount)):
                self.pipe.hincrby(counts, counter, value)
                self.pipe.hincrby(counts, f"{variant}:{counter}", value)
            await self._receipt(merchant_id, customer_id, status, amount, invoice)
        elif verdict in ("expired", "failed"):  # the checkout left unpaid, or its debit refused
            self.pipe.hset(name, "outcome", verdict)
            if await self.redis.hget(holds, customer_id) == hold:
                # Back to the stock; the customer may tap their link again.
                self.pipe.hdel(holds, customer_id)
                self.pipe.hincrby(keys.campaign(merchant_id, campaign_id), "reserved", -1)
            self.pipe.hincrby(counts, "expired" if verdict == "expired" else "payment_failed", 1)

    async def _unopened(self, record: Mapping[str, str], hold: str) -> None:
        """A hold with no session at Stripe, past the time one could exist: given back."""
        if record.get("session_id") or record.get("outcome"):
            return  # one was found since (its end state settles it), or given back already
        merchant_id, campaign_id = self.due.merchant_id, campaign_of_hold(hold)
        if campaign_id is None:
            return
        holds = keys.campaign_holds(merchant_id, campaign_id)
        self.pipe.hset(keys.offer_session(merchant_id, campaign_id, hold), "outcome", "unopened")
        if await self.redis.hget(holds, record["customer_id"]) == hold:
            self.pipe.hdel(holds, record["customer_id"])
            self.pipe.hincrby(keys.campaign(merchant_id, campaign_id), "reserved", -1)

    async def _invoice(
        self, record: Mapping[str, str], status: campaigns.Status, hold: str, paid: int
    ) -> Invoice | None:
        """The order's invoice, issued once (its id comes from the hold)."""
        merchant_id = status.campaign.merchant_id
        merchant = await get_merchant(self.redis, merchant_id)
        customer = await customers.get(self.redis, merchant_id, record["customer_id"])
        if merchant is None or customer is None:
            return None
        now = self.clock.now()
        try:
            draft = order_invoices.draft(
                merchant,
                customer,
                self.event.conversation,
                status.campaign.offer,
                hold=hold,
                paid=paid,
                now=now,
            )
        except ValueError:
            # An amount with no exact HT (refused when the offer is created; a campaign stored
            # before that check), or a customer record an invoice cannot hold: the sale stands.
            log.exception("ALERT paid order that could not be invoiced: invoice it by hand")
            return None
        return await order_invoices.issue(
            self.redis, draft, merchant.invoice_prefix, now, self.retirer
        )

    async def _receipt(
        self,
        merchant_id: str,
        customer_id: str,
        status: campaigns.Status,
        amount: int,
        invoice: Invoice | None,
    ) -> None:
        customer = await customers.get(self.redis, merchant_id, customer_id)
        locale = customer.locale if customer else "fr"
        offer = status.campaign.offer
        text = receipt_text(
            locale,
            offer.product,
            format_money(Money(amount, offer.currency), locale),
            invoice_number=invoice.number if invoice else None,
            invoice_url=f"{self.base_url}/i/{invoice.view_token}" if invoice else None,
        )
        channel, address = split_key(self.event.conversation)
        message = OutboundMessage(
            channel=channel,
            address=address,
            text=text,
            idempotency_key=f"{self.event.id}:receipt",
        )
        outbox.queue(self.pipe, message, self.event.conversation, merchant_id=merchant_id)
        append_transcript(
            self.pipe,
            self.event.conversation,
            direction="out",
            text=text,
            at=self.clock.now(),
            ref=message.idempotency_key,
        )
        log.info("offer paid", extra=log_fields(campaign=status.campaign.id))
