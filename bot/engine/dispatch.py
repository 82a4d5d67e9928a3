"""Dispatch one event of a conversation: load the facts, run the flow, queue the effects.

Everything the event changes — conversation state, the invoice ledger, the transcript, the
outbound messages, schedules, consent — is queued on the caller's pipeline, so it commits
together with the removal of the event from the inbox, or not at all: the writes on the
conversation's hash slot in the commit itself, the others as its effects entry, applied once
each just after (bot.engine.effects_log). What it reads is gathered (bot.engine.facts.Reads):
most of it in the dispatcher's lock step, the rest in one more round trip at most per stage.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from bot.engine import (
    campaigns,
    carts,
    events,
    handover,
    merchant_webhooks,
    offer_payments,
    review,
    rewards,
    telegram_buttons,
    telegram_order,
    void,
)
from bot.engine.effects import Effects
from bot.engine.facts import (
    Reads,
    consent_reads,
    customer_addresses,
    invoice_facts,
    invoice_reads,
    load_facts,
    sender_reads,
    zrange_all,
)
from bot.engine.pipeline import Event, Handler, Read, prefetched
from bot.engine.reconcile import payment_facts
from bot.i18n import pick_locale
from bot.logs import CARD_REDACTED_FLAG, log_fields, mask_card_numbers
from bot.services import Services
from bot.store import keys
from bot.store.conversations import append_transcript, load_state, save_state, split_key
from bot.store.handover import handed_invoice
from bot.store.invoices import (
    REVIEW_CHANGED,
    dashboard_changed,
    get_invoice,
    locate_invoice,
    save_invoice,
)
from bot.store.ledger import (
    PAYMENT_DISPUTE,
    Plan,
    load_extras,
    pause,
    resume_after_payment_dispute,
    save_plan,
)
from bot.store.payments import (
    IntentLocation,
    issue_credit_note,
    load_records,
    save_intent_location,
    save_record,
)
from channels.base import ChannelName, InboundKind, InboundMessage
from flows import conversation, dunning, several
from flows.model import (
    PART_CHOICES,
    Choice,
    ConversationState,
    ConversationStatus,
    CustomerText,
    Facts,
    FlowEvent,
    InvoiceFacts,
    InvoiceSent,
    Outcome,
    PaymentOutcome,
    Reminder,
    ReminderKind,
    Step,
    UnsupportedMessage,
)
from payments.credit_note import draft_credit_note
from payments.instalments import instalment_number
from payments.invoice import Invoice
from payments.ledger import CreditNoteDraft, LedgerDecision, PaymentRecord, pick_notice, reconcile
from payments.money import Money
from payments.plan import expected_amount

log = logging.getLogger(__name__)

# Events with dispatchers of their own (flash sales, carts): `_sale_event`.
_SALE_EVENTS = frozenset({campaigns.EVENT_TYPE, offer_payments.EVENT_TYPE, carts.EVENT_TYPE})


def make_handler(services: Services) -> Handler:
    async def handle(redis: aioredis.Redis, event: Event, pipe: aioredis.client.Pipeline) -> None:
        dispatch = _Dispatch(services, redis, event, pipe)
        await dispatch.read_first()
        # A Telegram update older than one already applied here: recorded, not acted upon.
        if await telegram_order.late_update(dispatch.reads, pipe, event, services.clock.now()):
            return
        await dispatch.run()

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
        # The flow's reads, gathered in a few round trips (bot.engine.facts.Reads).
        self.reads = Reads(redis)
        # Written in this commit, so not yet readable from Redis:
        self.updated_invoice: Invoice | None = None
        self.updated_plan: Plan | None = None
        self.credit_note_urls: dict[str, str] = {}
        self._payload: events.Payload | events.Untyped | None = None

    def payload(self) -> events.Payload | events.Untyped:
        """The event's payload, decoded once (each step that needs it asks here)."""
        if self._payload is None:
            self._payload = events.decode(self.event)
        return self._payload

    async def read_first(self) -> None:
        """Gather what this event will most likely read (`likely_reads`, and the invoice
        the event names), in one round trip, or none: the dispatcher's lock step read the
        state and, planned from the state it last saw, most of the rest."""
        conversation = self.event.conversation
        done = prefetched(conversation)
        if done.state.known:
            self.reads.know(("GET", keys.conv_state(conversation)), done.state.raw)
        self.reads.know_all(done.reads)
        if self.event.type in _SALE_EVENTS:
            return  # they read for themselves
        state = await load_state(self.reads, conversation)
        reads = _likely(conversation, state)
        data = self.event.data
        invoice_id, merchant_id = data.get("invoice_id"), data.get("merchant_id")
        merchant_id = merchant_id or state.merchant_id  # the same merchant, most likely
        if isinstance(invoice_id, str) and isinstance(merchant_id, str):
            reads += [
                ("GET", keys.invoice_locator(invoice_id)),
                *invoice_reads(merchant_id, invoice_id),
            ]
        await self.reads.fetch(reads)

    async def run(self) -> None:
        if await self._sale_event():
            return
        state = await load_state(self.reads, self.event.conversation)
        if await self._campaign_reply(state):
            return
        now = self.services.clock.now()
        agent_merchant = self._agent_merchant()
        if self._refused(state, agent_merchant):
            return
        translated = await self._translate(state)
        if translated.event is None:
            return
        aside = False  # handled without taking the conversation over (see below)
        # A reminder of an older open invoice (its plan, promise or ladder) is never dropped:
        # it speaks about that invoice, and a reply to it applies to it (issue 10).
        talking_about = state.invoice_id
        if translated.invoice_id is not None and translated.invoice_id != state.invoice_id:
            if not isinstance(translated.event, InvoiceSent | PaymentOutcome | Reminder):
                return
            aside = await self._held_for_another(state, translated.invoice_id)
            if aside:
                # Another merchant's invoice (shared platform sender) while this conversation
                # waits for or is held by a person of the first: the message goes out, the
                # conversation stays with that person and that invoice.
                state = ConversationState(locale=state.locale)
            state = state.evolve(invoice_id=translated.invoice_id)
        invoice = await self._invoice(await self._acted_on(state, agent_merchant))
        if invoice is not None:
            # An invoice without a locale keeps what the conversation knew: chosen per message.
            locale = invoice.customer.locale or state.locale
            state = state.evolve(merchant_id=invoice.merchant_id, locale=locale)
        facts = await self._facts(invoice)
        if invoice is not None:
            state, invoice, facts = await self._about(state, translated.event, invoice, facts)
        outcome = conversation.handle(state, translated.event, facts)
        if isinstance(translated.event, Reminder) and state.invoice_id != talking_about:
            outcome = _older_invoice_reminder(outcome, talking_about)
        locale = self._locale(outcome.state.locale, translated.language_hint, facts)
        effects = Effects(
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
            merchant_id=agent_merchant or outcome.state.merchant_id,
        )
        effects.apply(outcome.actions)
        # Settled now (or before): its old Telegram messages stop offering to pay (issue 13).
        await telegram_buttons.retire(self.redis, self.pipe, effects.invoice)
        if aside:
            return
        save_state(self.pipe, self.event.conversation, outcome.state)
        merchant_id = invoice.merchant_id if invoice is not None else outcome.state.merchant_id
        if merchant_id is not None:
            handover.announce(self.pipe, merchant_id, self.event.conversation)

    def _locale(self, profile: str | None, hint: str | None, facts: Facts) -> str:
        default = self.services.settings.default_locale
        locale = pick_locale(profile, hint, self._phone(), default)
        if locale not in facts.languages:  # the merchant does not offer it (its policy)
            return facts.languages[0]
        return locale

    async def _facts(self, invoice: Invoice | None) -> Facts:
        if invoice is not None:
            await self.reads.fetch(await self._invoice_side_reads(invoice))
        facts = await load_facts(
            self.reads,
            invoice,
            conversation=self.event.conversation,
            base_url=self.services.settings.public_base_url,
            now=self.services.clock.now(),
            timezone=self.services.settings.default_timezone,
            updated_plan=self.updated_plan,
        )
        return replace(facts, agent_policy=handover.policy(self.services.settings))

    async def _about(
        self, state: ConversationState, event: FlowEvent, invoice: Invoice, facts: Facts
    ) -> tuple[ConversationState, Invoice, Facts]:
        """A sent invoice joins the conversation's list; for a customer's message, the open
        invoices of this merchant and the one the message is about (flows.several.target):
        the conversation moves to it before the flow runs."""
        if isinstance(event, InvoiceSent):
            at = self.services.clock.now().timestamp()
            self.pipe.zadd(keys.conv_invoices(self.event.conversation), {invoice.id: at})
        if isinstance(event, Reminder) and event.kind is ReminderKind.LADDER:
            return state, invoice, replace(facts, reminders_sent=await self._sent(invoice))
        if isinstance(event, PaymentOutcome) and facts.invoice and not facts.invoice.counted:
            # The receipt may celebrate the customer's run of invoices paid on time (issue 10).
            streak, points = await rewards.load_payer(self.redis, invoice)
            return state, invoice, replace(facts, payer_streak=streak, payer_points=points)
        if not isinstance(event, CustomerText):
            return state, invoice, facts
        facts = replace(facts, open_invoices=await self._open_invoices(invoice, facts))
        chosen = several.target(state, event, facts)
        if chosen is None or chosen == invoice.id:
            return state, invoice, facts
        other = await self._invoice(chosen)
        if other is None or other.merchant_id != invoice.merchant_id:
            return state, invoice, facts  # never another merchant's invoice
        locale = other.customer.locale or state.locale
        moved = state.evolve(invoice_id=other.id, locale=locale, step=Step.MENU)
        open_invoices = facts.open_invoices
        facts = replace(await self._facts(other), open_invoices=open_invoices)
        return moved, other, facts

    async def _invoice_side_reads(self, invoice: Invoice) -> list[Read]:
        """Once the invoice is known, what its facts read that the first stage did not
        guess: the consent of each of the customer's addresses, and for a customer's message
        the other invoices of this merchant sent here (flows.several)."""
        conversation, merchant_id = self.event.conversation, invoice.merchant_id
        addresses = customer_addresses(invoice, conversation)
        reads = [
            *invoice_reads(merchant_id, invoice.id),
            *consent_reads(merchant_id, addresses, conversation),
        ]
        if self.event.type == "inbound":
            for other in await self.reads.zrange(keys.conv_invoices(conversation), 0, -1):
                reads += invoice_reads(merchant_id, str(other))
        return reads

    async def _sent(self, invoice: Invoice) -> tuple[datetime, ...]:
        """When this merchant's ladder reminders went to this conversation lately."""
        key = keys.conv_reminders_sent(self.event.conversation, invoice.merchant_id)
        scores = await self.redis.zrange(key, 0, -1, withscores=True)
        return tuple(datetime.fromtimestamp(score, UTC) for _member, score in scores)

    async def _open_invoices(self, invoice: Invoice, facts: Facts) -> tuple[InvoiceFacts, ...]:
        """Every unpaid invoice of this merchant sent in this conversation, soonest due first."""
        found: list[InvoiceFacts] = [facts.invoice] if facts.invoice is not None else []
        base_url = self.services.settings.public_base_url
        for invoice_id in await self.reads.zrange(
            keys.conv_invoices(self.event.conversation), 0, -1
        ):
            if invoice_id == invoice.id:
                continue
            location = await locate_invoice(self.reads, invoice_id)
            if location is None or location.merchant_id != invoice.merchant_id:
                continue
            other = await get_invoice(self.reads, invoice.merchant_id, invoice_id)
            if other is not None:
                found.append(await invoice_facts(self.reads, other, base_url))
        open_ones = [i for i in found if not i.is_paid]
        return tuple(sorted(open_ones, key=lambda i: (several.next_due(i), i.number)))

    async def _sale_event(self) -> bool:
        """Flash-sale and cart events have handlers of their own; True if this was one."""
        clock = self.services.clock
        due = self.payload()
        if isinstance(due, events.CartRelaunchDue):  # an abandoned cart's one relaunch
            await carts.CartRelaunch(self.redis, self.pipe, self.event, due, clock).run()
        elif isinstance(due, events.CampaignMessageDue):  # a flash sale's message to one person
            base_url = self.services.settings.public_base_url
            await campaigns.CampaignDispatch(
                self.redis, self.pipe, self.event, due, clock, base_url
            ).run()
        elif isinstance(due, events.HoldSettlementDue):  # a flash-sale hold's payment
            await offer_payments.OfferPaymentDispatch(
                self.redis,
                self.pipe,
                self.event,
                due,
                clock,
                self.services.stripe,
                self.services.retirer,
                self.services.settings.public_base_url,
            ).run()
        else:
            return False
        return True

    async def _acted_on(self, state: ConversationState, agent_merchant: str | None) -> str | None:
        """The invoice this event is about: for an agent's event, the one handed to the agent's
        merchant (another merchant may have invoiced the same chat since)."""
        if agent_merchant is None:
            return state.invoice_id
        conversation = self.event.conversation
        return await handed_invoice(self.reads, agent_merchant, conversation, state.invoice_id)

    def _refused(self, state: ConversationState, agent_merchant: str | None) -> bool:
        """An agent event of a merchant this conversation is not handed to: audited, dropped."""
        if agent_merchant is None:
            return False
        acted = self.payload()
        now = self.services.clock.now()
        if not isinstance(acted, events.AgentActed) or not handover.refuse_other_merchant(
            self.pipe, self.event.conversation, acted, state, now
        ):
            return False
        handover.announce(self.pipe, agent_merchant, self.event.conversation)
        return True

    def _agent_merchant(self) -> str | None:
        """The merchant whose person (or hand-over timer) sent this event, if it is one."""
        acted = self.payload()
        return acted.merchant_id or None if isinstance(acted, events.AgentActed) else None

    async def _held_for_another(self, state: ConversationState, invoice_id: str) -> bool:
        if state.status is ConversationStatus.BOT or state.merchant_id is None:
            return False
        location = await locate_invoice(self.reads, invoice_id)
        return location is not None and location.merchant_id != state.merchant_id

    async def _campaign_reply(self, state: ConversationState) -> bool:
        """An answer to a flash sale's message in a conversation with no invoice."""
        if self.event.type != "inbound" or state.invoice_id is not None:
            return False
        if state.status is ConversationStatus.AGENT:
            return False  # a person holds it: the bot stays quiet (flows.agent.while_held)
        offer = await self.reads.get(keys.conv_offer(self.event.conversation))
        if offer is None:
            return False
        settings = self.services.settings
        reply = campaigns.CampaignReply(
            self.redis,
            self.pipe,
            self.event,
            self.services.clock,
            settings.public_base_url,
            settings.default_timezone,
            settings.agent_return_hours,
        )
        return await reply.run(offer)

    async def _translate(self, state: ConversationState) -> _Translated:
        match self.payload():
            case events.InvoiceIssued(invoice_id=invoice_id):
                return _Translated(InvoiceSent(), invoice_id)
            case events.PaymentLook() as look:
                return await self._payment(look)
            case events.ScheduledReminder() as due:
                policy = dunning.policy_from_dict(due.policy) if due.policy is not None else None
                reminder = Reminder(due.kind, due.instalment, due.step, policy)
                return _Translated(reminder, due.invoice_id)
            case events.VoidRequested() as asked:  # the merchant cancelled what is due
                return await self._void(asked)
            case events.ReviewApplied() as applied:  # money to review counted on an invoice
                return await self._review(applied)
            case (
                events.CartRelaunchDue() | events.HoldSettlementDue() | events.CampaignMessageDue()
            ):
                # handled before, by `_sale_event`
                return _Translated(None)
            case InboundMessage() as message:  # what the customer said or tapped
                hint = message.language_code
                return _Translated(self._inbound(state, message), language_hint=hint)
            case events.AgentActed() as acted:  # a person's action, or the hand-over timer
                return await self._agent(state, acted)
            case events.Untyped():  # another version's event type: nothing here reads it
                log.error("unknown event type", extra=log_fields(type=self.event.type))
                return _Translated(None)

    async def _review(self, applied: events.ReviewApplied) -> _Translated:
        now = self.services.clock.now()
        counted = await review.count(self.redis, self.pipe, applied, now)
        if counted is None:
            return _Translated(None)
        self.updated_invoice, self.updated_plan = counted.invoice, counted.plan
        return _Translated(counted.outcome, counted.invoice.id)

    async def _void(self, asked: events.VoidRequested) -> _Translated:
        settings = self.services.settings
        voided = await void.apply(
            self.redis,
            self.pipe,
            asked,
            now=self.services.clock.now(),
            timezone=settings.default_timezone,
            base_url=settings.public_base_url,
        )
        if voided is None:
            return _Translated(None)
        self.updated_invoice = voided.invoice
        return _Translated(voided.outcome, voided.invoice.id)

    async def _agent(self, state: ConversationState, acted: events.AgentActed) -> _Translated:
        """A person's action (or the hand-over timer): a refund outside Stripe is told like
        a Stripe one; everything else goes to the flow as it was done."""
        refund = await handover.agent_refund(
            self.redis,
            self.pipe,
            state,
            self.event,
            acted,
            now=self.services.clock.now(),
            timezone=self.services.settings.default_timezone,
            base_url=self.services.settings.public_base_url,
        )
        if refund is not None:
            self.updated_invoice, told = refund
            return _Translated(told, self.updated_invoice.id)
        return _Translated(handover.agent_event(acted))

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

    async def _payment(self, look: events.PaymentLook) -> _Translated:
        """A Stripe event (or a sweep's finding) about one payment of one invoice.

        The payment is retrieved again from Stripe and `payments.ledger.reconcile` decides
        from what Stripe shows now and what was already applied (TESTCASES design rule 2);
        this method only writes what it decides.
        """
        invoice = await get_invoice(self.redis, look.merchant_id, look.invoice_id)
        if invoice is None:
            log.error("payment for a missing invoice", extra=log_fields(invoice=look.invoice_id))
            return _Translated(None)
        facts = await payment_facts(self.services.stripe, self.redis, look)
        if facts is None:
            return _Translated(None)
        if facts.invoice_id not in (None, invoice.id) or facts.merchant_id not in (
            None,
            invoice.merchant_id,
        ):
            # The event was routed to this invoice but Stripe's session names another one.
            self._alert(invoice, facts.session_id, "session belongs to another invoice")
            return _Translated(None)
        records = await load_records(self.redis, invoice.merchant_id, invoice.id)
        extras = await load_extras(self.redis, invoice.merchant_id, invoice.id)
        record = records.pop(facts.session_id, None)
        purpose = facts.purpose or (record.purpose if record else "invoice")
        if record is None and await self.redis.sismember(
            keys.invoice_applied_sessions(invoice.merchant_id, invoice.id), facts.session_id
        ):
            # Counted before per-payment records existed: paid, for the amount it asked.
            record = PaymentRecord(facts.session_id, purpose, "paid", facts.amount or 0)
        instalment = instalment_number(purpose)
        decision = reconcile(
            invoice,
            record,
            facts,
            expected_amount=expected_amount(extras.plan, instalment),
            others=records.values(),
            now=self.services.clock.now(),
        )
        self._write(invoice, record, decision, extras.plan, instalment)
        landed = look.ref.created if look.ref is not None else None
        return self._notice(invoice, decision, instalment, landed)

    def _write(
        self,
        invoice: Invoice,
        before: PaymentRecord | None,
        decision: LedgerDecision,
        plan: Plan | None,
        instalment: int | None,
    ) -> None:
        merchant_id, record = invoice.merchant_id, decision.record
        if decision.invoice != invoice:
            save_invoice(self.pipe, decision.invoice)
            self.updated_invoice = decision.invoice
        if record != before:
            save_record(self.pipe, merchant_id, invoice.id, record)
        if record.payment_intent and (before is None or before.payment_intent is None):
            location = IntentLocation(merchant_id, invoice.id, record.session_id)
            save_intent_location(self.pipe, record.payment_intent, location)
        if plan and instalment and decision.instalment_status:
            self.updated_plan = plan.with_status(instalment, decision.instalment_status)
            save_plan(self.pipe, merchant_id, invoice.id, self.updated_plan)
        merchant_webhooks.payment_applied(
            self.pipe,
            invoice,
            decision.invoice,
            session_id=record.session_id,
            instalment=instalment,
            instalment_paid=decision.instalment_status == "paid",
            at=self.services.clock.now(),
        )
        if decision.retire_checkout:
            # The session will never take money: the pay link opens a fresh one.
            self.pipe.hset(
                keys.invoice_checkout(merchant_id, invoice.id, instalment), "retired", "1"
            )
        if decision.finished:
            self.pipe.srem(keys.CHECKOUT_SESSIONS_OPEN, record.session_id)
        if decision.pause_reminders:
            now = self.services.clock.now()
            pause(self.pipe, merchant_id, invoice.id, now, reason=PAYMENT_DISPUTE)
        if decision.resume_reminders:
            resume_after_payment_dispute(self.pipe, merchant_id, invoice.id)
        for reason in decision.alerts:
            self._alert(invoice, record.session_id, reason)
        self.credit_note_urls = {
            draft.source_id: self._issue_credit_note(decision.invoice, draft)
            for draft in decision.credit_notes
        }

    def _issue_credit_note(self, invoice: Invoice, draft: CreditNoteDraft) -> str:
        today = self.services.clock.now().astimezone(
            ZoneInfo(self.services.settings.default_timezone)
        )
        note = draft_credit_note(
            invoice, draft.amount, draft.reason, draft.source_id, issue_date=today.date()
        )
        issue_credit_note(self.pipe, note)
        log.info(
            "credit note issued",
            extra=log_fields(invoice=invoice.id, credit_note=note.id, reason=draft.reason),
        )
        return f"{self.services.settings.public_base_url}/a/{note.view_token}"

    def _notice(
        self,
        invoice: Invoice,
        decision: LedgerDecision,
        instalment: int | None,
        landed: int | None = None,
    ) -> _Translated:
        notice = pick_notice(decision.notices)
        if notice is None:
            return _Translated(None)  # replay, stale, expired or under review: say nothing
        url = self.credit_note_urls.get(notice.credit_note or "")
        amount = Money(notice.amount, invoice.currency)
        # The Stripe event's own time: when the money landed (the fast-payment reward).
        at = datetime.fromtimestamp(landed, UTC) if landed is not None else None
        return _Translated(PaymentOutcome(notice.kind, amount, instalment, url, at), invoice.id)

    def _alert(self, invoice: Invoice, session_id: str, reason: str) -> None:
        merchant_webhooks.needs_review(
            self.pipe, invoice, session_id, reason, self.services.clock.now()
        )
        self.pipe.rpush(
            keys.PAYMENTS_MISMATCH,
            json.dumps(
                {
                    "invoice_id": invoice.id,
                    "merchant_id": invoice.merchant_id,
                    "session_id": session_id,
                    "reason": reason,
                }
            ),
        )
        dashboard_changed(self.pipe, invoice.merchant_id, REVIEW_CHANGED)
        log.error(
            "payment needs review",
            extra=log_fields(invoice=invoice.id, session=session_id, reason=reason),
        )

    async def _invoice(self, invoice_id: str | None) -> Invoice | None:
        if invoice_id is None:
            return None
        if self.updated_invoice is not None and self.updated_invoice.id == invoice_id:
            return self.updated_invoice
        location = await locate_invoice(self.reads, invoice_id)
        if location is None:
            return None
        return await get_invoice(self.reads, location.merchant_id, invoice_id)

    def _phone(self) -> str | None:
        return self.address if self.channel in (ChannelName.SMS, ChannelName.WHATSAPP) else None


