"""What the conversation adds to an invoice: a promise to pay, an instalment plan, a pause."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys


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


@dataclass(frozen=True, slots=True)
class InvoiceExtras:
    plan: Plan | None
    promise: date | None
    paused: bool


async def load_extras(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> InvoiceExtras:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.invoice_plan(merchant_id, invoice_id))
        pipe.get(keys.invoice_promise(merchant_id, invoice_id))
        pipe.exists(keys.invoice_paused(merchant_id, invoice_id))
        plan, promise, paused = await pipe.execute()
    return InvoiceExtras(
        plan=Plan.loads(plan) if plan else None,
        promise=date.fromisoformat(json.loads(promise)["date"]) if promise else None,
        paused=bool(paused),
    )


def save_plan(
    pipe: aioredis.client.Pipeline, merchant_id: str, invoice_id: str, plan: Plan
) -> None:
    pipe.set(keys.invoice_plan(merchant_id, invoice_id), plan.dumps())


def save_promise(
    pipe: aioredis.client.Pipeline,
    merchant_id: str,
    invoice_id: str,
    pay_on: date,
    recorded_at: datetime,
) -> None:
    pipe.set(
        keys.invoice_promise(merchant_id, invoice_id),
        json.dumps({"date": pay_on.isoformat(), "recorded_at": recorded_at.isoformat()}),
    )


def pause(pipe: aioredis.client.Pipeline, merchant_id: str, invoice_id: str, at: datetime) -> None:
    pipe.set(keys.invoice_paused(merchant_id, invoice_id), at.isoformat())
