"""What the customer reads (issue 13, "Texts"): each wording seen wrong, in fr and en, and
what each SMS costs.

SMS budget: a segment is 160 GSM-7 characters (153 each when split); one character outside
GSM-7 makes the whole message UCS-2 (70 per segment). The invoice may take 2 segments, the
replies 1 where the text allows it (help lists the menu: 2). Budgets are checked with real-size
links (a 31-character host and a 22-character token) and a long merchant name.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from bot.i18n import TEMPLATES_DIR, french_elision, greeting_name, load_translations
from channels.base import ChannelName
from channels.sms_text import GSM7_BASIC, segment_count, sms_safe
from flows.model import Choice, InvoiceFacts, Reply
from tests.flows.helpers import (
    LOCALES,
    PAY_URL,
    Conversation,
    invoice_facts,
    invoice_with_plan,
    render,
    sms_body,
)
from tests.flows.words import WORDS

HOST = "https://paiement.atelier-lumiere.fr"  # 35 characters, a realistic own domain
TOKEN = "Zx4_Qm8kLr2pVb7nTd9sWa"  # 22 characters, as issued (128 bits)
LONG_MERCHANT = "Atelier Lumière & Fils Paris 11"


def real_links(reply: Reply) -> Reply:
    """The reply as production renders it: links on the merchant's own, longer, host."""
    facts = reply.params.get("invoice")
    if not isinstance(facts, InvoiceFacts):
        return reply
    swap = {facts.pay_url: f"{HOST}/p/{TOKEN}", facts.invoice_url: f"{HOST}/i/{TOKEN}"}
    moved = replace(facts, pay_url=swap[facts.pay_url], invoice_url=swap[facts.invoice_url])
    return replace(reply, params={**reply.params, "invoice": moved})


def segments(text: str) -> int:
    return segment_count(sms_safe(text))


@pytest.mark.parametrize("locale", LOCALES)
def test_sms_budget_per_message(locale: str) -> None:
    w = WORDS[locale]
    budgets: dict[str, tuple[int, str]] = {}

    def spend(name: str, budget: int, chat: Conversation, reply: Reply | None) -> None:
        assert reply is not None, f"{name}: no reply\n{chat}"
        budgets[name] = (budget, sms_body(real_links(reply), locale))

    chat = Conversation(locale, invoice_facts(merchant_name=LONG_MERCHANT))
    spend("invoice", 2, chat, chat.invoice_sent().reply)
    spend("help", 2, chat, chat.says(w["help"]).reply)
    spend("pay_link", 1, chat, chat.says(w["pay"]).reply)
    spend("status", 1, chat, chat.says(w["status"]).reply)
    spend("smalltalk", 1, chat, chat.says(w["thanks"]).reply)
    spend("greeting", 1, chat, chat.says(w["hello"]).reply)
    spend("acknowledged", 1, chat, chat.says(w["yes"]).reply)
    spend("text_only", 1, chat, chat.sticker().reply)
    spend("opted_out", 1, chat, chat.says("STOP").reply)
    spend("already_opted_out", 1, chat, chat.says("STOP").reply)
    processing = Conversation(
        locale, invoice_facts(status="processing", merchant_name=LONG_MERCHANT)
    )
    spend("status_processing", 1, processing, processing.says(w["status"]).reply)

    over = {
        name: (segments(body), budget, body)
        for name, (budget, body) in budgets.items()
        if segments(body) > budget
    }
    assert not over, "\n\n".join(
        f"{name}: {count} segments > {budget}\n{body}"
        for name, (count, budget, body) in over.items()
    )


def _message_ids() -> set[str]:
    """The msgids of the chat messages (the SMS text), from the templates themselves."""
    ids: set[str] = set()
    for path in Path(TEMPLATES_DIR, "messages").rglob("*.j2"):
        for _line, message, _comments, _context in extract_from_file(
            "jinja2", path, options={"trim_blocks": "true", "lstrip_blocks": "true"}
        ):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_french_chat_words_need_no_letter_outside_gsm7() -> None:
    """ "Paiement recu": an SMS cannot carry "ç" without doubling its cost, and stripping it
    misspells the word. The French texts choose words that need no such letter."""
    french = load_translations("fr")
    offending = {}
    for msgid in _message_ids():
        text = french.gettext(msgid)
        letters = {ch for ch in text if ch.isalpha() and ch not in GSM7_BASIC}
        if letters:
            offending[text] = letters
    assert not offending


@pytest.mark.parametrize(
    ("name", "greeted"),
    [
        ("Camille Martin", "Camille"),
        ("Jean-Pierre de La Tour", "Jean-Pierre"),
        ("Zoé", "Zoé"),
        ("SARL Dupont Frères", "SARL Dupont Frères"),
        ("Dupont & Fils", "Dupont & Fils"),
    ],
)
def test_customers_are_greeted_by_their_first_name(name: str, greeted: str) -> None:
    assert greeting_name(name) == greeted


@pytest.mark.parametrize("locale", LOCALES)
def test_the_invoice_greets_the_first_name(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(customer_name="Camille Martin"))
    text = chat.invoice_sent().text
    assert "Camille," in text and "Camille Martin" not in text


