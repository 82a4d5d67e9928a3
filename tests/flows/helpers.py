"""Conversation tests read like chat transcripts: the customer says something, the bot answers.

`Conversation` holds the state and the facts, feeds events to `flows.conversation.handle`,
keeps the new state, plays the part of the pipeline for the actions that change what the
next event will see (a promise, a plan, paused reminders, consent), and records every reply,
rendered in the customer's locale on both channels.

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
from bot.engine.facts import DEFAULT_PAY_LATER_POLICY, DEFAULT_SPLIT_POLICY, split_policy
from bot.i18n import TEMPLATES_DIR, Languages
from bot.render import MessageRenderer
from channels.base import ChannelName, InboundKind, InboundMessage, OutboundMessage
from channels.sms_text import render_sms
from flows.conversation import handle
from flows.model import (
    PART_CHOICES,
    Action,
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
    SetPromise,
    UnsupportedMessage,
)
from payments.money import Money, format_money

TZ = "Europe/Paris"
PARIS = ZoneInfo(TZ)
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)  # a Wednesday
TODAY = NOW.date()
FRIDAY = date(2026, 11, 20)
DUE = date(2026, 12, 15)
LATEST = DUE + timedelta(days=30)  # the pay-later policy: 30 days after the due date
PAY_URL = "https://pay.example/p/tok"
INVOICE_URL = "https://pay.example/i/view"
NUMBER = "F-2026-0042"
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
        expected = [c.value for c in reply.choices]
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
    """One customer talking to the bot about one invoice."""

    locale: str = "fr"
    invoice: InvoiceFacts | None = field(default_factory=invoice_facts)
    now: datetime = NOW
    opted_out: bool = False
    state: ConversationState = field(default_factory=ConversationState)
    turns: list[Turn] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = self.state.evolve(
            locale=self.locale,
            merchant_id="m_1",
            invoice_id=self.invoice.invoice_id if self.invoice else None,
        )

    @property
    def facts(self) -> Facts:
        return Facts(invoice=self.invoice, now=self.now, timezone=TZ, opted_out=self.opted_out)

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
        """A verified payment: the ledger is updated first (as the pipeline does), then told."""
        self._ledger(outcome, amount, instalment)
        self.transcript.append(f"(payment {outcome} {amount.amount} #{instalment})")
        return self.send(PaymentOutcome(outcome, amount, instalment, credit_note_url))

    # The engine ----------------------------------------------------------------------------

    def send(self, event: FlowEvent) -> Turn:
        outcome = handle(self.state, event, self.facts)
        turn = Turn(event, outcome, self.locale)
        reply = turn.reply
        if reply is not None:
            # The SMS numbering contract: "1", "2"... map to what this reply offered.
            assert outcome.state.choices == reply.choices, (
                f"state remembers {outcome.state.choices}, reply offered {reply.choices}"
            )
            check_rendering(reply, self.locale)
            self.transcript.append(f"bot: [{reply.message}] {turn.text!r} {list(reply.choices)}")
        else:
            self.transcript.append(f"bot: (silent) {turn.action_types()}")
        self.state = outcome.state
        self._apply(outcome.actions)
        self.turns.append(turn)
        return turn

    def _apply(self, actions: tuple[Action, ...]) -> None:
        """What the pipeline's effects change in the next event's facts."""
        for action in actions:
            match action:
                case SetPromise(pay_on=pay_on):
                    self.invoice = replace(self._invoice(), promise_date=pay_on)
                case CreatePlan(schedule=schedule):
                    currency = self._invoice().amount_due.currency
                    plan = [(due, Money(amount, currency)) for due, amount in schedule]
                    self.invoice = replace(self._invoice(), instalments=instalments(plan))
                case PauseReminders():
                    self.invoice = replace(self._invoice(), reminders_paused=True)
                case RecordConsent(opted_in=opted_in):
                    self.opted_out = not opted_in
                case _:
                    pass

    def _ledger(self, outcome: str, amount: Money, instalment: int | None) -> None:
        invoice = self._invoice()
        if outcome in ("refunded", "dispute_lost", "disputed"):
            # Money given back leaves nothing due: its credit note cancels as much invoiced.
            status = "disputed" if outcome == "disputed" else "refunded"
            self.invoice = replace(invoice, status=status)
            return
        if outcome == "failed":
            status = "open" if invoice.status == "processing" else invoice.status
            self.invoice = replace(invoice, status=status)
            return
        if instalment is None:
            if outcome == "processing":
                self.invoice = replace(invoice, status="processing")
            else:
                left = invoice.amount_due - amount
                status = "paid" if left.amount <= 0 else "partially_paid"
                self.invoice = replace(
                    invoice, amount_due=Money(max(left.amount, 0), left.currency), status=status
                )
            return
        new_status = "paid" if outcome == "paid" else "processing"
        plan = tuple(
            replace(i, status=new_status) if i.number == instalment else i
            for i in invoice.instalments
        )
        left = invoice.amount_due - amount if outcome == "paid" else invoice.amount_due
        paid_all = all(i.is_paid for i in plan)
        self.invoice = replace(
            invoice,
            instalments=plan,
            amount_due=Money(0, left.currency) if paid_all else left,
            status="paid" if paid_all else "partially_paid" if outcome == "paid" else "open",
        )

    def _invoice(self) -> InvoiceFacts:
        assert self.invoice is not None, "this needs an invoice"
        return self.invoice

    def __str__(self) -> str:
        return "\n".join(self.transcript)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in Paris."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)
