"""What the merchant's dashboard reads: invoices with filters, one invoice's timeline, and the
payments waiting for a person (the review list). Every lookup starts from the merchant's id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis

from bot.store import delivery_timeline, keys
from bot.store.conversations import transcript
from bot.store.handover import audit_trail, conversation_ref
from bot.store.invoices import (
    REVIEW_CHANGED,
    dashboard_changed,
    get_invoice,
    invoice_conversation,
)
from bot.store.ledger import load_extras
from bot.store.payments import credit_notes_of, load_records
from payments.invoice import Invoice, InvoiceStatus

SCAN_LIMIT = 2000  # newest invoices read per list; older ones are reached through the API cursor
REVIEW_BATCH = 500  # entries read per round trip; the whole list is read, batch by batch
CLOSED = frozenset({InvoiceStatus.PAID, InvoiceStatus.PARTIALLY_REFUNDED, InvoiceStatus.REFUNDED})


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    status: str = ""
    channel: str = ""
    customer: str = ""  # a case-insensitive part of the name, or the number
    due_before: date | None = None
    overdue: bool = False


def is_overdue(invoice: Invoice, today: date) -> bool:
    return invoice.status not in CLOSED and invoice.amount_due > 0 and invoice.due_date < today


def matches(invoice: Invoice, wanted: InvoiceFilter, today: date) -> bool:
    if wanted.status and str(invoice.status) != wanted.status:
        return False
    if wanted.channel and invoice.channel != wanted.channel:
        return False
    if wanted.due_before is not None and invoice.due_date > wanted.due_before:
        return False
    if wanted.overdue and not is_overdue(invoice, today):
        return False
    needle = wanted.customer.strip().casefold()
    return (
        not needle
        or needle in invoice.customer.name.casefold()
        or needle in (invoice.number.casefold())
    )


async def newest_invoices(
    redis: aioredis.Redis, merchant_id: str, limit: int = SCAN_LIMIT
) -> list[Invoice]:
    ids = await redis.zrevrange(keys.merchant_invoices(merchant_id), 0, limit - 1)
    found = [await get_invoice(redis, merchant_id, i) for i in ids]
    return [invoice for invoice in found if invoice is not None]


@dataclass(frozen=True, slots=True)
class Step:
    at: str  # ISO date or datetime: sorted as text, both start with the date
    kind: str
    detail: str


async def timeline(
    redis: aioredis.Redis, invoice: Invoice, *, checkout_lifetime: timedelta
) -> list[Step]:
    """Issued, sent, delivered, read, clicked, promise, plan, payments, refunds, credit notes,
    failed deliveries and fallbacks, messages and hand-overs.

    `checkout_lifetime`: how long the pay page's Checkout Sessions last (dates a click)."""
    m, i = invoice.merchant_id, invoice.id
    steps = [Step(invoice.issue_date.isoformat(), "issued", invoice.number)]
    steps.append(Step(invoice.issue_date.isoformat(), "sent", str(invoice.channel)))
    extras = await load_extras(redis, m, i)
    if extras.promise is not None:
        steps.append(Step(extras.promise.isoformat(), "promise", "pay on this date"))
    if extras.plan is not None:
        for part in extras.plan.instalments:
            detail = f"instalment {part.number}: {part.amount} ({part.status})"
            steps.append(Step(part.due_date.isoformat(), "plan", detail))
    if extras.paused:
        steps.append(Step(invoice.issue_date.isoformat(), "paused", "reminders paused"))
    for record in (await load_records(redis, m, i)).values():
        at = record.received_at or invoice.issue_date.isoformat()
        if record.credited:
            steps.append(Step(at, "payment", str(record.credited)))
        if record.review:
            steps.append(Step(at, "review", record.review))
        for refund, amount in record.refunds.items():
            steps.append(Step(at, "refund", f"{refund}: {amount}"))
    for note in await credit_notes_of(redis, m, i):
        steps.append(Step(note.issue_date.isoformat(), "credit_note", note.number))
    for entry in await delivery_timeline.read(redis, m, i):
        detail = f"{entry.get('channel')}: {entry.get('error')}"
        if entry.get("replaced_by"):
            detail += f" → {entry['replaced_by']}"
        steps.append(Step(str(entry.get("at", "")), "delivery_failed", detail))
    steps += await _conversation_steps(redis, invoice)
    steps += await _handed_over(redis, invoice)
    steps += await _clicks(redis, invoice, checkout_lifetime)
    return sorted(steps, key=lambda s: s.at)


