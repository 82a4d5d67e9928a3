"""The reminder ladder of an issued invoice: before, on and after its due date, then a final
notice. One scheduled job per invoice carries the next step; each step re-schedules the next.

```mermaid
flowchart TD
    I[invoice issued] --> F[schedule the first step still ahead]
    F --> E[ladder step due]
    E --> P{paid?}
    P -- yes --> X[stop: nothing more]
    P -- no --> H{inside the merchant's hours, local time, not a holiday?}
    H -- no --> W[same step again at the next allowed moment]
    H -- yes --> C[the latest step due today or before: missed steps collapse into one]
    C --> Q{processing, plan, promise ahead, dispute, a person, or step over 30 days old?}
    Q -- yes --> S[silent: schedule the next step]
    Q -- no --> K{max_per_week already sent to this customer in 7 days, any invoice?}
    K -- yes --> L[same step again when the week allows: merged with what falls due by then]
    K -- no --> R[reminder of that step + menu; counted; schedule the next step]
```
(Also in `dunning.mmd`.) A dispute or a person holding the conversation only silences the
steps that fall due meanwhile; the hand-back sends one catch-up (flows.agent.hand_back), and
the ladder goes on from the next step: no burst after a pause or a worker outage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows.campaign import french_holiday
from flows.model import (
    Action,
    ConversationState,
    ConversationStatus,
    CountReminder,
    DunningPolicy,
    Facts,
    InvoiceFacts,
    Outcome,
    Reminder,
    ScheduleLadder,
)
from flows.replies import say, silent
from payments.invoice import RECOVERY_INDEMNITY

STALE_AFTER = timedelta(days=30)
WEEK = timedelta(days=7)
MAX_DAYS_AHEAD = 30  # an allowed day is always found well within this (one week suffices)


def allowed_day(day: date, policy: DunningPolicy) -> bool:
    return day.weekday() in policy.weekdays and (policy.on_holidays or not french_holiday(day))


def next_moment(now: datetime, zone: str, policy: DunningPolicy) -> datetime:
    """`now` if a reminder may go out now in `zone`, else the next opening time allowed."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if allowed_day(local.date(), policy) and policy.opens <= local.time() < policy.closes:
        return now
    day = local.date() if local.time() < policy.opens else local.date() + timedelta(days=1)
    for _ in range(MAX_DAYS_AHEAD):
        if allowed_day(day, policy):
            break
        day += timedelta(days=1)
    # combine() with the zone gives the wall-clock time on that day, across DST changes.
    return datetime.combine(day, policy.opens, tzinfo=tz)


def step_moment(due: date, step: int, zone: str, policy: DunningPolicy) -> datetime:
    """When step `step` goes out: its day at `send_at` local, or the next allowed moment."""
    day = due + timedelta(days=policy.offsets[step])
    at = datetime.combine(day, policy.send_at, tzinfo=ZoneInfo(zone))
    if not policy.opens <= policy.send_at < policy.closes:
        at = datetime.combine(day, policy.opens, tzinfo=ZoneInfo(zone))
    return next_moment(at, zone, policy)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def policy_to_dict(policy: DunningPolicy) -> dict[str, Any]:
    return {
        "days": list(policy.offsets),
        "send_at": policy.send_at.strftime("%H:%M"),
        "opens": policy.opens.strftime("%H:%M"),
        "closes": policy.closes.strftime("%H:%M"),
        "weekdays": [WEEKDAYS[d] for d in sorted(policy.weekdays)],
        "on_holidays": policy.on_holidays,
        "timezone": policy.timezone,
        "max_per_week": policy.max_per_week,
    }


def policy_from_dict(data: Mapping[str, Any]) -> DunningPolicy:
    """A stored (already validated) policy; missing fields keep their defaults."""
    default = DunningPolicy()
    return DunningPolicy(
        offsets=tuple(int(d) for d in data.get("days", default.offsets)),
        send_at=time.fromisoformat(data.get("send_at", default.send_at.strftime("%H:%M"))),
        opens=time.fromisoformat(data.get("opens", default.opens.strftime("%H:%M"))),
        closes=time.fromisoformat(data.get("closes", default.closes.strftime("%H:%M"))),
        weekdays=frozenset(
            WEEKDAYS.index(d) for d in data.get("weekdays", [WEEKDAYS[i] for i in range(6)])
        ),
        on_holidays=bool(data.get("on_holidays", default.on_holidays)),
        timezone=data.get("timezone"),
        max_per_week=int(data.get("max_per_week", default.max_per_week)),
    )


