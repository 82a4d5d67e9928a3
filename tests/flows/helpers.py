"""Conversation tests read like chat transcripts: the customer says something, the bot answers.

`Conversation` holds the state and the facts, feeds events to `flows.conversation.handle`,
keeps the new state, plays the part of the pipeline for the actions that change what the
next event will see (a promise, a plan, paused reminders, consent), and records every reply,
rendered in the customer's locale on both channels.

The invoice is held as the store holds it (`Ledger`: a real `payments.invoice.Invoice`, its
plan, promise, pause and payment records). A payment goes through the same pure rules as
dispatch (`payments.ledger.reconcile`), and the flow sees the facts dispatch would build
(`bot.engine.facts.facts_of`): a test cannot tell the customer something the ledger refuses.

Every reply is checked as it is produced, whichever test produced it (`check_rendering`):
it renders on Telegram and SMS without leftovers, in the customer's language only, with the
invoice number when its template shows it; and the state remembers exactly the choices the
reply offered, in order (the SMS numbering contract: "1" is the first choice offered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.engine.dispatch import _numbered_choice as numbered_choice
from bot.engine.facts import (
    DEFAULT_PAY_LATER_POLICY,
    DEFAULT_SPLIT_POLICY,
    facts_of,
    split_policy,
)
from bot.i18n import TEMPLATES_DIR, Languages
from bot.render import MessageRenderer
from bot.store.ledger import InvoiceExtras
from bot.store.merchants import Merchant
from channels.base import ChannelName, InboundKind, InboundMessage, OutboundMessage
from channels.sms_text import render_sms
from flows.conversation import handle
from flows.model import (
    PART_CHOICES,
    Action,
    AgentEvent,
    AgentKind,
    Choice,
    ConversationState,
    CreatePlan,
    CustomerText,
    Facts,
    FlowEvent,
    InstalmentFacts,
    InvoiceFacts,
    InvoiceSent,
    Outcome,
    PauseReminders,
    PaymentOutcome,
    RecordConsent,
    Reminder,
    ReminderKind,
    Reply,
    ResumeReminders,
    SetPromise,
    UnsupportedMessage,
)
from payments.instalments import instalment_number, purpose_for
from payments.invoice import CustomerSnapshot, Invoice, InvoiceLine, InvoiceStatus, VatRate
from payments.ledger import (
    DisputeFact,
    LedgerDecision,
    Notice,
    PaymentFacts,
    PaymentRecord,
    Verdict,
    pick_notice,
    reconcile,
)
from payments.merchant_ids import SellerSnapshot
from payments.money import Money, format_money
from payments.plan import Instalment, Plan, expected_amount

TZ = "Europe/Paris"
PARIS = ZoneInfo(TZ)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)  # a Wednesday
TODAY = NOW.date()
FRIDAY = date(2026, 11, 20)
DUE = date(2026, 12, 15)
LATEST = DUE + timedelta(days=30)  # the pay-later policy: 30 days after the due date
BASE_URL = "https://pay.example"
PAY_TOKEN = "pay-token-of-zoe-martin"  # link tokens are at least 128 bits (TESTCASES 60)
VIEW_TOKEN = "view-token-of-zoe-martin"
PAY_URL = f"{BASE_URL}/p/{PAY_TOKEN}"
INVOICE_URL = f"{BASE_URL}/i/{VIEW_TOKEN}"
NUMBER = "F-2026-000042"
MERCHANT = "Atelier Lumière"
CUSTOMER = "Zoé Martin"
LOCALES = ("fr", "en")
CHANNELS = (ChannelName.TELEGRAM, ChannelName.SMS)

MENU = (Choice.PAY, Choice.LATER, Choice.SPLIT, Choice.HELP)
SMALL_MENU = (Choice.PAY, Choice.LATER, Choice.HELP)  # below the split minimum
PLAN_MENU = (Choice.PAY, Choice.HELP)  # already paying in instalments
PARTS = (Choice.SPLIT_2, Choice.SPLIT_3)  # the default: 2 or 3 (LEGAL_FR §4.3)
# A merchant who chose 4 (`merchant create --max-instalments 4`):
FOUR_INSTALMENTS = split_policy(4)
PARTS_UP_TO_4 = (Choice.SPLIT_2, Choice.SPLIT_3, Choice.SPLIT_4)

A = TypeVar("A")


def euros(amount: str) -> Money:
    """euros("120.00") -> Money(12000, "EUR")."""
    whole, _, cents = amount.partition(".")
    return Money(int(whole) * 100 + int(cents.ljust(2, "0") or 0), "EUR")


def money(value: Money, locale: str) -> str:
    """An amount as the customer reads it: "120,00\xa0€" (fr), "€120.00" (en)."""
    return format_money(value, locale)


def long_date(day: date, locale: str) -> str:
    """A date as the customer reads it: "20 novembre 2026" (fr), "November 20, 2026" (en)."""
    return format_date(day, "long", locale=locale)


def invoice_facts(amount: Money | str = "120.00", **changes: Any) -> InvoiceFacts:
    """A realistic open invoice of `amount` due on 15 December 2026, production policies."""
    due = euros(amount) if isinstance(amount, str) else amount
    base = InvoiceFacts(
        invoice_id="inv_42",
        merchant_name=MERCHANT,
        customer_name=CUSTOMER,
        number=NUMBER,
        gross=due,
        amount_due=due,
        due_date=DUE,
        status="open",
        pay_url=PAY_URL,
        invoice_url=INVOICE_URL,
        pay_later_policy=DEFAULT_PAY_LATER_POLICY,
        split_policy=DEFAULT_SPLIT_POLICY,
    )
    return replace(base, **changes)


def instalments(
    schedule: list[tuple[date, Money]], *, paid: int = 0
) -> tuple[InstalmentFacts, ...]:
    """The plan as the ledger shows it, the first `paid` instalments paid."""
    return tuple(
        InstalmentFacts(
            number=n,
            amount=amount,
            due_date=due,
            status="paid" if n <= paid else "open",
            pay_url=f"{PAY_URL}/{n}",
        )
        for n, (due, amount) in enumerate(schedule, start=1)
    )


# The plan a customer gets for 120,00 € in 3 payments on 18 November 2026.
PLAN_OF_3 = [
    (date(2026, 11, 18), euros("40.00")),
    (date(2026, 12, 18), euros("40.00")),
    (date(2027, 1, 18), euros("40.00")),
]


def invoice_with_plan(*, paid: int = 0) -> InvoiceFacts:
    """120,00 € split in 3 (40,00 € on 18/11, 18/12, 18/01), the first `paid` paid."""
    plan = instalments(PLAN_OF_3, paid=paid)
    left = Money(sum(i.amount.amount for i in plan if not i.is_paid), "EUR")
    status = "paid" if left.is_zero() else "partially_paid" if paid else "open"
    return invoice_facts(euros("120.00"), instalments=plan, status=status, amount_due=left)


# The store ---------------------------------------------------------------------------------

MERCHANT_ID = "m_1"
SIREN = "732829320"
VERDICTS: dict[str, Verdict] = {"processing": "processing", "paid": "paid", "failed": "failed"}
GIVEN_BACK = ("refunded", "disputed", "dispute_lost")


@dataclass
class Ledger:
    """What the store holds about the conversation's invoice, changed only by the pure rules
    dispatch uses, and shown to the flow through the conversion dispatch uses."""

    invoice: Invoice
    extras: InvoiceExtras
    merchant: Merchant
    records: dict[str, PaymentRecord] = field(default_factory=dict)  # session id → applied
    stripe: dict[str, PaymentFacts] = field(default_factory=dict)  # what Stripe shows of each

    @classmethod
    def holding(cls, facts: InvoiceFacts) -> Ledger:
        """The stored invoice (and the payments that led to it) whose facts are `facts`.

        Fails when no stored invoice shows these facts: a test starts from a state the
        store can hold (amounts, status and plan agree), or not at all."""
        ledger = cls(_stored_invoice(facts), _extras(facts), _merchant(facts))
        if ledger.invoice.amount_paid or facts.is_processing:
            ledger._seed_payments()
        assert ledger.facts() == facts, (
            f"no stored invoice shows these facts:\n{facts}\nit would be:\n{ledger.facts()}"
        )
        return ledger

    def facts(self) -> InvoiceFacts:
        return facts_of(self.invoice, self.extras, self.merchant, BASE_URL)

    def look(self, outcome: str, amount: Money, instalment: int | None) -> LedgerDecision:
        """Stripe now shows `outcome` on one payment: reconcile it and write the decision,
        as `bot.engine.dispatch._Dispatch._payment` does."""
        purpose = purpose_for(instalment)
        if outcome in VERDICTS:
            session = self._open_session(purpose, amount)
            shown = replace(session, verdict=VERDICTS[outcome])
        elif outcome in GIVEN_BACK:
            shown = self._given_back(self._paid_session(purpose, instalment), outcome, amount)
        else:
            raise AssertionError(f"unknown payment outcome {outcome!r}")
        self.stripe[shown.session_id] = shown
        others = {k: v for k, v in self.records.items() if k != shown.session_id}
        plan = self.extras.plan
        number = instalment_number(shown.purpose or "invoice")
        decision = reconcile(
            self.invoice,
            self.records.get(shown.session_id),
            shown,
            expected_amount=expected_amount(plan, number),
            others=others.values(),
        )
        self.invoice = decision.invoice
        self.records[shown.session_id] = decision.record
        if plan and number and decision.instalment_status:
            self.extras = replace(
                self.extras, plan=plan.with_status(number, decision.instalment_status)
            )
        if decision.pause_reminders:
            self.extras = replace(self.extras, paused=True)
        return decision

    def _open_session(self, purpose: str, amount: Money) -> PaymentFacts:
        """The payment's Checkout Session: the one still pending, else a new one for `amount`."""
        for session in reversed(self.stripe.values()):
            if session.purpose == purpose and session.verdict in (None, "processing"):
                return session
        return self._new_session(purpose, amount.amount)

    def _new_session(self, purpose: str, amount: int) -> PaymentFacts:
        n = len(self.stripe) + 1
        session = PaymentFacts(
            session_id=f"cs_{n}",
            invoice_id=self.invoice.id,
            merchant_id=self.invoice.merchant_id,
            purpose=purpose,
            amount=amount,
            currency=self.invoice.currency,
            verdict=None,
            payment_intent=f"pi_{n}",
        )
        self.stripe[session.session_id] = session
        return session

    def _paid_session(self, purpose: str, instalment: int | None) -> PaymentFacts:
        """Money is given back on a payment that took it: the last one paid (for `instalment`
        when one is named)."""
        for session in reversed(self.stripe.values()):
            if session.verdict == "paid" and (instalment is None or session.purpose == purpose):
                return session
        raise AssertionError("money can only be given back on a paid payment: pay first")

    def _given_back(self, session: PaymentFacts, outcome: str, amount: Money) -> PaymentFacts:
        n = len(session.refunds) + len(session.disputes) + 1
        if outcome == "refunded":
            refunds = {**session.refunds, f"re_{session.session_id}_{n}": amount.amount}
            return replace(session, refunds=refunds)
        disputes = dict(session.disputes)
        opened = [k for k, d in disputes.items() if d.state == "open"]
        if outcome == "dispute_lost" and opened:
            disputes[opened[-1]] = DisputeFact(disputes[opened[-1]].amount, "lost")
        else:
            lost = outcome == "dispute_lost"
            disputes[f"dp_{session.session_id}_{n}"] = DisputeFact(
                amount.amount, "lost" if lost else "open"
            )
        return replace(session, disputes=disputes)

    def _seed_payments(self) -> None:
        """The payments that brought a fixture's invoice where it is, already applied."""
        plan = self.extras.plan
        if plan is None:
            verdict: Verdict = "processing" if self.invoice.status == "processing" else "paid"
            self._seed("invoice", self.invoice.totals.gross, verdict, self.invoice.amount_paid)
            return
        for i in plan.instalments:
            if i.status in ("paid", "processing"):
                credited = i.amount if i.status == "paid" else 0
                self._seed(purpose_for(i.number), i.amount, VERDICTS[i.status], credited)

    def _seed(self, purpose: str, amount: int, verdict: Verdict, credited: int) -> None:
        session = replace(self._new_session(purpose, amount), verdict=verdict)
        self.stripe[session.session_id] = session
        self.records[session.session_id] = PaymentRecord(
            session.session_id, purpose, verdict, credited, payment_intent=session.payment_intent
        )


