"""The invoice menu flow, written as conversations: (state, event) -> replies."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import invoice_menu
from flows.model import (
    Choice,
    ConversationState,
    CustomerText,
    InvoiceFacts,
    InvoiceSent,
    PaymentOutcome,
    UnsupportedMessage,
)
from payments.money import Money


def facts(status: str = "open") -> InvoiceFacts:
    return InvoiceFacts(
        invoice_id="inv_1",
        merchant_name="M",
        customer_name="C",
        number="F-2026-000001",
        gross=Money(1000, "EUR"),
        amount_due=Money(0 if status == "paid" else 1000, "EUR"),
        due_date=date(2026, 12, 1),
        status=status,
        pay_url="u",
        invoice_url="v",
    )


def said(state: ConversationState, text: str, status: str = "open") -> tuple[str, ...]:
    outcome = invoice_menu.handle(state, CustomerText(text), facts(status))
    return tuple(reply.message for reply in outcome.actions)


def test_invoice_sent_offers_pay_and_help() -> None:
    outcome = invoice_menu.handle(ConversationState(), InvoiceSent(), facts())
    assert [r.message for r in outcome.actions] == ["invoice"]
    assert outcome.state.choices == (Choice.PAY, Choice.HELP)
    assert outcome.state.invoice_id == "inv_1"


@pytest.mark.parametrize("text", ["payer", "Payer !", "PAY", "pay now", "paie", "Régler"])
def test_pay_words_send_the_link(text: str) -> None:
    assert said(ConversationState(), text) == ("pay_link",)


@pytest.mark.parametrize("text", ["aide", "HELP", "?", "Aide."])
def test_help_words(text: str) -> None:
    assert said(ConversationState(), text) == ("help",)


def test_anything_else_gets_the_fallback_and_counts() -> None:
    outcome = invoice_menu.handle(ConversationState(), CustomerText("euh"), facts())
    assert [r.message for r in outcome.actions] == ["fallback"]
    assert outcome.state.unknown_streak == 1


def test_a_button_choice_wins_over_text() -> None:
    outcome = invoice_menu.handle(ConversationState(), CustomerText("", Choice.PAY), facts())
    assert [r.message for r in outcome.actions] == ["pay_link"]


def test_paid_invoice_answers_already_paid_without_choices() -> None:
    outcome = invoice_menu.handle(ConversationState(), CustomerText("payer"), facts("paid"))
    assert [r.message for r in outcome.actions] == ["already_paid"]
    assert outcome.actions[0].choices == ()


def test_no_invoice() -> None:
    outcome = invoice_menu.handle(ConversationState(), CustomerText("payer"), None)
    assert [r.message for r in outcome.actions] == ["no_invoice"]


def test_unsupported_message() -> None:
    outcome = invoice_menu.handle(ConversationState(), UnsupportedMessage(), facts())
    assert [r.message for r in outcome.actions] == ["text_only"]


@pytest.mark.parametrize(
    ("outcome_name", "message"),
    [("paid", "receipt"), ("processing", "payment_processing"), ("failed", "payment_failed")],
)
def test_payment_outcomes(outcome_name: str, message: str) -> None:
    outcome = invoice_menu.handle(
        ConversationState(), PaymentOutcome(outcome_name, Money(1000, "EUR")), facts()
    )
    assert [r.message for r in outcome.actions] == [message]


@given(st.text(max_size=200))
def test_any_text_gets_exactly_one_reply(text: str) -> None:
    outcome = invoice_menu.handle(ConversationState(), CustomerText(text), facts())
    assert len(outcome.actions) == 1


def test_state_round_trips_through_json() -> None:
    state = ConversationState(
        merchant_id="m", invoice_id="i", locale="en", choices=(Choice.HELP,), unknown_streak=2
    )
    assert ConversationState.from_dict(state.to_dict()) == state
