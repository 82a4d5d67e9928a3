"""A merchant's customers and audiences (flash sales), on the merchant's hash slot.

A customer is one person the merchant may write to: a name, a language, a time zone (quiet
hours are judged in it), tags, and the addresses of their channels. All customers of a merchant
live in one hash (`id -> JSON`), so an audience of 100,000 is resolved with a few `HSCAN`s and
an import is one pipeline. An opt-in given with the customer is written to the consent registry
in the same MULTI, with its proof (source, time, words or form).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import redis.asyncio as aioredis

from bot.store import consent, keys
from payments.invoice_input import to_e164

CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TAG = re.compile(r"^[\w.-]{1,40}$")
# The order a campaign tries when none is given. WhatsApp joins when its adapter exists.
CHANNELS = ("telegram", "sms")
MAX_TAGS = 20
LOCALES = ("fr", "en")


class CustomerInputError(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class OptIn:
    """Proof of a marketing opt-in: where, when, and what the customer saw or said."""

    source: str
    at: datetime
    words: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "at": self.at.isoformat(), "words": self.words}


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    locale: str = "fr"
    timezone: str = "Europe/Paris"
    tags: tuple[str, ...] = ()
    channels: Mapping[str, str] = field(default_factory=dict)  # channel -> address
    last_purchase: date | None = None

    def addresses(self) -> list[str]:
        """Conversation keys ("sms:+33…", "telegram:42"), in the customer's channel order."""
        return [f"{name}:{address}" for name, address in self.channels.items()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "locale": self.locale,
            "timezone": self.timezone,
            "tags": list(self.tags),
            "channels": dict(self.channels),
            "last_purchase": self.last_purchase.isoformat() if self.last_purchase else None,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Customer:
        purchase = raw.get("last_purchase")
        return cls(
            id=str(raw["id"]),
            name=str(raw["name"]),
            locale=str(raw.get("locale") or "fr"),
            timezone=str(raw.get("timezone") or "Europe/Paris"),
            tags=tuple(raw.get("tags") or ()),
            channels=dict(raw.get("channels") or {}),
            last_purchase=date.fromisoformat(purchase) if purchase else None,
        )


def parse_customer(raw: object, *, now: datetime) -> tuple[Customer, OptIn | None]:
    """Validate one customer as the API and the import receive it (every error at once)."""
    if not isinstance(raw, dict):
        raise CustomerInputError([{"field": "", "message": "must be an object"}])
    errors: list[dict[str, str]] = []

    def bad(name: str, message: str) -> None:
        errors.append({"field": name, "message": message})

    customer_id = raw.get("id")
    if customer_id is None:
        customer_id = f"cus_{secrets.token_hex(8)}"
    elif not isinstance(customer_id, str) or not CUSTOMER_ID.match(customer_id):
        bad("id", "letters, digits, '.', '_' or '-', at most 64")
    name, locale, zone, tags = _profile(raw, bad)
    channels = _channels(raw, bad)
    purchase = raw.get("last_purchase")
    last_purchase = None
    if purchase is not None:
        try:
            last_purchase = date.fromisoformat(str(purchase))
        except ValueError:
            bad("last_purchase", "must be a date (YYYY-MM-DD)")
    opt_in = _opt_in(raw.get("consent"), now, bad)
    if errors:
        raise CustomerInputError(errors)
    customer = Customer(
        id=str(customer_id),
        name=str(name).strip(),
        locale=str(locale),
        timezone=str(zone),
        tags=tuple(dict.fromkeys(str(t).lower() for t in tags)),
        channels=channels,
        last_purchase=last_purchase,
    )
    return customer, opt_in


def _profile(raw: dict[str, Any], bad: Any) -> tuple[object, object, object, list[Any]]:
    """Name, language, time zone and tags, each checked."""
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        bad("name", "is required (1 to 200 characters)")
    elif any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or 0x200B <= ord(c) <= 0x202E for c in name):
        bad("name", "contains control or invisible characters")
    locale = raw.get("locale", "fr")
    if locale not in LOCALES:
        bad("locale", "must be 'fr' or 'en'")
    zone = raw.get("timezone", "Europe/Paris")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError):
        bad("timezone", "is not an IANA time zone")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        bad("tags", f"must be a list of at most {MAX_TAGS} tags")
        tags = []
    for index, tag in enumerate(tags):
        if not isinstance(tag, str) or not TAG.match(tag):
            bad(f"tags[{index}]", "letters, digits, '.', '_' or '-', at most 40")
    return name, locale, zone, tags


