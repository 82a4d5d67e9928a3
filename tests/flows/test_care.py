"""Status, "already paid", disputes, asking for a human, help, small talk and not understanding."""

from __future__ import annotations

import pytest

from flows.model import (
    Choice,
    ConversationStatus,
    CreatePlan,
    Handoff,
    PauseReminders,
    Reminder,
    ReminderKind,
    Reply,
    SetPromise,
    Step,
)
from payments.money import Money
from tests.flows.helpers import (
    DUE,
    FRIDAY,
    LOCALES,
    MENU,
    PAY_URL,
    Conversation,
    euros,
    invoice_facts,
    invoice_with_plan,
    long_date,
    money,
)
from tests.flows.words import WORDS

WAITING = ConversationStatus.WAITING_AGENT


def no_payment_actions(bot_actions: tuple[object, ...]) -> bool:
    return not any(isinstance(a, SetPromise | CreatePlan) for a in bot_actions)


# Status -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "status"),
    [
        ("fr", "combien je dois"),
        ("fr", "il reste combien"),
        ("en", "how much do I owe"),
        ("en", "what's left to pay"),
    ],
)
def test_status_says_what_is_left_the_due_date_and_the_link(locale: str, status: str) -> None:
    chat = Conversation(locale)

    bot = chat.says(status)

    assert bot.message == "status"
    assert bot.params["next"] is None and bot.params["promise"] is None
    assert money(euros("120.00"), locale) in bot.text
    assert long_date(DUE, locale) in bot.text
    assert PAY_URL in bot.text
    assert bot.choices == ()  # the reply carries the link: one SMS segment


@pytest.mark.parametrize("locale", LOCALES)
def test_status_with_a_promise_recalls_the_promised_date(locale: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.LATER)
    chat.says(WORDS[locale]["friday"])

    bot = chat.says(WORDS[locale]["status"])

    assert bot.message == "status"
    assert bot.params["promise"] == FRIDAY
    assert long_date(FRIDAY, locale) in bot.text
    assert PAY_URL in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_status_with_a_plan_gives_the_next_instalment(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=1))

    bot = chat.says(WORDS[locale]["status"])

    assert bot.message == "status"
    assert bot.params["next"].number == 2
    assert money(euros("80.00"), locale) in bot.text  # left to pay
    assert f"{PAY_URL}/2" in bot.text


# Already paid -----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_already_paid_and_the_ledger_agrees(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(status="paid", amount_due=Money(0, "EUR")))

    bot = chat.says(WORDS[locale]["already_paid"])

    assert bot.message == "already_paid"
    assert bot.of(Handoff) == []
    assert bot.choices == ()
    assert chat.state.status is ConversationStatus.BOT


@pytest.mark.parametrize("locale", LOCALES)
def test_already_paid_while_the_payment_is_processing(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(status="processing"))

    bot = chat.says(WORDS[locale]["already_paid"])

    assert bot.message == "payment_processing_status"
    assert bot.of(Handoff) == []
    assert PAY_URL not in bot.text


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", "j'ai déjà payé"),
        ("fr", "c'est réglé"),
        ("en", "I already paid"),
        ("en", "paid yesterday"),
    ],
)
def test_already_paid_but_nothing_in_the_ledger_goes_to_a_person(locale: str, words: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(words)

    assert bot.message == "already_paid_check", str(chat)
    assert bot.actions == (
        Handoff("already_paid"),
        Reply("already_paid_check", {"invoice": chat.invoice}, ()),
    )
    assert chat.state.status is WAITING
    assert PAY_URL not in bot.text


# Dispute ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", "je conteste cette facture"),
        ("fr", "c'est une arnaque"),
        ("fr", "le montant est faux"),
        ("en", "I never ordered this"),
        ("en", "wrong amount"),
        ("en", "I dispute this invoice"),
    ],
)
def test_a_dispute_pauses_reminders_and_goes_to_a_person(locale: str, words: str) -> None:
    invoice = invoice_facts(promise_date=FRIDAY)
    chat = Conversation(locale, invoice)
    chat.invoice_sent()

    bot = chat.says(words)

    assert bot.message == "dispute_received", str(chat)
    assert bot.actions == (
        PauseReminders(),
        Handoff("dispute"),
        Reply("dispute_received", {"invoice": invoice}, ()),
    )
    assert chat.invoice is not None and chat.invoice.reminders_paused
    assert chat.state.status is WAITING
    assert PAY_URL not in bot.text
    assert chat.reminder(ReminderKind.PROMISE).silent  # the promised day comes: nothing


