"""Understanding v2 in the conversation: unsure readings are asked about, a sentence that might
be an opt-out is confirmed in one line (and nothing is recorded), an opt-out with a dispute
does both in that order, and the bot answers in the language the customer writes in."""

from __future__ import annotations

import pytest

from bot.i18n import SUPPORTED_LOCALES
from channels.base import ChannelName
from flows import intent_model
from flows.conversation import REPLY_LANGUAGES
from flows.intents import MODEL_CONFLICT, Intent
from flows.model import Choice, Handoff, PauseReminders, RecordConsent, Step
from tests.flows.helpers import Conversation, render
from tests.unit.test_intent_model import fixed

MAYBE_OPT_OUT = {
    "fr": "arrêtez de me facturer des choses que je n'ai pas commandées",
    "en": "stop charging me for things I never ordered",
}
NOT_OPT_OUT = {
    "fr": "je bosse non stop cette semaine, je paierai lundi",
    "en": "I'll stop by the shop on Monday and pay there",
}
STOP_AND_DISPUTE = {"fr": "STOP et je conteste cette facture", "en": "STOP, I dispute this bill"}
UNSURE_DATE = {
    "fr": "je suis chez ma sœur vendredi",
    "en": "I am at my sister's place on Friday",
}
CONFIRM_LINE = {
    "fr": "Souhaitez-vous ne plus recevoir nos messages ? Répondez STOP pour confirmer.",
    "en": "Would you like to stop receiving our messages? Reply STOP to confirm.",
}


def test_the_bot_speaks_the_languages_it_has_catalogs_for() -> None:
    assert frozenset(SUPPORTED_LOCALES) == REPLY_LANGUAGES


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_sentence_that_might_opt_out_is_answered_then_confirmed_in_one_line(
    locale: str,
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(MAYBE_OPT_OUT[locale])

    assert bot.messages == ["dispute_received", "confirm_opt_out"]
    assert bot.of(PauseReminders)
    assert bot.of(Handoff)
    assert not bot.of(RecordConsent), "nothing is recorded until the customer sends STOP"
    assert not chat.opted_out
    line = render(bot.replies[-1], locale, ChannelName.SMS).text
    assert line.strip() == CONFIRM_LINE[locale]


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_the_confirmation_line_then_stop_opts_out(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()
    chat.says(MAYBE_OPT_OUT[locale])

    bot = chat.says("STOP")

    assert bot.of(RecordConsent) == [RecordConsent(opted_in=False, words="STOP")]
    assert chat.opted_out


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_no_confirmation_line_once_opted_out(locale: str) -> None:
    chat = Conversation(locale, opted_out=True)
    chat.invoice_sent()

    bot = chat.says(MAYBE_OPT_OUT[locale])

    assert "confirm_opt_out" not in bot.messages


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_stop_used_in_another_sense_is_not_an_opt_out(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(NOT_OPT_OUT[locale])

    assert bot.message == "promise_recorded"
    assert not bot.of(RecordConsent)
    assert not chat.opted_out


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_stop_and_a_dispute_opt_out_first_then_hand_the_dispute_over(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(STOP_AND_DISPUTE[locale])

    assert bot.action_types()[0] == "RecordConsent"
    assert bot.messages == ["opted_out", "dispute_received"]
    assert bot.of(PauseReminders)
    assert bot.of(Handoff)
    assert chat.opted_out


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_an_unsure_reading_is_asked_about_with_choices(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(UNSURE_DATE[locale])

    assert bot.message == "clarify"
    assert bot.choices[0] is Choice.LATER
    assert bot.state.step is Step.MENU
    # On SMS the customer answers with a number: "1" is the first choice offered.
    answer = chat.texts("1")
    assert answer.message == "ask_date"


@pytest.mark.parametrize(
    ("profile", "text", "replies_in"),
    [
        ("fr", "hello, I would like to pay now please", "en"),
        ("en", "bonjour, je voudrais payer maintenant s'il vous plaît", "fr"),
        ("fr", "je voudrais payer maintenant", "fr"),
        ("en", "ok merci", "en"),  # too short to tell: the profile's language
        ("fr", "quiero pagar ahora por favor", "fr"),  # no Spanish catalog: the profile's
    ],
)
def test_replies_in_the_language_the_customer_writes_in(
    profile: str, text: str, replies_in: str
) -> None:
    chat = Conversation(profile)
    chat.invoice_sent()

    bot = chat.says(text)

    assert bot.locale == replies_in
    assert bot.reply is not None


@pytest.mark.parametrize(
    ("locale", "text"),
    [("fr", "c'est payé, arrêtez de me relancer"), ("en", "I already paid, stop texting me")],
)
def test_already_paid_and_stop_opts_out_then_checks_the_payment(locale: str, text: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(text)

    assert bot.action_types()[0] == "RecordConsent"
    assert bot.messages == ["opted_out", "already_paid_check"]
    assert bot.of(Handoff)  # nothing in the ledger: a person checks
    assert chat.opted_out


PAY_NOW_TEXT = {"fr": "je paie maintenant", "en": "I'll pay now"}


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_a_pay_now_the_model_doubts_is_asked_about_and_no_link_is_sent(
    locale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The trained model reads a dispute where the rules read "pay now" (flows.intents,
    # MODEL_CONFLICT): the bot asks, offering a person, instead of sending the link.
    disputed = fixed({Intent.DISPUTE: MODEL_CONFLICT + 0.1})
    monkeypatch.setattr(intent_model, "shipped", lambda: disputed)
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(PAY_NOW_TEXT[locale])

    assert bot.message == "clarify"
    assert bot.choices[:2] == (Choice.PAY, Choice.AGENT)
    assert "pay_link" not in bot.messages
    assert chat.taps(Choice.AGENT).of(Handoff)
