"""The SMS numbering contract: "1", "2"... mean the choices the last reply offered, in order.

The flow remembers what each reply offered (`state.choices`); the SMS body lists them as
"N. label" (`channels.sms_text.render_sms`); the bot maps a bare "N" back to the Nth choice
(`bot.engine.dispatch`). `Conversation.texts` replays that mapping.
"""

from __future__ import annotations

import re

import pytest

from bot.engine.dispatch import _numbered_choice as numbered_choice
from channels.base import ChannelName, InboundKind, InboundMessage
from channels.sms_text import sms_safe
from flows.model import PART_CHOICES, Choice, CreatePlan, SetPromise, Step
from tests.flows.helpers import (
    FOUR_INSTALMENTS,
    LOCALES,
    MENU,
    PARTS,
    Conversation,
    Turn,
    invoice_facts,
    invoice_with_plan,
    renderer,
)
from tests.flows.words import WORDS

_NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


def journey(locale: str) -> Conversation:
    """A conversation through every step, with buttons, words and silences."""
    w = WORDS[locale]
    chat = Conversation(locale)
    chat.invoice_sent()
    chat.says(w["gibberish"])
    chat.says(w["gibberish2"])
    chat.taps(Choice.HELP)
    chat.taps(Choice.LATER)
    chat.says(w["gibberish"])
    chat.says(w["too_late"])
    chat.says(w["no"])
    chat.says(w["split10"])
    chat.says("3")
    chat.says(w["no"])
    chat.sticker()
    chat.says(w["several"])
    chat.taps(Choice.SPLIT_2)
    chat.says(w["split3"])
    chat.taps(Choice.YES)
    chat.says(w["status"])
    chat.taps(Choice.PAY)
    chat.says("STOP")
    chat.says("STOP")
    chat.says("START")
    chat.says(w["agent"])
    chat.says(w["hello"])
    chat.says(w["pay"])
    return chat


@pytest.mark.parametrize("locale", LOCALES)
def test_the_state_remembers_exactly_what_each_reply_offered(locale: str) -> None:
    chat = journey(locale)
    offered: tuple[Choice, ...] = ()
    for turn in chat.turns:
        if turn.reply is not None:
            offered = turn.reply.choices
        assert turn.state.choices == offered, f"{turn.event}\n{chat}"


@pytest.mark.parametrize("locale", LOCALES)
def test_each_number_on_the_screen_means_the_choice_it_shows(locale: str) -> None:
    chat = journey(locale)
    for turn in chat.turns:
        if turn.reply is None or not turn.reply.choices:
            continue
        if all(c in PART_CHOICES for c in turn.reply.choices):
            assert _numbered_lines(turn) == []  # "how many?" is answered with the number
            continue
        shown = _numbered_lines(turn)
        assert [n for n, _ in shown] == list(range(1, len(turn.reply.choices) + 1))
        for number, label in shown:
            probe = Conversation(locale, chat.invoice, state=turn.state)
            choice = _choice_for(probe, str(number))
            assert choice is not None
            assert renderer().choice_label(choice, locale) == label


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("number", "expected"),
    [("1", "pay_link"), ("2", "ask_date"), ("3", "ask_parts"), ("4", "help")],
)
def test_replying_a_number_to_the_invoice_picks_that_option(
    locale: str, number: str, expected: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    assert chat.texts(number).message == expected


@pytest.mark.parametrize("locale", LOCALES)
def test_a_whole_journey_by_numbers(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    assert chat.texts("2").message == "ask_date"
    bot = chat.texts(WORDS[locale]["no"])
    assert bot.message == "no_problem" and bot.state.choices == MENU
    bot = chat.texts("3")
    assert bot.message == "ask_parts" and bot.state.choices == PARTS
    bot = chat.texts(WORDS[locale]["split3"])
    assert bot.message == "split_proposal" and bot.params["parts"] == 3
    bot = chat.texts("1")  # yes
    assert bot.message == "split_confirmed"
    assert len(bot.of(CreatePlan)) == 1


@pytest.mark.parametrize("locale", LOCALES)
def test_a_number_beyond_the_choices_is_just_text(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.texts("7")

    assert bot.message == "fallback"
    assert bot.of(SetPromise) == [] and bot.of(CreatePlan) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_a_number_after_a_reply_without_choices_is_not_an_old_menu_choice(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan())
    assert chat.taps(Choice.PAY).choices == ()  # the instalment link offers nothing

    bot = chat.texts("1")

    assert bot.message == "fallback"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("parts", ["2", "3", "4"])
def test_answering_how_many_payments_with_a_number_by_sms(locale: str, parts: str) -> None:
    """Asked "in how many payments?", a customer who texts "3" means three payments."""
    chat = Conversation(locale, invoice_facts(split_policy=FOUR_INSTALMENTS))
    chat.says(WORDS[locale]["several"])
    assert chat.state.step is Step.ASK_PARTS

    bot = chat.texts(parts)

    assert bot.message == "split_proposal", str(chat)
    assert bot.params["parts"] == int(parts), str(chat)


def _numbered_lines(turn: Turn) -> list[tuple[int, str]]:
    assert turn.reply is not None
    labels = {sms_safe(renderer().choice_label(c, turn.locale)): c for c in turn.reply.choices}
    lines = [(int(n), label) for n, label in _NUMBERED.findall(turn.sms)]
    return [(n, renderer().choice_label(labels[label], turn.locale)) for n, label in lines]


def _choice_for(chat: Conversation, text: str) -> Choice | None:
    inbound = InboundMessage(ChannelName.SMS, "+33612345678", "SM1", InboundKind.TEXT, text)
    return numbered_choice(chat.state, inbound)


@pytest.mark.parametrize("text", ["²", "①", "١"])
def test_a_digit_that_is_not_ascii_picks_no_choice(text: str) -> None:
    """`str.isdigit` accepts these but `int()` refuses them: the message was dead-lettered."""
    chat = Conversation("fr")
    chat.invoice_sent()
    assert _choice_for(chat, text) is None
