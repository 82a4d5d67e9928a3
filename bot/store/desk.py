"""What the merchant's dashboard reads: invoices with filters, one invoice's timeline, and the
payments waiting for a person (the review list). Every lookup starts from the merchant's id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import redis.asyncio as aioredis

from bot.store import delivery_timeline, keys
from bot.store.conversations import conversation_key, transcript
from bot.store.handover import audit_trail, conversation_ref
from bot.store.invoices import customer_address, get_invoice
from bot.store.ledger import load_extras
from bot.store.payments import credit_notes_of, load_records
from payments.invoice import Invoice, InvoiceStatus

SCAN_LIMIT = 2000  # newest invoices read per list; older ones are reached through the API cursor
REVIEW_LIMIT = 500
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


async def timeline(redis: aioredis.Redis, invoice: Invoice) -> list[Step]:
    """Issued, promise, plan, payments, refunds, credit notes, failed deliveries and fallbacks."""
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
    return sorted(steps, key=lambda s: s.at)


TEXT_PREVIEW = 90


async def _conversation_steps(redis: aioredis.Redis, invoice: Invoice) -> list[Step]:
    """What was said with the customer since the invoice was issued (messages, reminders,
    replies) and what people did with the conversation (hand-overs: the console's audit).

    A customer's conversation is shared by their invoices: entries from the issue date on.
    """
    channel, address = customer_address(invoice)
    conversation = conversation_key(channel, address)
    since = invoice.issue_date.isoformat()
    steps = []
    for entry in await transcript(redis, conversation):
        at = str(entry.get("at", ""))
        if at < since:
            continue
        text = str(entry.get("text", ""))[:TEXT_PREVIEW]
        if entry.get("dir") == "in":
            kind = "reply"
        elif str(entry.get("ref", "")).startswith("job:"):
            kind = "reminder"  # said on a scheduled event (bot.engine.schedule: "job:<id>:<t>")
        else:
            kind = "agent_message" if entry.get("by") else "message"
        steps.append(Step(at, kind, text))
    ref = conversation_ref(invoice.merchant_id, conversation)
    for entry in await audit_trail(redis, invoice.merchant_id, ref):
        at = str(entry.get("at", ""))
        if at >= since:
            steps.append(Step(at, "handover", f"{entry.get('what')} {entry.get('detail', '')}"))
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
    for raw in await redis.lrange(keys.PAYMENTS_MISMATCH, 0, REVIEW_LIMIT - 1):
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


async def dismiss_review(redis: aioredis.Redis, merchant_id: str, raw: str) -> bool:
    """Take one entry off the review list (the caller audits who did)."""
    try:
        if json.loads(raw).get("merchant_id") != merchant_id:
            return False
    except ValueError:
        return False
    return bool(await redis.lrem(keys.PAYMENTS_MISMATCH, 1, raw))


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


async def open_invoices(
    redis: aioredis.Redis, merchant_id: str, limit: int = 200
) -> list[Invoice]:
    """Invoices that can still take money (what a payment to review may be applied to)."""
    found = await newest_invoices(redis, merchant_id)
    return [i for i in found if i.status not in CLOSED and i.amount_due > 0][:limit]
