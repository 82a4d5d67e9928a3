"""What the bot says when money moves or a reminder comes due.

```mermaid
stateDiagram-v2
    state "any step" as Any
    Any --> Any: paid in full / receipt, reminders cancelled, counted once (reward, streak)
    Any --> Any: instalment paid, more to come / what is left and when
    Any --> Any: payment processing (SEPA) / "being processed"
    Any --> Any: delayed payment failed / "did not go through" + link
    Any --> Any: refund or lost dispute / credit note issued + its link
    Any --> Any: invoice voided / credit note of the rest + its link, reminders cancelled
    Any --> Any: dispute opened / nothing (reminders paused)
    Any --> Any: Reminder(promise), unpaid, not disputed / discreet reminder + link
    Any --> Any: Reminder(instalment due), unpaid / that instalment's link
    Any --> Any: Reminder(instalment late), unpaid, not disputed / discreet reminder + link
    Any --> Any: any reminder once paid, disputed or with a human / nothing
```
(Also in `notices.mmd`.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flows.model import (
    Action,
    CancelReminders,
    ConversationState,
    ConversationStatus,
    CountPaid,
    Facts,
    InvoiceFacts,
    Outcome,
    PaymentOutcome,
    Reminder,
    ReminderKind,
)
from flows.replies import say, silent
from payments.reward import GrantedReward


def payment(
    state: ConversationState, event: PaymentOutcome, invoice: InvoiceFacts, facts: Facts
) -> Outcome:
    extra: dict[str, object] = {"paid_amount": event.amount, "instalment": event.instalment}
    if event.outcome in ("refunded", "dispute_lost"):
        # Money given back: a credit note, never a receipt (TESTCASES 8, 25).
        extra = {**extra, "credit_note_url": event.credit_note_url}
        return say(state, f"credit_note_{event.outcome}", invoice, choices=(), extra=extra)
    if event.outcome == "voided":
        # The merchant cancelled what was left: nothing more to pay, its credit note's link.
        extra = {**extra, "credit_note_url": event.credit_note_url}
        return say(
            state, "invoice_voided", invoice, choices=(), extra=extra, actions=(CancelReminders(),)
        )
    if event.outcome == "disputed":
        return silent(state)  # the bank handles it; reminders are paused by the ledger
    if event.outcome == "processing":
        return say(state, "payment_processing", invoice, choices=(), extra=extra)
    if event.outcome == "failed":
        return say(state, "payment_failed", invoice, extra=extra)
    if invoice.is_paid:
        counted, rewarded = paid_in_full(invoice, facts, event.landed_at)
        return say(
            state,
            "receipt",
            invoice,
            choices=(),
            extra={**extra, **rewarded},
            actions=(CancelReminders(), *counted),
        )
    if event.instalment is not None:
        return say(
            state,
            "instalment_received",
            invoice,
            choices=(),
            extra={**extra, "next": invoice.next_instalment},
        )
    return say(state, "partial_receipt", invoice, extra=extra)


def paid_in_full(
    invoice: InvoiceFacts, facts: Facts, landed_at: datetime | None = None
) -> tuple[tuple[Action, ...], dict[str, Any]]:
    """Counted once per invoice (issue 10): paid by its due date (the customer's day) or not,
    and, when the invoice offered one and it is paid within its window, the fast-payment
    reward. Returns the action and what the receipt says about it: the reward given, the
    points in all, and a run of invoices paid on time worth celebrating.

    `landed_at`: when the provider says the money landed (its event's time), so that a
    backlog in our queue never costs the customer their reward; never later than now."""
    if invoice.counted:
        return (), {}
    paid_at = min(landed_at, facts.now) if landed_at is not None else facts.now
    on_time = paid_at.astimezone(ZoneInfo(facts.timezone)).date() <= invoice.due_date
    offer = invoice.reward
    granted = GrantedReward.of(offer, paid_at) if offer and offer.earned_by(paid_at) else None
    said: dict[str, Any] = {}
    if granted is not None:
        said["reward"] = granted
        said["points_total"] = facts.payer_points + (granted.points or 0)
    streak = facts.payer_streak + 1 if on_time else 0
    if offer is not None and offer.streak and streak >= offer.streak:
        said["streak"] = streak
    return (CountPaid(on_time, granted),), said


def reward_deadline(invoice: InvoiceFacts | None, facts: Facts) -> dict[str, datetime]:
    """What the invoice message announces: the end of the reward's window, local to the
    customer (nothing when the invoice offers no reward)."""
    if invoice is None or invoice.reward is None or invoice.is_paid:
        return {}
    return {"reward_until": invoice.reward.deadline.astimezone(ZoneInfo(facts.timezone))}


def reminder(state: ConversationState, event: Reminder, invoice: InvoiceFacts) -> Outcome:
    if invoice.is_paid or invoice.is_processing:
        return silent(state)
    if invoice.reminders_paused or state.status is not ConversationStatus.BOT:
        return silent(state)  # disputed, or with a human: people decide, not the bot
    if event.kind is ReminderKind.INSTALMENT_DUE:
        return _instalment_due(state, event, invoice)
    if event.kind is ReminderKind.PROMISE:
        return say(state, "promise_reminder", invoice)
    instalment = invoice.instalment(event.instalment or 0)
    if instalment is None or instalment.is_paid:
        return silent(state)
    return say(state, "instalment_late", invoice, choices=(), extra={"instalment": instalment})


def _instalment_due(state: ConversationState, event: Reminder, invoice: InvoiceFacts) -> Outcome:
    instalment = invoice.instalment(event.instalment or 0)
    if instalment is None or instalment.is_paid:
        return silent(state)
    return say(state, "instalment_due", invoice, choices=(), extra={"instalment": instalment})
