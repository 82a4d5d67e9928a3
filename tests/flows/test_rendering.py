"""Every message a flow can say renders in French and in English, on Telegram and on SMS.

Each template in bot/templates/messages/ is produced by the flows themselves (a short
conversation that leads to it), so the params are exactly the ones the flow passes. The
conversation helper already checks each reply as it is produced (`check_rendering`); these
tests make sure no template is left without a conversation that reaches it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from channels.base import ChannelName
from channels.sms_text import sms_safe
from flows import pay_later
from flows.model import (
    AgentKind,
    Choice,
    CustomerText,
    InvoiceFacts,
    Outcome,
    PaymentOutcome,
    Reminder,
    ReminderKind,
    Reply,
)
from payments.money import Money
from tests.flows.helpers import (
    CHANNELS,
    CUSTOMER,
    FOREIGN_WORDS,
    FRIDAY,
    LOCALES,
    MERCHANT,
    NUMBER,
    PAY_URL,
    URL,
    Conversation,
    Turn,
    check_rendering,
    euros,
    invoice_facts,
    invoice_with_plan,
    money,
    render,
    rendering_problems,
    sms_body,
    template_names,
)
from tests.flows.words import WORDS

CREDIT_NOTE_URL = "https://pay.example.fr/a/" + "c" * 22
PAID = invoice_facts(status="paid", amount_due=Money(0, "EUR"))


def _held(locale: str, invoice: InvoiceFacts | None = None) -> Conversation:
    chat = Conversation(locale, invoice or invoice_facts())
    chat.says(WORDS[locale]["agent"])
    chat.agent(AgentKind.CLAIM)
    return chat


def _agent_payment(locale: str, op: str, **params: object) -> Reply | None:
    return _held(locale).agent(AgentKind.PAYMENT, text=op, params=params).reply


def _handed_back(locale: str, invoice: InvoiceFacts | None = None) -> Turn:
    chat = _held(locale, invoice)
    chat.now += timedelta(days=62)  # past the promise and the second instalment
    return chat.agent(AgentKind.RESOLVE)


def _produce(message: str, locale: str) -> Reply:
    """A realistic reply for template `message`, obtained from the flows."""
    w = WORDS[locale]
    paid = invoice_facts(status="paid", amount_due=Money(0, "EUR"))
    scripts: dict[str, Callable[[], Reply | None]] = {
        "already_paid": lambda: Conversation(locale, paid).says(w["status"]).reply,
        "clarify": lambda: Conversation(locale).says(w["unsure"]).reply,
        "confirm_opt_out": lambda: Conversation(locale).says(w["maybe_stop"]).replies[-1],
        "agent_pay_link": lambda: _agent_payment(locale, "resend_link"),
        "agent_due_date": lambda: _agent_payment(locale, "extend_due", date="2027-01-10"),
        "agent_offline_payment": lambda: _agent_payment(
            locale, "offline_payment", amount=2000, method="cheque", reference="n° 1234"
        ),
        "agent_reminders_paused": lambda: _agent_payment(locale, "pause_reminders"),
        "handback": lambda: _handed_back(locale).reply,
        "handback_promise": lambda: _handed_back(locale, invoice_facts(promise_date=FRIDAY)).reply,
        "handback_instalment": lambda: _handed_back(locale, invoice_with_plan(paid=1)).reply,
        "already_paid_check": lambda: Conversation(locale).says(w["already_paid"]).reply,
        "ask_date": lambda: Conversation(locale).taps(Choice.LATER).reply,
        "ask_date_again": lambda: _after(locale, Choice.LATER, w["gibberish"]),
        "ask_parts": lambda: Conversation(locale).says(w["several"]).reply,
        "date_in_past": lambda: _date_in_past(locale),
        "date_too_late": lambda: Conversation(locale).says(w["too_late"]).reply,
        "card_warning": lambda: (
            Conversation(locale).send(CustomerText("[CARD REDACTED]", card_shared=True)).reply
        ),
        "dispute_received": lambda: Conversation(locale).says(w["dispute"]).reply,
        "fallback": lambda: Conversation(locale).says(w["gibberish"]).reply,
        "fallback_offer_agent": lambda: _twice(locale, w["gibberish"], w["gibberish2"]),
        "handoff": lambda: Conversation(locale).says(w["agent"]).reply,
        "handoff_already": lambda: _twice(locale, w["agent"], w["agent"]),
        "help": lambda: Conversation(locale).taps(Choice.HELP).reply,
        "instalment_due": lambda: (
            _with_plan(locale).reminder(ReminderKind.INSTALMENT_DUE, 2).reply
        ),
        "instalment_late": lambda: (
            _with_plan(locale).reminder(ReminderKind.INSTALMENT_LATE, 1).reply
        ),
        "instalment_link": lambda: _with_plan(locale).taps(Choice.PAY).reply,
        "instalment_received": lambda: (
            _with_plan(locale).payment("paid", euros("40.00"), instalment=1).reply
        ),
        "invoice": lambda: Conversation(locale).invoice_sent().reply,
        # The ladder's steps on 18 November: 3 days before, on, 3 and 30 days after the due date.
        "dunning_before": lambda: _ladder(locale, date(2026, 11, 21), 0),
        "dunning_due": lambda: _ladder(locale, date(2026, 11, 18), 1),
        "dunning_late": lambda: _ladder(locale, date(2026, 11, 15), 2),
        "dunning_final": lambda: _ladder(locale, date(2026, 10, 19), 4),
        "credit_note_refunded": lambda: (
            Conversation(locale, PAID)
            .payment("refunded", euros("20.00"), credit_note_url=CREDIT_NOTE_URL)
            .reply
        ),
        "credit_note_dispute_lost": lambda: (
            Conversation(locale, PAID)
            .payment("dispute_lost", euros("120.00"), credit_note_url=CREDIT_NOTE_URL)
            .reply
        ),
        # Voiding is the merchant's act, not Stripe's: dispatch hands the flow its outcome.
        "invoice_voided": lambda: (
            Conversation(locale, invoice_facts(status="void", amount_due=Money(0, "EUR")))
            .send(PaymentOutcome("voided", euros("120.00"), None, CREDIT_NOTE_URL))
            .reply
        ),
        "later_closed": lambda: (
            Conversation(locale, invoice_facts(due_date=date(2026, 9, 1))).taps(Choice.LATER).reply
        ),
        "no_invoice": lambda: Conversation(locale, None).says(w["pay"]).reply,
        "no_problem": lambda: _after(locale, Choice.LATER, w["no"]),
        "opted_in": lambda: Conversation(locale, opted_out=True).says(w["start"]).reply,
        "opted_out": lambda: Conversation(locale).says(w["stop"]).reply,
        # The ledger never announces a partial payment of a whole invoice (it is not
        # counted), so the flow is handed the event directly to render its reply.
        "partial_receipt": lambda: (
            Conversation(locale).send(PaymentOutcome("paid", euros("50.00"))).reply
        ),
        "pay_link": lambda: Conversation(locale).taps(Choice.PAY).reply,
        "payment_failed": lambda: Conversation(locale).payment("failed", euros("120.00")).reply,
        "payment_processing": lambda: (
            Conversation(locale).payment("processing", euros("120.00")).reply
        ),
        "payment_processing_status": lambda: (
            Conversation(locale, invoice_facts(status="processing")).taps(Choice.PAY).reply
        ),
        "plan_exists": lambda: _with_plan(locale).says(w["split3"]).reply,
        "promise_moved": lambda: (
            Conversation(locale, invoice_facts(promise_date=FRIDAY)).says(w["dec5"]).reply
        ),
        "promise_recorded": lambda: Conversation(locale).says(w["friday"]).reply,
        "promise_reminder": lambda: (
            Conversation(locale, invoice_facts(promise_date=FRIDAY))
            .reminder(ReminderKind.PROMISE)
            .reply
        ),
        "receipt": lambda: Conversation(locale).payment("paid", euros("120.00")).reply,
        "smalltalk": lambda: Conversation(locale).says(w["thanks"]).reply,
        "split_confirmed": lambda: _after(locale, Choice.SPLIT_3, w["yes"]),
        "split_declined": lambda: _after(locale, Choice.SPLIT_3, w["no"]),
        "split_not_allowed": lambda: Conversation(locale).says(w["split10"]).reply,
        "split_proposal": lambda: Conversation(locale).says(w["split3"]).reply,
        "split_unavailable": lambda: (
            Conversation(locale, invoice_facts("35.00")).says(w["split3"]).reply
        ),
        "status": lambda: Conversation(locale).says(w["status"]).reply,
        "statement": lambda: _with_others(locale).says(w["status"]).reply,
        "which_invoice": lambda: _with_others(locale).says(w["pay"]).reply,
        "greeting": lambda: Conversation(locale).says(w["hello"]).reply,
        "acknowledged": lambda: Conversation(locale).says(w["yes"]).reply,
        "already_opted_out": lambda: Conversation(locale, opted_out=True).says("STOP").reply,
        "status_processing": lambda: (
            Conversation(locale, invoice_facts(status="processing")).says(w["status"]).reply
        ),
        "text_only": lambda: Conversation(locale).sticker().reply,
    }
    assert message in scripts, f"no conversation reaches template {message!r}: add one"
    reply = scripts[message]()
    assert reply is not None, f"the conversation for {message!r} got no reply"
    return reply


def _after(locale: str, choice: Choice, text: str) -> Reply | None:
    chat = Conversation(locale)
    chat.taps(choice)
    return chat.says(text).reply


def _twice(locale: str, first: str, second: str) -> Reply | None:
    chat = Conversation(locale)
    chat.says(first)
    return chat.says(second).reply


def _with_others(locale: str) -> Conversation:
    """Three open invoices with the merchant (flows.several)."""
    second = invoice_facts("80.00", invoice_id="inv_43", number="F-2026-000043")
    third = invoice_facts("1250.50", invoice_id="inv_44", number="F-2026-000044")
    return Conversation(locale, others=(second, third))


def _with_plan(locale: str) -> Conversation:
    return Conversation(locale, invoice_with_plan(paid=0))


def _date_in_past(locale: str) -> Reply | None:
    """Dates read from text are never in the past, so ask the pay-later flow directly."""
    chat = Conversation(locale)
    outcome: Outcome = pay_later.promise(
        chat.state, invoice_facts(), chat.facts, chat.now.date() - timedelta(days=1)
    )
    return outcome.replies[0] if outcome.replies else None


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("message", template_names())
def test_every_template_renders_from_a_real_flow_reply(message: str, locale: str) -> None:
    reply = _produce(message, locale)
    assert reply.message == message
    check_rendering(reply, locale)
    for channel in CHANNELS:
        assert render(reply, locale, channel).text.strip()
    assert sms_body(reply, locale).strip()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("choice", list(Choice))
def test_every_choice_has_a_label_in_both_languages(choice: Choice, locale: str) -> None:
    reply = Reply("no_problem", {}, (choice,))
    message = render(reply, locale, ChannelName.TELEGRAM)
    assert [b.action for b in message.buttons] == [choice.value]
    assert message.buttons[0].label.strip()
    assert not rendering_problems(reply, locale)


@pytest.mark.parametrize(
    ("locale", "labels"),
    [
        ("fr", ["Payer", "Payer plus tard", "Payer en plusieurs fois", "Aide"]),
        ("en", ["Pay now", "Pay later", "Pay in instalments", "Help"]),
    ],
)
def test_the_invoice_menu_reads_in_the_customers_language(locale: str, labels: list[str]) -> None:
    bot = Conversation(locale).invoice_sent()
    # On Telegram, "Pay" is a link button that says the amount it charges (issue 13).
    pay = {"fr": "Payer 120,00\xa0€", "en": "Pay €120.00"}[locale]
    assert bot.buttons == [pay, *labels[1:]]
    assert NUMBER in bot.text and PAY_URL in bot.text
    assert money(euros("120.00"), locale) in bot.text
    numbered = [f"{n}. {label}" for n, label in enumerate(labels, 1)]
    assert bot.sms.splitlines()[-4:] == [sms_safe(line) for line in numbered]


@pytest.mark.parametrize(
    ("locale", "due_date", "amount"),
    [("fr", "15 décembre 2026", "120,00\xa0€"), ("en", "December 15, 2026", "€120.00")],
)
def test_dates_and_amounts_are_written_the_local_way(
    locale: str, due_date: str, amount: str
) -> None:
    bot = Conversation(locale).invoice_sent()
    assert due_date in bot.text and amount in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_french_text_has_no_english_menu_words_and_vice_versa(locale: str) -> None:
    chat = Conversation(locale)
    for bot in (chat.invoice_sent(), chat.taps(Choice.HELP), chat.says("xyzzy")):
        text = "\n".join([bot.text, *bot.buttons])
        if locale == "fr":
            assert "Pay later" not in text and "Pay now" not in text and "Help" not in text
        else:
            assert "Payer plus tard" not in text and "Aide" not in text and "facture" not in text


@pytest.mark.parametrize(("locale", "other"), [("fr", "en"), ("en", "fr")])
@pytest.mark.parametrize("message", template_names())
def test_the_language_check_would_notice_the_other_language(
    message: str, locale: str, other: str
) -> None:
    """Each message, rendered in one language, is caught by the other language's check."""
    reply = _produce(message, locale)

    shown = render(reply, locale, ChannelName.TELEGRAM)
    visible = "\n".join([shown.text, *(b.label for b in shown.buttons)])
    visible = URL.sub(" ", visible).replace(MERCHANT, " ").replace(CUSTOMER, " ")

    assert FOREIGN_WORDS[other].search(visible), f"{message} in {locale} could pass as {other}"


def _ladder(locale: str, due: date, step: int) -> Reply | None:
    conversation = Conversation(locale, invoice_facts(due_date=due))
    return conversation.send(Reminder(ReminderKind.LADDER, step=step)).reply