def _channels(raw: dict[str, Any], bad: Any) -> dict[str, str]:
    channels: dict[str, str] = {}
    phone = raw.get("phone")
    if phone is not None:
        try:
            channels["sms"] = to_e164(str(phone), str(raw.get("country") or "FR"))
        except ValueError as exc:
            bad("phone", str(exc))
    chat = raw.get("telegram_chat_id")
    if chat is not None:
        if isinstance(chat, bool) or not re.fullmatch(r"-?\d{1,20}", str(chat)):
            bad("telegram_chat_id", "must be a Telegram chat id (digits)")
        else:
            channels["telegram"] = str(chat)
    if not channels:
        bad("channels", "give at least one of phone, telegram_chat_id")
    return {name: channels[name] for name in CHANNELS if name in channels}


def _opt_in(raw: object, now: datetime, bad: Any) -> OptIn | None:
    """`consent: {source, at?, words | form}`: the proof LEGAL_FR asks us to keep."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        bad("consent", "must be an object with source and words or form")
        return None
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > 100:
        bad("consent.source", "is required: where the opt-in was given (e.g. 'checkout-form')")
    words = raw.get("words") or raw.get("form")
    if not isinstance(words, str) or not words.strip():
        bad("consent.words", "the words the customer agreed to, or the form's text, is required")
    at = now
    if raw.get("at") is not None:
        try:
            at = datetime.fromisoformat(str(raw["at"]))
        except ValueError:
            bad("consent.at", "must be an ISO 8601 date-time with offset")
        else:
            if at.tzinfo is None:
                bad("consent.at", "must carry its UTC offset")
            elif at > now:
                bad("consent.at", "is in the future")
    if not isinstance(source, str) or not isinstance(words, str):
        return None
    return OptIn(source=source.strip(), at=at, words=words.strip()[:1000])


def save(
    pipe: aioredis.client.Pipeline, merchant_id: str, customer: Customer, opt_in: OptIn | None
) -> None:
    """Queue the customer (and its opt-in proof) on `pipe`: all on the merchant's slot."""
    pipe.hset(keys.customers(merchant_id), customer.id, json.dumps(customer.to_dict()))
    if opt_in is not None:
        consent.record(
            pipe,
            merchant_id,
            [address for address in customer.addresses()],
            opted_in=True,
            words=opt_in.words,
            channel=opt_in.source,
            at=opt_in.at,
            proof={"source": opt_in.source, "customer": customer.id},
        )


async def save_many(
    redis: aioredis.Redis,
    merchant_id: str,
    items: Iterable[tuple[Customer, OptIn | None]],
) -> list[bool]:
    """Save customers in one MULTI; True for each one that did not exist before."""
    items = list(items)
    existed = await redis.hmget(keys.customers(merchant_id), [c.id for c, _ in items])
    async with redis.pipeline(transaction=True) as pipe:
        for customer, opt_in in items:
            save(pipe, merchant_id, customer, opt_in)
        await pipe.execute()
    return [raw is None for raw in existed] if items else []


async def get(redis: aioredis.Redis, merchant_id: str, customer_id: str) -> Customer | None:
    raw = await redis.hget(keys.customers(merchant_id), customer_id)
    return Customer.from_dict(json.loads(raw)) if raw else None


async def get_many(
    redis: aioredis.Redis, merchant_id: str, customer_ids: list[str]
) -> list[Customer | None]:
    if not customer_ids:
        return []
    raws = await redis.hmget(keys.customers(merchant_id), customer_ids)
    return [Customer.from_dict(json.loads(raw)) if raw else None for raw in raws]


async def scan(redis: aioredis.Redis, merchant_id: str) -> AsyncIterator[Customer]:
    async for _id, raw in redis.hscan_iter(keys.customers(merchant_id), count=1000):
        yield Customer.from_dict(json.loads(raw))


