"""Voiding an invoice: the merchant cancels what is still due (the API and the dashboard).

An issued invoice is never edited or deleted (LEGAL_FR §1.3): voiding issues a credit note
(the credit-note series) for the unpaid amount, the whole invoice when nothing was paid, the
rest when part was, and marks the invoice `void`, so nothing is due any more. It is an event
of the invoice's conversation (`invoice_void`, one id per invoice: idempotent): dispatch
writes the note and the status in its MULTI, and the flow tells the customer through the
outbox (the note's link) and cancels the reminders. Pay links then show the invoice as
cancelled; a payment made later on a checkout opened before goes to the money to review.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from bot.engine import events
from bot.engine.pipeline import ingest
from bot.logs import log_fields
from bot.services import Services
from bot.store.handover import audit_entry
from bot.store.invoices import get_invoice, invoice_conversation, save_invoice
from bot.store.payments import issue_credit_note
from flows.model import PaymentOutcome
from payments.credit_note import draft_credit_note
from payments.invoice import Invoice, InvoiceStatus
from payments.money import Money

log = logging.getLogger(__name__)

VOIDABLE = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PARTIALLY_PAID})


class VoidRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True, slots=True)
class Voiding:
    invoice_id: str
    amount: int  # what the credit note takes off: all that was still due
    partly_paid: bool
    state: str  # "queued": the worker issues the credit note a moment later; "done": it did

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


async def request(services: Services, merchant_id: str, invoice_id: str, user_id: str) -> Voiding:
    """Queue the voiding of the merchant's invoice (a second call changes nothing)."""
    invoice = await get_invoice(services.redis, merchant_id, invoice_id[:64])
    if invoice is None:
        raise VoidRefused(404, "no such invoice")
    if invoice.status is InvoiceStatus.VOID:
        return Voiding(invoice.id, 0, invoice.amount_paid > 0, "done")
    if invoice.status not in VOIDABLE:
        raise VoidRefused(
            409,
            f"a {invoice.status.value} invoice cannot be voided: only an unpaid or partly "
            "paid one (a paid one is refunded)",
        )
    payload = events.VoidRequested(merchant_id, invoice.id, user_id)
    event = events.encode(f"void:{invoice.id}", invoice_conversation(invoice), payload)
    await ingest(services.redis, event)
    return Voiding(invoice.id, invoice.amount_due, invoice.amount_paid > 0, "queued")


@dataclass(frozen=True, slots=True)
class Voided:
    invoice: Invoice
    outcome: PaymentOutcome


async def apply(
    redis: aioredis.Redis,
    pipe: aioredis.client.Pipeline,
    asked: events.VoidRequested,
    *,
    now: datetime,
    timezone: str,
    base_url: str,
) -> Voided | None:
    """Dispatch's half: the credit note of what is due and the `void` status, in its MULTI.

    None when there is nothing to void any more (voided already, or paid meanwhile)."""
    merchant_id = asked.merchant_id
    invoice = await get_invoice(redis, merchant_id, asked.invoice_id)
    if invoice is None or invoice.status not in VOIDABLE:
        return None
    rest = invoice.amount_due
    today = now.astimezone(ZoneInfo(timezone)).date()
    note = draft_credit_note(invoice, rest, "void", f"void:{invoice.id}", issue_date=today)
    issue_credit_note(pipe, note)
    voided = dataclasses.replace(invoice, status=InvoiceStatus.VOID)
    save_invoice(pipe, voided)
    audit_entry(
        pipe,
        merchant_id,
        at=now,
        ref="",
        what="invoice_voided",
        user_id=asked.user_id,
        detail=f"{invoice.number} {rest}",
    )
    log.info("invoice voided", extra=log_fields(invoice=invoice.id, credit_note=note.id))
    url = f"{base_url}/a/{note.view_token}"
    return Voided(voided, PaymentOutcome("voided", Money(rest, invoice.currency), None, url))
