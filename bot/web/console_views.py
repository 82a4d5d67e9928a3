"""What the console shows: the queue, a transcript with delivery states, the payment context.

Read-only and limited to one merchant: every lookup starts from the user's merchant id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from babel.dates import format_timedelta

from bot.engine.facts import customer_addresses
from bot.logs import mask_card_numbers, mask_phone
from bot.store import consent, handover, keys, whatsapp_window
from bot.store.conversations import load_state, split_key, transcript
from bot.store.handover import Holder, conversation_ref
from bot.store.invoices import get_invoice, invoice_conversation
from bot.store.ledger import load_extras
from channels.base import ChannelName
from channels.twilio_whatsapp import WINDOW, window_open
from channels.whatsapp_templates import AGENT_MESSAGE, AGENT_TEXT_MAX_CHARS
from flows.model import ConversationState
from payments.invoice import Invoice
from payments.money import Money
from payments.plan import Plan

REASONS = {
    "asked": "asked for a person",
    "dispute": "dispute",
    "already_paid": "says it is already paid (not found)",
    "unknown": "two misunderstandings",
}
INVOICE_SCAN_LIMIT = 500  # the merchant's newest invoices searched for this customer's


def mask_address(conversation: str) -> str:
    channel, address = split_key(conversation)
    if channel.value == "sms":
        return mask_phone(address)
    return address[:2] + "•" * max(len(address) - 4, 1) + address[-2:]


def waited(since: datetime, now: datetime, locale: str) -> str:
    """How long the customer has waited, in the agent's language ("12 minutes", "3 heures").

    A threshold of 1.5 keeps "65 minutes" rather than rounding it to "1 hour": a wait is read
    to pick who goes first, and an hour and a half is not an hour.
    """
    delta = max(now - since, timedelta(0))
    return format_timedelta(delta, locale=locale, threshold=1.5, granularity="minute")


@dataclass(frozen=True, slots=True)
class QueueItem:
    ref: str
    reason: str
    channel: str
    customer: str
    masked: str
    at_stake: Money | None
    invoice_number: str
    since: datetime
    waited: str
    holder: Holder | None


async def queue_items(
    redis: aioredis.Redis, merchant_id: str, now: datetime, locale: str = "en"
) -> list[QueueItem]:
    items = []
    for waiting in await handover.queue(redis, merchant_id):
        handoff = waiting.handoff
        invoice = None
        if handoff.get("invoice_id"):
            invoice = await get_invoice(redis, merchant_id, str(handoff["invoice_id"]))
        ref = conversation_ref(merchant_id, waiting.conversation)
        # The queue links by reference: make sure the reference resolves (older hand-overs).
        await redis.set(keys.conversation_ref(merchant_id, ref), waiting.conversation)
        items.append(
            QueueItem(
                ref=ref,
                reason=REASONS.get(str(handoff.get("reason")), str(handoff.get("reason", "?"))),
                channel=str(handoff.get("channel") or split_key(waiting.conversation)[0]),
                customer=str(handoff.get("customer_name") or ""),
                masked=mask_address(waiting.conversation),
                at_stake=Money(invoice.amount_due, invoice.currency) if invoice else None,
                invoice_number=str(handoff.get("invoice_number") or ""),
                since=waiting.since,
                waited=waited(waiting.since, now, locale),
                holder=waiting.holder,
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class Line:
    direction: str
    text: str
    at: str
    by: str | None
    delivery: str | None


async def lines(redis: aioredis.Redis, conversation: str) -> list[Line]:
    shown = []
    for entry in await transcript(redis, conversation):
        delivery = None
        if entry.get("dir") == "out":
            delivery = await _delivery(redis, str(entry.get("ref", "")))
        shown.append(
            Line(
                direction=str(entry.get("dir")),
                text=mask_card_numbers(str(entry.get("text", ""))),
                at=str(entry.get("at", ""))[:16].replace("T", " "),
                by=entry.get("by"),
                delivery=delivery,
            )
        )
    return shown


async def _delivery(redis: aioredis.Redis, key: str) -> str | None:
    record = await redis.hmget(keys.outbox_message(key), "state", "provider_id", "delivery")
    state, provider_id, delivered = record
    if provider_id:
        # The callbacks' state per provider id lives for hours; delivered or read is also
        # noted on the record, which lives as long as the outbox retention.
        reported = await redis.hget(keys.outbox_delivery(provider_id), "state")
        return str(reported or delivered or state)
    return str(state) if state else None


@dataclass(frozen=True, slots=True)
class InvoiceContext:
    invoice: Invoice
    gross: Money
    due: Money
    paid: Money
    plan: Plan | None
    promise: str | None
    paused: bool
    pay_url: str
    link_opened: bool

    def money(self, amount: int) -> Money:
        return Money(amount, self.invoice.currency)


@dataclass(frozen=True, slots=True)
class Context:
    conversation: str
    ref: str
    state: ConversationState
    channel: str
    masked: str
    customer: str
    opted_out: bool
    invoices: list[InvoiceContext]
    holder: Holder | None
    handoff: dict[str, Any]
    audit: list[dict[str, Any]]


async def context(
    redis: aioredis.Redis, merchant_id: str, conversation: str, base_url: str
) -> Context:
    state = await load_state(redis, conversation)
    found = await customer_invoices(redis, merchant_id, conversation)
    contexts = [await _invoice_context(redis, invoice, base_url) for invoice in found]
    addresses = customer_addresses(found[0], conversation) if found else [conversation]
    raw_handoff = await redis.get(keys.handoff(merchant_id, conversation))
    ref = conversation_ref(merchant_id, conversation)
    return Context(
        conversation=conversation,
        ref=ref,
        state=state,
        channel=split_key(conversation)[0].value,
        masked=mask_address(conversation),
        customer=found[0].customer.name if found else "",
        opted_out=await consent.is_opted_out(redis, merchant_id, addresses),
        invoices=contexts,
        holder=await handover.holder(redis, merchant_id, conversation),
        handoff=json.loads(raw_handoff) if raw_handoff else {},
        audit=await handover.audit_trail(redis, merchant_id, ref, limit=30),
    )


async def customer_invoices(
    redis: aioredis.Redis, merchant_id: str, conversation: str
) -> list[Invoice]:
    """The merchant's invoices sent to this conversation's customer, open ones first."""
    ids = await redis.zrevrange(keys.merchant_invoices(merchant_id), 0, INVOICE_SCAN_LIMIT - 1)
    mine = []
    for invoice_id in ids:
        invoice = await get_invoice(redis, merchant_id, invoice_id)
        if invoice is not None and invoice_conversation(invoice) == conversation:
            mine.append(invoice)
    return sorted(mine, key=lambda i: (i.amount_due == 0, i.due_date))


async def _invoice_context(
    redis: aioredis.Redis, invoice: Invoice, base_url: str
) -> InvoiceContext:
    extras = await load_extras(redis, invoice.merchant_id, invoice.id)
    opened = await redis.exists(keys.invoice_checkout(invoice.merchant_id, invoice.id))
    if extras.plan is not None:
        for item in extras.plan.instalments:
            opened = opened or await redis.exists(
                keys.invoice_checkout(invoice.merchant_id, invoice.id, item.number)
            )
    return InvoiceContext(
        invoice=invoice,
        gross=Money(invoice.totals.gross, invoice.currency),
        due=Money(invoice.amount_due, invoice.currency),
        paid=Money(invoice.amount_paid, invoice.currency),
        plan=extras.plan,
        promise=extras.promise.isoformat() if extras.promise else None,
        paused=extras.paused,
        pay_url=f"{base_url}/p/{invoice.pay_token}",
        link_opened=bool(opened),
    )


@dataclass(frozen=True, slots=True)
class WhatsAppWindow:
    """WhatsApp's 24 h customer-service window, as the adapter will judge it when it sends
    (channels.twilio_whatsapp), and what a reply becomes while it is closed."""

    open: bool
    closes_at: datetime | None  # local time; None: the customer never wrote (or long ago)
    # The approved template a reply goes in while closed, split around the reply's place.
    before: str
    after: str
    max_chars: int  # what the template leaves for the reply


async def whatsapp_window_of(
    redis: aioredis.Redis,
    conversation: str,
    *,
    now: datetime,
    zone: ZoneInfo,
    locale: str,
    team: str,
) -> WhatsAppWindow | None:
    """None for a conversation that is not on WhatsApp."""
    channel, address = split_key(conversation)
    if channel is not ChannelName.WHATSAPP:
        return None
    last = await whatsapp_window.last_inbound(redis, address)
    shown = AGENT_MESSAGE.render(
        locale if locale in AGENT_MESSAGE.text else "fr", {"1": team, "2": "\x00"}
    )
    before, _, after = shown.partition("\x00")
    return WhatsAppWindow(
        open=window_open(last, now),
        closes_at=(last + WINDOW).astimezone(zone) if last is not None else None,
        before=before,
        after=after,
        max_chars=AGENT_TEXT_MAX_CHARS,
    )
