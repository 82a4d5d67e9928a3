"""Money to review: a person applies a payment the ledger did not count to an invoice of the
same merchant, refunds it through Stripe, or dismisses it (the dashboard and the API).

Apply is an event of the target invoice's conversation (`review_apply`): dispatch counts the
money on that invoice in its MULTI, as for a Stripe payment, and the flow sends the receipt
(there is no second path to the customer). Exactly once, whoever clicks how often:
- a claim per payment (`SET NX` on the merchant's slot) names the one invoice it goes to, and
  a refund holds the same claim while Stripe is asked;
- the event id is the payment's, so a second click ingests nothing new;
- dispatch skips a payment the invoice already holds (its record `review:<session>`).
Refund asks Stripe with a key per payment and amount already refunded; the `charge.refunded`
webhook then flows as usual (the ledger's credit note, the customer told).

Before anything, the payment is read again from Stripe (design rule 2): only settled money
that no invoice counted can be applied or refunded from here.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import redis.asyncio as aioredis

from bot.engine import events, merchant_webhooks
from bot.engine.pipeline import ingest
from bot.logs import log_fields
from bot.services import Services
from bot.store import desk, keys
from bot.store.handover import audit_entry
from bot.store.invoices import get_invoice, invoice_conversation, save_invoice
from bot.store.ledger import Plan, load_extras, save_plan
from bot.store.payments import load_records, save_record
from flows.model import PaymentOutcome
from payments.invoice import Invoice
from payments.ledger import PaymentFacts, PaymentRecord, derive_status, facts_from_objects
from payments.money import Money
from payments.stripe_gateway import PaymentProviderError

log = logging.getLogger(__name__)

RECORD_PREFIX = "review:"  # the target invoice's payment record of an applied payment

Action = Literal["apply", "refund", "dismiss"]


class ReviewError(Exception):
    """Why an action cannot be done; `status` is the HTTP answer (404, 409, 422, 502)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


@dataclass(frozen=True, slots=True)
class Done:
    action: Action
    payment_id: str
    invoice_id: str  # where the money goes (apply) or the invoice it was alerted on
    amount: int
    state: Literal["queued", "done"]  # apply: counted by the worker a moment later

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# --- Claims -------------------------------------------------------------------------------


async def _claim(redis: aioredis.Redis, merchant_id: str, session_id: str) -> dict[str, Any]:
    raw = await redis.get(keys.review_claim(merchant_id, session_id))
    return dict(json.loads(raw)) if raw else {}


async def _take(
    redis: aioredis.Redis, merchant_id: str, session_id: str, claim: dict[str, Any]
) -> dict[str, Any]:
    """Set the claim if nobody holds one; returns the claim in force (ours or another's)."""
    key = keys.review_claim(merchant_id, session_id)
    if await redis.set(key, json.dumps(claim), nx=True):
        return claim
    return await _claim(redis, merchant_id, session_id)


def _refuse_claimed(claim: dict[str, Any]) -> ReviewError:
    if claim.get("action") == "apply":
        return ReviewError(409, f"already applied to invoice {claim.get('number', '')}".strip())
    return ReviewError(409, "a refund of this payment is under way")


# --- Reading the payment again ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Money:
    item: desk.ReviewItem
    facts: PaymentFacts
    left: int  # what was paid and is still with the merchant (refunds and lost disputes out)


async def _money(services: Services, merchant_id: str, session_id: str) -> _Money:
    item = await desk.find_review(services.redis, merchant_id, session_id)
    if item is None:
        raise ReviewError(404, "no such payment to review (already handled?)")
    try:
        objects = await services.stripe.retrieve_payment(session_id)
    except PaymentProviderError as error:
        if error.retryable:
            raise ReviewError(502, "Stripe could not be reached: try again") from error
        raise ReviewError(409, "Stripe does not know this payment: dismiss it") from error
    facts = facts_from_objects(
        objects.session, intent=objects.intent, refunds=objects.refunds, disputes=objects.disputes
    )
    if facts.merchant_id not in (None, merchant_id):
        raise ReviewError(404, "no such payment to review")
    if facts.verdict != "paid" or facts.amount is None or facts.currency is None:
        raise ReviewError(409, "this payment is not settled: nothing to apply or refund yet")
    if any(d.state == "open" for d in facts.disputes.values()):
        raise ReviewError(409, "this payment is disputed: wait for the bank's decision")
    lost = sum(d.amount for d in facts.disputes.values() if d.state == "lost")
    left = facts.amount - sum(facts.refunds.values()) - lost
    for invoice_id in {item.invoice_id, facts.invoice_id or item.invoice_id}:
        record = (await load_records(services.redis, merchant_id, invoice_id)).get(session_id)
        if record is not None and record.credited > 0:
            raise ReviewError(409, "this payment was counted on its invoice: nothing to review")
    return _Money(item, facts, left)


