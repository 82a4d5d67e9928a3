"""The invoice menu, and paying now (by words or by button; the next instalment's link)."""

from __future__ import annotations

import pytest

from flows.model import Choice, ConversationStatus, Reply, Step
from payments.money import Money
from tests.flows.helpers import (
    LOCALES,
    MENU,
    NUMBER,
    PAY_URL,
    PLAN_MENU,
    SMALL_MENU,
    Conversation,
    euros,
    invoice_facts,
    invoice_with_plan,
    money,
)


@pytest.mark.parametrize("locale", LOCALES)
def test_invoice_sent_offers_pay_now_later_split_and_help(locale: str) -> None:
    chat = Conversation(locale)

    bot = chat.invoice_sent()

    assert bot.message == "invoice"
    assert bot.choices == MENU
    assert chat.state.step is Step.MENU
    assert chat.state.choices == MENU
    assert NUMBER in bot.text and PAY_URL in bot.text
    assert money(euros("120.00"), locale) in bot.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("amount", "menu"), [("49.99", SMALL_MENU), ("50.00", MENU)])
def test_split_is_offered_from_50_euros(locale: str, amount: str, menu: tuple[Choice]) -> None:
    bot = Conversation(locale, invoice_facts(amount)).invoice_sent()

    assert bot.message == "invoice"
    assert bot.choices == menu


@pytest.mark.parametrize("locale", LOCALES)
def test_a_paid_invoice_offers_nothing(locale: str) -> None:
    paid = invoice_facts(status="paid", amount_due=Money(0, "EUR"))

    bot = Conversation(locale, paid).invoice_sent()

    assert bot.message == "invoice"
    assert bot.choices == ()


@pytest.mark.parametrize("locale", LOCALES)
def test_a_new_invoice_starts_a_fresh_menu(locale: str) -> None:
    chat = Conversation(locale)
    chat.says("en 3 fois" if locale == "fr" else "in 3 payments")
    assert chat.state.step is Step.CONFIRM_SPLIT

    bot = chat.invoice_sent()

    assert bot.message == "invoice"
    assert bot.state.step is Step.MENU
    assert bot.state.proposed_parts is None
    assert bot.state.unknown_streak == 0


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", "payer"),
        ("fr", "je paie maintenant"),
        ("fr", "je ne veux pas payer en 3 fois, je paie maintenant"),
        ("en", "pay now"),
        ("en", "I'll pay now"),
        ("en", "I don't want to pay in 3 instalments, I'll pay now"),
    ],
)
def test_pay_now_in_words_sends_the_link(locale: str, words: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(words)

    assert bot.message == "pay_link", str(chat)
    assert bot.actions == (Reply("pay_link", {"invoice": chat.invoice}, ()),)
    assert PAY_URL in bot.text and NUMBER in bot.text
    assert money(euros("120.00"), locale) in bot.text
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize("locale", LOCALES)
def test_pay_now_by_button_sends_the_link(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.taps(Choice.PAY)

    assert bot.message == "pay_link"
    assert bot.choices == ()  # the link is the answer: no menu again (SMS cost, issue 13)
    assert PAY_URL in bot.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("paid", "next_number"), [(0, 1), (1, 2), (2, 3)])
def test_pay_now_with_a_plan_sends_the_next_unpaid_instalments_link(
    locale: str, paid: int, next_number: int
) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=paid))

    bot = chat.says("payer" if locale == "fr" else "pay now")

    assert bot.message == "instalment_link"
    assert bot.params["instalment"].number == next_number
    assert bot.choices == ()
    assert f"{PAY_URL}/{next_number}" in bot.text
    assert money(euros("40.00"), locale) in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_menu_of_an_invoice_paid_in_instalments_is_pay_and_help(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=1))

    bot = chat.taps(Choice.HELP)

    assert bot.message == "help"
    assert bot.choices == PLAN_MENU


@pytest.mark.parametrize("locale", LOCALES)
def test_pay_now_while_a_payment_is_processing_sends_no_second_link(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(status="processing"))

    bot = chat.taps(Choice.PAY)

    assert bot.message == "payment_processing_status"
    assert PAY_URL not in bot.text
    assert bot.choices == ()


@pytest.mark.parametrize("locale", LOCALES)
def test_pay_now_on_a_paid_invoice_says_it_is_paid(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(status="paid", amount_due=Money(0, "EUR")))

    bot = chat.says("payer" if locale == "fr" else "pay now")

    assert bot.message == "already_paid"
    assert bot.choices == ()
    assert PAY_URL not in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_without_an_invoice_the_bot_says_there_is_nothing_to_pay(locale: str) -> None:
    chat = Conversation(locale, None)

    bot = chat.says("payer" if locale == "fr" else "pay now")

    assert bot.message == "no_invoice"
    assert bot.choices == ()
    assert chat.state.status is ConversationStatus.BOT


@pytest.mark.parametrize(
    ("locale", "refusal"),
    [("fr", "je ne veux pas payer"), ("fr", "non"), ("en", "I don't want to pay"), ("en", "no")],
)
def test_a_refusal_is_never_read_as_pay_now(locale: str, refusal: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(refusal)

    assert bot.message == "no_problem"
    assert PAY_URL not in bot.text
    assert bot.choices == MENU
