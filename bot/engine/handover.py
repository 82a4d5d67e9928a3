"""The hand-over to a person, on the engine side.

`apply`: what `flows.agent`'s actions write, on the dispatch's MULTI (the agent's reply goes
through the outbox like any other message: there is no second path to the customer).
`agent_event` / `submit`: a console action becomes an event of the conversation's inbox.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from bot.engine import outbox, schedule
from bot.engine.events import AgentActed, encode
from bot.engine.pipeline import Event, ingest
from bot.settings import Settings
from bot.store import keys
from bot.store.conversations import append_transcript
from bot.store.handover import (
    RELEASE_IF_HOLDER,
    audit_entry,
    conversation_ref,
    handed_invoice,
)
from bot.store.invoices import get_invoice, save_invoice
from bot.store.payments import issue_credit_note, save_record
from channels.base import OutboundMessage
from channels.whatsapp_templates import agent_message_use
from flows.model import (
    AgentEvent,
    AgentKind,
    AgentPolicy,
    AgentSay,
    Audit,
    ConversationState,
    ConversationStatus,
    Dequeue,
    PaymentOutcome,
    RecordOfflinePayment,
    Requeue,
    ResumeReminders,
    ScheduleAgentTimer,
)
from payments.credit_note import draft_credit_note
from payments.invoice import Invoice, InvoiceStatus
from payments.ledger import PaymentRecord, derive_status
from payments.money import Money

if TYPE_CHECKING:
    from bot.engine.effects import Effects

AgentAction = (
    AgentSay
    | Dequeue
    | Requeue
    | ResumeReminders
    | ScheduleAgentTimer
    | RecordOfflinePayment
    | Audit
)
EVENT_TYPE = AgentActed.TYPE


def policy(settings: Settings) -> AgentPolicy:
    return AgentPolicy(
        idle_release_seconds=int(settings.agent_idle_release_minutes * 60),
        return_to_bot_seconds=int(settings.agent_return_hours * 3600),
    )


def timer_job(conversation: str) -> str:
    return f"agent-timer:{conversation}"


def agent_event(acted: AgentActed) -> AgentEvent:
    return AgentEvent(
        kind=acted.kind,
        agent_id=acted.agent_id,
        agent_name=acted.agent_name,
        text=acted.text,
        settled=acted.settled,
        forced=acted.forced,
        params=acted.params,
    )


async def submit(redis: aioredis.Redis, conversation: str, acted: AgentActed) -> str:
    """Put a console action in the conversation's inbox; returns its event id."""
    event_id = f"agent:{secrets.token_hex(12)}"
    await ingest(redis, encode(event_id, conversation, acted))
    return event_id


def apply(effects: Effects, action: AgentAction) -> None:
    # The merchant the conversation was handed to (an agent's event names it; a campaign
    # question has no invoice), else the invoice's.
    merchant_id = effects.merchant_id or (effects.invoice.merchant_id if effects.invoice else None)
    if merchant_id is None:
        return  # never handed to a person
    pipe, conversation = effects.pipe, effects.conversation
    match action:
        case AgentSay():
            _say(effects, action, merchant_id)
        case Dequeue():
            pipe.zrem(keys.waiting_conversations(merchant_id), conversation)
            pipe.delete(keys.handoff(merchant_id, conversation))
            pipe.delete(keys.claim(merchant_id, conversation))
            schedule.cancel(pipe, timer_job(conversation))
        case Requeue():
            # The holder's claim only: another agent may already have claimed it again.
            claim = keys.claim(merchant_id, conversation)
            pipe.eval(RELEASE_IF_HOLDER, 1, claim, action.agent_id or "")
        case ResumeReminders():
            if effects.invoice is not None:
                pipe.delete(keys.invoice_paused(merchant_id, effects.invoice.id))
        case ScheduleAgentTimer():
            _timer(effects, action.at, merchant_id)
        case RecordOfflinePayment():
            _offline_payment(effects, action)
        case Audit():
            audit_entry(
                pipe,
                merchant_id,
                at=effects.now,
                ref=conversation_ref(merchant_id, conversation),
                what=action.what,
                user_id=action.agent_id,
                detail=action.detail,
            )


def _say(effects: Effects, action: AgentSay, merchant_id: str) -> None:
    invoice = effects.facts.invoice
    team = invoice.merchant_name if invoice is not None else action.team
    message = OutboundMessage(
        channel=effects.channel,
        address=effects.address,
        text=action.text,
        idempotency_key=f"{effects.event_id}:agent",
        # WhatsApp's adapter sends it when the 24 h window is closed at send time (also after
        # a fallback to WhatsApp); free text otherwise, and on every other channel.
        template=agent_message_use(effects.locale, team, action.text),
    )
    outbox.queue(
        effects.pipe,
        message,
        effects.conversation,
        merchant_id=merchant_id,
        invoice_id=effects.invoice.id if effects.invoice else None,
    )
    append_transcript(
        effects.pipe,
        effects.conversation,
        direction="out",
        text=message.text,
        at=effects.now,
        ref=message.idempotency_key,
        by=action.agent_name or "agent",
    )


