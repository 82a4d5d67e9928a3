"""Status, "already paid", disputes, asking for a human, STOP/START, help and small talk.

```mermaid
stateDiagram-v2
    state "any step" as Any
    Any --> Any: status / what is left, next due date, link
    Any --> Any: already paid + ledger paid / confirmed
    Any --> Any: already paid + payment processing / "it is being processed"
    Any --> WaitingAgent: already paid, nothing in the ledger / handed to a human
    Any --> WaitingAgent: dispute / reminders paused, handed to a human
    Any --> WaitingAgent: ask for a human / queued, "someone will answer"
    Any --> Any: STOP / opt-out recorded, confirmed (if already out: "already done")
    Any --> Any: START / opt-in recorded, confirmed
    Any --> Any: help, small talk / short answer + menu
    Any --> Any: greeting / greeted back + menu
    Any --> Any: "ok" with no question pending / acknowledged
    Any --> Any: unknown / fallback + menu; after two in a row, offer a human
```
(Also in `care.mmd`.)
"""

from __future__ import annotations

from flows.model import (
    Choice,
    ConversationState,
    ConversationStatus,
    Facts,
    Handoff,
    InvoiceFacts,
    Outcome,
    PauseReminders,
    RecordConsent,
    Step,
)
from flows.replies import say

UNKNOWNS_BEFORE_OFFERING_A_HUMAN = 2


def status(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    if invoice.is_paid:
        return say(state, "already_paid", invoice, choices=())
    if invoice.is_processing:  # a debit under way: nothing to pay, nothing to do
        return say(state, "status_processing", invoice, choices=(), step=Step.MENU)
    return say(
        state,
        "status",
        invoice,
        choices=(),  # the reply carries the link; one SMS segment, not two
        step=Step.MENU,
        extra={"next": invoice.next_instalment, "promise": invoice.promise_date},
    )


def already_paid(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    if invoice.is_paid:
        return say(state, "already_paid", invoice, choices=())
    if invoice.is_processing:
        return say(state, "payment_processing_status", invoice, choices=())
    return hand_over(state, invoice, "already_paid", "already_paid_check")


def dispute(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    return hand_over(state, invoice, "dispute", "dispute_received", PauseReminders())


def ask_agent(state: ConversationState, invoice: InvoiceFacts | None) -> Outcome:
    if state.status is not ConversationStatus.BOT:
        return say(state, "handoff_already", invoice, choices=())
    return hand_over(state, invoice, "asked", "handoff")


def hand_over(
    state: ConversationState,
    invoice: InvoiceFacts | None,
    reason: str,
    message: str,
    *extra_actions: PauseReminders,
) -> Outcome:
    waiting = state.evolve(
        status=ConversationStatus.WAITING_AGENT,
        step=Step.MENU,
        unknown_streak=0,
        proposed_parts=None,
    )
    return say(waiting, message, invoice, choices=(), actions=(*extra_actions, Handoff(reason)))


def opt_out(
    state: ConversationState, invoice: InvoiceFacts | None, facts: Facts, words: str
) -> Outcome:
    if facts.opted_out:
        # Already out: nothing is recorded again, but silence reads as "ignored" (issue 13).
        return say(state, "already_opted_out", invoice, choices=())
    return say(
        state,
        "opted_out",
        invoice,
        choices=(),
        actions=(RecordConsent(opted_in=False, words=words),),
    )


def opt_in(
    state: ConversationState, invoice: InvoiceFacts | None, facts: Facts, words: str
) -> Outcome:
    if not facts.opted_out:
        return help_(state, invoice)
    return say(state, "opted_in", invoice, actions=(RecordConsent(opted_in=True, words=words),))


def help_(state: ConversationState, invoice: InvoiceFacts | None) -> Outcome:
    if invoice is None:
        return say(state, "no_invoice", None, choices=())
    return say(state.evolve(unknown_streak=0), "help", invoice, step=Step.MENU)


def smalltalk(state: ConversationState, invoice: InvoiceFacts | None) -> Outcome:
    return say(state.evolve(unknown_streak=0), "smalltalk", invoice)


def greeting(state: ConversationState, invoice: InvoiceFacts | None) -> Outcome:
    """ "bonjour" is not a thank-you: greet back and say what the bot can do."""
    if invoice is None:
        return say(state, "no_invoice", None, choices=())
    return say(state.evolve(unknown_streak=0), "greeting", invoice, step=Step.MENU)


def acknowledged(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    """ "ok", "👍" when no question is pending: taken as read, not as a misunderstanding."""
    return say(state.evolve(unknown_streak=0), "acknowledged", invoice, choices=())


def unknown(state: ConversationState, invoice: InvoiceFacts | None) -> Outcome:
    streak = state.unknown_streak + 1
    counted = state.evolve(unknown_streak=streak)
    if invoice is None:
        return say(counted, "no_invoice", None, choices=())
    if streak >= UNKNOWNS_BEFORE_OFFERING_A_HUMAN:
        return say(counted, "fallback_offer_agent", invoice, choices=(Choice.AGENT, Choice.HELP))
    return say(counted, "fallback", invoice)
