"""Split in N ("paiement en plusieurs fois sans frais"): offered only within the merchant's
policy; the exact schedule is shown and confirmed before anything is created.

```mermaid
stateDiagram-v2
    Menu --> AskParts: split, no number / "in how many payments?" + allowed choices
    Menu --> ConfirmSplit: split in N allowed / schedule (amounts, dates) + yes/no
    Menu --> ConfirmSplit: "50 now, the rest Friday", within the span / that schedule + yes/no
    Menu --> ConfirmSplit: own terms out of policy / rest on the last day, or halves, said + yes/no
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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
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


@dataclass(frozen=True, slots=True)
class Shape:
    """What the customer said of a split in two: the day of the rest ("le reste vendredi")
    and the amount paid now ("50 maintenant"; None: half)."""

    rest_on: date | None = None
    first: Decimal | None = None


def part_choices(invoice: InvoiceFacts) -> tuple[Choice, ...]:
    allowed = invoice.split_policy.allowed_parts
    return tuple(_PART_CHOICES[n] for n in sorted(allowed) if n in _PART_CHOICES)


def start(
    state: ConversationState,
    invoice: InvoiceFacts,
    facts: Facts,
    parts: int | None,
    shape: Shape | None = None,
) -> Outcome:
    if invoice.instalments:
        return say(
            state, "plan_exists", invoice, step=Step.MENU, extra={"next": invoice.next_instalment}
        )
    if not split_allowed(invoice):
        # No minimum: this currency is not split at all, so no "from …" to quote.
        minimum = invoice.split_policy.minimum(invoice.amount_due.currency)
        return say(state, "split_unavailable", invoice, step=Step.MENU, extra={"minimum": minimum})
    if shape is not None and shape.rest_on is not None and parts in (None, 2):
        own = _own_terms(state, invoice, facts, shape.rest_on, shape.first)
        if own is not None:
            return own
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


def _own_terms(
    state: ConversationState,
    invoice: InvoiceFacts,
    facts: Facts,
    rest_asked: date,
    first_said: Decimal | None,
) -> Outcome | None:
    """The customer's own terms, shown and confirmed like any schedule. A rest put beyond the
    policy's span moves to the span's last day, and an amount for now that is not less than
    the amount due becomes half: either way the proposal says so, rather than quietly showing
    other terms. None when a split in two is not possible (the caller asks how many)."""
    standard = _schedule(invoice, facts, 2)
    if standard is None:
        return None
    today = standard[0][0]
    latest = today + timedelta(days=invoice.split_policy.max_span_days)
    if rest_asked <= today:
        return None
    rest_on = min(rest_asked, latest)
    said = _minor(first_said, invoice)
    too_large = said is not None and said >= invoice.amount_due.amount
    first = None if too_large else said
    own = _own_schedule(invoice, facts, rest_on, first)
    if own is None:
        return None
    terms = state.evolve(
        proposed_parts=2, proposed_rest_on=rest_on.isoformat(), proposed_first=first
    )
    notes = {
        "rest_asked": rest_asked if rest_on != rest_asked else None,
        "first_too_large": Money(said, invoice.amount_due.currency)
        if said is not None and too_large
        else None,
    }
    return _proposal(terms, invoice, 2, own, notes)


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
    terms = state.evolve(proposed_parts=parts, proposed_rest_on=None, proposed_first=None)
    return _proposal(terms, invoice, parts, schedule)


def _proposal(
    state: ConversationState,
    invoice: InvoiceFacts,
    parts: int,
    schedule: list[tuple[date, int]],
    notes: Mapping[str, object] | None = None,
) -> Outcome:
    return say(
        state,
        "split_proposal",
        invoice,
        choices=(Choice.YES, Choice.NO),
        step=Step.CONFIRM_SPLIT,
        extra={
            "parts": parts,
            "schedule": _money_schedule(invoice, schedule),
            "rest_asked": None,
            "first_too_large": None,
            **(notes or {}),
        },
    )


def _cleared(state: ConversationState) -> ConversationState:
    return state.evolve(proposed_parts=None, proposed_rest_on=None, proposed_first=None)


def confirm(state: ConversationState, invoice: InvoiceFacts, facts: Facts) -> Outcome:
    parts = state.proposed_parts
    schedule = _proposed_schedule(state, invoice, facts)
    if parts is None or schedule is None or invoice.instalments:
        return start(_cleared(state), invoice, facts, None)
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
        _cleared(state),
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
    return say(_cleared(state), "split_declined", invoice, step=Step.MENU)


def _proposed_schedule(
    state: ConversationState, invoice: InvoiceFacts, facts: Facts
) -> list[tuple[date, int]] | None:
    """The schedule proposed, computed again on the day the customer says yes."""
    parts = state.proposed_parts
    if parts is None:
        return None
    if state.proposed_rest_on is None:
        return _schedule(invoice, facts, parts)
    try:
        rest_on = date.fromisoformat(state.proposed_rest_on)
    except ValueError:
        return None
    return _own_schedule(invoice, facts, rest_on, state.proposed_first)


def _own_schedule(
    invoice: InvoiceFacts, facts: Facts, rest_on: date, first: int | None
) -> list[tuple[date, int]] | None:
    """Two payments on the customer's terms: *first* today (half if None, or if it is not
    less than the amount due) and the rest on *rest_on*, within the policy's span; None
    when the policy does not allow a split in two, or the day is not within the span."""
    standard = _schedule(invoice, facts, 2)
    if standard is None:
        return None
    today = standard[0][0]
    latest = today + timedelta(days=invoice.split_policy.max_span_days)
    if not today < rest_on <= latest:
        return None
    total = invoice.amount_due.amount
    now = first if first is not None and 0 < first < total else standard[0][1]
    return [(today, now), (rest_on, total - now)]


def _minor(amount: Decimal | None, invoice: InvoiceFacts) -> int | None:
    if amount is None:
        return None
    try:
        return Money.from_decimal(amount, invoice.amount_due.currency).amount
    except ValueError:  # "42,905": not an amount of this currency
        return None


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