# --- Audiences: a filter or an explicit list ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Audience:
    id: str
    name: str
    tags: tuple[str, ...] = ()  # every tag must be present
    channel: str | None = None
    language: str | None = None
    purchased_after: date | None = None
    purchased_before: date | None = None
    customers: tuple[str, ...] | None = None  # an explicit list instead of a filter

    def matches(self, customer: Customer) -> bool:
        if self.customers is not None:
            return customer.id in self.customers
        if any(tag not in customer.tags for tag in self.tags):
            return False
        if self.channel and self.channel not in customer.channels:
            return False
        if self.language and customer.locale != self.language:
            return False
        bought = customer.last_purchase
        if self.purchased_after and (bought is None or bought < self.purchased_after):
            return False
        return not (self.purchased_before and (bought is None or bought >= self.purchased_before))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "filter": None
            if self.customers is not None
            else {
                "tags": list(self.tags),
                "channel": self.channel,
                "language": self.language,
                "purchased_after": _iso(self.purchased_after),
                "purchased_before": _iso(self.purchased_before),
            },
            "customers": list(self.customers) if self.customers is not None else None,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Audience:
        found = raw.get("filter") or {}
        listed = raw.get("customers")
        return cls(
            id=str(raw["id"]),
            name=str(raw.get("name") or ""),
            tags=tuple(found.get("tags") or ()),
            channel=found.get("channel"),
            language=found.get("language"),
            purchased_after=_date(found.get("purchased_after")),
            purchased_before=_date(found.get("purchased_before")),
            customers=tuple(listed) if listed is not None else None,
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def parse_audience(raw: object) -> Audience:
    """`{"name", "filter": {tags, channel, language, purchased_after, purchased_before}}` or
    `{"name", "customers": [ids]}`."""
    if not isinstance(raw, dict):
        raise CustomerInputError([{"field": "", "message": "must be an object"}])
    errors: list[dict[str, str]] = []
    name = raw.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        errors.append({"field": "name", "message": "must be text of at most 200 characters"})
    listed, found = raw.get("customers"), raw.get("filter")
    if (listed is None) == (found is None):
        errors.append({"field": "filter", "message": "give either filter or customers"})
        raise CustomerInputError(errors)
    if listed is not None:
        if not isinstance(listed, list) or not listed or len(listed) > 100_000:
            errors.append({"field": "customers", "message": "a list of 1 to 100,000 ids"})
        elif not all(isinstance(i, str) and CUSTOMER_ID.match(i) for i in listed):
            errors.append({"field": "customers", "message": "every item must be a customer id"})
    elif not isinstance(found, dict):
        errors.append({"field": "filter", "message": "must be an object"})
    else:
        errors.extend(_filter_errors(found))
    if errors:
        raise CustomerInputError(errors)
    body = {
        "id": f"aud_{secrets.token_hex(8)}",
        "name": name,
        "filter": found,
        "customers": listed,
    }
    if isinstance(found, dict):
        found["tags"] = [str(t).lower() for t in found.get("tags", [])]
    return Audience.from_dict(body)


async def save_audience(redis: aioredis.Redis, merchant_id: str, audience: Audience) -> None:
    await redis.hset(keys.audiences(merchant_id), audience.id, json.dumps(audience.to_dict()))


async def get_audience(
    redis: aioredis.Redis, merchant_id: str, audience_id: str
) -> Audience | None:
    raw = await redis.hget(keys.audiences(merchant_id), audience_id)
    return Audience.from_dict(json.loads(raw)) if raw else None


async def members(redis: aioredis.Redis, merchant_id: str, audience: Audience) -> list[Customer]:
    """The customers the audience names now, in a stable order (by id)."""
    if audience.customers is not None:
        found = await get_many(redis, merchant_id, list(audience.customers))
        chosen = [c for c in found if c is not None]
    else:
        chosen = [c async for c in scan(redis, merchant_id) if audience.matches(c)]
    return sorted(chosen, key=lambda c: c.id)


def _filter_errors(found: dict[str, Any]) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    unknown = set(found) - {
        "tags",
        "channel",
        "language",
        "purchased_after",
        "purchased_before",
    }
    if unknown:
        errors.append({"field": "filter", "message": f"unknown keys: {sorted(unknown)}"})
    tags = found.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and TAG.match(t) for t in tags):
        errors.append({"field": "filter.tags", "message": "must be a list of tags"})
    if found.get("channel") not in (None, *CHANNELS):
        errors.append({"field": "filter.channel", "message": f"one of {list(CHANNELS)}"})
    if found.get("language") not in (None, *LOCALES):
        errors.append({"field": "filter.language", "message": "must be 'fr' or 'en'"})
    for bound in ("purchased_after", "purchased_before"):
        try:
            _date(found.get(bound))
        except ValueError:
            errors.append({"field": f"filter.{bound}", "message": "must be YYYY-MM-DD"})
    return errors