def first_step(invoice: InvoiceFacts, facts: Facts) -> ScheduleLadder | None:
    """The first step still ahead of an invoice just issued (one issued late skips the past).
    The merchant's policy of today goes with it: the invoice keeps it to the end."""
    policy = facts.dunning_policy
    zone = facts.customer_timezone or policy.timezone or facts.timezone
    for step in range(len(policy.offsets)):
        at = step_moment(invoice.due_date, step, zone, policy)
        if at > facts.now:
            return ScheduleLadder(step, at, policy)
    return None


def reminder(
    state: ConversationState, event: Reminder, invoice: InvoiceFacts, facts: Facts
) -> Outcome:
    policy = event.policy or facts.dunning_policy  # the policy of the invoice's issue
    # The customer's own zone first, else the merchant's (its policy), else the default.
    zone = facts.customer_timezone or policy.timezone or facts.timezone
    facts = replace(facts, dunning_policy=policy, timezone=zone)
    if invoice.is_paid or not policy.offsets:
        return silent(state)  # the ladder stops here: nothing is scheduled any more
    step = min(event.step or 0, len(policy.offsets) - 1)
    allowed = next_moment(facts.now, facts.timezone, policy)
    if allowed > facts.now:  # fired at night, on a Sunday or a holiday (or late after an outage)
        return silent(state, ScheduleLadder(step, allowed, policy))
    # Every step that fell due since (a pause, an outage), and one due later today, collapse
    # into the latest one: one message, never two the same day.
    today = _today(facts)
    while step + 1 < len(policy.offsets) and _day_of(invoice, step + 1, facts) <= today:
        step += 1
    following = step + 1
    after: tuple[ScheduleLadder, ...] = ()
    if following < len(policy.offsets):
        at = step_moment(invoice.due_date, following, facts.timezone, policy)
        after = (ScheduleLadder(following, at, policy),)
    if _waiting(state, invoice, facts) or _stale(invoice, step, facts):
        return silent(state, *after)
    free_at = weekly_cap_until(facts, policy)
    if free_at is not None:
        # Two went out this week (this invoice or another): this step waits until the cap
        # allows one, then goes with whatever else fell due meanwhile (merged, see above).
        return silent(
            state, ScheduleLadder(step, next_moment(free_at, facts.timezone, policy), policy)
        )
    message = message_for(step, policy, late=today > invoice.due_date)
    counted: tuple[Action, ...] = (CountReminder(), *after)
    return say(state, message, invoice, extra=_extra(invoice, facts), actions=counted)


def weekly_cap_until(facts: Facts, policy: DunningPolicy) -> datetime | None:
    """None if a reminder may go out now, else when the rolling week lets the next one go:
    a week after the oldest of the last `max_per_week` sent."""
    recent = sorted(t for t in facts.reminders_sent if t > facts.now - WEEK)
    if len(recent) < policy.max_per_week:
        return None
    return recent[-policy.max_per_week] + WEEK


def message_for(step: int, policy: DunningPolicy, *, late: bool = False) -> str:
    """The step's text; a step sent after the due date (a catch-up) never says "due on"."""
    offset = policy.offsets[step]
    if step == len(policy.offsets) - 1 and offset > 0:
        return "dunning_final"
    if late:
        return "dunning_late"
    if offset < 0:
        return "dunning_before"
    return "dunning_due" if offset == 0 else "dunning_late"


def _day_of(invoice: InvoiceFacts, step: int, facts: Facts) -> date:
    moment = step_moment(invoice.due_date, step, facts.timezone, facts.dunning_policy)
    return moment.astimezone(ZoneInfo(facts.timezone)).date()


def _stale(invoice: InvoiceFacts, step: int, facts: Facts) -> bool:
    """A step more than STALE_AFTER old (the worker was down for months) is not sent: a
    reminder about a date long gone would only confuse; the ladder goes on with the next."""
    return _today(facts) - _day_of(invoice, step, facts) > STALE_AFTER


def _waiting(state: ConversationState, invoice: InvoiceFacts, facts: Facts) -> bool:
    """The ladder stays quiet: money on its way, a plan or a promise running (their own
    reminders take over), a dispute, or a person holding the conversation."""
    if invoice.is_processing or invoice.instalments or invoice.reminders_paused:
        return True
    if state.status is not ConversationStatus.BOT:
        return True
    return invoice.promise_date is not None and invoice.promise_date >= _today(facts)


def _extra(invoice: InvoiceFacts, facts: Facts) -> dict[str, object]:
    today = _today(facts)
    late = today > invoice.due_date
    return {
        "days_late": (today - invoice.due_date).days if late else 0,
        # LEGAL_FR §1.4: owed between professionals from the day after the due date.
        "b2b_late": late and invoice.customer_is_business,
        "penalty_rate": invoice.late_penalty_rate,
        "indemnity": RECOVERY_INDEMNITY,  # D441-5: fixed, between professionals only
    }


def _today(facts: Facts) -> date:
    return facts.now.astimezone(ZoneInfo(facts.timezone)).date()
