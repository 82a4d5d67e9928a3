"""The ladder's clock, pure: step moments across DST changes and French public holidays
(TESTCASES 56), and the transactional window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from flows.dunning import message_for, next_moment, step_moment, weekly_cap_until
from flows.model import DunningPolicy, Facts

PARIS = "Europe/Paris"
POLICY = DunningPolicy()


@pytest.mark.parametrize(
    ("due", "step", "expected"),
    [
        # The due date (step 1) on the Monday after the autumn change: 10:00 CET = 09:00 UTC.
        (date(2026, 10, 26), 1, datetime(2026, 10, 26, 9, 0, tzinfo=UTC)),
        # The Saturday before it: 10:00 CEST = 08:00 UTC.
        (date(2026, 10, 24), 1, datetime(2026, 10, 24, 8, 0, tzinfo=UTC)),
        # 25 December, 1 January, 1 May, 14 July: the next allowed day at 09:00.
        (date(2026, 12, 25), 1, datetime(2026, 12, 26, 8, 0, tzinfo=UTC)),
        (date(2027, 1, 1), 1, datetime(2027, 1, 2, 8, 0, tzinfo=UTC)),
        (date(2027, 5, 1), 1, datetime(2027, 5, 3, 7, 0, tzinfo=UTC)),  # a Saturday, then Sunday
        (date(2027, 7, 14), 1, datetime(2027, 7, 15, 7, 0, tzinfo=UTC)),
        # -3 days from Wednesday 31 March 2027 is Sunday 28 (spring change): Monday 29 is
        # Easter Monday, so Tuesday 30 at 09:00 CEST.
        (date(2027, 3, 31), 0, datetime(2027, 3, 30, 7, 0, tzinfo=UTC)),
    ],
)
def test_step_moments_across_dst_and_holidays(due: date, step: int, expected: datetime) -> None:
    assert step_moment(due, step, PARIS, POLICY) == expected


def test_holidays_allowed_by_the_merchant() -> None:
    allowed = DunningPolicy(on_holidays=True)
    at = step_moment(date(2026, 12, 25), 1, PARIS, allowed)
    assert at == datetime(2026, 12, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 18, 17, 59, tzinfo=UTC), datetime(2026, 11, 18, 17, 59, tzinfo=UTC)),
        (datetime(2026, 11, 18, 18, 0, tzinfo=UTC), datetime(2026, 11, 19, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 21, 20, 0, tzinfo=UTC), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 18, 7, 0, tzinfo=UTC), datetime(2026, 11, 18, 8, 0, tzinfo=UTC)),
    ],
)
def test_the_transactional_window(now: datetime, expected: datetime) -> None:
    assert next_moment(now, PARIS, POLICY) == expected


def test_texts_escalate_and_a_late_catch_up_never_says_due() -> None:
    names = [message_for(step, POLICY) for step in range(5)]
    assert names == [
        "dunning_before",
        "dunning_due",
        "dunning_late",
        "dunning_late",
        "dunning_final",
    ]
    assert message_for(0, POLICY, late=True) == "dunning_late"


def _facts(now: datetime, *sent: datetime) -> Facts:
    return Facts(invoice=None, now=now, timezone=PARIS, reminders_sent=sent)


def test_the_weekly_cap_counts_a_rolling_week_of_any_invoice() -> None:
    monday = datetime(2027, 1, 18, 9, 0, tzinfo=UTC)
    wednesday = monday + timedelta(days=2)
    # Two in the last 7 days: the next waits until the older one is a week old.
    assert weekly_cap_until(_facts(wednesday + timedelta(hours=1), monday, wednesday), POLICY) == (
        monday + timedelta(days=7)
    )
    # One in the week, or two with the older one a week old: it may go now.
    assert weekly_cap_until(_facts(wednesday, monday), POLICY) is None
    assert weekly_cap_until(_facts(monday + timedelta(days=7), monday, wednesday), POLICY) is None
    # A merchant who allows three.
    three = DunningPolicy(max_per_week=3)
    assert (
        weekly_cap_until(_facts(wednesday + timedelta(hours=1), monday, wednesday), three) is None
    )