@pytest.mark.parametrize(
    ("locale", "step_words", "dispute"),
    [
        ("fr", "plus tard", "je conteste cette facture, je ne paierai pas vendredi"),
        ("fr", "en 3 fois", "oui, enfin non, je conteste cette facture"),
        ("en", "later", "I never ordered this, not paying on Friday"),
        ("en", "in 3 payments", "yes... no wait, I never ordered this"),
    ],
)
def test_a_dispute_is_never_an_agreement_to_pay(
    locale: str, step_words: str, dispute: str
) -> None:
    chat = Conversation(locale)
    chat.says(step_words)

    bot = chat.says(dispute)

    assert bot.message == "dispute_received"
    assert no_payment_actions(bot.actions)
    assert PAY_URL not in bot.text


@pytest.mark.parametrize("locale", LOCALES)
def test_a_dispute_on_a_paid_invoice_still_goes_to_a_person(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(status="paid", amount_due=Money(0, "EUR")))

    bot = chat.says(WORDS[locale]["dispute"])

    assert bot.message == "dispute_received"
    assert bot.of(Handoff) == [Handoff("dispute")]


# Asking for a human -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "agent", "hello", "pay", "stop"),
    [
        ("fr", "un conseiller svp", "bonjour", "payer", "STOP"),
        ("en", "human please", "hello", "pay now", "STOP"),
    ],
)
def test_asking_for_a_human_then_the_bot_mostly_listens(
    locale: str, agent: str, hello: str, pay: str, stop: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(agent)
    assert bot.message == "handoff"
    assert bot.actions == (Handoff("asked"), Reply("handoff", {"invoice": chat.invoice}, ()))
    assert chat.state.status is WAITING

    assert chat.says(hello).silent
    assert chat.says(pay).message == "pay_link"
    assert chat.state.status is WAITING  # paying does not take the request back

    bot = chat.says(stop)
    assert bot.message == "opted_out"
    assert chat.state.status is WAITING


@pytest.mark.parametrize("locale", LOCALES)
def test_asking_again_while_waiting_is_acknowledged_once_more(locale: str) -> None:
    chat = Conversation(locale)
    chat.says(WORDS[locale]["agent"])

    bot = chat.says(WORDS[locale]["agent"])

    assert bot.message == "handoff_already"
    assert bot.of(Handoff) == []
    assert chat.state.status is WAITING


@pytest.mark.parametrize("locale", LOCALES)
def test_status_while_waiting_is_answered(locale: str) -> None:
    chat = Conversation(locale)
    chat.says(WORDS[locale]["agent"])

    assert chat.says(WORDS[locale]["status"]).message == "status"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "key",
    [
        "hello",
        "thanks",
        "help",
        "gibberish",
        "split3",
        "friday",
        "later",
        "yes",
        "no",
        "already_paid",
    ],
)
def test_while_waiting_for_a_person_the_bot_does_not_talk_over_them(locale: str, key: str) -> None:
    chat = Conversation(locale)
    chat.says(WORDS[locale]["agent"])

    bot = chat.says(WORDS[locale][key])

    assert bot.silent, str(chat)
    assert chat.state.status is WAITING


@pytest.mark.parametrize("locale", LOCALES)
def test_a_dispute_while_waiting_is_acknowledged_and_pauses_reminders(locale: str) -> None:
    chat = Conversation(locale)
    chat.says(WORDS[locale]["agent"])

    bot = chat.says(WORDS[locale]["dispute"])

    assert bot.message == "dispute_received", str(chat)
    assert bot.of(PauseReminders) == [PauseReminders()]
    assert chat.state.status is WAITING