async def _handed_over(redis: aioredis.Redis, invoice: Invoice) -> list[Step]:
    """When the customer's conversation was first handed to a person for this invoice (what the
    hand-over rate counts: bot.store.kpis_more.record_handoff), even before anyone took it."""
    score = await redis.zscore(keys.merchant_handoffs(invoice.merchant_id), invoice.id)
    if score is None:
        return []
    at = datetime.fromtimestamp(float(score), tz=UTC).isoformat()
    return [Step(at, "handover", "handed to a person")]


TEXT_PREVIEW = 90


async def _conversation_steps(redis: aioredis.Redis, invoice: Invoice) -> list[Step]:
    """What was said with the customer since the invoice was issued (messages, reminders,
    replies) and what people did with the conversation (hand-overs: the console's audit).

    A customer's conversation is shared by their invoices: entries from the issue date on.
    """
    conversation = invoice_conversation(invoice)
    since = invoice.issue_date.isoformat()
    steps = []
    said = [e for e in await transcript(redis, conversation) if str(e.get("at", "")) >= since]
    for entry in said:
        at = str(entry.get("at", ""))
        text = str(entry.get("text", ""))[:TEXT_PREVIEW]
        if entry.get("dir") == "in":
            kind = "reply"
        elif str(entry.get("ref", "")).startswith("job:"):
            kind = "reminder"  # said on a scheduled event (bot.engine.schedule: "job:<id>:<t>")
        else:
            kind = "agent_message" if entry.get("by") else "message"
        steps.append(Step(at, kind, text))
    steps += await _delivered(redis, [e for e in said if e.get("dir") != "in"])
    ref = conversation_ref(invoice.merchant_id, conversation)
    for entry in await audit_trail(redis, invoice.merchant_id, ref):
        at = str(entry.get("at", ""))
        if at >= since:
            steps.append(Step(at, "handover", f"{entry.get('what')} {entry.get('detail', '')}"))
    return steps


SEEN = ("delivered", "read")  # what the provider's status callbacks said (undelivered: above)


async def _delivered(redis: aioredis.Redis, sent: list[dict[str, Any]]) -> list[Step]:
    """Delivered and read, from the status callbacks kept per provider message id (the
    outbox record of each message said names it). Callbacks carry no time we keep: the step
    is dated when the message was sent, and says so."""
    refs = [str(e["ref"]) for e in sent if e.get("ref")]
    if not refs:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for ref in refs:
            pipe.hmget(keys.outbox_message(ref), ["provider_id", "delivery"])
        records = await pipe.execute()
    async with redis.pipeline(transaction=False) as pipe:
        for provider_id, _noted in records:
            pipe.hget(keys.outbox_delivery(provider_id or "-"), "state")
        reported = await pipe.execute()
    # The callbacks' state per provider id lives for hours; delivered or read is also noted
    # on the record (bot.engine.outbox.record_delivery), which lives as long as retention.
    states = [r or noted for r, (_id, noted) in zip(reported, records, strict=True)]
    by_ref = dict(zip(refs, states, strict=True))
    steps = []
    for entry in sent:
        state = by_ref.get(str(entry.get("ref", "")))
        if state in SEEN:
            text = str(entry.get("text", ""))[:40]
            steps.append(Step(str(entry.get("at", "")), str(state), f"(sent then) {text}"))
    return steps


async def _clicks(redis: aioredis.Redis, invoice: Invoice, lifetime: timedelta) -> list[Step]:
    """Pay links opened: the checkout each one last opened (for the invoice and for each
    instalment), dated from its expiry minus the lifetime the pay page gives sessions."""
    m, i = invoice.merchant_id, invoice.id
    extras = await load_extras(redis, m, i)
    numbers = [None, *(p.number for p in (extras.plan.instalments if extras.plan else ()))]
    steps = []
    for number in numbers:
        offered = await redis.hgetall(keys.invoice_checkout(m, i, number))
        if "expires_at" not in offered:
            continue
        at = datetime.fromisoformat(offered["expires_at"]) - lifetime
        what = "pay link" if number is None else f"instalment {number} link"
        detail = f"{what} opened the checkout ({offered.get('amount')}), attempt "
        steps.append(Step(at.isoformat(), "clicked", detail + str(offered.get("attempt"))))
    return steps


