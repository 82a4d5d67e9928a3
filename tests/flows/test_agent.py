"""A person takes the conversation over and gives it back (flows/agent.mmd)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from flows.agent import refusal
from flows.model import (
    AgentKind,
    AgentSay,
    Audit,
    ConversationStatus,
    Dequeue,
    PauseReminders,
    ReminderKind,
    Requeue,
    ResumeReminders,
    ScheduleAgentTimer,
)
from tests.flows.helpers import (
    FRIDAY,
    LOCALES,
    PAY_URL,
    Conversation,
    euros,
    invoice_facts,
    invoice_with_plan,
)
from tests.flows.words import WORDS

WAITING = ConversationStatus.WAITING_AGENT
AGENT = ConversationStatus.AGENT
BOT = ConversationStatus.BOT


def waiting_chat(locale: str, **invoice: Any) -> Conversation:
    chat = Conversation(locale, invoice_facts(**invoice))
    chat.invoice_sent()
    chat.says(WORDS[locale]["agent"])
    assert chat.state.status is WAITING
    return chat


@pytest.mark.parametrize("locale", LOCALES)
def test_a_claim_gives_the_conversation_to_that_agent_and_the_bot_goes_quiet(
    locale: str,
) -> None:
    chat = waiting_chat(locale)

    turn = chat.agent(AgentKind.CLAIM)

    assert chat.state.status is AGENT and chat.state.agent_id == "u_1"
    assert turn.reply is None
    assert turn.of(Audit) == [Audit("claimed", "u_1")]
    assert turn.of(ScheduleAgentTimer) == [ScheduleAgentTimer(chat.now + timedelta(minutes=30))]
    for words in ("pay", "status", "dispute", "agent", "hello", "gibberish"):
        assert chat.says(WORDS[locale][words]).reply is None, words
    assert chat.sticker().reply is None
    assert chat.reminder(ReminderKind.PROMISE).reply is None


@pytest.mark.parametrize("locale", LOCALES)
def test_stop_and_start_are_still_answered_while_a_person_holds_it(locale: str) -> None:
    chat = waiting_chat(locale)
    chat.agent(AgentKind.CLAIM)

    assert chat.says(WORDS[locale]["stop"]).message == "opted_out"
    assert chat.says(WORDS[locale]["start"]).message == "opted_in"
    assert chat.state.status is AGENT


def test_a_dispute_while_held_pauses_reminders_silently() -> None:
    chat = waiting_chat("fr")
    chat.agent(AgentKind.CLAIM)

    turn = chat.says(WORDS["fr"]["dispute"])

    assert turn.reply is None and turn.of(PauseReminders) == [PauseReminders()]


def test_a_second_claim_by_another_agent_is_refused_and_an_owner_reassigns() -> None:
    chat = waiting_chat("fr")
    chat.agent(AgentKind.CLAIM, "u_1")

    refused = chat.agent(AgentKind.CLAIM, "u_2")
    assert chat.state.agent_id == "u_1"
    assert refused.of(Audit)[0].what == "claim_refused"

    chat.agent(AgentKind.CLAIM, "u_2", forced=True)
    assert chat.state.agent_id == "u_2" and chat.state.agent_name == "Hugo"


def test_the_agent_reply_goes_out_as_written_and_only_from_the_holder() -> None:
    chat = waiting_chat("en")
    chat.agent(AgentKind.CLAIM, "u_1")

    turn = chat.agent(AgentKind.REPLY, "u_1", text="  Hello, I checked: all good <b>  ")
    assert turn.of(AgentSay) == [AgentSay("Hello, I checked: all good <b>", "Inès")]

    other = chat.agent(AgentKind.REPLY, "u_2", text="me too")
    assert other.of(AgentSay) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_hand_back_the_bot_answers_again_with_its_menu(locale: str) -> None:
    chat = waiting_chat(locale)
    chat.agent(AgentKind.CLAIM)

    turn = chat.agent(AgentKind.RESOLVE)

    assert chat.state.status is BOT and chat.state.agent_id is None
    assert turn.message == "handback"
    assert Dequeue("resolved") in turn.actions
    assert chat.says(WORDS[locale]["pay"]).message == "pay_link"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_promise_that_fell_due_meanwhile_is_sent_once_on_hand_back(locale: str) -> None:
    chat = waiting_chat(locale, promise_date=FRIDAY)
    chat.agent(AgentKind.CLAIM)
    chat.now += timedelta(days=3)  # Friday came while the agent held it
    assert chat.reminder(ReminderKind.PROMISE).reply is None

    turn = chat.agent(AgentKind.RESOLVE)

    assert turn.message == "handback_promise"
    assert PAY_URL in turn.text
    assert len(turn.outcome.replies) == 1  # one message, not a burst


@pytest.mark.parametrize("locale", LOCALES)
def test_an_instalment_that_fell_due_meanwhile_is_sent_once_on_hand_back(locale: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=1))
    chat.invoice_sent()
    chat.says(WORDS[locale]["agent"])
    chat.agent(AgentKind.CLAIM)
    assert chat.invoice is not None and chat.invoice.next_instalment is not None
    chat.now = chat.now.replace(
        year=chat.invoice.next_instalment.due_date.year,
        month=chat.invoice.next_instalment.due_date.month,
        day=chat.invoice.next_instalment.due_date.day,
    ) + timedelta(days=5)
    chat.reminder(ReminderKind.INSTALMENT_DUE, 2)
    chat.reminder(ReminderKind.INSTALMENT_LATE, 2)

    turn = chat.agent(AgentKind.RESOLVE)

    assert turn.message == "handback_instalment"
    assert turn.params["instalment"].number == 2
    assert len(turn.outcome.replies) == 1


@pytest.mark.parametrize("locale", LOCALES)
def test_a_dispute_pause_is_lifted_only_when_the_agent_says_it_is_settled(locale: str) -> None:
    chat = Conversation(locale, invoice_facts(promise_date=FRIDAY))
    chat.invoice_sent()
    chat.says(WORDS[locale]["dispute"])
    chat.agent(AgentKind.CLAIM)
    chat.now += timedelta(days=3)

    kept = chat.agent(AgentKind.RESOLVE)
    assert kept.message == "handback" and ResumeReminders() not in kept.actions
    assert chat.invoice is not None and chat.invoice.reminders_paused

    chat.says(WORDS[locale]["dispute"])
    chat.agent(AgentKind.CLAIM)
    lifted = chat.agent(AgentKind.RESOLVE, settled=True)
    assert ResumeReminders() in lifted.actions
    assert lifted.message == "handback_promise"
    assert chat.invoice is not None and not chat.invoice.reminders_paused
    assert chat.reminder(ReminderKind.PROMISE).message == "promise_reminder"


def test_an_idle_agent_loses_the_claim_and_the_conversation_waits_again() -> None:
    chat = waiting_chat("fr")
    chat.agent(AgentKind.CLAIM)
    chat.now += timedelta(minutes=20)
    chat.agent(AgentKind.REPLY, text="Je regarde")

    chat.now += timedelta(minutes=20)  # 20 min after the reply: not idle yet
    assert chat.agent(AgentKind.TIMER, None).actions == ()
    assert chat.state.status is AGENT

    chat.now += timedelta(minutes=11)
    turn = chat.agent(AgentKind.TIMER, None)
    assert chat.state.status is WAITING and chat.state.agent_id is None
    assert turn.of(Requeue) == [Requeue("idle", "u_1")]
    assert turn.reply is None


def test_a_release_puts_it_back_in_the_queue() -> None:
    chat = waiting_chat("en")
    chat.agent(AgentKind.CLAIM)

    turn = chat.agent(AgentKind.RELEASE)

    assert chat.state.status is WAITING
    assert turn.of(Requeue) == [Requeue("released", "u_1")]
    assert chat.agent(AgentKind.CLAIM, "u_2").of(Audit) == [Audit("claimed", "u_2")]


@pytest.mark.parametrize("locale", LOCALES)
def test_nobody_acts_for_a_day_and_the_bot_takes_it_back(locale: str) -> None:
    chat = waiting_chat(locale)
    chat.now += timedelta(hours=23)
    assert chat.agent(AgentKind.TIMER, None).actions == ()

    chat.now += timedelta(hours=1)
    turn = chat.agent(AgentKind.TIMER, None)

    assert chat.state.status is BOT
    assert turn.message == "handback"
    assert Audit("returned_to_bot", None, "nobody acted") in turn.actions


@pytest.mark.parametrize("locale", LOCALES)
def test_the_queue_is_pruned_when_the_invoice_gets_paid(locale: str) -> None:
    chat = waiting_chat(locale, amount="120.00")

    turn = chat.payment("paid", euros("120.00"))

    assert turn.message == "receipt"
    assert chat.state.status is BOT
    assert Dequeue("paid") in turn.actions


def test_a_claim_after_the_hand_back_changes_nothing() -> None:
    chat = waiting_chat("fr")
    chat.agent(AgentKind.CLAIM)
    chat.agent(AgentKind.RESOLVE)

    turn = chat.agent(AgentKind.CLAIM, "u_2")

    assert chat.state.status is BOT
    assert turn.of(Audit)[0].what == "claim_refused"


OPS_WITH_PARAMS: dict[str, dict[str, Any]] = {
    "resend_link": {},
    "extend_due": {"date": "2026-12-31"},
    "offer_plan": {"parts": 2},
    "offline_payment": {"amount": 1000, "method": "cash", "reference": "R1"},
    "credit_note": {"amount": 1000},
    "pause_reminders": {},
    "resume_reminders": {},
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("op", list(OPS_WITH_PARAMS))
def test_no_payment_action_applies_to_a_voided_invoice(locale: str, op: str) -> None:
    """Voided between the agent's click and the dispatch: refused, audited, nothing said and
    nothing recorded (the console refuses it before, with a 409, when it already knows)."""
    chat = waiting_chat(locale)
    chat.agent(AgentKind.CLAIM)
    assert chat.invoice is not None
    chat.invoice = replace(chat.invoice, status="void", amount_due=euros("0.00"))
    before = chat.state

    turn = chat.agent(AgentKind.PAYMENT, text=op, params=OPS_WITH_PARAMS[op])

    assert turn.reply is None and chat.state == before
    assert turn.of(Audit) == [Audit("action_refused", "u_1", f"{op}: void")]
    assert len(turn.actions) == 1  # the audit line only: no pause, no payment, no timer


@pytest.mark.parametrize(
    ("op", "status", "why"),
    [
        ("pause_reminders", "paid", "paid"),
        ("resend_link", "paid", "paid"),
        ("credit_note", "paid", None),
        ("credit_note", "refunded", "refunded"),
        ("offline_payment", "void", "void"),
        ("offline_payment", "open", None),
        ("extend_due", "processing", None),
    ],
)
def test_the_refusal_rule(op: str, status: str, why: str | None) -> None:
    due = 0 if status in ("paid", "refunded", "void") else 1000
    assert refusal(op, status, due) == why
