"""Pay later: ask when, accept a date within the merchant's policy, record it, remind then.

```mermaid
stateDiagram-v2
    Menu --> AskDate: pay later, no date / "when?"
    Menu --> Menu: pay later + date within policy / promise recorded, reminder scheduled
    AskDate --> Menu: a date within policy / promise recorded, reminder scheduled
    AskDate --> AskDate: date past or today / ask again
    AskDate --> AskDate: date beyond policy / refused, latest allowed date offered
    AskDate --> Menu: "non" / menu
    Menu --> Menu: new date / promise moved (same reminder job, new time)
    Menu --> Menu: Reminder(promise), still unpaid / link
```
(Also in `pay_later.mmd`.) The reminder job has a deterministic id per invoice: moving the
date replaces it, paying cancels it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows.dates import TONIGHT
from flows.model import ConversationState, Facts, InvoiceFacts, Outcome, SetPromise, Step
from flows.replies import say

REMIND_AT = time(10, 0)  # local time on the promised day
EVENING = time(19, 0)  # for "ce soir": the promised day is today


def latest_date(invoice: InvoiceFacts) -> date:
    return invoice.due_date + timedelta(days=invoice.pay_later_policy.max_days_after_due)


def ask_date(state: ConversationState, invoice: InvoiceFacts, facts: Facts) -> Outcome:
    if invoice.instalments:
        return _has_plan(state, invoice)
    if latest_date(invoice) < _today(facts):
        return _too_late_for_later(state, invoice)
    return say(
        state,
        "ask_date",
        invoice,
        choices=(),
        step=Step.ASK_DATE,
        extra={"latest": latest_date(invoice), "today": _today(facts)},
    )


def promise(
    state: ConversationState,
    invoice: InvoiceFacts,
    facts: Facts,
    when: date,
    words: str | None = None,
) -> Outcome:
    """Record `when` if the policy allows it; `words` are what the customer said for it."""
    if invoice.instalments:
        return _has_plan(state, invoice)
    today = _today(facts)
    latest = latest_date(invoice)
    if latest < today:
        return _too_late_for_later(state, invoice)
    if when < today:
        return say(
            state,
            "date_in_past",
            invoice,
            choices=(),
            step=Step.ASK_DATE,
            extra={"latest": latest},
        )
    if when > latest:
        return say(
            state,
            "date_too_late",
            invoice,
            choices=(),
            step=Step.ASK_DATE,
            extra={"latest": latest, "asked": when},
        )
    message = "promise_moved" if invoice.promise_date not in (None, when) else "promise_recorded"
    tonight = words is not None and any(phrase in words for phrase in TONIGHT)
    action = SetPromise(pay_on=when, remind_at=remind_time(when, facts, tonight=tonight))
    return say(
        state.evolve(unknown_streak=0),
        message,
        invoice,
        choices=(),
        step=Step.MENU,
        actions=(action,),
        # "ce soir" at 20:46 is tonight, not "on 1 December ... that day" (issue 13).
        extra={"date": when, "tonight": tonight, "today": when == today},
    )


def remind_time(when: date, facts: Facts, *, tonight: bool = False) -> datetime:
    """10:00 on the promised day (19:00 for "tonight", or once 10:00 has passed), else soon."""
    zone = ZoneInfo(facts.timezone)
    for moment in (EVENING,) if tonight else (REMIND_AT, EVENING):
        candidate = datetime.combine(when, moment, tzinfo=zone)
        if candidate > facts.now:
            return candidate
    return facts.now + timedelta(minutes=30)


def _too_late_for_later(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    """Past the last date the policy allows: paying later is no longer on offer."""
    return say(
        state, "later_closed", invoice, step=Step.MENU, extra={"latest": latest_date(invoice)}
    )


def _has_plan(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    return say(
        state, "plan_exists", invoice, step=Step.MENU, extra={"next": invoice.next_instalment}
    )


def _today(facts: Facts) -> date:
    return facts.now.astimezone(ZoneInfo(facts.timezone)).date()