# Money to review -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewItem:
    raw: str  # the list entry itself: dismissing removes exactly this one
    invoice_id: str
    session_id: str
    reason: str


async def review_items(redis: aioredis.Redis, merchant_id: str) -> list[ReviewItem]:
    """Payments whose amount or currency differs from the invoice (dispatch's alerts).

    The list is global (dispatch writes it for every merchant); only this merchant's are kept.
    Stripe events that name no known invoice (`payments:unmatched-events`) belong to no
    merchant, so they stay an operator's matter.
    """
    items = []
    for raw in await _all_mismatches(redis):
        try:
            data: dict[str, Any] = json.loads(raw)
        except ValueError:
            continue
        if data.get("merchant_id") != merchant_id:
            continue
        items.append(
            ReviewItem(
                raw,
                str(data.get("invoice_id", "")),
                str(data.get("session_id", "")),
                str(data.get("reason", "")),
            )
        )
    return items


async def _all_mismatches(redis: aioredis.Redis) -> list[str]:
    """Every entry of the shared list, read in batches so that no merchant's entry is left
    past the first ones. An entry removed meanwhile shifts the rest by one: one may be missed
    by this read (never doubled, never another merchant's); the next read shows it."""
    found: list[str] = []
    while True:
        batch = await redis.lrange(
            keys.PAYMENTS_MISMATCH, len(found), len(found) + REVIEW_BATCH - 1
        )
        found += batch
        if len(batch) < REVIEW_BATCH:
            return found


async def dismiss_review(redis: aioredis.Redis, merchant_id: str, raw: str) -> bool:
    """Take one entry off the review list (the caller audits who did)."""
    try:
        if json.loads(raw).get("merchant_id") != merchant_id:
            return False
    except ValueError:
        return False
    removed = bool(await redis.lrem(keys.PAYMENTS_MISMATCH, 1, raw))
    if removed:
        await dashboard_changed(redis, merchant_id, REVIEW_CHANGED)
    return removed


async def find_review(
    redis: aioredis.Redis, merchant_id: str, session_id: str
) -> ReviewItem | None:
    """The merchant's review entry for one payment (the first, if it was alerted twice)."""
    found = [i for i in await review_items(redis, merchant_id) if i.session_id == session_id]
    return found[0] if found else None


async def remove_review(redis: aioredis.Redis, merchant_id: str, session_id: str) -> int:
    """Take every entry of one payment off the list; how many this call removed (0 when a
    concurrent call took them first: only the caller that removed them audits)."""
    removed = 0
    for item in await review_items(redis, merchant_id):
        if item.session_id == session_id:
            removed += int(await redis.lrem(keys.PAYMENTS_MISMATCH, 0, item.raw))
    if removed:
        await dashboard_changed(redis, merchant_id, REVIEW_CHANGED)
    return removed


def back_to_review(
    pipe: aioredis.client.Pipeline, invoice: Invoice, session_id: str, reason: str
) -> None:
    """Put a payment back on the list (an apply that the invoice could no longer take)."""
    entry = {
        "invoice_id": invoice.id,
        "merchant_id": invoice.merchant_id,
        "session_id": session_id,
        "reason": reason,
    }
    pipe.rpush(keys.PAYMENTS_MISMATCH, json.dumps(entry))
    pipe.delete(keys.review_claim(invoice.merchant_id, session_id))
    dashboard_changed(pipe, invoice.merchant_id, REVIEW_CHANGED)


async def open_invoices(
    redis: aioredis.Redis, merchant_id: str, limit: int = 200
) -> list[Invoice]:
    """Invoices that can still take money (what a payment to review may be applied to)."""
    found = await newest_invoices(redis, merchant_id)
    return [i for i in found if i.status not in CLOSED and i.amount_due > 0][:limit]
