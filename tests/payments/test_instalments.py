from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.instalments import (
    InstalmentPolicy,
    InstalmentRefused,
    is_valid_purpose,
    plan_schedule,
    purpose_for,
    split_amount,
)
from payments.money import Money


def eur(amount: int) -> Money:
    return Money(amount, "EUR")


def test_remainder_goes_on_the_last_instalment() -> None:  # TESTCASES 27
    assert split_amount(10_000, 3) == [3333, 3333, 3334]
    assert split_amount(12_000, 3) == [4000, 4000, 4000]
    assert split_amount(5, 4) == [1, 1, 1, 2]
    assert split_amount(2, 2) == [1, 1]


@given(
    st.integers(min_value=2, max_value=24).flatmap(
        lambda n: st.tuples(st.integers(min_value=n, max_value=10**12), st.just(n))
    )
)
def test_split_is_exact_positive_and_even(args: tuple[int, int]) -> None:
    total, parts = args
    split = split_amount(total, parts)
    assert sum(split) == total
    assert len(split) == parts
    assert all(p > 0 for p in split)
    assert len(set(split[:-1])) == 1
    assert 0 <= split[-1] - split[0] < parts


@pytest.mark.parametrize(("total", "parts"), [(1, 2), (0, 2), (-3, 2), (100, 1), (100, 0)])
def test_split_refuses_impossible_splits(total: int, parts: int) -> None:
    with pytest.raises(ValueError):
        split_amount(total, parts)


@pytest.mark.parametrize(("total", "parts"), [(100.0, 2), (100, 2.0), (True, 2)])
def test_split_refuses_non_integers(total: object, parts: object) -> None:
    with pytest.raises(TypeError):
        split_amount(total, parts)  # type: ignore[arg-type]


def test_three_parts_are_monthly() -> None:
    schedule = plan_schedule(eur(10_000), 3, date(2026, 11, 21), InstalmentPolicy())
    assert schedule == [
        (date(2026, 11, 21), 3333),
        (date(2026, 12, 21), 3333),
        (date(2027, 1, 21), 3334),
    ]


def test_month_ends_are_clamped() -> None:
    schedule = plan_schedule(eur(9_000), 3, date(2026, 12, 31), InstalmentPolicy())
    assert [d for d, _ in schedule] == [date(2026, 12, 31), date(2027, 1, 31), date(2027, 2, 28)]


def test_four_parts_fall_back_to_30_day_spacing_when_months_exceed_90_days() -> None:
    policy = InstalmentPolicy(allowed_parts=(2, 3, 4))
    schedule = plan_schedule(eur(10_000), 4, date(2026, 11, 21), policy)  # 21 Feb = +92 days
    assert [d for d, _ in schedule] == [
        date(2026, 11, 21) + timedelta(days=30 * i) for i in range(4)
    ]
    assert [a for _, a in schedule] == [2500, 2500, 2500, 2500]
    # From 1 Feb, three months is 89 days: monthly fits.
    feb = plan_schedule(eur(10_000), 4, date(2027, 2, 1), policy)
    assert [d for d, _ in feb] == [
        date(2027, 2, 1),
        date(2027, 3, 1),
        date(2027, 4, 1),
        date(2027, 5, 1),
    ]


def test_default_policy_follows_the_legal_guardrails() -> None:  # LEGAL_FR §4.3, TESTCASES 81
    policy = InstalmentPolicy()
    assert policy.allowed_parts == (2, 3)
    assert policy.max_span_days == 90
    assert policy.fees == 0
    assert policy.minimum("EUR") == Money(5000, "EUR")


def test_split_minimums_are_per_currency() -> None:
    """Issue 6 §3: ¥5,400 is not "from 50 €"; a currency without a minimum is not split."""
    policy = InstalmentPolicy()
    assert policy.minimum("JPY") is None
    with pytest.raises(InstalmentRefused) as info:
        plan_schedule(Money(5_400, "JPY"), 2, date(2026, 11, 21), policy)
    assert info.value.reason == "currency_not_offered"
    yen = InstalmentPolicy(min_totals=(("EUR", 5000), ("JPY", 8000)))
    with pytest.raises(InstalmentRefused) as below:
        plan_schedule(Money(5_400, "JPY"), 2, date(2026, 11, 21), yen)
    assert below.value.reason == "below_minimum"
    assert [a for _, a in plan_schedule(Money(9_000, "JPY"), 2, date(2026, 11, 21), yen)] == [
        4500,
        4500,
    ]


@pytest.mark.parametrize(
    ("total", "parts", "reason"),
    [
        (4_999, 3, "below_minimum"),
        (10_000, 4, "parts_not_allowed"),
        (10_000, 10, "parts_not_allowed"),
        (10_000, 1, "parts_not_allowed"),
    ],
)
def test_refusals_are_typed(total: int, parts: int, reason: str) -> None:
    policy = InstalmentPolicy()
    with pytest.raises(InstalmentRefused) as info:
        plan_schedule(eur(total), parts, date(2026, 11, 21), policy)
    assert info.value.reason == reason
    assert info.value.policy is policy


def test_too_small_to_split() -> None:
    with pytest.raises(InstalmentRefused) as info:
        plan_schedule(eur(2), 3, date(2026, 11, 21), InstalmentPolicy(min_totals=(("EUR", 0),)))
    assert info.value.reason == "too_small_to_split"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fees": 100},
        {"max_span_days": 91},
        {"max_span_days": 0},
        {"allowed_parts": ()},
        {"allowed_parts": (1, 2)},
        {"allowed_parts": (2, 100)},
        {"min_totals": (("EUR", 50.0),)},
        {"min_totals": (("eur", 5000),)},
    ],
)
def test_policies_outside_the_guardrails_cannot_be_built(kwargs: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        InstalmentPolicy(**kwargs)  # type: ignore[arg-type]


@given(
    total=st.integers(min_value=5_000, max_value=10**11),
    parts=st.sampled_from([2, 3, 4]),
    first=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    span=st.integers(min_value=3, max_value=90),
)
def test_schedules_are_exact_and_within_the_span(
    total: int, parts: int, first: date, span: int
) -> None:
    policy = InstalmentPolicy(allowed_parts=(2, 3, 4), max_span_days=span)
    schedule = plan_schedule(eur(total), parts, first, policy)
    dates, amounts = [d for d, _ in schedule], [a for _, a in schedule]
    assert len(schedule) == parts
    assert sum(amounts) == total
    assert all(a > 0 for a in amounts)
    assert dates[0] == first
    assert all(a < b for a, b in itertools.pairwise(dates))
    assert (dates[-1] - first).days <= span


def test_purposes() -> None:
    assert purpose_for(None) == "invoice"
    assert purpose_for(2) == "instalment:2"
    with pytest.raises(ValueError):
        purpose_for(0)
    for ok in ("invoice", "instalment:1", "instalment:12"):
        assert is_valid_purpose(ok)
    for bad in ("", "Invoice", "instalment:0", "instalment:", "instalment:01", "tip", "invoice "):
        assert not is_valid_purpose(bad)
