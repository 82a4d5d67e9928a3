"""Dispatch one event of a conversation: load the facts, run the flow, queue the effects.

Everything the event changes — conversation state, the invoice ledger, the transcript, the
outbound messages, schedules, consent — is queued on the caller's MULTI pipeline, so it
commits together with the removal of the event from the inbox, or not at all.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.engine.effects import Effects
from bot.engine.facts import load_facts
from bot.engine.pipeline import Event, Handler
from bot.i18n import pick_locale
from bot.logs import CARD_REDACTED_FLAG, log_fields, mask_card_numbers
from bot.services import Services
from bot.store import keys
from bot.store.conversations import append_transcript, load_state, save_state, split_key
from bot.store.invoices import get_invoice, locate_invoice, save_invoice
from bot.store.ledger import Plan, load_extras, save_plan
from channels.base import ChannelName, InboundKind, InboundMessage
from flows import conversation
from flows.model import (
    PART_CHOICES,
    Choice,
    ConversationState,
    CustomerText,
    FlowEvent,
    InvoiceSent,
    PaymentOutcome,
    Reminder,
    ReminderKind,
    UnsupportedMessage,
)
from payments.invoice import Invoice
from payments.money import Money
from payments.webhook import PaymentUpdate, apply_payment

log = logging.getLogger(__name__)

_TOLD_TO_CUSTOMER = frozenset({"paid", "processing", "failed"})


def make_handler(services: Services) -> Handler:
    async def handle(redis: aioredis.Redis, event: Event, pipe: aioredis.client.Pipeline) -> None:
        await _Dispatch(services, redis, event, pipe).run()

    return handle


@dataclass
class _Translated:
    """The flow's view of a pipeline event."""

    event: FlowEvent | None
    invoice_id: str | None = None
    language_hint: str | None = None


