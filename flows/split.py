"""Split in N ("paiement en plusieurs fois sans frais"): offered only within the merchant's
policy; the exact schedule is shown and confirmed before anything is created.

```mermaid
stateDiagram-v2
    Menu --> AskParts: split, no number / "in how many payments?" + allowed choices
    Menu --> ConfirmSplit: split in N allowed / schedule (amounts, dates) + yes/no
    Menu --> ConfirmSplit: days said ("50 now, the rest Friday"), allowed / that schedule + yes/no
    Menu --> ConfirmSplit: days said, beyond the policy / last day moved or equal amounts + yes/no
    AskParts --> ConfirmSplit: N allowed / schedule + yes/no
    Menu --> AskParts: N not allowed ("en 10 fois") / explain the maximum + allowed choices
    ConfirmSplit --> ConfirmSplit: another N / new schedule
    ConfirmSplit --> Menu: yes, or the same count again / plan created, link 1 now
    ConfirmSplit --> Menu: no / menu
    Menu --> Menu: invoice below the minimum / "not available" + menu
    Menu --> Menu: Reminder(instalment due) / that instalment's link
    Menu --> Menu: Reminder(instalment late), still unpaid / reminder
```
(Also in `split.mmd`.)
"""

from __future__ import annotations

import itertools
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
from payments.instalments import InstalmentRefused, plan_schedule, split_amount
from payments.money import Money

NOTIFY_AT = time(9, 0)  # an instalment's link goes out at 09:00 local on its due date
LATE_AFTER = timedelta(days=3)  # then a reminder if it is still unpaid three days later
LATE_AT = time(10, 0)
_PART_CHOICES = {2: Choice.SPLIT_2, 3: Choice.SPLIT_3, 4: Choice.SPLIT_4}


#: One payment the customer schedules: its day and amount (None: a share of the rest).
Said = tuple[date, Decimal | None]


@dataclass(frozen=True, slots=True)
class Shape:
    """What the customer said of the payments: in two, the day of the rest ("le reste
    vendredi") and the amount paid now ("50 maintenant"; None: half); in three or more, the
    amount paid now and each later payment's day and amount ("30 aujourd'hui, 30 le 10 et le
    reste le 20")."""

    rest_on: date | None = None
    first: Decimal | None = None
    later: tuple[Said, ...] = ()

    def after_first(self) -> tuple[Said, ...]:
        if self.later:
            return self.later
        return ((self.rest_on, None),) if self.rest_on is not None else ()


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
    later = shape.after_first() if shape is not None else ()
    if shape is not None and later and parts in (None, len(later) + 1):
        own = _own_terms(state, invoice, facts, later, shape.first)
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
    later: tuple[Said, ...],
    first_said: Decimal | None,
) -> Outcome | None:
    """The customer's own terms, shown and confirmed like any schedule. A last payment put
    beyond the policy's span moves to the span's last day, and amounts that do not fit what
    is due become equal shares: either way the proposal says so, rather than quietly showing
    other terms. None when the count is not allowed or the days are not one after another
    from tomorrow (the caller goes on as for a split without terms)."""
    asked = [day for day, _amount in later]
    days = [*asked[:-1], min(asked[-1], _latest(invoice, facts))]
    said = (_minor(first_said, invoice), *(_minor(amount, invoice) for _day, amount in later))
    schedule = _own_schedule(invoice, facts, days, said)
    if schedule is None:
        return None
    later_terms = zip((day.isoformat() for day in days), said[1:], strict=True)
    terms = state.evolve(
        proposed_parts=len(schedule), proposed_first=said[0], proposed_later=tuple(later_terms)
    )
    shares = _shares(said, invoice.amount_due.amount)
    named = [amount for amount in said if amount is not None]
    notes = {
        "rest_asked": asked[-1] if days[-1] != asked[-1] else None,
        "amounts_said": Money(sum(named), invoice.amount_due.currency)
        if shares is None and named
        else None,
    }
    return _proposal(terms, invoice, len(schedule), schedule, notes)


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
    terms = state.evolve(proposed_parts=parts, proposed_later=(), proposed_first=None)
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
            "amounts_said": None,
            **(notes or {}),
        },
    )


def _cleared(state: ConversationState) -> ConversationState:
    return state.evolve(proposed_parts=None, proposed_later=(), proposed_first=None)


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
    if not state.proposed_later:
        return _schedule(invoice, facts, parts)
    try:
        days = [date.fromisoformat(day) for day, _amount in state.proposed_later]
    except ValueError:
        return None
    said = (state.proposed_first, *(amount for _day, amount in state.proposed_later))
    return _own_schedule(invoice, facts, days, said)


def _own_schedule(
    invoice: InvoiceFacts, facts: Facts, days: list[date], said: tuple[int | None, ...]
) -> list[tuple[date, int]] | None:
    """The first payment today and the others on *days*, within the policy's span, each day
    after the one before; the amounts *said* when they fit what is due (`_shares`), equal
    shares otherwise. None when the policy does not allow that many payments or the days do
    not fit."""
    parts = len(days) + 1
    standard = _schedule(invoice, facts, parts)
    if standard is None or len(said) != parts:
        return None
    today = standard[0][0]
    if days[-1] > _latest(invoice, facts) or _not_in_order([today, *days]):
        return None
    shares = _shares(said, invoice.amount_due.amount)
    amounts = shares if shares is not None else [amount for _day, amount in standard]
    return list(zip([today, *days], amounts, strict=True))


def _not_in_order(days: list[date]) -> bool:
    return any(b <= a for a, b in itertools.pairwise(days))


def _latest(invoice: InvoiceFacts, facts: Facts) -> date:
    """The last day a payment may fall on: the policy's span from today."""
    return _today(facts) + timedelta(days=invoice.split_policy.max_span_days)


def _shares(said: tuple[int | None, ...], total: int) -> list[int] | None:
    """The amounts said, those not said sharing what the others leave ("100 maintenant, 100
    le 15 et le reste fin avril"); None when they do not fit *total*: one not positive, all
    said but not adding up to it, or nothing left for those not said."""
    named = [amount for amount in said if amount is not None]
    if any(amount <= 0 for amount in named):
        return None
    left, unnamed = total - sum(named), said.count(None)
    if unnamed == 0:
        return named if left == 0 else None
    if left < unnamed:
        return None
    rest = [left] if unnamed == 1 else split_amount(left, unnamed)
    return [amount if amount is not None else rest.pop(0) for amount in said]


def _minor(amount: Decimal | None, invoice: InvoiceFacts) -> int | None:
    if amount is None:
        return None
    try:
        return Money.from_decimal(amount, invoice.amount_due.currency).amount
    except ValueError:  # "42,905": not an amount of this currency
        return None


def _today(facts: Facts) -> date:
    return facts.now.astimezone(ZoneInfo(facts.timezone)).date()


def _schedule(invoice: InvoiceFacts, facts: Facts, parts: int) -> list[tuple[date, int]] | None:
    try:
        return plan_schedule(invoice.amount_due, parts, _today(facts), invoice.split_policy)
    except InstalmentRefused:
        return None


def _money_schedule(
    invoice: InvoiceFacts, schedule: list[tuple[date, int]]
) -> list[tuple[date, Money]]:
    currency = invoice.amount_due.currency
    return [(due, Money(amount, currency)) for due, amount in schedule]


def _at(facts: Facts, day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=ZoneInfo(facts.timezone))