def _stored_invoice(facts: InvoiceFacts) -> Invoice:
    gross = facts.gross
    # One line at 0 % VAT: its gross is the fixture's amount, whatever the currency.
    return Invoice(
        id=facts.invoice_id,
        merchant_id=MERCHANT_ID,
        number=facts.number,
        status=InvoiceStatus(facts.status),
        currency=gross.currency,
        lines=(InvoiceLine("Séance photo", 1, gross.amount, VatRate.parse("0")),),
        # A voided invoice owes nothing whatever was paid: held here as voided unpaid.
        amount_paid=0 if facts.status == "void" else gross.amount - facts.amount_due.amount,
        issue_date=min(TODAY, facts.due_date),
        due_date=facts.due_date,
        customer=CustomerSnapshot(
            name=facts.customer_name, phone="+33612345678", telegram_chat_id=None, locale=None
        ),
        channel="sms",
        pay_token=facts.pay_url.rsplit("/", 1)[-1],
        view_token=facts.invoice_url.rsplit("/", 1)[-1],
        seller=SellerSnapshot(
            legal_name=facts.merchant_name, address="3 rue des Lilas, 75011 Paris", siren=SIREN
        ),
    )


def _extras(facts: InvoiceFacts) -> InvoiceExtras:
    plan = (
        Plan(
            tuple(
                Instalment(i.number, i.amount.amount, i.due_date, i.status)
                for i in facts.instalments
            ),
            created_at=NOW.isoformat(),
        )
        if facts.instalments
        else None
    )
    return InvoiceExtras(plan=plan, promise=facts.promise_date, paused=facts.reminders_paused)


