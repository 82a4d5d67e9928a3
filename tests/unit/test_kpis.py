"""Every dashboard figure computed on a known data set (bot.store.kpis.compute)."""

from __future__ import annotations

from datetime import date

from bot.store.kpis import Facts, compute
from bot.store.ledger import InvoiceExtras
from payments.invoice import InvoiceStatus
from payments.plan import Instalment, Plan
from tests.payments.factories import customer, invoice, line

TODAY = date(2026, 12, 31)
NONE = InvoiceExtras(plan=None, promise=None, paused=False)


def fact(
    n: int,
    channel: str,
    issued: date,
    *,
    gross_ht: int = 10_000,
    paid_on: date | None = None,
    due: date = date(2026, 12, 20),
    promise: date | None = None,
    plan: tuple[str, ...] | None = None,
) -> Facts:
    total = gross_ht * 12 // 10
    inv = invoice(
        id=f"inv_{n}",
        number=f"F-2026-{n:06d}",
        channel=channel,
        customer=customer(telegram_chat_id=42),
        lines=(line(gross_ht),),
        issue_date=issued,
        due_date=due,
        status=InvoiceStatus.PAID if paid_on else InvoiceStatus.OPEN,
        amount_paid=total if paid_on else 0,
    )
    made = (
        Plan(
            tuple(Instalment(i + 1, 100, due, s) for i, s in enumerate(plan)),
            "2026-12-01T00:00:00",
        )
        if plan
        else None
    )
    return Facts(inv, paid_on, InvoiceExtras(plan=made, promise=promise, paused=False))


DATA = [
    # sms: 3 invoices, 2 paid after 2 and 6 days; the third overdue (120.00 of 360.00).
    fact(1, "sms", date(2026, 12, 1), paid_on=date(2026, 12, 3)),
    fact(2, "sms", date(2026, 12, 2), paid_on=date(2026, 12, 8), promise=date(2026, 12, 7)),
    fact(3, "sms", date(2026, 12, 3), promise=date(2026, 12, 10), plan=("paid", "open")),
    # telegram: 2 invoices, one paid after 10 days with a kept promise and a completed plan,
    # the other not yet due (not overdue).
    fact(
        4,
        "telegram",
        date(2026, 12, 4),
        gross_ht=20_000,
        paid_on=date(2026, 12, 14),
        promise=date(2026, 12, 15),
        plan=("paid", "paid"),
    ),
    fact(5, "telegram", date(2026, 12, 5), due=date(2027, 1, 31)),
    # outside the period: counted nowhere
    fact(6, "sms", date(2026, 11, 1), paid_on=date(2026, 11, 2)),
]


def test_every_figure_over_the_period_and_per_channel() -> None:
    result = compute(DATA, date(2026, 12, 1), date(2026, 12, 31), TODAY)
    assert list(result) == ["all", "sms", "telegram"]
    everything, sms, telegram = result["all"], result["sms"], result["telegram"]

    assert (everything.invoices, everything.paid, everything.conversion) == (5, 3, 0.6)
    assert (sms.invoices, sms.paid, sms.conversion) == (3, 2, 0.6667)
    assert (telegram.invoices, telegram.paid, telegram.conversion) == (2, 1, 0.5)

    # invoiced: 4 × 120.00 + 240.00 = 720.00; overdue: invoice 3 only (120.00)
    assert (everything.invoiced, everything.overdue_amount) == (72_000, 12_000)
    assert everything.unpaid_rate == round(12_000 / 72_000, 4)
    assert sms.unpaid_rate == round(12_000 / 36_000, 4)
    assert telegram.unpaid_rate == 0.0

    # delays 2, 6, 10 days
    assert (everything.average_delay_days, everything.median_delay_days) == (6.0, 6.0)
    assert (sms.average_delay_days, sms.median_delay_days) == (4.0, 4.0)

    # promises: #2 broken (paid the 8th for the 7th), #3 unpaid, #4 kept
    assert (everything.promises, everything.promise_kept_rate) == (3, 0.3333)
    # plans: #3 half paid, #4 complete
    assert (everything.plans, everything.plan_completion_rate) == (2, 0.5)


def test_an_empty_period_has_no_rates() -> None:
    [(name, empty)] = compute(DATA, date(2025, 1, 1), date(2025, 1, 31), TODAY).items()
    assert name == "all"
    assert (empty.invoices, empty.conversion, empty.unpaid_rate) == (0, None, None)
    assert (empty.average_delay_days, empty.promise_kept_rate, empty.plan_completion_rate) == (
        None,
        None,
        None,
    )