def _offline_payment(effects: Effects, action: RecordOfflinePayment) -> None:
    """Count money received outside Stripe: a payment record of its own (so the ledger's
    later decisions see it) and the invoice's amounts and status moved forward."""
    invoice = effects.invoice
    if invoice is None:
        return
    record = PaymentRecord(
        session_id=f"offline:{effects.event_id}",
        purpose="invoice",
        verdict="paid",
        credited=action.amount,
    )  # how it was paid and its reference are in the audit trail
    save_record(effects.pipe, invoice.merchant_id, invoice.id, record)
    paid = invoice.amount_paid + action.amount
    status = derive_status(
        invoice, processing=False, disputed=False, paid=paid, returned=invoice.amount_refunded
    )
    updated = dataclasses.replace(invoice, amount_paid=paid, status=status)
    save_invoice(effects.pipe, updated)
    effects.invoice = updated  # what the rest of this event sees (a settled invoice's buttons)


def _timer(effects: Effects, at: datetime, merchant_id: str) -> None:
    timer(effects.pipe, effects.conversation, at, merchant_id)


def timer(
    pipe: aioredis.client.Pipeline, conversation: str, at: datetime, merchant_id: str
) -> None:
    """(Re)schedule the conversation's one hand-over timer (flows.agent `_timer`)."""
    job = timer_job(conversation)
    event = encode(job, conversation, AgentActed(AgentKind.TIMER, merchant_id))
    schedule.schedule(pipe, job, at, event)


def refuse_other_merchant(
    pipe: aioredis.client.Pipeline,
    conversation: str,
    acted: AgentActed,
    state: ConversationState,
    now: datetime,
) -> bool:
    """An agent event of a merchant the conversation is not handed to (merchants share
    platform senders): refused and written in that merchant's audit trail. True if refused."""
    merchant_id = acted.merchant_id
    if not merchant_id or state.merchant_id in (None, merchant_id):
        return False
    if acted.kind is AgentKind.TIMER:
        return True  # a timer of an old hand-over of that merchant: nobody to tell
    audit_entry(
        pipe,
        merchant_id,
        at=now,
        ref=conversation_ref(merchant_id, conversation),
        what="action_refused",
        user_id=acted.agent_id,
        detail="another merchant's conversation",
    )
    return True


def announce(pipe: aioredis.client.Pipeline, merchant_id: str, conversation: str) -> None:
    """Tell the merchant's open consoles that this conversation changed (after the commit:
    PUBLISH inside the MULTI runs at EXEC, so nobody reads a state that is not there yet)."""
    ref = conversation_ref(merchant_id, conversation)
    pipe.set(keys.conversation_ref(merchant_id, ref), conversation)
    pipe.publish(keys.console_channel(merchant_id), json.dumps({"ref": ref}))


async def agent_refund(
    redis: aioredis.Redis,
    pipe: aioredis.client.Pipeline,
    state: ConversationState,
    event: Event,
    acted: AgentActed,
    *,
    now: datetime,
    timezone: str,
    base_url: str,
) -> tuple[Invoice, PaymentOutcome] | None:
    """Money given back outside Stripe (a transfer, cash) by the agent holding the
    conversation: the credit note is issued and the invoice's refunded amount moves, as for a
    Stripe refund; the flow then tells the customer like any refund (notices.mmd).

    None when this event is not such a refund, or when it cannot be one (not the holder, a
    voided invoice, more than was paid): the flow then sees the action and refuses it in the
    audit trail.
    """
    params = acted.params
    if acted.kind is not AgentKind.PAYMENT or acted.text != "credit_note":
        return None
    if state.status is not ConversationStatus.AGENT or state.agent_id != acted.agent_id:
        return None
    merchant_id = acted.merchant_id
    invoice_id = await handed_invoice(redis, merchant_id, event.conversation, state.invoice_id)
    invoice = await get_invoice(redis, merchant_id, invoice_id) if invoice_id else None
    amount = int(params.get("amount", 0))
    if (
        invoice is None
        or invoice.merchant_id != merchant_id
        or invoice.status is InvoiceStatus.VOID  # cancelled: voided meanwhile (flows.agent)
        or not 0 < amount <= invoice.amount_paid - invoice.amount_refunded
    ):
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    note = draft_credit_note(invoice, amount, "refund", f"agent:{event.id}", issue_date=today)
    issue_credit_note(pipe, note)
    refunded = invoice.amount_refunded + amount
    status = derive_status(
        invoice,
        processing=False,
        disputed=invoice.status is InvoiceStatus.DISPUTED,
        paid=invoice.amount_paid,
        returned=refunded,
    )
    updated = dataclasses.replace(invoice, amount_refunded=refunded, status=status)
    save_invoice(pipe, updated)
    audit_entry(
        pipe,
        invoice.merchant_id,
        at=now,
        ref=conversation_ref(invoice.merchant_id, event.conversation),
        what="credit_note",
        user_id=str(acted.agent_id),
        detail=f"{amount} {params.get('reference', '')}".strip(),
    )
    url = f"{base_url}/a/{note.view_token}"
    return updated, PaymentOutcome("refunded", Money(amount, invoice.currency), None, url)
