"""An invoice's instalment plan, and what a pay link asks for (pure rules, no I/O)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

__all__ = ["Instalment", "Plan", "amount_to_ask", "expected_amount"]


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    amount: int
    due_date: date
    status: str = "open"  # "open" | "processing" | "paid"

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "amount": self.amount,
            "due_date": self.due_date.isoformat(),
            "status": self.status,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instalment:
        return cls(
            int(data["number"]),
            int(data["amount"]),
            date.fromisoformat(data["due_date"]),
            str(data["status"]),
        )


@dataclass(frozen=True, slots=True)
class Plan:
    instalments: tuple[Instalment, ...]
    created_at: str

    def dumps(self) -> str:
        return json.dumps(
            {"instalments": [i.to_dict() for i in self.instalments], "created_at": self.created_at}
        )

    @classmethod
    def loads(cls, raw: str) -> Plan:
        data = json.loads(raw)
        return cls(
            tuple(Instalment.from_dict(i) for i in data["instalments"]), str(data["created_at"])
        )

    def instalment(self, number: int) -> Instalment | None:
        return next((i for i in self.instalments if i.number == number), None)

    def with_status(self, number: int, status: str) -> Plan:
        return replace(
            self,
            instalments=tuple(
                replace(i, status=status) if i.number == number else i for i in self.instalments
            ),
        )


def amount_to_ask(
    amount_due: int, plan: Plan | None, number: str | None
) -> tuple[int, int | None] | None:
    """What a pay link asks for now: (amount, instalment number or None for the invoice).

    Amount 0 means that instalment (or every instalment) is settled; None means the link
    names an instalment the invoice does not have.
    """
    if plan is None:
        return (amount_due, None) if number is None else None
    if number is None:
        pending = next((i for i in plan.instalments if i.status != "paid"), None)
        return (pending.amount, pending.number) if pending else (0, None)
    if not number.isdigit() or len(number) > 3:
        return None
    instalment = plan.instalment(int(number))
    if instalment is None:
        return None
    return (0 if instalment.status == "paid" else instalment.amount, instalment.number)


def expected_amount(plan: Plan | None, instalment: int | None) -> int | None:
    """What the plan asks for instalment `instalment` (None: no plan, or no such instalment,
    so a payment claiming it is not counted)."""
    planned = plan.instalment(instalment) if plan is not None and instalment else None
    return planned.amount if planned else None
