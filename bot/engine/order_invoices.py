"""A paid flash-sale order becomes an invoice: numbered in the merchant's one sequence, with
the French mentions, already paid, linked to its order.

Issued with the same script as every invoice (`issuing.issue_and_announce`: the number and the
invoice in one step, no gap), from the payment's dispatch, before its commit. Its id is derived
from the hold, so a dispatch run again (a crash before its commit, the webhook and the sweep
both delivering the payment) finds the invoice stored and issues no second one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from bot.engine import issuing
from bot.store import invoices
from bot.store.announcement_retirer import AnnouncementRetirer
from bot.store.campaigns import Offer
from bot.store.customers import Customer
from bot.store.merchants import Merchant
from bot.store.seller import seller_snapshot
from payments.invoice import (
    Channel,
    CustomerSnapshot,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    VatRate,
    net_for_gross,
    new_link_token,
)

_CHANNELS: dict[str, Channel] = {"sms": "sms", "telegram": "telegram", "whatsapp": "whatsapp"}


class OrderNotInvoiceable(ValueError):
    """The amount paid has no exact HT at the offer's rate (refused when the offer was made)."""


def invoice_id(merchant_id: str, hold: str) -> str:
    """The order's invoice id: the same for every delivery of its payment."""
    digest = hashlib.sha256(f"{merchant_id}:{hold}".encode()).hexdigest()
    return f"inv_{digest[:24]}"


def draft(
    merchant: Merchant,
    customer: Customer,
    conversation: str,
    offer: Offer,
    *,
    hold: str,
    paid: int,
    now: datetime,
) -> Invoice:
    rate = VatRate.parse(offer.vat_rate)
    net = net_for_gross(paid, rate)
    if net is None:
        raise OrderNotInvoiceable(f"{paid} TTC at {rate} %")
    channel, _, address = conversation.partition(":")
    # The order's own channel first: the invoice is about the conversation it was paid from.
    phone = address if channel != "telegram" else None
    phone = phone or customer.channels.get("sms") or customer.channels.get("whatsapp")
    chat = address if channel == "telegram" else customer.channels.get("telegram")
    today = now.astimezone(ZoneInfo(customer.timezone)).date()
    return Invoice(
        id=invoice_id(merchant.id, hold),
        merchant_id=merchant.id,
        number=invoices.draft_number(merchant.invoice_prefix, today.year),
        status=InvoiceStatus.PAID,
        currency=offer.currency,
        lines=(InvoiceLine(offer.product, 1, net, rate),),
        amount_paid=paid,
        issue_date=today,
        due_date=today,
        customer=CustomerSnapshot(
            name=customer.name,
            phone=address if channel in ("sms", "whatsapp") else phone,
            telegram_chat_id=int(address)
            if channel == "telegram"
            else (int(chat) if chat else None),
            locale=customer.locale,
        ),
        channel="telegram"
        if channel == "telegram"
        else "whatsapp"
        if channel == "whatsapp"
        else "sms",
        pay_token=new_link_token(),
        view_token=new_link_token(),
        seller=seller_snapshot(merchant),
    )


async def issue(
    redis: aioredis.Redis,
    order: Invoice,
    prefix: str,
    now: datetime,
    retirer: AnnouncementRetirer,
) -> Invoice:
    """Issue the order's invoice, or find it issued; raises issuing.NotIssued (dispatch then
    fails and the payment event is dispatched again). `retirer`: the process's."""
    done = await issuing.issue_and_announce(
        redis,
        order,
        prefix=prefix,
        now=now,
        answer=invoices.NUMBER_PLACEHOLDER,
        claim=None,
        retirer=retirer,
        announce=False,
    )
    if not isinstance(done, issuing.Created):  # only with an Idempotency-Key claim
        raise issuing.NotIssued(unknown=True)
    # As stored: issued by an earlier run, its links are that run's, not this draft's.
    stored = await invoices.get_invoice(redis, order.merchant_id, order.id)
    if stored is None:
        raise issuing.NotIssued(unknown=True)
    return stored