# --- Apply --------------------------------------------------------------------------------


def fit(invoice: Invoice, plan: Plan | None, amount: int, currency: str) -> int | str | None:
    """Whether `amount` can be counted on `invoice`: the instalment it pays (or None for the
    invoice itself), or a problem in words."""
    if currency != invoice.currency:
        return f"the payment is in {currency}, the invoice in {invoice.currency}"
    due = invoice.amount_due
    if due <= 0:
        return "the invoice has nothing left to pay"
    if amount > due:
        return f"the payment ({amount}) is more than the {due} due: refund the difference first"
    open_parts = [i for i in (plan.instalments if plan else ()) if i.status != "paid"]
    if not open_parts or amount == due:
        return None
    if amount == open_parts[0].amount:
        return open_parts[0].number
    return f"with an instalment plan, apply {open_parts[0].amount} (the next one) or {due}"


async def apply(
    services: Services, merchant_id: str, session_id: str, target_id: str, user_id: str
) -> Done:
    """Count a payment to review on the merchant's invoice `target_id` (queued to dispatch)."""
    redis = services.redis
    claim = await _claim(redis, merchant_id, session_id)
    if claim and claim.get("action") == "apply" and claim.get("invoice_id") == target_id:
        return await _queue(services, merchant_id, session_id, claim, user_id)  # a second click
    if claim:
        raise _refuse_claimed(claim)
    try:
        money = await _money(services, merchant_id, session_id)
    except ReviewError:
        # A click for the same invoice may have won meanwhile, and its payment may even be
        # counted already ("nothing to review"): the same click again, answered the same.
        claim = await _claim(redis, merchant_id, session_id)
        if claim.get("action") == "apply" and claim.get("invoice_id") == target_id:
            return await _queue(services, merchant_id, session_id, claim, user_id)
        raise
    target = await get_invoice(redis, merchant_id, target_id[:64])
    if target is None:
        raise ReviewError(404, "no such invoice of yours", field="invoice_id")
    extras = await load_extras(redis, merchant_id, target.id)
    fits = fit(target, extras.plan, money.left, str(money.facts.currency))
    if isinstance(fits, str):
        raise ReviewError(409, fits, field="invoice_id")
    wanted = {
        "action": "apply",
        "invoice_id": target.id,
        "number": target.number,
        "amount": money.left,
        "currency": money.facts.currency,
        "source_invoice_id": money.item.invoice_id,
        "reason": money.item.reason,
    }
    claim = await _take(redis, merchant_id, session_id, wanted)
    if claim.get("action") != "apply" or claim.get("invoice_id") != target.id:
        raise _refuse_claimed(claim)  # another click, for another invoice, won the race
    return await _queue(services, merchant_id, session_id, claim, user_id)


async def _queue(
    services: Services, merchant_id: str, session_id: str, claim: dict[str, Any], user_id: str
) -> Done:
    redis = services.redis
    target = await get_invoice(redis, merchant_id, str(claim["invoice_id"]))
    if target is None:
        raise ReviewError(404, "no such invoice of yours", field="invoice_id")
    applied = events.ReviewApplied(
        action="apply",
        invoice_id=target.id,
        number=str(claim.get("number", target.number)),
        amount=int(claim["amount"]),
        currency=str(claim["currency"]),
        source_invoice_id=str(claim["source_invoice_id"]),
        reason=str(claim.get("reason", "")),
        merchant_id=merchant_id,
        session_id=session_id,
        user_id=user_id,
    )
    # The payment's id: ingested once per conversation, whoever clicks how often.
    conversation = invoice_conversation(target)
    await ingest(redis, events.encode(f"review-apply:{session_id}", conversation, applied))
    if await desk.remove_review(redis, merchant_id, session_id):
        detail = f"{session_id} → {target.number} ({claim['amount']})"
        await _audit(services, merchant_id, "review_applied", user_id, detail)
        log.info(
            "payment to review applied",
            extra=log_fields(invoice=target.id, session=session_id, user=user_id),
        )
    return Done("apply", session_id, target.id, int(claim["amount"]), "queued")


async def _audit(
    services: Services, merchant_id: str, what: str, user_id: str, detail: str
) -> None:
    async with services.redis.pipeline(transaction=True) as pipe:
        audit_entry(
            pipe,
            merchant_id,
            at=services.clock.now(),
            ref="",
            what=what,
            user_id=user_id,
            detail=detail,
        )
        await pipe.execute()


@dataclass(frozen=True, slots=True)
class Counted:
    invoice: Invoice
    plan: Plan | None
    outcome: PaymentOutcome


