"""Flash-sale campaigns: offer, audience, variants, and their life cycle (merchant's slot).

A campaign is one hash: its definition (`spec`, JSON), its `state` (draft → running ⇄ paused,
→ cancelled), the recipients' `total` once fixed, and the enqueue `cursor`. Its counters live
in a second hash, per variant as "<variant>:<counter>". State changes are Lua scripts on that
one key, so a start clicked twice starts once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.customers import CHANNELS, CUSTOMER_ID
from payments.invoice import VatRate, net_for_gross

MAX_VARIANTS = 5
MAX_TEXT = 700
STATES = ("draft", "running", "paused", "cancelled")

# ARGV: action, now. Returns {ok (1/0), state after}.
_TRANSITION = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {-1, ''} end
local action = ARGV[1]
local allowed = {
  start = {draft = 'running'},
  pause = {running = 'paused'},
  resume = {paused = 'running'},
  cancel = {draft = 'cancelled', running = 'cancelled', paused = 'cancelled'},
}
local target = allowed[action][state]
if not target then return {0, state} end
redis.call('HSET', KEYS[1], 'state', target)
if action == 'start' then redis.call('HSET', KEYS[1], 'started_at', ARGV[2]) end
return {1, target}
"""


class CampaignInputError(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    share: int
    text: dict[str, str]  # locale -> text; "{name}" and "{link}" are filled per recipient


@dataclass(frozen=True, slots=True)
class Offer:
    product: str
    amount: int  # minor units
    currency: str
    stock: int
    expires_at: datetime
    per_customer_limit: int | None = None
    # The amount is TTC; a paid order's invoice shows it HT + VAT at this rate (LEGAL_FR 1.1).
    vat_rate: str = "20"


@dataclass(frozen=True, slots=True)
class Campaign:
    id: str
    merchant_id: str
    name: str
    offer: Offer
    audience_id: str
    variants: tuple[Variant, ...]
    channels: tuple[str, ...]
    window_start: datetime | None
    window_end: datetime  # the offer's expiry unless earlier

    def to_spec(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "merchant_id": self.merchant_id,
            "name": self.name,
            "offer": {
                "product": self.offer.product,
                "amount": self.offer.amount,
                "currency": self.offer.currency,
                "stock": self.offer.stock,
                "expires_at": self.offer.expires_at.isoformat(),
                "per_customer_limit": self.offer.per_customer_limit,
                "vat_rate": self.offer.vat_rate,
            },
            "audience_id": self.audience_id,
            "variants": [
                {"name": v.name, "share": v.share, "text": v.text} for v in self.variants
            ],
            "channels": list(self.channels),
            "window": {
                "start": self.window_start.isoformat() if self.window_start else None,
                "end": self.window_end.isoformat(),
            },
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Campaign:
        offer, window = spec["offer"], spec["window"]
        return cls(
            id=spec["id"],
            merchant_id=spec["merchant_id"],
            name=spec["name"],
            offer=Offer(
                product=offer["product"],
                amount=int(offer["amount"]),
                currency=offer["currency"],
                stock=int(offer["stock"]),
                expires_at=datetime.fromisoformat(offer["expires_at"]),
                per_customer_limit=offer.get("per_customer_limit"),
                vat_rate=str(offer.get("vat_rate", "20")),  # campaigns stored before it: 20 %
            ),
            audience_id=spec["audience_id"],
            variants=tuple(
                Variant(v["name"], int(v["share"]), dict(v["text"])) for v in spec["variants"]
            ),
            channels=tuple(spec["channels"]),
            window_start=datetime.fromisoformat(window["start"]) if window["start"] else None,
            window_end=datetime.fromisoformat(window["end"]),
        )


def parse_campaign(raw: object, *, merchant_id: str, now: datetime) -> Campaign:
    """Validate `POST /api/v1/campaigns` (every error at once)."""
    if not isinstance(raw, dict):
        raise CampaignInputError([{"field": "", "message": "must be an object"}])
    errors: list[dict[str, str]] = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    name = raw.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        bad("name", "must be text of at most 200 characters")
    offer = _offer(raw.get("offer"), now, bad)
    audience_id = raw.get("audience_id")
    if not isinstance(audience_id, str) or not CUSTOMER_ID.match(audience_id):
        bad("audience_id", "is required")
    variants = _variants(raw.get("variants"), bad)
    channels = raw.get("channels", list(CHANNELS))
    if (
        not isinstance(channels, list)
        or not channels
        or not all(c in CHANNELS for c in channels)
        or len(set(channels)) != len(channels)
    ):
        bad("channels", f"a list of distinct channels among {list(CHANNELS)}")
        channels = list(CHANNELS)
    window = raw.get("window") or {}
    start = end = None
    if not isinstance(window, dict):
        bad("window", "must be an object with start and end")
    else:
        start = _when(window.get("start"), "window.start", bad)
        end = _when(window.get("end"), "window.end", bad)
    if errors or offer is None:
        raise CampaignInputError(errors)
    window_end = min(end, offer.expires_at) if end else offer.expires_at
    if start is not None and start >= window_end:
        raise CampaignInputError([{"field": "window", "message": "start must be before end"}])
    return Campaign(
        id=f"cmp_{secrets.token_hex(8)}",
        merchant_id=merchant_id,
        name=str(name),
        offer=offer,
        audience_id=str(audience_id),
        variants=variants,
        channels=tuple(channels),
        window_start=start,
        window_end=window_end,
    )


def _when(value: object, field: str, bad: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        bad(field, "must be an ISO 8601 date-time with offset")
        return None
    if parsed.tzinfo is None:
        bad(field, "must carry its UTC offset")
        return None
    return parsed


def _offer(raw: object, now: datetime, bad: Any) -> Offer | None:
    if not isinstance(raw, dict):
        bad("offer", "is required: product, amount, currency, stock, expires_at")
        return None
    product = raw.get("product")
    if not isinstance(product, str) or not product.strip() or len(product) > 200:
        bad("offer.product", "is required (1 to 200 characters)")
    amount = raw.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 50 <= amount <= 10**8:
        bad("offer.amount", "an integer amount in minor units, from 50")
    currency = raw.get("currency", "EUR")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        bad("offer.currency", "an ISO 4217 code")
    stock = raw.get("stock")
    if isinstance(stock, bool) or not isinstance(stock, int) or not 1 <= stock <= 10**6:
        bad("offer.stock", "an integer number of units, from 1")
    limit = raw.get("per_customer_limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        bad("offer.per_customer_limit", "a positive integer, or absent")
    vat_rate = _vat_rate(raw.get("vat_rate", "20"), amount, bad)
    expires = _when(raw.get("expires_at"), "offer.expires_at", bad)
    if raw.get("expires_at") is None:
        bad("offer.expires_at", "is required")
    elif expires is not None and expires <= now:
        bad("offer.expires_at", "is in the past")
    if expires is None or not isinstance(product, str) or not isinstance(amount, int):
        return None
    if not isinstance(stock, int) or not isinstance(currency, str):
        return None
    return Offer(product.strip(), amount, currency.upper(), stock, expires, limit, vat_rate)


def _vat_rate(raw: object, amount: object, bad: Any) -> str:
    """The rate as a decimal string; the amount (TTC) must have an exact HT at that rate, so
    that a paid order's invoice adds up to what was paid to the cent."""
    try:
        rate = VatRate.parse(raw)
    except ValueError as exc:
        bad("offer.vat_rate", str(exc))
        return "20"
    invalid = isinstance(amount, bool) or not isinstance(amount, int) or amount < 1  # said above
    if not invalid and isinstance(amount, int) and net_for_gross(amount, rate) is None:
        near = [a for a in (amount - 1, amount + 1) if net_for_gross(a, rate) is not None]
        bad(
            "offer.amount",
            f"no HT amount gives {amount} TTC at {rate} % VAT (rounded): "
            f"use {' or '.join(map(str, near))}",
        )
    return str(rate)


def _variants(raw: object, bad: Any) -> tuple[Variant, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_VARIANTS:
        bad("variants", f"a list of 1 to {MAX_VARIANTS} variants")
        return ()
    found = []
    for index, item in enumerate(raw):
        where = f"variants[{index}]"
        if not isinstance(item, dict):
            bad(where, "must be an object with name, share and text")
            continue
        name, share, text = item.get("name"), item.get("share", 1), item.get("text")
        if not isinstance(name, str) or not CUSTOMER_ID.match(name):
            bad(f"{where}.name", "a short name (letters, digits)")
        if isinstance(share, bool) or not isinstance(share, int) or not 1 <= share <= 100:
            bad(f"{where}.share", "an integer from 1 to 100")
        if (
            not isinstance(text, dict)
            or set(text) != {"fr", "en"}
            or not all(
                isinstance(t, str) and t.strip() and len(t) <= MAX_TEXT for t in text.values()
            )
        ):
            bad(f"{where}.text", f"both 'fr' and 'en' texts, at most {MAX_TEXT} characters")
            continue
        if isinstance(name, str) and isinstance(share, int):
            found.append(Variant(name, share, {k: str(v) for k, v in text.items()}))
    if len({v.name for v in found}) != len(found):
        bad("variants", "names must be distinct")
    return tuple(found)


async def create(redis: aioredis.Redis, campaign: Campaign, now: datetime) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            keys.campaign(campaign.merchant_id, campaign.id),
            mapping={
                "spec": json.dumps(campaign.to_spec()),
                "state": "draft",
                "created_at": now.isoformat(),
                "cursor": 0,
            },
        )
        pipe.zadd(keys.merchant_campaigns(campaign.merchant_id), {campaign.id: now.timestamp()})
        await pipe.execute()


@dataclass(frozen=True, slots=True)
class Status:
    campaign: Campaign
    state: str
    total: int | None
    cursor: int
    counts: dict[str, int]


async def load(redis: aioredis.Redis, merchant_id: str, campaign_id: str) -> Status | None:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hgetall(keys.campaign(merchant_id, campaign_id))
        pipe.hgetall(keys.campaign_counts(merchant_id, campaign_id))
        raw, counts = await pipe.execute()
    if not raw or "spec" not in raw:
        return None
    return Status(
        campaign=Campaign.from_spec(json.loads(raw["spec"])),
        state=raw.get("state", "draft"),
        total=int(raw["total"]) if raw.get("total") is not None else None,
        cursor=int(raw.get("cursor") or 0),
        counts={k: int(v) for k, v in counts.items()},
    )


async def state_and_end(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str
) -> tuple[str | None, datetime | None]:
    """The campaign's state and the end of its sending window, in one read (the sender
    reads them before each of its messages)."""
    found, spec = await redis.hmget(keys.campaign(merchant_id, campaign_id), ["state", "spec"])
    end = json.loads(spec)["window"]["end"] if spec else None
    return (str(found) if found is not None else None), (
        datetime.fromisoformat(end) if end else None
    )


async def transition(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str, action: str, now: datetime
) -> tuple[int, str]:
    """(1, new state) when done, (0, state) when not allowed from there, (-1, '') unknown."""
    ok, state = await redis.eval(
        _TRANSITION, 1, keys.campaign(merchant_id, campaign_id), action, now.isoformat()
    )
    return int(ok), str(state)


async def orders(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str, limit: int
) -> list[dict[str, Any]]:
    """The campaign's paid orders, oldest first, each with its invoice (id and number)."""
    holds = await redis.zrange(keys.campaign_orders(merchant_id, campaign_id), 0, limit - 1)
    async with redis.pipeline(transaction=False) as pipe:
        for hold in holds:
            pipe.hgetall(keys.offer_session(merchant_id, campaign_id, hold))
        records = await pipe.execute()
    return [
        {
            "id": hold,
            "customer_id": record.get("customer_id"),
            "variant": record.get("variant"),
            "amount": int(record.get("amount") or 0),
            "paid_at": record.get("paid_at"),
            "invoice_id": record.get("invoice_id"),
            "invoice_number": record.get("invoice_number"),
        }
        for hold, record in zip(holds, records, strict=True)
    ]


async def forget_recipients(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str, now: datetime
) -> list[str]:
    """Delete what the campaign knows per recipient; keep its definition and its counts.

    The recipients (customer, address, variant), stock holds, units bought, orders and each
    hold's record (who, which variant, which session) go in one MULTI on the merchant's slot;
    the campaign is stamped so that the retention pass does it once. Returns the hold members
    to drop from the sweep's index (another slot).
    """
    holds = [
        name.rsplit(":hold:", 1)[1]
        async for name in redis.scan_iter(match=keys.offer_session(merchant_id, campaign_id, "*"))
    ]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(
            keys.campaign_recipients(merchant_id, campaign_id),
            keys.campaign_holds(merchant_id, campaign_id),
            keys.campaign_bought(merchant_id, campaign_id),
            keys.campaign_orders(merchant_id, campaign_id),
            keys.campaign_done(merchant_id, campaign_id),
            *(keys.offer_session(merchant_id, campaign_id, hold) for hold in holds),
        )
        pipe.hset(
            keys.campaign(merchant_id, campaign_id), "recipients_forgotten_at", now.isoformat()
        )
        await pipe.execute()
    return [f"{merchant_id}/{campaign_id}/{hold}" for hold in holds]
