"""Abandoned carts: a cart of a customer, relaunched once in their chat if not paid in time.

One hash per cart on the merchant's slot (`spec` JSON, `state`: open → relaunched → paid, or
open → paid / cancelled), and the merchant's counters (`carts`, `relaunched`, `paid`,
`paid_after_relaunch`) for the conversion of relaunches.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.customers import CUSTOMER_ID

DEFAULT_DELAY_MINUTES = 60
MAX_DELAY_MINUTES = 7 * 24 * 60

# ARGV: new state, allowed from (comma-separated). Returns the state before ('' unknown).
MOVE_STATE = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return '' end
for allowed in string.gmatch(ARGV[2], '[^,]+') do
  if allowed == state then
    redis.call('HSET', KEYS[1], 'state', ARGV[1])
    return state
  end
end
return state
"""

# Take an open cart for its relaunch, now rather than in the dispatch commit, so the message
# is queued only if the cart was still open. ARGV: the relaunch's id (a retry of the same
# relaunch, after a crash before its commit, finds the cart its own). Returns 1 if taken.
TAKE_FOR_RELAUNCH = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'open' then
  redis.call('HSET', KEYS[1], 'state', 'relaunched', 'relaunch_by', ARGV[1])
  return 1
end
if state == 'relaunched' and redis.call('HGET', KEYS[1], 'relaunch_by') == ARGV[1] then
  return 1
end
return 0
"""


async def take_for_relaunch(
    redis: aioredis.Redis, merchant_id: str, cart_id: str, relaunch_id: str
) -> bool:
    """True if the cart was open (or already taken by this relaunch): relaunch it."""
    taken = await redis.eval(TAKE_FOR_RELAUNCH, 1, keys.cart(merchant_id, cart_id), relaunch_id)
    return bool(int(taken))


class CartInputError(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Cart:
    id: str
    customer_id: str
    amount: int  # minor units, what the relaunch shows
    currency: str
    pay_url: str  # the shop's own checkout for this cart
    delay_minutes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "amount": self.amount,
            "currency": self.currency,
            "pay_url": self.pay_url,
            "relaunch_after_minutes": self.delay_minutes,
        }


def parse_cart(raw: object) -> Cart:
    if not isinstance(raw, dict):
        raise CartInputError([{"field": "", "message": "must be an object"}])
    errors: list[dict[str, str]] = []
    cart_id = raw.get("id") or f"cart_{secrets.token_hex(8)}"
    if not isinstance(cart_id, str) or not CUSTOMER_ID.match(cart_id):
        errors.append({"field": "id", "message": "letters, digits, '.', '_' or '-'"})
    customer_id = raw.get("customer_id")
    if not isinstance(customer_id, str) or not CUSTOMER_ID.match(customer_id):
        errors.append({"field": "customer_id", "message": "is required"})
    amount = raw.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= 10**8:
        errors.append({"field": "amount", "message": "an integer amount in minor units"})
    currency = raw.get("currency", "EUR")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        errors.append({"field": "currency", "message": "an ISO 4217 code"})
    pay_url = raw.get("pay_url")
    parsed = urlparse(pay_url) if isinstance(pay_url, str) else None
    if parsed is None or parsed.scheme not in ("https", "http") or not parsed.netloc:
        errors.append({"field": "pay_url", "message": "the cart's checkout URL (https)"})
    delay = raw.get("relaunch_after_minutes", DEFAULT_DELAY_MINUTES)
    if (
        isinstance(delay, bool)
        or not isinstance(delay, int)
        or not 1 <= delay <= MAX_DELAY_MINUTES
    ):
        errors.append({"field": "relaunch_after_minutes", "message": "1 to 10080 minutes"})
    if errors:
        raise CartInputError(errors)
    return Cart(
        str(cart_id),
        str(customer_id),
        int(str(amount)),
        str(currency).upper(),
        str(pay_url),
        int(str(delay)),
    )


async def create(redis: aioredis.Redis, merchant_id: str, cart: Cart) -> bool:
    """False when a cart with that id exists already (nothing changed)."""
    name = keys.cart(merchant_id, cart.id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hsetnx(name, "spec", json.dumps(cart.to_dict()))
        pipe.hsetnx(name, "state", "open")
        created, _ = await pipe.execute()
    if created:
        await redis.hincrby(keys.cart_counts(merchant_id), "carts", 1)
    return bool(created)


async def load(redis: aioredis.Redis, merchant_id: str, cart_id: str) -> tuple[Cart, str] | None:
    raw = await redis.hgetall(keys.cart(merchant_id, cart_id))
    if "spec" not in raw:
        return None
    spec = json.loads(raw["spec"])
    cart = Cart(
        spec["id"],
        spec["customer_id"],
        int(spec["amount"]),
        spec["currency"],
        spec["pay_url"],
        int(spec["relaunch_after_minutes"]),
    )
    return cart, raw.get("state", "open")


async def mark_paid(redis: aioredis.Redis, merchant_id: str, cart_id: str) -> str:
    """The shop says it is paid: no relaunch after this. Returns the state before."""
    before = str(
        await redis.eval(MOVE_STATE, 1, keys.cart(merchant_id, cart_id), "paid", "open,relaunched")
    )
    if before in ("open", "relaunched"):
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(keys.cart_counts(merchant_id), "paid", 1)
            if before == "relaunched":
                pipe.hincrby(keys.cart_counts(merchant_id), "paid_after_relaunch", 1)
            await pipe.execute()
    return before


async def counts(redis: aioredis.Redis, merchant_id: str) -> dict[str, int]:
    raw = await redis.hgetall(keys.cart_counts(merchant_id))
    return {k: int(v) for k, v in raw.items()}
