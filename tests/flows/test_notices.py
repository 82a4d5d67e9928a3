"""What the bot says when money moves or a reminder comes due; stickers and other non-text."""

from __future__ import annotations

import pytest

from flows.model import (
    CancelReminders,
    Choice,
    ConversationStatus,
    PaymentOutcome,
    Reminder,
    ReminderKind,
    Step,
)
from payments.money import Money
from tests.flows.helpers import (
    FRIDAY,
    INVOICE_URL,
    LOCALES,
    MENU,
    MERCHANT,
    NUMBER,
    PAY_URL,
    PLAN_MENU,
    Conversation,
    euros,
    invoice_facts,
    invoice_with_plan,
    long_date,
    money,
)
from tests.flows.words import WORDS

# Payment outcomes ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_paid_in_full_sends_a_receipt_and_cancels_reminders(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(promise_date=FRIDAY))
    chat.invoice_sent()

    bot = chat.payment("paid", euros("120.00"))

    assert bot.message == "receipt"
    assert bot.of(CancelReminders) == [CancelReminders()]
    assert bot.choices == ()
    assert money(euros("120.00"), locale) in bot.text
    assert NUMBER in bot.text and MERCHANT in bot.text and INVOICE_URL in bot.text
    assert chat.reminder(ReminderKind.PROMISE).silent  # if the job fires anyway


@pytest.mark.parametrize(
    ("locale", "rest", "whole", "partly"),
    [
        ("fr", "120.00", "vous n'avez rien", None),
        ("fr", "70.00", None, "restant dus"),
        ("en", "120.00", "nothing to pay", None),
        ("en", "70.00", None, "left to pay"),
    ],
)
def test_a_voided_invoice_says_what_was_cancelled_and_stops_reminders(
    locale: str, rest: str, whole: str | None, partly: str | None
) -> None:
    """Voided unpaid: the whole amount; voided after a part was paid: the rest, said so."""
    chat = Conversation(locale, invoice_facts(promise_date=FRIDAY))
    chat.invoice_sent()
    url = "https://pay.example.fr/a/" + "c" * 22
    chat.invoice = invoice_facts(status="void", amount_due=Money(0, "EUR"), promise_date=FRIDAY)

    bot = chat.send(PaymentOutcome("voided", euros(rest), None, url))

    assert bot.message == "invoice_voided"
    assert bot.of(CancelReminders) == [CancelReminders()]
    assert bot.choices == ()
    assert money(euros(rest), locale) in bot.text and NUMBER in bot.text and url in bot.text
    assert (whole or partly or "") in bot.text
    assert chat.reminder(ReminderKind.PROMISE).silent  # nothing left to remind of
    assert chat.says(WORDS[locale]["pay"]).message != "pay_link"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_last_instalment_paid_is_a_full_receipt(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=2))

    bot = chat.payment("paid", euros("40.00"), instalment=3)

    assert bot.message == "receipt"
    assert bot.of(CancelReminders) == [CancelReminders()]
    assert bot.params["instalment"] == 3


@pytest.mark.parametrize("locale", LOCALES)
def test_an_instalment_paid_with_more_to_come_says_what_is_next(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=0))

    bot = chat.payment("paid", euros("40.00"), instalment=1)

    assert bot.message == "instalment_received"
    assert bot.params["next"].number == 2
    assert bot.of(CancelReminders) == []
    assert bot.choices == ()
    assert money(euros("80.00"), locale) in bot.text  # left to pay
    assert long_date(bot.params["next"].due_date, locale) in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_processing_payment_is_acknowledged_without_a_link(locale: str) -> None:
    chat = Conversation(locale)

    bot = chat.payment("processing", euros("120.00"))

    assert bot.message == "payment_processing"
    assert bot.of(CancelReminders) == []
    assert bot.choices == ()
    assert PAY_URL not in bot.text
    assert money(euros("120.00"), locale) in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_failed_payment_offers_the_link_and_the_menu(locale: str) -> None:
    chat = Conversation(locale)

    bot = chat.payment("failed", euros("120.00"))

    assert bot.message == "payment_failed"
    assert bot.choices == MENU
    assert PAY_URL in bot.text
    assert bot.of(CancelReminders) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_a_failed_instalment_offers_the_plan_menu(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=1))

    bot = chat.payment("failed", euros("40.00"), instalment=2)

    assert bot.message == "payment_failed"
    assert bot.choices == PLAN_MENU


