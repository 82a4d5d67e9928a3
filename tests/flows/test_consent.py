"""STOP and START: recorded, confirmed exactly once, never missed whatever the step."""

from __future__ import annotations

import pytest

from flows.model import CreatePlan, RecordConsent, Reply, SetPromise, Step
from payments.money import Money
from tests.flows.helpers import LOCALES, MENU, Conversation, invoice_facts
from tests.flows.words import WORDS

STOPS = [
    ("fr", "STOP"),
    ("en", "STOP"),
    ("fr", "stop."),
    ("fr", "ARRET"),
    ("fr", "arrête"),
    ("fr", "STOP SMS"),
    ("fr", "désabonner"),
    ("en", "UNSUBSCRIBE"),
    ("en", "STOP PLEASE"),
    ("fr", "ne m'écrivez plus"),
    ("en", "please stop texting me"),
]


@pytest.mark.parametrize(("locale", "stop"), STOPS)
def test_stop_is_recorded_and_confirmed_once(locale: str, stop: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(stop)

    assert bot.actions == (
        RecordConsent(opted_in=False, words=stop),
        Reply("opted_out", {"invoice": chat.invoice}, ()),
    )
    assert chat.opted_out

    again = chat.says(stop)
    # No second record; a brief "already done" rather than silence, which reads as ignored.
    assert again.actions == (Reply("already_opted_out", {"invoice": chat.invoice}, ()),)


@pytest.mark.parametrize("locale", LOCALES)
def test_stop_when_already_opted_out_says_it_is_already_done(locale: str) -> None:
    chat = Conversation(locale, opted_out=True)

    bot = chat.says("STOP")
    assert bot.message == "already_opted_out" and not bot.of(RecordConsent)


@pytest.mark.parametrize(
    ("locale", "get_there", "stop"),
    [
        ("fr", ["plus tard"], "STOP"),
        ("fr", ["en plusieurs fois"], "stop"),
        ("fr", ["en 3 fois"], "oui STOP"),
        ("fr", ["un conseiller svp"], "ARRET"),
        ("fr", ["blablabla"], "STOP"),
        ("en", ["later"], "STOP"),
        ("en", ["in 3 payments"], "yes stop"),
        ("en", ["human please"], "UNSUBSCRIBE"),
    ],
)
def test_stop_is_never_missed_whatever_the_step(
    locale: str, get_there: list[str], stop: str
) -> None:
    chat = Conversation(locale)
    for words in get_there:
        chat.says(words)

    bot = chat.says(stop)

    assert bot.message == "opted_out", str(chat)
    assert bot.of(RecordConsent) == [RecordConsent(opted_in=False, words=stop)]
    assert bot.of(SetPromise) == [] and bot.of(CreatePlan) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_start_after_stop_subscribes_again(locale: str) -> None:
    chat = Conversation(locale)
    chat.says("STOP")

    bot = chat.says("START")

    assert bot.message == "opted_in"
    assert bot.of(RecordConsent) == [RecordConsent(opted_in=True, words="START")]
    assert bot.choices == MENU
    assert not chat.opted_out

    bot = chat.says("STOP")  # and a later STOP is confirmed again
    assert bot.message == "opted_out"


@pytest.mark.parametrize("locale", LOCALES)
def test_start_when_subscribed_is_help(locale: str) -> None:
    chat = Conversation(locale)

    bot = chat.says("START")

    assert bot.message == "help"
    assert bot.of(RecordConsent) == []
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize("locale", LOCALES)
def test_start_while_waiting_for_a_person_is_answered(locale: str) -> None:
    chat = Conversation(locale, opted_out=True)
    chat.says(WORDS[locale]["agent"])

    assert chat.says("START").message == "opted_in"


@pytest.mark.parametrize("locale", LOCALES)
def test_stop_without_an_invoice(locale: str) -> None:
    chat = Conversation(locale, None)

    bot = chat.says("STOP")

    assert bot.message == "opted_out"
    assert bot.of(RecordConsent) == [RecordConsent(opted_in=False, words="STOP")]


@pytest.mark.parametrize("locale", LOCALES)
def test_stop_on_a_paid_invoice(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(status="paid", amount_due=Money(0, "EUR")))

    bot = chat.says("STOP")

    assert bot.message == "opted_out"
    assert bot.choices == ()


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("fr", "Je paierai vendredi. ARRET"),
        ("fr", "en 3 fois. Arrêtez !"),
        ("fr", "oui STOP"),
        ("en", "Friday. STOP"),
        ("en", "yes UNSUBSCRIBE"),
    ],
)
def test_stop_next_to_a_payment_choice_is_an_opt_out_not_a_promise(
    locale: str, words: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(words)

    assert bot.message == "opted_out", str(chat)
    assert bot.of(SetPromise) == [] and bot.of(CreatePlan) == []