@pytest.mark.parametrize("locale", LOCALES)
def test_buttons_while_waiting_follow_the_same_rules(locale: str) -> None:
    chat = Conversation(locale)
    chat.says(WORDS[locale]["agent"])

    assert chat.taps(Choice.HELP).silent
    assert chat.taps(Choice.SPLIT_3).silent
    assert chat.taps(Choice.PAY).message == "pay_link"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_sticker_while_waiting_gets_no_answer(locale: str) -> None:
    chat = Conversation(locale)
    chat.says(WORDS[locale]["agent"])

    assert chat.sticker().silent


# Help, small talk, not understanding -------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "help_"), [("fr", "aide"), ("en", "help"), ("fr", "je peux faire quoi ?")]
)
def test_help_explains_the_options_with_the_menu(locale: str, help_: str) -> None:
    chat = Conversation(locale)

    bot = chat.says(help_)

    assert bot.message == "help"
    assert bot.choices == MENU
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize("locale", LOCALES)
def test_help_while_asked_for_a_date_leaves_the_question(locale: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.LATER)

    bot = chat.says(WORDS[locale]["help"])

    assert bot.message == "help"
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize(
    ("locale", "words"),
    [("fr", "merci"), ("fr", "bonjour, merci !"), ("en", "thanks"), ("en", "thank you")],
)
def test_small_talk_gets_a_short_friendly_answer(locale: str, words: str) -> None:
    chat = Conversation(locale)

    bot = chat.says(words)

    assert bot.message == "smalltalk"
    assert bot.choices == MENU
    assert len(bot.text) < 40


@pytest.mark.parametrize(
    ("locale", "first", "second"),
    [("fr", "blablabla", "qwerty zxcv"), ("en", "blablabla", "qwerty zxcv")],
)
def test_two_unknowns_in_a_row_offer_a_person(locale: str, first: str, second: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(first)
    assert bot.message == "fallback"
    assert bot.choices == MENU

    bot = chat.says(second)
    assert bot.message == "fallback_offer_agent"
    assert bot.choices == (Choice.AGENT, Choice.HELP)
    assert chat.state.choices == (Choice.AGENT, Choice.HELP)
    assert bot.of(Handoff) == []  # offered, not imposed

    bot = chat.taps(Choice.AGENT)
    assert bot.message == "handoff"
    assert bot.of(Handoff) == [Handoff("asked")]


@pytest.mark.parametrize("locale", LOCALES)
def test_help_from_the_offer_of_a_person(locale: str) -> None:
    chat = Conversation(locale)
    chat.says("blablabla")
    chat.says("qwerty zxcv")

    bot = chat.taps(Choice.HELP)

    assert bot.message == "help"
    assert chat.state.unknown_streak == 0


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("between", ["thanks", "status", "help", "pay", "no"])
def test_a_recognised_message_in_between_resets_the_streak(locale: str, between: str) -> None:
    chat = Conversation(locale)

    assert chat.says("blablabla").message == "fallback"
    assert chat.says(WORDS[locale][between]).message != "fallback"
    assert chat.says("qwerty zxcv").message == "fallback", str(chat)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_button_in_between_resets_the_streak(locale: str) -> None:
    chat = Conversation(locale)

    chat.says("blablabla")
    chat.taps(Choice.PAY)

    assert chat.says("qwerty zxcv").message == "fallback"


@pytest.mark.parametrize("locale", LOCALES)
def test_without_an_invoice_small_talk_is_still_answered(locale: str) -> None:
    chat = Conversation(locale, None)

    bot = chat.says(WORDS[locale]["thanks"])

    assert bot.message == "smalltalk"
    assert bot.choices == ()


@pytest.mark.parametrize("locale", LOCALES)
def test_reminders_stay_silent_while_a_person_holds_the_conversation(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(promise_date=FRIDAY))
    chat.says(WORDS[locale]["agent"])

    assert chat.send(Reminder(ReminderKind.PROMISE)).silent