@pytest.mark.parametrize(
    ("merchant", "expected"),
    [
        ("Atelier Lumière", "d'Atelier Lumière"),
        ("Éclat de Verre", "d'Éclat de Verre"),
        ("Hélène Couture", "d'Hélène Couture"),
        ("Boulangerie Martin", "de Boulangerie Martin"),
    ],
)
def test_french_elides_de_before_any_merchant_name(merchant: str, expected: str) -> None:
    chat = Conversation("fr", invoice_facts(merchant_name=merchant))
    assert expected in chat.invoice_sent().text
    assert french_elision("la facture de Atelier", ["Atelier"]) == "la facture d'Atelier"


@pytest.mark.parametrize(("locale", "expected"), [("fr", "prélèvement"), ("en", "being debited")])
def test_balance_during_a_sepa_debit_says_nothing_to_do(locale: str, expected: str) -> None:
    chat = Conversation(locale, invoice_facts(status="processing"))
    bot = chat.says(WORDS[locale]["status"])
    assert bot.message == "status_processing"
    assert expected in bot.text
    assert "/p/" not in bot.text and bot.choices == ()


@pytest.mark.parametrize(
    ("locale", "words"), [("fr", "bonjour"), ("fr", "Bonsoir !"), ("en", "hello"), ("en", "hi")]
)
def test_a_greeting_is_not_answered_as_thanks(locale: str, words: str) -> None:
    bot = Conversation(locale).says(words)
    assert bot.message == "greeting"
    assert "plaisir" not in bot.text and "welcome" not in bot.text


@pytest.mark.parametrize(("locale", "words"), [("fr", "ok"), ("fr", "👍"), ("en", "ok")])
def test_ok_out_of_a_question_is_acknowledged_not_misunderstood(locale: str, words: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()
    bot = chat.says(words)
    assert bot.message == "acknowledged"
    assert chat.state.unknown_streak == 0


@pytest.mark.parametrize(("locale", "expected"), [("fr", "déjà payé"), ("en", "already paid")])
def test_a_photo_says_what_to_write_for_a_proof_of_payment(locale: str, expected: str) -> None:
    bot = Conversation(locale).sticker()
    assert bot.message == "text_only"
    assert expected in bot.text


def test_english_reads_as_english() -> None:
    """ "With pleasure!", "Do you confirm?" and "advisor" read translated from French."""
    chat = Conversation("en")
    assert chat.says("thanks").text == "You're welcome!"
    help_text = chat.says("help").text
    assert '"human"' in help_text and "advisor" not in help_text
    proposal = chat.says("in 3 payments").text
    assert "Do you confirm" not in proposal and "Shall I set it up?" in proposal


def test_help_with_a_plan_only_offers_what_a_plan_allows() -> None:
    chat = Conversation("fr", invoice_with_plan())
    bot = chat.says("aide")
    assert bot.message == "help"
    assert "en 3 fois" not in bot.text and Choice.SPLIT not in bot.choices


@pytest.mark.parametrize(
    ("locale", "plain", "split"),
    [
        ("fr", "Payer 120,00\xa0€", "Payer l'échéance 1 : 40,00\xa0€"),
        ("en", "Pay €120.00", "Pay instalment 1: €40.00"),
    ],
)
def test_telegram_pay_button_opens_the_page_for_what_it_charges(
    locale: str, plain: str, split: str
) -> None:
    sent = Conversation(locale).invoice_sent().reply
    assert sent is not None
    [pay, *_] = render(sent, locale, ChannelName.TELEGRAM).buttons
    assert pay.label == plain and pay.action is None and pay.url == PAY_URL

    planned = Conversation(locale, invoice_with_plan())
    reply = planned.says(WORDS[locale]["help"]).reply
    assert reply is not None
    [pay, *_] = render(reply, locale, ChannelName.TELEGRAM).buttons
    assert pay.action is None and pay.url == f"{PAY_URL}/1"
    assert pay.label.replace("\u202f", "\xa0") == split


EVENING_NOW = datetime(2026, 12, 1, 19, 46, tzinfo=UTC)  # 20:46 in Paris


@pytest.mark.parametrize(
    ("locale", "words", "expected"),
    [("fr", "je paierai ce soir", "ce soir"), ("en", "I'll pay tonight", "tonight")],
)
def test_tonight_is_confirmed_as_tonight(locale: str, words: str, expected: str) -> None:
    chat = Conversation(locale, now=EVENING_NOW)
    bot = chat.says(words)
    assert bot.message == "promise_recorded", str(chat)
    assert expected in bot.text
    assert "1er décembre" not in bot.text and "December 1" not in bot.text


@pytest.mark.parametrize(
    ("locale", "later", "words"), [("fr", "plus tard", "hier"), ("en", "later", "yesterday")]
)
def test_yesterday_as_a_payment_date_is_said_to_be_past(
    locale: str, later: str, words: str
) -> None:
    chat = Conversation(locale)
    chat.says(later)
    bot = chat.says(words)
    assert bot.message == "date_in_past", str(chat)


@pytest.mark.parametrize(("locale", "expected"), [("fr", "remplace"), ("en", "replaces")])
def test_a_plan_that_replaces_a_promise_says_so(locale: str, expected: str) -> None:
    chat = Conversation(locale, invoice_facts(promise_date=date(2026, 12, 4)))
    chat.says(WORDS[locale]["split3"])
    bot = chat.taps(Choice.YES)
    assert bot.message == "split_confirmed", str(chat)
    assert expected in bot.text