def _merchant(facts: InvoiceFacts) -> Merchant:
    return Merchant(
        id=MERCHANT_ID,
        name=facts.merchant_name,
        legal_name=facts.merchant_name,
        siren=SIREN,
        vat_number=None,
        address="3 rue des Lilas, 75011 Paris",
        created_at=NOW.isoformat(),
        max_instalments=max(facts.split_policy.allowed_parts),
    )


# Rendering ------------------------------------------------------------------------------


@cache
def renderer() -> MessageRenderer:
    return MessageRenderer(Languages())


def render(reply: Reply, locale: str, channel: ChannelName) -> OutboundMessage:
    return renderer().outbound(
        reply, locale=locale, channel=channel, address="x", idempotency_key="k"
    )


def sms_body(reply: Reply, locale: str) -> str:
    """What the customer's phone shows: the text, then the numbered choices."""
    message = render(reply, locale, ChannelName.SMS)
    return render_sms(message.text, message.buttons)


_MONTHS_EN = (
    "january february march april may june july august september october november december"
)
_DAYS_EN = "monday tuesday wednesday thursday friday saturday sunday"
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
_DAYS_FR = "lundi mardi mercredi jeudi vendredi samedi dimanche"
# Words that give away the other language (URLs and names are removed before looking).
FOREIGN_WORDS = {
    "fr": re.compile(
        r"\b(?:pay|paying|payment|payments|invoice|instalments?|later|now|help|yes|no|"
        r"thank|thanks|sorry|please|hello|your|you|the|with|person|talk|due|link|"
        rf"{_MONTHS_EN.replace(' ', '|')}|{_DAYS_EN.replace(' ', '|')})\b",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"\b(?:payer|paiement|paiements|facture|plus tard|maintenant|aide|oui|non|merci|"
        r"désolé|bonjour|vous|votre|échéance|conseiller|fois|lien|"
        rf"{_MONTHS_FR.replace(' ', '|')}|{_DAYS_FR.replace(' ', '|')})\b",
        re.IGNORECASE,
    ),
}
URL = re.compile(r"https?://\S+")


