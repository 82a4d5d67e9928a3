"""Merchant-financed payment in instalments ("payer en 3 fois sans frais").

Guardrails (LEGAL_FR §4.3, TESTCASES 81): merchant-financed, no fees, no interest, last
instalment at most 90 days after the purchase. Beyond that it is consumer credit and must go to
a licensed provider, so a policy that would allow more refuses to be built.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from payments.money import Money, normalize_currency, parse_minor

__all__ = [
    "MAX_SPAN_DAYS",
    "SPLIT_MINIMUMS",
    "InstalmentPolicy",
    "InstalmentRefused",
    "instalment_number",
    "is_valid_purpose",
    "plan_schedule",
    "purpose_for",
    "split_amount",
]

MAX_SPAN_DAYS = 90
RefusalReason = Literal[
    "below_minimum", "currency_not_offered", "parts_not_allowed", "too_small_to_split"
]
# The smallest invoice that may be split, per currency, in minor units. A currency not listed
# is not split at all: 5,000 minor units is 50 € but ¥5,000 is about 30 €.
SPLIT_MINIMUMS: tuple[tuple[str, int], ...] = (("EUR", 5000),)
_PURPOSE = re.compile(r"invoice|instalment:[1-9]\d{0,2}")


def purpose_for(instalment: int | None) -> str:
    """What a payment is for, as carried in Stripe metadata: 'invoice' or 'instalment:<n>'."""
    if instalment is None:
        return "invoice"
    if parse_minor(instalment) < 1:
        msg = "instalments are numbered from 1"
        raise ValueError(msg)
    return f"instalment:{instalment}"


def is_valid_purpose(purpose: str) -> bool:
    return bool(_PURPOSE.fullmatch(purpose))


def instalment_number(purpose: str) -> int | None:
    """Inverse of `purpose_for`: 'instalment:2' → 2, 'invoice' (or anything else) → None."""
    kind, _, number = purpose.partition(":")
    return int(number) if kind == "instalment" and number.isdigit() else None


class InstalmentRefused(ValueError):
    """The policy refuses this split; `reason` lets the flow explain why (and offer the rest)."""

    def __init__(self, reason: RefusalReason, policy: InstalmentPolicy) -> None:
        super().__init__(f"instalment plan refused: {reason}")
        self.reason: RefusalReason = reason
        self.policy = policy


def split_amount(total: int, parts: int) -> list[int]:
    """Equal parts that add up to `total` exactly; the rounding remainder goes on the last one.

    10000 in 3 → [3333, 3333, 3334] (TESTCASES 27). Every part is > 0.
    """
    if parse_minor(parts) < 2:
        msg = "a split needs at least 2 parts"
        raise ValueError(msg)
    if parse_minor(total) < parts:
        msg = f"{total} minor units cannot be split into {parts} positive parts"
        raise ValueError(msg)
    base = total // parts
    return [base] * (parts - 1) + [total - base * (parts - 1)]


@dataclass(frozen=True, slots=True)
class InstalmentPolicy:
    """What a merchant offers. `min_totals`: the smallest splittable total per currency.

    The default offers 2 or 3 instalments: LEGAL_FR §4.3 caps the merchant-financed exemption
    at 3 instalments. 4 may be configured (it still fits 90 days with 30-day spacing) but needs
    the legal review that section asks for.
    """

    min_totals: tuple[tuple[str, int], ...] = SPLIT_MINIMUMS
    allowed_parts: tuple[int, ...] = (2, 3)
    max_span_days: int = MAX_SPAN_DAYS
    fees: int = 0

    def __post_init__(self) -> None:
        if parse_minor(self.fees) != 0:
            # Any fee turns the facility into consumer credit (LEGAL_FR §4.1).
            msg = "instalment fees must be 0"
            raise ValueError(msg)
        if not 1 <= parse_minor(self.max_span_days) <= MAX_SPAN_DAYS:
            msg = f"max_span_days must be within 1..{MAX_SPAN_DAYS}"
            raise ValueError(msg)
        parts = self.allowed_parts
        if not parts or any(parse_minor(p) < 2 or p - 1 > self.max_span_days for p in parts):
            msg = f"allowed_parts must be ≥ 2 and fit in {self.max_span_days} days"
            raise ValueError(msg)
        for currency, minimum in self.min_totals:
            if normalize_currency(currency) != currency or parse_minor(minimum) < 0:
                msg = "min_totals must map uppercase currency codes to amounts ≥ 0"
                raise ValueError(msg)

    def minimum(self, currency: str) -> Money | None:
        """The smallest total split in `currency`, or None: not split in that currency."""
        found = dict(self.min_totals).get(currency)
        return None if found is None else Money(found, currency)


def plan_schedule(
    total: Money, parts: int, first_date: date, policy: InstalmentPolicy
) -> list[tuple[date, int]]:
    """Due dates and amounts; the first instalment is due on `first_date` (the purchase day).

    Instalments are a calendar month apart (same day of month, clamped to the month's end) when
    the last one still falls within `policy.max_span_days`; otherwise they are spaced by a fixed
    number of days, min(30, max_span_days // (parts - 1)). So 3 parts are always monthly (≤ 62
    days), while 4 parts from 21 Nov would end on 21 Feb (92 days) and use days 0/30/60/90.
    Raises InstalmentRefused when the policy does not allow the plan.
    """
    if parts not in policy.allowed_parts:
        raise InstalmentRefused("parts_not_allowed", policy)
    minimum = policy.minimum(total.currency)
    if minimum is None:
        raise InstalmentRefused("currency_not_offered", policy)
    if total < minimum:
        raise InstalmentRefused("below_minimum", policy)
    if total.amount < parts:
        raise InstalmentRefused("too_small_to_split", policy)
    dates = _due_dates(first_date, parts, policy.max_span_days)
    return list(zip(dates, split_amount(total.amount, parts), strict=True))


def _due_dates(first: date, parts: int, max_span_days: int) -> list[date]:
    monthly = [_add_months(first, i) for i in range(parts)]
    if (monthly[-1] - first).days <= max_span_days:
        return monthly
    step = min(30, max_span_days // (parts - 1))
    return [first + timedelta(days=step * i) for i in range(parts)]


def _add_months(d: date, months: int) -> date:
    month_index = d.month - 1 + months
    year, month = d.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
