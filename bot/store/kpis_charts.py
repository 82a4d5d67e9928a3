"""What the dashboard's charts draw beyond the per-channel figures: how long payments took
(a histogram of delays) and the period week by week (issued, sent, paid, conversion).

Pure functions on `bot.store.kpis.Facts` (tested on known data sets); `kpis_more.report`
adds their results to the KPI JSON the charts read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from bot.store.desk import CLOSED
from bot.store.kpis import Facts

# Days from issue to the last payment: the same delay as the average and the median.
DELAY_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-2", 0, 2),
    ("3-7", 3, 7),
    ("8-14", 8, 14),
    ("15-30", 15, 30),
    ("31+", 31, None),
)


def delay_buckets(facts: Iterable[Facts]) -> list[dict[str, object]]:
    """How many paid invoices were paid within each span of days after their issue."""
    delays = [
        (f.paid_on - f.invoice.issue_date).days
        for f in facts
        if f.invoice.status in CLOSED and f.paid_on is not None
    ]
    return [
        {"days": label, "paid": sum(1 for d in delays if low <= d and (high is None or d <= high))}
        for label, low, high in DELAY_BUCKETS
    ]


@dataclass(frozen=True, slots=True)
class Week:
    start: date  # the Monday
    issued: int
    sent: int
    paid: int
    conversion: float | None  # paid / sent, of the invoices issued that week

    def to_dict(self) -> dict[str, object]:
        return {
            "week": self.start.isoformat(),
            "issued": self.issued,
            "sent": self.sent,
            "paid": self.paid,
            "conversion": self.conversion,
        }


def weekly(facts: Iterable[Facts], start: date, end: date) -> list[Week]:
    """One entry per week (Monday to Sunday) touching [start, end], empty weeks included, so
    that the chart's axis is the chosen period; an invoice counts in its issue date's week."""
    rows = [f for f in facts if start <= f.invoice.issue_date <= end]
    weeks = []
    monday = start - timedelta(days=start.weekday())
    while monday <= end:
        chosen = [f for f in rows if monday <= f.invoice.issue_date < monday + timedelta(days=7)]
        sent = [f for f in chosen if f.sent]
        paid = sum(1 for f in sent if f.invoice.status in CLOSED)
        conversion = round(paid / len(sent), 4) if sent else None
        weeks.append(Week(monday, len(chosen), len(sent), paid, conversion))
        monday += timedelta(days=7)
    return weeks