@cache
def template_source(message: str) -> str:
    return (TEMPLATES_DIR / "messages" / f"{message}.j2").read_text(encoding="utf-8")


def template_names() -> list[str]:
    return sorted(p.stem for p in Path(TEMPLATES_DIR, "messages").glob("*.j2"))


def shows_invoice_number(message: str) -> bool:
    return "invoice.number" in template_source(message)


def rendering_problems(reply: Reply, locale: str) -> list[str]:
    """Everything wrong with how `reply` reads in `locale` on each channel (empty: all good)."""
    problems: list[str] = []
    invoice = reply.params.get("invoice")
    for channel in CHANNELS:
        try:
            message = render(reply, locale, channel)
        except Exception as error:
            problems.append(f"{channel}: {reply.message} does not render: {error!r}")
            continue
        labels = [b.label for b in message.buttons]
        where = f"{locale}/{channel}/{reply.message}"
        if not message.text.strip():
            problems.append(f"{where}: empty text")
        for leftover in ("{{", "}}", "{%", "%(", ")s"):
            if leftover in message.text or any(leftover in label for label in labels):
                problems.append(f"{where}: leftover {leftover!r} in {message.text!r}")
        expected: list[str | None] = [c.value for c in reply.choices]
        if channel == ChannelName.TELEGRAM and isinstance(invoice, InvoiceFacts):
            # Telegram's "Pay" is a link button for the amount (no callback): issue 13.
            expected = [None if c is Choice.PAY and not invoice.is_paid else c.value
                        for c in reply.choices]  # fmt: skip
        if channel == ChannelName.SMS and all(c in PART_CHOICES for c in reply.choices):
            expected = []  # "how many payments?" is answered with the number itself on SMS
            asks_parts = reply.message in ("ask_parts", "split_not_allowed")
            if asks_parts and not all(c.value[-1] in message.text for c in reply.choices):
                problems.append(f"{where}: the allowed numbers are missing from the text")
        if [b.action for b in message.buttons] != expected:
            problems.append(f"{where}: buttons {labels} do not match the choices")
        if not all(label.strip() for label in labels):
            problems.append(f"{where}: an empty button label in {labels}")
        number = invoice.number if isinstance(invoice, InvoiceFacts) else None
        if number and shows_invoice_number(reply.message) and number not in message.text:
            problems.append(f"{where}: invoice number missing from {message.text!r}")
        visible = URL.sub(" ", "\n".join([message.text, *labels]))
        for name in (CUSTOMER, MERCHANT, NUMBER):
            visible = visible.replace(name, " ")
        foreign = FOREIGN_WORDS[locale].findall(visible)
        if foreign:
            problems.append(f"{where}: words of the other language {foreign} in {visible!r}")
    return problems


