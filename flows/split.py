"""Split in N ("paiement en plusieurs fois sans frais"): offered only within the merchant's
policy; the exact schedule is shown and confirmed before anything is created.

```mermaid
stateDiagram-v2
    Menu --> AskParts: split, no number / "in how many payments?" + allowed choices
    Menu --> ConfirmSplit: split in N allowed / schedule (amounts, dates) + yes/no
    AskParts --> ConfirmSplit: N allowed / schedule + yes/no
    Menu --> AskParts: N not allowed ("en 10 fois") / explain the maximum + allowed choices
    ConfirmSplit --> ConfirmSplit: another N / new schedule
    ConfirmSplit --> Menu: yes / plan created, link for instalment 1 now
    ConfirmSplit --> Menu: no / menu
    Menu --> Menu: invoice below the minimum / "not available" + menu
    Menu --> Menu: Reminder(instalment due) / that instalment's link
    Menu --> Menu: Reminder(instalment late), still unpaid / reminder
```
(Also in `split.mmd`.)
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.model import (
    Choice,
    ConversationState,
    CreatePlan,
    Facts,
    InvoiceFacts,
    Outcome,
    Step,
)
from flows.replies import say, split_allowed
from payments.instalments import InstalmentRefused, plan_schedule
from payments.money import Money

NOTIFY_AT = time(9, 0)  # an instalment's link goes out at 09:00 local on its due date
LATE_AFTER = timedelta(days=3)  # then a reminder if it is still unpaid three days later
LATE_AT = time(10, 0)
_PART_CHOICES = {2: Choice.SPLIT_2, 3: Choice.SPLIT_3, 4: Choice.SPLIT_4}


def part_choices(invoice: InvoiceFacts) -> tuple[Choice, ...]:
    allowed = invoice.split_policy.allowed_parts
    return tuple(_PART_CHOICES[n] for n in sorted(allowed) if n in _PART_CHOICES)


def start(
    state: ConversationState, invoice: InvoiceFacts, facts: Facts, parts: int | None
) -> Outcome:
    if invoice.instalments:
        return say(
            state, "plan_exists", invoice, step=Step.MENU, extra={"next": invoice.next_instalment}
        )
    if not split_allowed(invoice):
        # No minimum: this currency is not split at all, so no "from …" to quote.
        minimum = invoice.split_policy.minimum(invoice.amount_due.currency)
        return say(state, "split_unavailable", invoice, step=Step.MENU, extra={"minimum": minimum})
    if parts is None:
        return say(
            state,
            "ask_parts",
            invoice,
            choices=part_choices(invoice),
            step=Step.ASK_PARTS,
            extra={"allowed": invoice.split_policy.allowed_parts},
        )
    if parts not in invoice.split_policy.allowed_parts:
        return say(
            state,
            "split_not_allowed",
            invoice,
            choices=part_choices(invoice),
            step=Step.ASK_PARTS,
            extra={
                "asked": parts,
                "allowed": invoice.split_policy.allowed_parts,
                "maximum": max(invoice.split_policy.allowed_parts),
            },
        )
    return _propose(state, invoice, facts, parts)


def _propose(state: ConversationState, invoice: InvoiceFacts, facts: Facts, parts: int) -> Outcome:
    schedule = _schedule(invoice, facts, parts)
    if schedule is None:
        return say(
            state,
            "split_unavailable",
            invoice,
            step=Step.MENU,
            extra={"minimum": invoice.split_policy.minimum(invoice.amount_due.currency)},
        )
    return say(
        state.evolve(proposed_parts=parts),
        "split_proposal",
        invoice,
        choices=(Choice.YES, Choice.NO),
        step=Step.CONFIRM_SPLIT,
        extra={"parts": parts, "schedule": _money_schedule(invoice, schedule)},
    )


def confirm(state: ConversationState, invoice: InvoiceFacts, facts: Facts) -> Outcome:
    parts = state.proposed_parts
    schedule = _schedule(invoice, facts, parts) if parts else None
    if parts is None or schedule is None or invoice.instalments:
        return start(state.evolve(proposed_parts=None), invoice, facts, None)
    action = CreatePlan(
        schedule=tuple(schedule),
        notify_at=tuple(
            _at(facts, due, NOTIFY_AT) if i else facts.now
            for i, (due, _amount) in enumerate(schedule)
        ),
        late_at=tuple(_at(facts, due + LATE_AFTER, LATE_AT) for due, _amount in schedule),
    )
    first_url = f"{invoice.pay_url}/1"
    return say(
        state.evolve(proposed_parts=None),
        "split_confirmed",
        invoice,
        choices=(),
        step=Step.MENU,
        actions=(action,),
        extra={
            "parts": parts,
            "schedule": _money_schedule(invoice, schedule),
            "first_url": first_url,
            # The plan replaces a promised date: say so, or the customer waits for both.
            "replaced_promise": invoice.promise_date,
        },
    )


def decline(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    return say(state.evolve(proposed_parts=None), "split_declined", invoice, step=Step.MENU)


def _schedule(invoice: InvoiceFacts, facts: Facts, parts: int) -> list[tuple[date, int]] | None:
    today = facts.now.astimezone(ZoneInfo(facts.timezone)).date()
    try:
        return plan_schedule(invoice.amount_due, parts, today, invoice.split_policy)
    except InstalmentRefused:
        return None


def _money_schedule(
    invoice: InvoiceFacts, schedule: list[tuple[date, int]]
) -> list[tuple[date, Money]]:
    currency = invoice.amount_due.currency
    return [(due, Money(amount, currency)) for due, amount in schedule]


def _at(facts: Facts, day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=ZoneInfo(facts.timezone))
