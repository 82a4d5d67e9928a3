"""Dispatch one event of a conversation: load the facts, run the flow, queue the effects.

Everything the event changes — conversation state, the invoice ledger, the transcript and
the outbound messages — is queued on the caller's MULTI pipeline, so it commits together with
the removal of the event from the inbox, or not at all.
"""

from __future__ import annotations

import json
import logging

import redis.asyncio as aioredis

from bot import keys, outbox
from bot.conversations import append_transcript, load_state, save_state, split_key
from bot.i18n import pick_locale
from bot.invoices import get_invoice, locate_invoice, save_invoice
from bot.logs import log_fields, mask_card_numbers
from bot.merchants import get_merchant
from bot.pipeline import Event, Handler
from bot.services import Services
from channels.base import ChannelName, InboundKind, InboundMessage
from flows import invoice_menu
from flows.model import (
    Choice,
    ConversationState,
    ConversationStatus,
    CustomerText,
    FlowEvent,
    InvoiceFacts,
    InvoiceSent,
    Outcome,
    PaymentOutcome,
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
        self.updated_invoice: Invoice | None = None  # written in this commit, not yet readable

    async def run(self) -> None:
        state = await load_state(self.redis, self.event.conversation)
        flow_event, invoice_id, hint = await self._flow_event(state)
        if flow_event is None:
            return
        if invoice_id is not None and invoice_id != state.invoice_id:
            state = state.evolve(invoice_id=invoice_id)
        invoice = await self._invoice(state)
        if invoice is not None:
            state = state.evolve(
                merchant_id=invoice.merchant_id,
                locale=invoice.customer.locale,
            )
        if state.status is not ConversationStatus.BOT and not isinstance(
            flow_event, PaymentOutcome
        ):
            return  # a human holds the conversation: the bot stays silent
        facts = await self._facts(invoice)
        outcome = invoice_menu.handle(state, flow_event, facts)
        self._apply(outcome, hint)

    async def _flow_event(
        self, state: ConversationState
    ) -> tuple[FlowEvent | None, str | None, str | None]:
        """The flow's view of the event, the invoice it concerns, and a language hint."""
        data = self.event.data
        if self.event.type == "invoice_issued":
            return InvoiceSent(), str(data["invoice_id"]), None
        if self.event.type == "payment":
            return await self._payment_event(PaymentUpdate(**data["update"]))
        if self.event.type == "inbound":
            message = InboundMessage.from_dict(data)
            return self._inbound_event(state, message), None, message.language_code
        log.error("unknown event type", extra=log_fields(type=self.event.type))
        return None, None, None

    def _inbound_event(self, state: ConversationState, message: InboundMessage) -> FlowEvent:
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
        return CustomerText(text=text, choice=_numbered_choice(state, message))

    async def _payment_event(
        self, update: PaymentUpdate
    ) -> tuple[FlowEvent | None, str | None, str | None]:
        invoice = await get_invoice(self.redis, update.merchant_id, update.invoice_id)
        if invoice is None:
            log.error("payment for a missing invoice", extra=log_fields(invoice=update.invoice_id))
            return None, None, None
        applied = await self.redis.smembers(
            keys.invoice_applied_sessions(invoice.merchant_id, invoice.id)
        )
        decision = apply_payment(invoice, update, set(applied))
        if decision.invoice != invoice:
            save_invoice(self.pipe, decision.invoice)
            self.updated_invoice = decision.invoice
        if decision.record_session:
            self.pipe.sadd(
                keys.invoice_applied_sessions(invoice.merchant_id, invoice.id), update.session_id
            )
        if decision.alert:
            self.pipe.rpush(
                keys.PAYMENTS_MISMATCH,
                json.dumps(
                    {
                        "invoice_id": invoice.id,
                        "merchant_id": invoice.merchant_id,
                        "session_id": update.session_id,
                        "reason": decision.reason,
                    }
                ),
            )
            log.error(
                "payment needs review",
                extra=log_fields(
                    invoice=invoice.id, session=update.session_id, reason=decision.reason
                ),
            )
        if decision.kind not in _TOLD_TO_CUSTOMER:
            return None, None, None  # duplicate, stale, expired or under review: say nothing
        amount = Money(update.amount, update.currency)
        return PaymentOutcome(outcome=decision.kind, amount=amount), invoice.id, None

    async def _invoice(self, state: ConversationState) -> Invoice | None:
        if state.invoice_id is None:
            return None
        if self.updated_invoice is not None and self.updated_invoice.id == state.invoice_id:
            return self.updated_invoice
        location = await locate_invoice(self.redis, state.invoice_id)
        if location is None:
            return None
        return await get_invoice(self.redis, location.merchant_id, state.invoice_id)

    async def _facts(self, invoice: Invoice | None) -> InvoiceFacts | None:
        if invoice is None:
            return None
        merchant = await get_merchant(self.redis, invoice.merchant_id)
        base = self.services.settings.public_base_url
        return InvoiceFacts(
            invoice_id=invoice.id,
            merchant_name=merchant.name if merchant else invoice.seller.legal_name,
            customer_name=invoice.customer.name,
            number=invoice.number,
            gross=Money(invoice.totals.gross, invoice.currency),
            amount_due=Money(invoice.amount_due, invoice.currency),
            due_date=invoice.due_date,
            status=invoice.status.value,
            pay_url=f"{base}/p/{invoice.pay_token}",
            invoice_url=f"{base}/i/{invoice.view_token}",
        )

    def _apply(self, outcome: Outcome, hint: str | None) -> None:
        state = outcome.state
        locale = pick_locale(
            state.locale, hint, self._phone(), self.services.settings.default_locale
        )
        for index, reply in enumerate(outcome.actions):
            message = self.services.renderer.outbound(
                reply,
                locale=locale,
                channel=self.channel,
                address=self.address,
                idempotency_key=f"{self.event.id}:{index}",
            )
            outbox.queue(self.pipe, message, self.event.conversation)
            append_transcript(
                self.pipe,
                self.event.conversation,
                direction="out",
                text=message.text,
                at=self.services.clock.now(),
                ref=message.idempotency_key,
            )
        save_state(self.pipe, self.event.conversation, state)

    def _phone(self) -> str | None:
        return self.address if self.channel is ChannelName.SMS else None


def _choice(payload: str | None) -> Choice | None:
    if payload is None or payload not in Choice._value2member_map_:
        return None
    return Choice(payload)


def _numbered_choice(state: ConversationState, message: InboundMessage) -> Choice | None:
    """On SMS the menu is a numbered list: "1" means the first choice offered."""
    text = message.text.strip().rstrip(".)")
    if message.channel is ChannelName.SMS and text.isdigit():
        index = int(text) - 1
        if 0 <= index < len(state.choices):
            return state.choices[index]
    return None