def check_rendering(reply: Reply, locale: str) -> None:
    problems = rendering_problems(reply, locale)
    assert not problems, "\n".join(problems)


# The conversation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What one event did: the actions, the reply (at most one) and the state after."""

    event: FlowEvent
    outcome: Outcome
    locale: str

    @property
    def state(self) -> ConversationState:
        return self.outcome.state

    @property
    def actions(self) -> tuple[Action, ...]:
        return self.outcome.actions

    @property
    def replies(self) -> tuple[Reply, ...]:
        """Every reply, in order (an answer and an opt-out confirmation line, say)."""
        return self.outcome.replies

    @property
    def messages(self) -> list[str]:
        return [r.message for r in self.outcome.replies]

    @property
    def reply(self) -> Reply | None:
        replies = self.outcome.replies
        assert len(replies) <= 1, f"more than one reply: {replies}"
        return replies[0] if replies else None

    @property
    def message(self) -> str | None:
        """The template id of the reply, None when the bot stays silent."""
        return self.reply.message if self.reply else None

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self.reply.choices if self.reply else ()

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.reply.params) if self.reply else {}

    @property
    def text(self) -> str:
        """The reply as shown on Telegram (buttons apart), in the customer's locale."""
        assert self.reply is not None, "the bot said nothing"
        return render(self.reply, self.locale, ChannelName.TELEGRAM).text

    @property
    def sms(self) -> str:
        """The reply as one SMS body, numbered choices included."""
        assert self.reply is not None, "the bot said nothing"
        return sms_body(self.reply, self.locale)

    @property
    def buttons(self) -> list[str]:
        assert self.reply is not None, "the bot said nothing"
        return [b.label for b in render(self.reply, self.locale, ChannelName.TELEGRAM).buttons]

    @property
    def silent(self) -> bool:
        """Nothing at all: no reply and no action."""
        return not self.actions

    def of(self, kind: type[A]) -> list[A]:
        """The actions of one type, in order."""
        return [a for a in self.actions if isinstance(a, kind)]

    def action_types(self) -> list[str]:
        return [type(a).__name__ for a in self.actions]


