"""Pay later: "when?", a date within the policy is recorded and reminded; beyond it, refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from flows.model import Choice, CreatePlan, SetPromise, Step
from tests.flows.helpers import (
    DUE,
    FRIDAY,
    LATEST,
    LOCALES,
    MENU,
    NOW,
    PARIS,
    PAY_URL,
    TODAY,
    Conversation,
    at,
    invoice_facts,
    long_date,
)

DEC_5 = date(2026, 12, 5)
DEC_10 = date(2026, 12, 10)


@pytest.mark.parametrize(
    ("locale", "later", "friday"),
    [("fr", "plus tard", "vendredi"), ("en", "later", "Friday"), ("en", "pay later", "friday")],
)
def test_pay_later_asks_when_then_records_the_promise(
    locale: str, later: str, friday: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(later)
    assert bot.message == "ask_date"
    assert bot.choices == ()
    assert chat.state.step is Step.ASK_DATE
    assert bot.params["latest"] == LATEST == date(2027, 1, 14)
    assert long_date(LATEST, locale) in bot.text

    bot = chat.says(friday)
    assert bot.message == "promise_recorded"
    assert bot.of(SetPromise) == [SetPromise(pay_on=FRIDAY, remind_at=at(FRIDAY, 10))]
    assert bot.params["date"] == FRIDAY
    assert long_date(FRIDAY, locale) in bot.text
    assert bot.state.step is Step.MENU
    assert chat.invoice is not None and chat.invoice.promise_date == FRIDAY


@pytest.mark.parametrize("locale", LOCALES)
def test_pay_later_by_button_asks_when(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.taps(Choice.LATER)

    assert bot.message == "ask_date"
    assert chat.state.step is Step.ASK_DATE
    assert chat.state.choices == ()


def test_the_promise_reminder_is_at_ten_in_the_customers_time_zone() -> None:
    chat = Conversation("fr")
    chat.taps(Choice.LATER)

    (promise,) = chat.says("vendredi").of(SetPromise)

    assert promise.remind_at == datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)
    assert promise.remind_at.utcoffset() == timedelta(hours=1)  # CET in November


@pytest.mark.parametrize(
    ("locale", "words", "day"),
    [
        ("fr", "je paierai le 5 décembre", DEC_5),
        ("fr", "vendredi", FRIDAY),
        ("fr", "je préfère payer vendredi", FRIDAY),
        ("en", "next Friday", FRIDAY),
        ("en", "I'll pay next Friday", FRIDAY),
        ("en", "I will pay on December 5", DEC_5),
    ],
)
def test_a_date_given_straight_away_is_recorded(locale: str, words: str, day: date) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(words)

    assert bot.message == "promise_recorded", str(chat)
    assert bot.of(SetPromise) == [SetPromise(pay_on=day, remind_at=at(day, 10))]
    assert bot.choices == ()
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize(
    ("locale", "too_late", "last_day"),
    [("fr", "le 20 janvier", "le 14 janvier"), ("en", "on January 20", "January 14")],
)
def test_a_date_beyond_the_policy_is_refused_with_the_latest_date(
    locale: str, too_late: str, last_day: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(too_late)
    assert bot.message == "date_too_late"
    assert bot.params["latest"] == DUE + timedelta(days=30)
    assert bot.params["asked"] == date(2027, 1, 20)
    assert bot.of(SetPromise) == []
    assert chat.state.step is Step.ASK_DATE
    assert long_date(LATEST, locale) in bot.text

    bot = chat.says(last_day)  # the latest date itself is accepted
    assert bot.message == "promise_recorded"
    assert bot.of(SetPromise) == [SetPromise(pay_on=LATEST, remind_at=at(LATEST, 10))]


@pytest.mark.parametrize(
    ("locale", "later", "no"), [("fr", "plus tard", "non"), ("en", "later", "no")]
)
def test_no_when_asked_for_a_date_goes_back_to_the_menu(locale: str, later: str, no: str) -> None:
    chat = Conversation(locale)
    chat.says(later)

    bot = chat.says(no)

    assert bot.message == "no_problem"
    assert bot.choices == MENU
    assert bot.of(SetPromise) == []
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize(
    ("locale", "later", "words"),
    [
        ("fr", "plus tard", "euh"),
        ("fr", "plus tard", "je ne peux pas vendredi"),
        ("fr", "plus tard", "oui"),
        ("en", "later", "hmm"),
        ("en", "later", "I can't pay on Friday"),
        ("en", "later", "yes"),
    ],
)
def test_no_date_when_asked_asks_again(locale: str, later: str, words: str) -> None:
    chat = Conversation(locale)
    chat.says(later)

    bot = chat.says(words)

    assert bot.message == "ask_date_again", str(chat)
    assert bot.params["latest"] == LATEST
    assert bot.of(SetPromise) == []
    assert chat.state.step is Step.ASK_DATE


@pytest.mark.parametrize(
    ("locale", "friday", "new_date"),
    [("fr", "vendredi", "finalement le 10 décembre"), ("en", "Friday", "actually December 10")],
)
def test_moving_an_existing_promise(locale: str, friday: str, new_date: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.LATER)
    assert chat.says(friday).message == "promise_recorded"

    bot = chat.says(new_date)

    assert bot.message == "promise_moved"
    assert bot.of(SetPromise) == [SetPromise(pay_on=DEC_10, remind_at=at(DEC_10, 10))]
    assert long_date(DEC_10, locale) in bot.text
    assert chat.invoice is not None and chat.invoice.promise_date == DEC_10


@pytest.mark.parametrize(("locale", "friday"), [("fr", "vendredi"), ("en", "Friday")])
def test_saying_the_same_date_again_is_not_a_move(locale: str, friday: str) -> None:
    chat = Conversation(locale, invoice_facts(promise_date=FRIDAY))

    bot = chat.says(friday)

    assert bot.message == "promise_recorded"


@pytest.mark.parametrize(("locale", "tonight"), [("fr", "ce soir"), ("en", "tonight")])
def test_tonight_is_reminded_at_seven_pm_today(locale: str, tonight: str) -> None:
    chat = Conversation(locale)  # it is 10:00

    bot = chat.says(tonight)

    assert bot.message == "promise_recorded"
    assert bot.of(SetPromise) == [SetPromise(pay_on=TODAY, remind_at=at(TODAY, 19))]


@pytest.mark.parametrize(("locale", "tonight"), [("fr", "ce soir"), ("en", "tonight")])
def test_tonight_said_in_the_morning_is_still_reminded_in_the_evening(
    locale: str, tonight: str
) -> None:
    chat = Conversation(locale, now=at(TODAY, 8, 30))

    bot = chat.says(tonight)

    assert bot.message == "promise_recorded"
    assert bot.of(SetPromise) == [SetPromise(pay_on=TODAY, remind_at=at(TODAY, 19))]


@pytest.mark.parametrize(
    ("locale", "past_date"), [("fr", "le 17 novembre 2026"), ("en", "November 17, 2026")]
)
def test_a_date_in_the_past_is_refused(locale: str, past_date: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.LATER)

    bot = chat.says(past_date)  # yesterday, year included: not a date one can promise

    assert bot.message == "ask_date_again", str(chat)
    assert bot.of(SetPromise) == []
    assert chat.state.step is Step.ASK_DATE


@pytest.mark.parametrize(
    ("locale", "later", "split"),
    [("fr", "plus tard", "finalement en 3 fois"), ("en", "later", "actually in 3 payments")],
)
def test_changing_ones_mind_while_asked_for_a_date(locale: str, later: str, split: str) -> None:
    chat = Conversation(locale)
    chat.says(later)

    bot = chat.says(split)

    assert bot.message == "split_proposal"
    assert bot.params["parts"] == 3
    assert chat.state.step is Step.CONFIRM_SPLIT
    assert bot.of(SetPromise) == []


@pytest.mark.parametrize(("locale", "later"), [("fr", "plus tard"), ("en", "later")])
def test_pay_later_with_a_plan_says_the_plan_exists(locale: str, later: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.SPLIT_3)
    assert chat.taps(Choice.YES).of(CreatePlan)

    bot = chat.says(later)

    assert bot.message == "plan_exists"
    assert bot.params["next"].number == 1
    assert bot.of(SetPromise) == []


def test_now_is_a_wednesday() -> None:
    assert NOW.strftime("%A") == "Wednesday"
    assert timedelta(days=2) == FRIDAY - TODAY


@pytest.mark.parametrize(
    ("locale", "refusal"),
    [
        ("fr", "je ne paierai pas vendredi"),
        ("fr", "je ne veux pas payer"),
        ("en", "I won't pay on Friday"),
        ("en", "I don't want to pay"),
    ],
)
def test_a_refusal_with_a_date_is_not_a_promise(locale: str, refusal: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.LATER)

    bot = chat.says(refusal)

    assert bot.message == "no_problem", str(chat)
    assert bot.of(SetPromise) == []
    assert PAY_URL not in bot.text