class _Dispatch:
    """The work of one event; short-lived, so its fields are the event's context."""

    def __init__(
        self,
        services: Services,
        redis: aioredis.Redis,
        event: Event,
        pipe: aioredis.client.Pipeline,
    ) -> None:
        self.services = services
        self.redis = redis
        self.event = event
        self.pipe = pipe
        self.channel, self.address = split_key(event.conversation)
        # Written in this commit, so not yet readable from Redis:
        self.updated_invoice: Invoice | None = None
        self.updated_plan: Plan | None = None

    async def run(self) -> None:
        state = await load_state(self.redis, self.event.conversation)
        translated = await self._translate(state)
        if translated.event is None:
            return
        if translated.invoice_id is not None and translated.invoice_id != state.invoice_id:
            if not isinstance(translated.event, InvoiceSent | PaymentOutcome):
                return  # a reminder about an invoice the conversation has moved on from
            state = state.evolve(invoice_id=translated.invoice_id)
        invoice = await self._invoice(state.invoice_id)
        if invoice is not None:
            # An invoice without a locale keeps what the conversation knew: chosen per message.
            locale = invoice.customer.locale or state.locale
            state = state.evolve(merchant_id=invoice.merchant_id, locale=locale)
        now = self.services.clock.now()
        facts = await load_facts(
            self.redis,
            invoice,
            conversation=self.event.conversation,
            base_url=self.services.settings.public_base_url,
            now=now,
            timezone=self.services.settings.default_timezone,
            updated_plan=self.updated_plan,
        )
        outcome = conversation.handle(state, translated.event, facts)
        locale = pick_locale(
            outcome.state.locale,
            translated.language_hint,
            self._phone(),
            self.services.settings.default_locale,
        )
        Effects(
            pipe=self.pipe,
            renderer=self.services.renderer,
            conversation=self.event.conversation,
            channel=self.channel,
            address=self.address,
            event_id=self.event.id,
            locale=locale,
            now=now,
            invoice=invoice,
            facts=facts,
        ).apply(outcome.actions)
        save_state(self.pipe, self.event.conversation, outcome.state)

    async def _translate(self, state: ConversationState) -> _Translated:
        data = self.event.data
        match self.event.type:
            case "invoice_issued":
                return _Translated(InvoiceSent(), str(data["invoice_id"]))
            case "payment":
                return await self._payment(PaymentUpdate(**data["update"]))
            case "reminder":
                kind = ReminderKind(data["kind"])
                return _Translated(Reminder(kind, data.get("instalment")), str(data["invoice_id"]))
            case "inbound":
                message = InboundMessage.from_dict(data)
                return _Translated(
                    self._inbound(state, message), language_hint=message.language_code
                )
        log.error("unknown event type", extra=log_fields(type=self.event.type))
        return _Translated(None)

    def _inbound(self, state: ConversationState, message: InboundMessage) -> FlowEvent:
        text = mask_card_numbers(message.text)
        append_transcript(
            self.pipe,
            self.event.conversation,
            direction="in",
            text=text,
            at=self.services.clock.now(),
            ref=self.event.id,
        )
        if message.kind is InboundKind.UNSUPPORTED:
            return UnsupportedMessage()
        if message.kind is InboundKind.CHOICE:
            return CustomerText(text="", choice=_choice(message.payload))
        # Redacted at the webhook (flagged), or here for events queued before that was done.
        card_shared = message.extra.get(CARD_REDACTED_FLAG) == "1" or text != message.text
        return CustomerText(
            text=text, choice=_numbered_choice(state, message), card_shared=card_shared
        )

    async def _payment(self, update: PaymentUpdate) -> _Translated:
        invoice = await get_invoice(self.redis, update.merchant_id, update.invoice_id)
        if invoice is None:
            log.error("payment for a missing invoice", extra=log_fields(invoice=update.invoice_id))
            return _Translated(None)
        instalment = _instalment_number(update.purpose)
        extras = await load_extras(self.redis, invoice.merchant_id, invoice.id)
        planned = extras.plan.instalment(instalment) if extras.plan and instalment else None
        applied = await self.redis.smembers(
            keys.invoice_applied_sessions(invoice.merchant_id, invoice.id)
        )
        decision = apply_payment(
            invoice, update, set(applied), expected_amount=planned.amount if planned else None
        )
        if decision.invoice != invoice:
            save_invoice(self.pipe, decision.invoice)
            self.updated_invoice = decision.invoice
        if decision.record_session:
            self.pipe.sadd(
                keys.invoice_applied_sessions(invoice.merchant_id, invoice.id), update.session_id
            )
        if extras.plan and planned and decision.kind in ("paid", "processing", "failed"):
            status = {"paid": "paid", "processing": "processing", "failed": "open"}
            self.updated_plan = extras.plan.with_status(planned.number, status[decision.kind])
            save_plan(self.pipe, invoice.merchant_id, invoice.id, self.updated_plan)
        if decision.kind == "failed":
            # The session that failed is complete at Stripe: forget it, so that the pay link
            # opens a fresh one instead of waiting for a payment that will not come.
            self.pipe.hset(
                keys.invoice_checkout(invoice.merchant_id, invoice.id, instalment), "retired", "1"
            )
        if decision.alert:
            self._alert(invoice, update, decision.reason)
        if decision.kind not in _TOLD_TO_CUSTOMER:
            return _Translated(None)  # duplicate, stale, expired or under review: say nothing
        outcome = PaymentOutcome(decision.kind, Money(update.amount, update.currency), instalment)
        return _Translated(outcome, invoice.id)

    def _alert(self, invoice: Invoice, update: PaymentUpdate, reason: str | None) -> None:
        self.pipe.rpush(
            keys.PAYMENTS_MISMATCH,
            json.dumps(
                {
                    "invoice_id": invoice.id,
                    "merchant_id": invoice.merchant_id,
                    "session_id": update.session_id,
                    "reason": reason,
                }
            ),
        )
        log.error(
            "payment needs review",
            extra=log_fields(invoice=invoice.id, session=update.session_id, reason=reason),
        )

    async def _invoice(self, invoice_id: str | None) -> Invoice | None:
        if invoice_id is None:
            return None
        if self.updated_invoice is not None and self.updated_invoice.id == invoice_id:
            return self.updated_invoice
        location = await locate_invoice(self.redis, invoice_id)
        if location is None:
            return None
        return await get_invoice(self.redis, location.merchant_id, invoice_id)

    def _phone(self) -> str | None:
        return self.address if self.channel is ChannelName.SMS else None


def _instalment_number(purpose: str) -> int | None:
    kind, _, number = purpose.partition(":")
    return int(number) if kind == "instalment" and number.isdigit() else None


def _choice(payload: str | None) -> Choice | None:
    if payload is None or payload not in Choice._value2member_map_:
        return None
    return Choice(payload)


def _numbered_choice(state: ConversationState, message: InboundMessage) -> Choice | None:
    """On SMS the menu is a numbered list: "1" means the first choice offered."""
    text = message.text.strip().rstrip(".)")
    if all(choice in PART_CHOICES for choice in state.choices):
        return None  # "how many payments?": a number is the number of payments, not a rank
    if message.channel is ChannelName.SMS and text.isdigit():
        index = int(text) - 1
        if 0 <= index < len(state.choices):
            return state.choices[index]
    return None
