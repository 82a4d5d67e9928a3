"""What the conversation adds to an invoice: a promise to pay, an instalment plan, a pause.

The plan itself and its rules are in `payments.plan` (pure); this module stores it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import redis.asyncio as aioredis

from bot.store import keys
from payments.plan import Instalment, Plan
from payments.reward import GrantedReward, granted_from_record

__all__ = [
    "Instalment",
    "InvoiceExtras",
    "Plan",
    "load_extras",
    "pause",
    "save_plan",
    "save_promise",
]


@dataclass(frozen=True, slots=True)
class InvoiceExtras:
    plan: Plan | None
    promise: date | None
    paused: bool
    # Paid in full and counted (bot.engine.rewards): the fast-payment reward it earned, if any.
    counted: bool = False
    reward: GrantedReward | None = None


async def load_extras(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> InvoiceExtras:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.invoice_plan(merchant_id, invoice_id))
        pipe.get(keys.invoice_promise(merchant_id, invoice_id))
        pipe.exists(keys.invoice_paused(merchant_id, invoice_id))
        pipe.get(keys.invoice_reward(merchant_id, invoice_id))
        plan, promise, paused, paid = await pipe.execute()
    return InvoiceExtras(
        plan=Plan.loads(plan) if plan else None,
        promise=date.fromisoformat(json.loads(promise)["date"]) if promise else None,
        paused=bool(paused),
        counted=bool(paid),
        reward=granted_from_record(paid),
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


PAYMENT_DISPUTE = "payment-dispute"

# Resume only a pause that a payment dispute set: one the customer asked for in the chat stays
# until a person lifts it.
_RESUME_IF_PAUSED_BY = """
local held = redis.call('GET', KEYS[1])
if held and string.sub(held, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def pause(
    pipe: aioredis.client.Pipeline,
    merchant_id: str,
    invoice_id: str,
    at: datetime,
    *,
    reason: str = "conversation",
) -> None:
    """Stop reminders; a pause the conversation set is never replaced by a payment dispute's."""
    pipe.set(
        keys.invoice_paused(merchant_id, invoice_id),
        f"{reason} {at.isoformat()}",
        nx=reason == PAYMENT_DISPUTE,
    )


def resume_after_payment_dispute(
    pipe: aioredis.client.Pipeline, merchant_id: str, invoice_id: str
) -> None:
    pipe.eval(
        _RESUME_IF_PAUSED_BY, 1, keys.invoice_paused(merchant_id, invoice_id), PAYMENT_DISPUTE
    )