@pytest.mark.parametrize("locale", LOCALES)
def test_a_partial_payment_of_the_whole_invoice_is_not_announced(locale: str) -> None:
    # Every payment is checked against what was asked (issue 6): 20,00 € on a 120,00 €
    # invoice without a plan is held for review, never counted, so never a receipt.
    chat = Conversation(locale)
    chat.invoice_sent()

    assert chat.payment_not_told("paid", euros("20.00"))

    bot = chat.says(WORDS[locale]["status"])
    assert bot.message == "status"
    assert money(euros("120.00"), locale) in bot.text  # still all due
    assert bot.choices == ()


# Reminders --------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_the_promise_reminder_sends_the_link_discreetly(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(promise_date=FRIDAY))

    bot = chat.reminder(ReminderKind.PROMISE)

    assert bot.message == "promise_reminder"
    assert PAY_URL in bot.text and NUMBER in bot.text
    for shown in (bot.text, bot.sms):  # debt-collection discretion: no amount on screen
        assert money(euros("120.00"), locale) not in shown
        assert "120" not in shown


@pytest.mark.parametrize("locale", LOCALES)
def test_the_instalment_due_reminder_sends_that_instalments_link(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=1))

    bot = chat.reminder(ReminderKind.INSTALMENT_DUE, 2)

    assert bot.message == "instalment_due"
    assert bot.params["instalment"].number == 2
    assert f"{PAY_URL}/2" in bot.text
    assert bot.choices == ()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_late_instalment_reminder_is_discreet(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=0))

    bot = chat.reminder(ReminderKind.INSTALMENT_LATE, 1)

    assert bot.message == "instalment_late"
    assert bot.params["instalment"].number == 1
    assert f"{PAY_URL}/1" in bot.text
    assert money(euros("40.00"), locale) not in bot.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "reminder",
    [
        Reminder(ReminderKind.PROMISE),
        Reminder(ReminderKind.INSTALMENT_DUE, 2),
        Reminder(ReminderKind.INSTALMENT_LATE, 1),
    ],
    ids=["promise", "due", "late"],
)
@pytest.mark.parametrize(
    "why",
    ["paid", "processing", "paused", "waiting_agent", "agent"],
)
def test_reminders_are_silent_when_they_should_be(
    locale: str, reminder: Reminder, why: str
) -> None:
    plan = reminder.kind is not ReminderKind.PROMISE
    invoice = invoice_with_plan() if plan else invoice_facts(promise_date=FRIDAY)
    chat = Conversation(locale, invoice)
    match why:
        case "paid":
            chat.invoice = invoice_facts(status="paid", amount_due=Money(0, "EUR"))
        case "processing":
            chat.invoice = invoice_facts(status="processing")
        case "paused":
            chat.says(WORDS[locale]["dispute"])
            chat.state = chat.state.evolve(status=ConversationStatus.BOT)  # a person resumed
        case "waiting_agent":
            chat.says(WORDS[locale]["agent"])
        case "agent":
            chat.state = chat.state.evolve(status=ConversationStatus.AGENT)

    assert chat.send(reminder).silent, str(chat)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", [ReminderKind.INSTALMENT_DUE, ReminderKind.INSTALMENT_LATE])
def test_a_reminder_about_an_instalment_already_paid_is_silent(
    locale: str, kind: ReminderKind
) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=2))

    assert chat.reminder(kind, 2).silent
    assert chat.reminder(kind, 3).message is not None


@pytest.mark.parametrize("locale", LOCALES)
def test_an_instalment_reminder_for_an_unknown_instalment_is_silent(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan())

    assert chat.reminder(ReminderKind.INSTALMENT_DUE, 7).silent
    assert chat.reminder(ReminderKind.INSTALMENT_LATE, 7).silent


@pytest.mark.parametrize("locale", LOCALES)
def test_reminders_after_a_plan_is_created_in_the_conversation(locale: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.SPLIT_3)
    chat.taps(Choice.YES)

    assert chat.reminder(ReminderKind.INSTALMENT_DUE, 2).message == "instalment_due"
    chat.payment("paid", euros("40.00"), instalment=1)
    assert chat.reminder(ReminderKind.INSTALMENT_LATE, 1).silent  # paid since
    assert chat.reminder(ReminderKind.INSTALMENT_LATE, 2).message == "instalment_late"


# Not text -----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_a_sticker_gets_text_only_without_the_menu(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.sticker()

    assert bot.message == "text_only"
    assert bot.choices == ()  # one SMS segment; it says what to write (issue 13)
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize("locale", LOCALES)
def test_a_sticker_without_an_invoice_offers_nothing(locale: str) -> None:
    bot = Conversation(locale, None).sticker()

    assert bot.message == "text_only"
    assert bot.choices == ()