async def likely_reads(
    redis: aioredis.Redis, conversation: str, state_raw: str | None
) -> list[Read]:
    """What the next event of a conversation whose stored state is `state_raw` most likely
    reads (pipeline.Prefetch): planned by the dispatcher, read in its lock step's round trip.
    """
    reads = Reads(redis)
    reads.know(("GET", keys.conv_state(conversation)), state_raw)
    return _likely(conversation, await load_state(reads, conversation))


def _likely(conversation: str, state: ConversationState) -> list[Read]:
    """Whatever the event: the conversation's invoice with its merchant, policy, plan and
    the customer's consent here, the conversation's list of invoices (flows.several), its
    flash-sale offer when it has no invoice, its last Telegram update, its own sender."""
    reads: list[Read] = [*sender_reads(conversation), zrange_all(keys.conv_invoices(conversation))]
    if split_key(conversation)[0] is ChannelName.TELEGRAM:
        reads.append(("GET", keys.conv_telegram_applied(conversation)))
    if state.invoice_id is None:
        reads.append(("GET", keys.conv_offer(conversation)))
        return reads
    reads.append(("GET", keys.invoice_locator(state.invoice_id)))
    if state.merchant_id is not None:
        reads += invoice_reads(state.merchant_id, state.invoice_id)
        reads += consent_reads(state.merchant_id, [conversation], conversation)
    return reads


def _choice(payload: str | None) -> Choice | None:
    if payload is None or payload not in Choice._value2member_map_:
        return None
    return Choice(payload)


def _numbered_choice(state: ConversationState, message: InboundMessage) -> Choice | None:
    """On SMS the menu is a numbered list: "1" means the first choice offered."""
    text = message.text.strip().rstrip(".)")
    if all(choice in PART_CHOICES for choice in state.choices):
        return None  # "how many payments?": a number is the number of payments, not a rank
    if message.channel is ChannelName.SMS and text.isascii() and text.isdigit():
        index = int(text) - 1
        if 0 <= index < len(state.choices):
            return state.choices[index]
    return None


def _older_invoice_reminder(outcome: Outcome, talking_about: str | None) -> Outcome:
    """A silent reminder of another invoice leaves the conversation where it was; one that
    speaks moves it to that invoice, back at its menu (a half-asked question was about the
    other invoice)."""
    if not outcome.replies:
        return replace(outcome, state=outcome.state.evolve(invoice_id=talking_about))
    return replace(outcome, state=outcome.state.evolve(step=Step.MENU, proposed_parts=None))