@dataclass
class Conversation:
    """One customer talking to the bot about one invoice.

    `start`: the invoice as the conversation finds it (None: no invoice); from then on it is
    what the store holds (`ledger`), and `invoice` is what dispatch would show the flow."""

    locale: str = "fr"
    start: InvoiceFacts | None = field(default_factory=invoice_facts)
    now: datetime = NOW
    opted_out: bool = False
    state: ConversationState = field(default_factory=ConversationState)
    # The customer's other open invoices with the merchant (flows.several): as dispatch
    # loads them for a customer's message.
    others: tuple[InvoiceFacts, ...] = ()
    turns: list[Turn] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    ledger: Ledger | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.invoice = self.start
        self.state = self.state.evolve(
            locale=self.locale,
            merchant_id=MERCHANT_ID,
            invoice_id=self.invoice.invoice_id if self.invoice else None,
        )

    @property
    def invoice(self) -> InvoiceFacts | None:
        return self.ledger.facts() if self.ledger else None

    @invoice.setter
    def invoice(self, facts: InvoiceFacts | None) -> None:
        """The store now holds this invoice (a fixture: it must be one the store can hold)."""
        self.ledger = Ledger.holding(facts) if facts else None

    @property
    def facts(self) -> Facts:
        own = self.invoice
        listed = (own, *self.others) if own is not None and self.others else ()
        open_invoices = tuple(i for i in listed if i is not None and not i.is_paid)
        return Facts(
            invoice=own,
            now=self.now,
            timezone=TZ,
            opted_out=self.opted_out,
            open_invoices=open_invoices,
        )

    # What the customer and the world do --------------------------------------------------

    def says(self, text: str) -> Turn:
        self.transcript.append(f"customer: {text}")
        return self.send(CustomerText(text))

    def texts(self, text: str) -> Turn:
        """An SMS, read as the bot reads it: a bare "N" is the Nth choice last offered."""
        inbound = InboundMessage(
            channel=ChannelName.SMS,
            address="+33612345678",
            provider_id=f"SM{len(self.turns)}",
            kind=InboundKind.TEXT,
            text=text,
        )
        choice = numbered_choice(self.state, inbound)
        self.transcript.append(f"customer (SMS): {text} -> {choice}")
        return self.send(CustomerText(text, choice=choice))

    def taps(self, choice: Choice) -> Turn:
        self.transcript.append(f"customer: [{choice.value}]")
        return self.send(CustomerText("", choice=choice))

    def invoice_sent(self) -> Turn:
        self.transcript.append("(invoice sent)")
        return self.send(InvoiceSent())

    def agent(self, kind: AgentKind, agent_id: str | None = "u_1", **fields: Any) -> Turn:
        """A person acts in the console (or the clock does, for `AgentKind.TIMER`)."""
        self.transcript.append(f"(agent {agent_id}: {kind.value} {fields})")
        name = {"u_1": "Inès", "u_2": "Hugo"}.get(agent_id or "")
        return self.send(AgentEvent(kind, agent_id, name, **fields))

    def sticker(self) -> Turn:
        self.transcript.append("customer: (sticker)")
        return self.send(UnsupportedMessage())

    def reminder(self, kind: ReminderKind, instalment: int | None = None) -> Turn:
        self.transcript.append(f"(reminder {kind.value} {instalment or ''})")
        return self.send(Reminder(kind, instalment))

    def payment(
        self,
        outcome: str,
        amount: Money,
        instalment: int | None = None,
        credit_note_url: str | None = None,
    ) -> Turn:
        """Stripe shows `outcome` for `amount` on a payment (of `instalment`): the ledger's
        rules apply it first, as dispatch does, and the flow is told what they decided,
        which must be what the test says (a refund: `credit_note_url` is its credit note's
        page)."""
        self.transcript.append(f"(payment {outcome} {amount.amount} #{instalment})")
        decision = self._ledger().look(outcome, amount, instalment)
        notice = pick_notice(decision.notices)
        told = (notice.kind, notice.amount) if notice else None
        assert told == (outcome, amount.amount), (
            f"the ledger does not tell the customer {outcome} {amount.amount}: it decided "
            f"{notice}, alerts {list(decision.alerts)}\n{self}"
        )
        return self.send(self._outcome(notice, instalment, credit_note_url))

    def payment_not_told(
        self, outcome: str, amount: Money, instalment: int | None = None
    ) -> tuple[str, ...]:
        """Stripe shows a payment the ledger does not count: dispatch tells the flow nothing.
        Returns the alerts it raised for a person to review."""
        self.transcript.append(f"(payment {outcome} {amount.amount} #{instalment}, not counted)")
        decision = self._ledger().look(outcome, amount, instalment)
        notice = pick_notice(decision.notices)
        assert notice is None, f"the ledger tells the customer {notice}\n{self}"
        return decision.alerts

    def _outcome(
        self, notice: Notice | None, instalment: int | None, credit_note_url: str | None
    ) -> PaymentOutcome:
        assert notice is not None
        currency = self._ledger().invoice.currency
        url = credit_note_url if notice.credit_note else None
        return PaymentOutcome(notice.kind, Money(notice.amount, currency), instalment, url)

    # The engine ----------------------------------------------------------------------------

    def send(self, event: FlowEvent) -> Turn:
        outcome = handle(self.state, event, self.facts)
        # Dispatch renders in the locale the flow leaves in the state (the customer's words
        # may have switched it), else the conversation's.
        turn = Turn(event, outcome, outcome.state.locale or self.locale)
        if outcome.replies:
            # The SMS numbering contract: "1", "2"... map to what the last reply that offered
            # choices offered (a confirmation line after it offers none and changes nothing).
            offering = [r.choices for r in outcome.replies if r.choices]
            expected = offering[-1] if offering else ()
            assert outcome.state.choices == expected, (
                f"state remembers {outcome.state.choices}, replies offered {expected}"
            )
            for reply in outcome.replies:
                check_rendering(reply, turn.locale)
                text = render(reply, turn.locale, ChannelName.TELEGRAM).text
                self.transcript.append(f"bot: [{reply.message}] {text!r} {list(reply.choices)}")
        else:
            self.transcript.append(f"bot: (silent) {turn.action_types()}")
        self.state = outcome.state
        self._apply(outcome.actions)
        self.turns.append(turn)
        return turn

    def _apply(self, actions: tuple[Action, ...]) -> None:
        """What the pipeline's effects (`bot.engine.effects`) store for the next event."""
        for action in actions:
            match action:
                case SetPromise(pay_on=pay_on):
                    ledger = self._ledger()
                    ledger.extras = replace(ledger.extras, promise=pay_on)
                case CreatePlan(schedule=schedule):
                    ledger = self._ledger()
                    plan = Plan(
                        tuple(
                            Instalment(n, amount, due)
                            for n, (due, amount) in enumerate(schedule, start=1)
                        ),
                        created_at=self.now.isoformat(),
                    )
                    ledger.extras = replace(ledger.extras, plan=plan)
                case PauseReminders():
                    ledger = self._ledger()
                    ledger.extras = replace(ledger.extras, paused=True)
                case ResumeReminders():
                    ledger = self._ledger()
                    ledger.extras = replace(ledger.extras, paused=False)
                case RecordConsent(opted_in=opted_in):
                    self.opted_out = not opted_in
                case _:
                    pass

    def _ledger(self) -> Ledger:
        assert self.ledger is not None, "this needs an invoice"
        return self.ledger

    def __str__(self) -> str:
        return "\n".join(self.transcript)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in Paris."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
