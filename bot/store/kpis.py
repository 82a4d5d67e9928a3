"""Figures of the merchant's dashboard over a period, per channel: computed from invoices.

`compute` is pure (tested on known data sets); `load` reads what it needs from Redis.
An invoice belongs to the period of its issue date. Amounts are in minor units.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.desk import CLOSED, is_overdue, newest_invoices
from bot.store.invoices import invoice_conversation
from bot.store.ledger import InvoiceExtras, load_extras
from bot.store.payments import load_records
from payments.invoice import Invoice


@dataclass(frozen=True, slots=True)
class Facts:
    """One invoice and what the figures need beside it."""

    invoice: Invoice
    paid_on: date | None  # when the last counted payment arrived, if it is paid
    extras: InvoiceExtras
    # Its message went out to the customer (it joined the conversation's invoices): an invoice
    # issued but never sent cannot convert, so it stays out of the conversion.
    sent: bool = True


@dataclass(frozen=True, slots=True)
class Figures:
    invoices: int
    paid: int
    conversion: float | None  # paid / sent (of the invoices whose message was sent)
    invoiced: int
    overdue_amount: int
    unpaid_rate: float | None  # overdue amount / invoiced amount
    average_delay_days: float | None  # issue → paid
    median_delay_days: float | None
    promises: int
    promise_kept_rate: float | None  # paid on or before the promised date
    plans: int
    plan_completion_rate: float | None  # every instalment paid
    # The fast-payment reward (issue 10): invoices that offered it, that earned it, the share.
    rewards_offered: int = 0
    rewards_granted: int = 0
    fast_payment_rate: float | None = None
    sent: int = 0  # invoices whose message was sent: the conversion's denominator

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def figures(facts: Iterable[Facts], today: date) -> Figures:
    rows = list(facts)
    paid = [f for f in rows if f.invoice.status in CLOSED]
    sent = [f for f in rows if f.sent]
    delays = [(f.paid_on - f.invoice.issue_date).days for f in paid if f.paid_on is not None]
    invoiced = sum(f.invoice.totals.gross for f in rows)
    overdue = sum(f.invoice.amount_due for f in rows if is_overdue(f.invoice, today))
    promised = [f for f in rows if f.extras.promise is not None]
    kept = [
        f
        for f in promised
        if f.paid_on is not None and f.extras.promise is not None and f.paid_on <= f.extras.promise
    ]
    plans = [f for f in rows if f.extras.plan is not None]
    completed = [
        f
        for f in plans
        if f.extras.plan is not None and all(i.status == "paid" for i in f.extras.plan.instalments)
    ]
    offered = [f for f in rows if f.invoice.reward is not None]
    granted = [f for f in offered if f.extras.reward is not None]
    return Figures(
        rewards_offered=len(offered),
        rewards_granted=len(granted),
        fast_payment_rate=_ratio(len(granted), len(offered)),
        invoices=len(rows),
        paid=len(paid),
        sent=len(sent),
        conversion=_ratio(sum(1 for f in sent if f.invoice.status in CLOSED), len(sent)),
        invoiced=invoiced,
        overdue_amount=overdue,
        unpaid_rate=_ratio(overdue, invoiced),
        average_delay_days=round(statistics.fmean(delays), 2) if delays else None,
        median_delay_days=float(statistics.median(delays)) if delays else None,
        promises=len(promised),
        promise_kept_rate=_ratio(len(kept), len(promised)),
        plans=len(plans),
        plan_completion_rate=_ratio(len(completed), len(plans)),
    )


def compute(facts: Iterable[Facts], start: date, end: date, today: date) -> Mapping[str, Figures]:
    """Figures for invoices issued in [start, end]: "all", then one entry per channel."""
    rows = [f for f in facts if start <= f.invoice.issue_date <= end]
    result = {"all": figures(rows, today)}
    for channel in sorted({str(f.invoice.channel) for f in rows}):
        result[channel] = figures([f for f in rows if str(f.invoice.channel) == channel], today)
    return result


async def load(redis: aioredis.Redis, merchant_id: str) -> list[Facts]:
    facts = []
    for invoice in await newest_invoices(redis, merchant_id):
        records = await load_records(redis, merchant_id, invoice.id)
        received = [
            datetime.fromisoformat(r.received_at).date()
            for r in records.values()
            if r.received_at and r.credited
        ]
        paid_on = max(received) if received and invoice.status in CLOSED else None
        # dispatch adds a sent invoice to its conversation's list (bot.engine.dispatch._about)
        sent = await redis.zscore(keys.conv_invoices(invoice_conversation(invoice)), invoice.id)
        extras = await load_extras(redis, merchant_id, invoice.id)
        facts.append(Facts(invoice, paid_on, extras, sent=sent is not None))
    return facts
