"""Catalogs: every message translated in both languages, and the .mo files up to date."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, SUPPORTED_LOCALES, Languages, pick_locale
from bot.render import MessageRenderer
from channels.base import ChannelName
from flows.model import Choice, InvoiceFacts, Reply
from payments.money import Money


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_po_is_complete_and_compiled(locale: str) -> None:
    folder = LOCALES_DIR / locale / "LC_MESSAGES"
    po = read_po(io.BytesIO((folder / "messages.po").read_bytes()))
    mo = read_mo(io.BytesIO((folder / "messages.mo").read_bytes()))
    po_messages = {m.id: m.string for m in po if m.id}
    mo_messages = {m.id: m.string for m in mo if m.id}
    assert all(po_messages.values()), "untranslated messages"
    assert po_messages == mo_messages, "run: pybabel compile -d locales"


def test_every_template_message_is_in_the_catalog() -> None:
    pot = read_po(io.BytesIO((LOCALES_DIR / "messages.pot").read_bytes()))
    fr = read_po(io.BytesIO((LOCALES_DIR / "fr/LC_MESSAGES/messages.po").read_bytes()))
    assert {m.id for m in pot if m.id} == {m.id for m in fr if m.id}


@pytest.mark.parametrize(
    ("profile", "hint", "phone", "expected"),
    [
        ("en", "fr", "+33612345678", "en"),
        (None, "en-GB", "+33612345678", "en"),
        (None, "de", "+33612345678", "fr"),
        (None, None, "+447911123456", "en"),
        (None, None, "+32470123456", "fr"),
        (None, None, None, "fr"),
        (None, None, "garbage", "fr"),
    ],
)
def test_locale_choice(
    profile: str | None, hint: str | None, phone: str | None, expected: str
) -> None:
    assert pick_locale(profile, hint, phone, "fr") == expected


def facts() -> InvoiceFacts:
    return InvoiceFacts(
        invoice_id="inv_1",
        merchant_name="Atelier {{7*7}}",
        customer_name="Zoé ${7*7} %s",
        number="F-2026-000001",
        gross=Money(123456, "EUR"),
        amount_due=Money(123456, "EUR"),
        due_date=date(2026, 12, 5),
        status="open",
        pay_url="https://x/p/t",
        invoice_url="https://x/i/v",
    )


def test_invoice_message_formats_money_and_dates_per_locale() -> None:
    renderer = MessageRenderer(Languages())
    fr = renderer.text(Reply("invoice", {"invoice": facts()}), "fr")
    en = renderer.text(Reply("invoice", {"invoice": facts()}), "en")
    assert "1\u202f234,56\xa0€" in fr and "5 décembre 2026" in fr
    assert "€1,234.56" in en and "December 5, 2026" in en


def test_customer_and_merchant_text_is_never_evaluated() -> None:
    """TESTCASES 63: names that look like templates or format strings stay literal."""
    text = MessageRenderer(Languages()).text(Reply("invoice", {"invoice": facts()}), "fr")
    assert "Atelier {{7*7}}" in text and "Zoé ${7*7} %s" in text and "49" not in text


def test_choices_become_labelled_buttons() -> None:
    message = MessageRenderer(Languages()).outbound(
        Reply("help", {"invoice": facts()}, (Choice.PAY, Choice.HELP)),
        locale="fr",
        channel=ChannelName.TELEGRAM,
        address="1",
        idempotency_key="k",
    )
    # Telegram's "Pay" is a link to the pay page, labelled with the amount (issue 13).
    assert [(b.label, b.action) for b in message.buttons] == [
        ("Payer 1\u202f234,56\xa0€", None),
        ("Aide", "help"),
    ]
    assert message.buttons[0].url == facts().pay_url


def test_templates_are_compiled_once_and_not_checked_on_disk_again(tmp_path: Path) -> None:
    """A template read once is served from memory: editing the file changes nothing."""
    (tmp_path / "messages").mkdir()
    template = tmp_path / "messages" / "hello.j2"
    template.write_text("Bonjour")
    languages = Languages(tmp_path)
    env = languages.text("fr")
    first = env.get_template("messages/hello.j2")
    template.write_text("Changed")
    assert env.get_template("messages/hello.j2") is first
    assert first.render() == "Bonjour"
    assert not languages.html("en").auto_reload


def test_a_choice_label_is_rendered_once_per_locale() -> None:
    renderer = MessageRenderer(Languages())
    assert renderer.choice_label(Choice.HELP, "fr") == "Aide"
    assert renderer.choice_label(Choice.HELP, "en") == "Help"
    assert renderer._labels == {("help", "fr"): "Aide", ("help", "en"): "Help"}
    renderer._labels[("help", "fr")] = "cached"
    assert renderer.choice_label(Choice.HELP, "fr") == "cached"  # not rendered again


def test_a_remembered_date_is_formatted_per_locale_and_an_instant_in_its_own_zone() -> None:
    env = Languages().text("fr")
    long_date = env.filters["long_date"]
    assert long_date(date(2026, 12, 1)) == "1er décembre 2026"
    assert long_date(date(2026, 12, 1)) == "1er décembre 2026"  # the remembered one
    assert Languages().text("en").filters["long_date"](date(2026, 12, 1)) == "December 1, 2026"
    # Equal instants, different days in their zones: each is formatted in its own.
    utc = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    tokyo = utc.astimezone(ZoneInfo("Asia/Tokyo"))
    assert utc == tokyo
    assert env.filters["short_date"](utc) != env.filters["short_date"](tokyo)


def test_a_remembered_pay_label_is_per_amount_and_locale() -> None:
    renderer = MessageRenderer(Languages())

    def pay_label(amount: int, locale: str) -> str:
        invoice = dataclasses.replace(facts(), amount_due=Money(amount, "EUR"))
        message = renderer.outbound(
            Reply("help", {"invoice": invoice}, (Choice.PAY,)),
            locale=locale,
            channel=ChannelName.TELEGRAM,
            address="1",
            idempotency_key="k",
        )
        return message.buttons[0].label

    assert pay_label(123456, "fr") == "Payer 1\u202f234,56\xa0€"
    assert pay_label(500, "fr") == "Payer 5,00\xa0€"
    assert pay_label(123456, "en") == "Pay €1,234.56"
    assert pay_label(123456, "fr") == "Payer 1\u202f234,56\xa0€"
