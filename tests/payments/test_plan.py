"""Pure plan rules: what a pay link asks for, what an instalment payment must be."""

from __future__ import annotations

from datetime import date

import pytest

from payments.plan import Instalment, Plan, amount_to_ask, expected_amount

PLAN = Plan(
    (
        Instalment(1, 4000, date(2026, 11, 18), "paid"),
        Instalment(2, 4000, date(2026, 12, 18)),
        Instalment(3, 4000, date(2027, 1, 18)),
    ),
    "2026-11-18T09:00:00+00:00",
)


@pytest.mark.parametrize(
    ("plan", "number", "asked"),
    [
        (None, None, (12_000, None)),
        (None, "1", None),
        (PLAN, None, (4000, 2)),
        (PLAN, "1", (0, 1)),
        (PLAN, "3", (4000, 3)),
        (PLAN, "4", None),
        (PLAN, "x", None),
        (PLAN, "0001", None),
    ],
)
def test_amount_to_ask(plan: Plan | None, number: str | None, asked: object) -> None:
    assert amount_to_ask(12_000, plan, number) == asked


def test_everything_paid_asks_nothing() -> None:
    paid = PLAN.with_status(2, "paid").with_status(3, "paid")
    assert amount_to_ask(0, paid, None) == (0, None)


def test_expected_amount_needs_that_instalment_in_a_plan() -> None:  # TESTCASES 23
    assert expected_amount(PLAN, 2) == 4000
    assert expected_amount(PLAN, 9) is None
    assert expected_amount(None, 1) is None
    assert expected_amount(PLAN, None) is None


def test_plan_round_trip() -> None:
    assert Plan.loads(PLAN.dumps()) == PLAN
