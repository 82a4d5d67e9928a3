"""Several open invoices with the same merchant (flows/several.mmd): a free-text action asks
which invoice, the answer applies it to that one; naming an invoice needs no question; "il
reste combien ?" gets one statement of everything open.

The flow is driven as dispatch drives it (`bot.engine.dispatch._Dispatch._about`): the
invoice a message is about (`several.target`) becomes the conversation's before the flow runs.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.engine.dispatch import _numbered_choice as numbered_choice
from channels.base import ChannelName, InboundKind, InboundMessage
from channels.sms_text import segment_count, sms_safe
from flows import several
from flows.conversation import handle
from flows.model import (
    Choice,
    ConversationState,
    CreatePlan,
    CustomerText,
    Facts,
    Handoff,
    InvoiceFacts,
    Outcome,
    PauseReminders,
    SetPromise,
)
from tests.flows.helpers import (
    FRIDAY,
    MERCHANT_ID,
    NOW,
    TZ,
    Conversation,
    check_rendering,
    euros,
    invoice_facts,
    render,
    sms_body,
)

FIRST = invoice_facts("120.00")  # F-2026-000042, due 15 December
SECOND = invoice_facts(
    "80.00", invoice_id="inv_43", number="F-2026-000043", due_date=FRIDAY.replace(day=30)
)


class Customer:
    """One customer, several invoices; each message goes through target() then the flow."""

    def __init__(self, locale: str, *invoices: InvoiceFacts) -> None:
        self.locale = locale
        self.invoices = {i.invoice_id: i for i in invoices}
        # The newest invoice holds the conversation, as after its InvoiceSent.
        self.state = ConversationState(
            merchant_id=MERCHANT_ID, locale=locale, invoice_id=invoices[-1].invoice_id
        )

    def open_invoices(self) -> tuple[InvoiceFacts, ...]:
        listed = (i for i in self.invoices.values() if not i.is_paid)
        return tuple(sorted(listed, key=lambda i: (several.next_due(i), i.number)))

    def send(self, event: CustomerText) -> Outcome:
        own = self.invoices[self.state.invoice_id or ""]
        facts = Facts(invoice=own, now=NOW, timezone=TZ, open_invoices=self.open_invoices())
        chosen = several.target(self.state, event, facts)
        if chosen is not None and chosen != own.invoice_id:
            self.state = self.state.evolve(invoice_id=chosen)
            facts = replace(facts, invoice=self.invoices[chosen])
        outcome = handle(self.state, event, facts)
        for reply in outcome.replies:
            check_rendering(reply, self.locale)
        self.state = outcome.state
        for action in outcome.actions:
            if isinstance(action, SetPromise):
                invoice = self.invoices[self.state.invoice_id or ""]
                self.invoices[invoice.invoice_id] = replace(invoice, promise_date=action.pay_on)
        return outcome

    def says(self, text: str) -> Outcome:
        return self.send(CustomerText(text))

    def taps(self, choice: Choice) -> Outcome:
        return self.send(CustomerText("", choice=choice))

    def texts(self, text: str) -> Outcome:
        inbound = InboundMessage(
            channel=ChannelName.SMS,
            address="+33612345678",
            provider_id="SM1",
            kind=InboundKind.TEXT,
            text=text,
        )
        return self.send(CustomerText(text, choice=numbered_choice(self.state, inbound)))


def only_reply(outcome: Outcome) -> str:
    assert len(outcome.replies) == 1, outcome
    return outcome.replies[0].message


@pytest.mark.parametrize(
    ("locale", "later"), [("fr", "je paierai vendredi"), ("en", "I will pay on friday")]
)
def test_pay_later_in_free_text_asks_which_invoice_then_applies_to_the_one_picked(
    locale: str, later: str
) -> None:
    customer = Customer(locale, FIRST, SECOND)
    asked = customer.says(later)
    assert only_reply(asked) == "which_invoice"
    assert not [a for a in asked.actions if isinstance(a, SetPromise)]
    # Soonest due first: the second invoice (30 November) before the first (15 December).
    assert asked.replies[0].choices == (Choice.INVOICE_1, Choice.INVOICE_2)
    labels = [b.label for b in render(asked.replies[0], locale, ChannelName.TELEGRAM).buttons]
    assert "F-2026-000043" in labels[0] and "80" in labels[0] and "30" in labels[0]
    assert "F-2026-000042" in labels[1] and "120" in labels[1] and "15" in labels[1]

    picked = customer.taps(Choice.INVOICE_2)
    assert only_reply(picked) == "promise_recorded"
    assert [a.pay_on for a in picked.actions if isinstance(a, SetPromise)] == [FRIDAY]
    assert customer.state.invoice_id == FIRST.invoice_id
    assert customer.invoices[FIRST.invoice_id].promise_date == FRIDAY
    assert customer.invoices[SECOND.invoice_id].promise_date is None
    assert customer.state.pending is None and customer.state.candidates == ()


def test_on_sms_the_invoices_are_numbered_and_a_digit_picks_one() -> None:
    customer = Customer("fr", FIRST, SECOND)
    asked = customer.says("je veux payer")
    body = sms_body(asked.replies[0], "fr")
    lines = body.splitlines()
    assert lines[-2].startswith(sms_safe("1. F-2026-000043 - 80,00"))
    assert lines[-1].startswith(sms_safe("2. F-2026-000042 - 120,00"))
    assert segment_count(sms_safe(body)) <= 2
    paid = customer.texts("2")
    assert only_reply(paid) == "pay_link"
    assert paid.replies[0].params["invoice"].invoice_id == FIRST.invoice_id


@pytest.mark.parametrize(
    "text",
    [
        "je paie la facture 43",
        "je paie la F-2026-000043",
        "je paye celle de 80 €",
        "je paye celle de 80,00",
        "invoice #43, paying now",
    ],
)
def test_a_message_naming_one_invoice_needs_no_question(text: str) -> None:
    customer = Customer("fr", SECOND, FIRST)  # the first (120 €) holds the conversation
    answer = customer.says(text)
    assert only_reply(answer) == "pay_link"
    assert answer.replies[0].params["invoice"].invoice_id == SECOND.invoice_id
    assert customer.state.invoice_id == SECOND.invoice_id


def test_an_amount_two_invoices_share_does_not_pick_one() -> None:
    twin = replace(SECOND, gross=euros("120.00"), amount_due=euros("120.00"))
    customer = Customer("fr", FIRST, twin)
    assert only_reply(customer.says("je paie celle de 120 €")) == "which_invoice"


def test_split_already_paid_and_dispute_each_ask_then_act_on_the_one_picked() -> None:
    customer = Customer("fr", FIRST, SECOND)
    assert only_reply(customer.says("je veux payer en 3 fois")) == "which_invoice"
    proposal = customer.taps(Choice.INVOICE_2)
    assert only_reply(proposal) == "split_proposal"
    assert proposal.replies[0].params["parts"] == 3
    assert proposal.replies[0].params["invoice"].invoice_id == FIRST.invoice_id
    confirmed = customer.says("oui")
    assert [a for a in confirmed.actions if isinstance(a, CreatePlan)]

    customer = Customer("fr", FIRST, SECOND)
    assert only_reply(customer.says("je conteste")) == "which_invoice"
    disputed = customer.taps(Choice.INVOICE_1)
    assert [a for a in disputed.actions if isinstance(a, PauseReminders)]
    assert customer.state.invoice_id == SECOND.invoice_id

    customer = Customer("fr", FIRST, SECOND)
    assert only_reply(customer.says("c'est deja paye")) == "which_invoice"
    checked = customer.taps(Choice.INVOICE_2)
    assert customer.state.invoice_id == FIRST.invoice_id
    assert checked.replies or [a for a in checked.actions if isinstance(a, Handoff)]


def test_a_button_or_an_answer_to_the_question_asked_applies_to_the_conversations_invoice() -> (
    None
):
    customer = Customer("fr", FIRST, SECOND)
    assert only_reply(customer.taps(Choice.PAY)) == "pay_link"
    assert only_reply(customer.taps(Choice.LATER)) == "ask_date"
    promised = customer.says("vendredi")  # answers "when?" about the invoice asked about
    assert only_reply(promised) == "promise_recorded"
    assert customer.invoices[SECOND.invoice_id].promise_date == FRIDAY


def test_something_else_after_the_question_drops_it() -> None:
    customer = Customer("fr", FIRST, SECOND)
    customer.says("je paierai vendredi")
    customer.says("merci")
    assert customer.state.pending is None
    # A stale list button shows that invoice's status rather than acting blindly.
    assert only_reply(customer.taps(Choice.INVOICE_1)) in ("status", "statement")


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("fr", "il reste combien ?"),
        ("fr", "qu'est-ce que je dois"),
        ("en", "how much do I owe"),
    ],
)
def test_what_is_left_is_one_statement_of_everything_open(locale: str, text: str) -> None:
    paid = invoice_facts(
        invoice_id="inv_41", number="F-2026-000041", status="paid", amount_due=euros("0")
    )
    customer = Customer(locale, paid, FIRST, SECOND)
    answer = customer.says(text)
    assert only_reply(answer) == "statement"
    body = sms_body(answer.replies[0], locale)
    assert "F-2026-000043" in body and "F-2026-000042" in body
    assert "F-2026-000041" not in body  # paid: not open
    total = {"fr": "200,00", "en": "200.00"}[locale]
    assert total in body
    assert body.index("F-2026-000043") < body.index("F-2026-000042")  # soonest due first


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_long_statement_stays_within_two_sms(locale: str) -> None:
    many = [
        invoice_facts(
            "1250.50",
            invoice_id=f"inv_{n}",
            number=f"F-2026-0000{n}",
            merchant_name="Atelier Lumière & Fils Paris 11",
        )
        for n in range(50, 56)
    ]
    answer = Customer(locale, *many).says("il reste combien" if locale == "fr" else "how much")
    assert only_reply(answer) == "statement"
    body = sms_body(answer.replies[0], locale)
    assert segment_count(sms_safe(body)) <= 2, body
    assert ": 3" in body  # three more than the three listed
    assert {"fr": "7 503,00", "en": "7,503.00"}[locale] in body


def test_which_invoice_lists_at_most_four_within_two_sms() -> None:
    many = [
        invoice_facts(
            "1250.50",
            invoice_id=f"inv_{n}",
            number=f"F-2026-0000{n}",
            merchant_name="Atelier Lumière & Fils Paris 11",
        )
        for n in range(50, 56)
    ]
    for locale in ("fr", "en"):
        asked = Customer(locale, *many).says("je veux payer")
        assert len(asked.replies[0].choices) == 4
        assert segment_count(sms_safe(sms_body(asked.replies[0], locale))) <= 2


def test_a_single_open_invoice_is_never_asked_about() -> None:
    chat = Conversation("fr")
    assert chat.says("je paierai vendredi").message == "promise_recorded"
    assert chat.says("il reste combien").message == "status"
