"""The dashboard charts' figures on a known data set (bot.store.kpis_charts)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.store.kpis_charts import delay_buckets, weekly
from tests.unit.test_kpis import DATA, fact


def test_payment_delays_are_counted_per_span_of_days() -> None:
    # DATA's paid invoices took 2, 6, 10 days (and 1 day for #6, outside any period)
    rows = [*DATA, fact(9, "sms", date(2026, 12, 1), paid_on=date(2027, 1, 15))]  # 45 days
    assert delay_buckets(rows) == [
        {"days": "0-2", "paid": 2},
        {"days": "3-7", "paid": 1},
        {"days": "8-14", "paid": 1},
        {"days": "15-30", "paid": 0},
        {"days": "31+", "paid": 1},
    ]
    assert [b["paid"] for b in delay_buckets([])] == [0, 0, 0, 0, 0]


def test_the_period_week_by_week() -> None:
    """1-31 December 2026: Tuesday the 1st is in the week of Monday 30 November; empty
    weeks stay on the axis; an invoice never sent is issued but not in the conversion."""
    unsent = replace(
        fact(7, "telegram", date(2026, 12, 9), paid_on=date(2026, 12, 10)), sent=False
    )
    weeks = weekly([*DATA, unsent], date(2026, 12, 1), date(2026, 12, 31))
    assert [w.start for w in weeks] == [
        date(2026, 11, 30),
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 21),
        date(2026, 12, 28),
    ]
    first, second, third = weeks[0], weeks[1], weeks[2]
    # DATA's #1-#5 are issued 1-5 December (#1, #2, #4 paid); #6 is in November: left out
    assert (first.issued, first.sent, first.paid, first.conversion) == (5, 5, 3, 0.6)
    assert (second.issued, second.sent, second.paid, second.conversion) == (1, 0, 0, None)
    assert (third.issued, third.conversion) == (0, None)
    assert first.to_dict() == {
        "week": "2026-11-30",
        "issued": 5,
        "sent": 5,
        "paid": 3,
        "conversion": 0.6,
    }
    assert weekly(DATA, date(2026, 12, 2), date(2026, 12, 2))[0].issued == 1  # only the 2nd