async def count(
    redis: aioredis.Redis,
    pipe: aioredis.client.Pipeline,
    applied: events.ReviewApplied,
    now: datetime,
) -> Counted | None:
    """Dispatch's half of apply: count the money on the invoice, in the event's MULTI.

    The invoice may have moved since the click (paid meanwhile): then the payment goes back
    to the review list with why, and the claim is released.
    """
    merchant_id, invoice_id = applied.merchant_id, applied.invoice_id
    session_id, amount = applied.session_id, applied.amount
    invoice = await get_invoice(redis, merchant_id, invoice_id)
    if invoice is None:
        return None
    records = await load_records(redis, merchant_id, invoice_id)
    record_id = RECORD_PREFIX + session_id
    if record_id in records:
        return None  # counted already
    plan = (await load_extras(redis, merchant_id, invoice_id)).plan
    fits = fit(invoice, plan, amount, applied.currency)
    if isinstance(fits, str):
        source = await get_invoice(redis, merchant_id, applied.source_invoice_id)
        desk.back_to_review(pipe, source or invoice, session_id, f"not applied: {fits}")
        log.warning("payment to review not applied", extra=log_fields(invoice=invoice_id))
        return None
    purpose = f"instalment:{fits}" if fits is not None else "invoice"
    record = PaymentRecord(
        record_id, purpose, "paid", credited=amount, received_at=now.isoformat()
    )
    save_record(pipe, merchant_id, invoice_id, record)
    paid = invoice.amount_paid + amount
    status = derive_status(
        invoice,
        processing=any(r.processing for r in records.values()),
        disputed=any(r.disputed for r in records.values()),
        paid=paid,
        returned=invoice.amount_refunded,
    )
    updated = dataclasses.replace(invoice, amount_paid=paid, status=status)
    save_invoice(pipe, updated)
    if plan is not None:
        plan = _plan_after(plan, fits, paid >= invoice.totals.gross)
        save_plan(pipe, merchant_id, invoice_id, plan)
    merchant_webhooks.payment_applied(
        pipe,
        invoice,
        updated,
        session_id=session_id,
        instalment=fits,
        instalment_paid=fits is not None,
        at=now,
    )
    outcome = PaymentOutcome("paid", Money(amount, invoice.currency), fits, None)
    return Counted(updated, plan, outcome)


def _plan_after(plan: Plan, instalment: int | None, settled: bool) -> Plan:
    if instalment is not None:
        return plan.with_status(instalment, "paid")
    if settled:  # the whole rest paid at once: every instalment is
        for part in plan.instalments:
            plan = plan.with_status(part.number, "paid")
    return plan


# --- Refund and dismiss -------------------------------------------------------------------


async def refund(
    services: Services, merchant_id: str, session_id: str, amount: int | None, user_id: str
) -> Done:
    """Give a payment to review back through Stripe (all of what is left, or `amount`).

    A full refund takes it off the list; after a partial one it stays, for the rest."""
    redis = services.redis
    claim = await _claim(redis, merchant_id, session_id)
    if claim:
        raise _refuse_claimed(claim)
    money = await _money(services, merchant_id, session_id)
    wanted = money.left if amount is None else amount
    if not 0 < wanted <= money.left:
        raise ReviewError(422, f"amount: from 1 to {money.left}", field="amount")
    intent = money.facts.payment_intent
    if intent is None:
        raise ReviewError(409, "Stripe shows no charge for this payment")
    mine = {"action": "refund", "token": secrets.token_hex(8)}
    if await _take(redis, merchant_id, session_id, mine) != mine:
        raise ReviewError(409, "another action on this payment is under way")
    full = wanted == money.left
    refunded_before = (money.facts.amount or 0) - money.left
    try:
        # Same payment, same amount, same refunds before: the same refund, however often.
        key = f"review-refund:{session_id}:{wanted}:{refunded_before}"
        await services.stripe.refund(intent, wanted, key)
    except PaymentProviderError as error:
        await redis.delete(keys.review_claim(merchant_id, session_id))
        raise ReviewError(502, "Stripe did not take the refund: try again") from error
    if not full:
        await redis.delete(keys.review_claim(merchant_id, session_id))
    elif not await desk.remove_review(redis, merchant_id, session_id):
        return Done("refund", session_id, money.item.invoice_id, wanted, "done")
    await _audit(services, merchant_id, "review_refunded", user_id, f"{session_id} ({wanted})")
    log.info("payment to review refunded", extra=log_fields(session=session_id, user=user_id))
    return Done("refund", session_id, money.item.invoice_id, wanted, "done")


async def dismiss(services: Services, merchant_id: str, session_id: str, user_id: str) -> Done:
    """Leave the money where it is: off the list, audited (the merchant settled it elsewhere)."""
    item = await desk.find_review(services.redis, merchant_id, session_id)
    if item is None or not await desk.remove_review(services.redis, merchant_id, session_id):
        raise ReviewError(404, "no such payment to review (already handled?)")
    await _audit(services, merchant_id, "review_dismissed", user_id, item.raw)
    log.info("payment review dismissed", extra=log_fields(user=user_id))
    return Done("dismiss", session_id, item.invoice_id, 0, "done")
