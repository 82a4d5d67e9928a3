"""The fast-payment reward in the flow (issue 10): announced in the invoice message, given in
the receipt once when the invoice is paid in full within its window, a run of invoices paid
on time celebrated; SMS budgets kept with the longest wording of each kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from channels.base import ChannelName
from flows import conversation
from flows.model import (
    Action,
    ConversationState,
    CountPaid,
    Facts,
    FlowEvent,
    InvoiceSent,
    PaymentOutcome,
    Reply,
)
from payments.money import Money
from payments.reward import RewardPolicy
from tests.flows.helpers import LOCALES, NOW, invoice_facts, render, sms_body
from tests.flows.test_texts import LONG_MERCHANT, real_links, segments

KINDS = {
    "percent": RewardPolicy(True, 48, "percent", percent=15, code="MERCI-RAPIDE-2026-XY"),
    "code": RewardPolicy(True, 48, "code", code="MERCI-RAPIDE-2026-XY"),
    "points": RewardPolicy(True, 48, "points", points=100_000),
}
PARIS = "Europe/Paris"
ZERO = Money(0, "EUR")


def _facts(kind: str, **changes: Any) -> Facts:
    offer = KINDS[kind].offer(NOW)
    invoice = invoice_facts(merchant_name=LONG_MERCHANT, reward=offer, **changes)
    return Facts(invoice=invoice, now=NOW, timezone=PARIS)


def _reply(
    state: ConversationState, event: FlowEvent, facts: Facts
) -> tuple[Reply, tuple[Action, ...]]:
    outcome = conversation.handle(state, event, facts)
    [reply] = outcome.replies
    return reply, outcome.actions


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_invoice_announces_the_reward_within_its_two_sms(locale: str, kind: str) -> None:
    reply, _ = _reply(ConversationState(locale=locale), InvoiceSent(), _facts(kind))
    # SMS: when, in a few words (the details are on the page its link opens), in 2 segments.
    body = plain(sms_body(real_links(reply), locale))
    short = {"fr": "Un cadeau si réglée avant le 20/11 à 10:00.", "en": "by 11/20 at 10:00 AM"}
    assert short[locale] in body, body
    assert segments(body) <= 2, f"{segments(body)} segments:\n{body}"
    # Telegram and WhatsApp: what the reward is, always on a *next* purchase.
    text = plain(render(reply, locale, ChannelName.TELEGRAM).text)
    deadline = {"fr": "20 nov. 2026 à 10:00", "en": "Nov 20, 2026 at 10:00"}[locale]
    words = {
        "percent": {"fr": "15 % de réduction sur votre prochain achat", "en": "15% off your next"},
        "code": {"fr": "un code de réduction pour votre prochain", "en": "code for your next"},
        "points": {"fr": "100 000 points de fidélité", "en": "100,000 loyalty points"},
    }[kind][locale]
    assert deadline in text and words in text, text
    assert "MERCI-RAPIDE" not in body + text  # the code is the reward: given in the receipt


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_no_reward_no_announcement() -> None:
    facts = Facts(invoice=invoice_facts(), now=NOW, timezone=PARIS)
    reply, _ = _reply(ConversationState(locale="fr"), InvoiceSent(), facts)
    assert "prochain achat" not in sms_body(reply, "fr")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_paid_within_the_window_the_receipt_gives_the_reward(locale: str, kind: str) -> None:
    facts = _facts(kind, status="paid", amount_due=ZERO)
    facts = replace(facts, now=NOW + timedelta(hours=47), payer_streak=2, payer_points=50)
    paid = PaymentOutcome("paid", invoice_facts().gross)
    reply, actions = _reply(ConversationState(locale=locale), paid, facts)
    [count] = [a for a in actions if isinstance(a, CountPaid)]
    assert count.on_time and count.reward is not None and count.reward.kind == kind
    body = sms_body(real_links(reply), locale)
    expected = {
        "percent": "MERCI-RAPIDE-2026-XY",
        "code": "MERCI-RAPIDE-2026-XY",
        "points": {"fr": "+100 000 points de fidélité (100 050 en tout)", "en": "100,050 in all"}[
            locale
        ],
    }[kind]
    assert expected in body.replace("\u202f", " ").replace("\xa0", " "), body
    streak = {"fr": "Bravo : 3 factures réglées à temps !", "en": "3 invoices paid on time"}
    assert streak[locale] in body
    assert segments(body) <= 2, f"{segments(body)} segments:\n{body}"


def test_paid_after_the_window_no_reward_but_still_counted_on_time() -> None:
    facts = _facts("percent", status="paid", amount_due=ZERO)
    facts = replace(facts, now=NOW + timedelta(hours=48, seconds=1))
    reply, actions = _reply(
        ConversationState(locale="fr"), PaymentOutcome("paid", invoice_facts().gross), facts
    )
    [count] = [a for a in actions if isinstance(a, CountPaid)]
    assert count.on_time and count.reward is None
    assert "prochain achat" not in sms_body(reply, "fr")


def test_paid_after_the_due_date_breaks_the_run() -> None:
    facts = _facts("percent", status="paid", amount_due=ZERO)
    late = NOW.replace(month=12, day=16)  # the day after the due date (15 December)
    facts = replace(facts, now=late, payer_streak=5)
    reply, actions = _reply(
        ConversationState(locale="fr"), PaymentOutcome("paid", invoice_facts().gross), facts
    )
    [count] = [a for a in actions if isinstance(a, CountPaid)]
    assert not count.on_time and count.reward is None
    assert "factures réglées" not in sms_body(reply, "fr")


def test_counted_once_a_second_receipt_gives_nothing_more() -> None:
    facts = _facts("percent", status="paid", amount_due=ZERO, counted=True)
    reply, actions = _reply(
        ConversationState(locale="fr"), PaymentOutcome("paid", invoice_facts().gross), facts
    )
    assert not [a for a in actions if isinstance(a, CountPaid)]
    assert "MERCI" not in sms_body(reply, "fr")


def test_the_time_the_money_landed_counts_not_when_it_is_dispatched() -> None:
    facts = _facts("percent", status="paid", amount_due=ZERO)
    late = replace(facts, now=NOW + timedelta(hours=50))
    landed = NOW + timedelta(hours=47)
    paid = PaymentOutcome("paid", invoice_facts().gross, landed_at=landed)
    _, actions = _reply(ConversationState(locale="fr"), paid, late)
    [count] = [a for a in actions if isinstance(a, CountPaid)]
    assert count.reward is not None and count.reward.paid_at == landed
    # A provider time after our own clock is not believed: now is used.
    early = replace(facts, now=NOW + timedelta(hours=1))
    future = PaymentOutcome("paid", invoice_facts().gross, landed_at=NOW + timedelta(days=9))
    _, actions = _reply(ConversationState(locale="fr"), future, early)
    [count] = [a for a in actions if isinstance(a, CountPaid)]
    assert count.reward is not None and count.reward.paid_at == early.now
