"""A month of the demo merchant's history, lived through the real code paths.

The injected clock is moved back 30 days, then forward one day at a time: each day some
customers get invoices through `POST /api/v1/invoices`, and customers act through the sandbox
as a person would: they pay through the checkout page (Stripe's signed webhooks), ask to pay
later and keep or break their word, split into instalments, ask for a person, open a dispute
with their bank, get refunded (Stripe's refund API, real SDK), or never answer and get the
reminder ladder. An invoice the merchant cancels is voided with its credit note. The worker
runs between steps, so reminders, instalment notices and receipts go out when they fall due.
Nothing is written to Redis by hand: the dashboard's KPIs and charts read what happened.

`plan_history(seed)` decides who does what and when (seeded, so every demo shows the same
month); `seed_history` plays it. At the end the clock is put back where it was.
"""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from bot.demo_history_flash import flash_day

DAYS = 30
SEED = 14
DAY = 86_400.0
_PAY_LINK = re.compile(r"https?://\S+?(/p/[A-Za-z0-9_-]+)")

Behaviour = Literal[
    "pays",  # pays by card a few days after the invoice
    "pays_late",  # pays after the due date, once reminded
    "never",  # never answers: overdue, reminded
    "promise_kept",  # "je paierai <day>", then pays by then
    "promise_broken",  # promises, then does not pay
    "plan",  # splits into 3, pays the first instalment
    "dispute",  # pays, then disputes the payment at the bank
    "refund",  # pays, then the merchant refunds part of it
    "void",  # the merchant cancels the invoice: credit note
    "agent",  # asks for a person, then pays
]
BEHAVIOURS: tuple[Behaviour, ...] = (
    "pays",
    "pays",
    "pays",
    "pays_late",
    "never",
    "promise_kept",
    "promise_broken",
    "plan",
    "dispute",
    "refund",
    "void",
    "agent",
)
CHANNELS = ("sms", "telegram", "whatsapp")
PRODUCTS = (
    ("Lampe de bureau en laiton", 8900, "20"),
    ("Restauration d'un lustre", 24000, "20"),
    ("Abat-jour en lin sur mesure", 6400, "20"),
    ("Ampoules LED (lot de 3)", 1250, "20"),
    ("Livre « L'art de la lumière »", 2800, "5.5"),
    ("Pose d'une applique murale", 9500, "10"),
)
FIRST_NAMES = ("Léa", "Hugo", "Chloé", "Louis", "Manon", "Jules", "Sarah", "Nathan", "Zoé")
LAST_NAMES = ("Bernard", "Petit", "Robert", "Richard", "Durand", "Leroy", "Moreau", "Simon")


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    channel: str
    address: str  # phone (E.164) or Telegram chat id


@dataclass(frozen=True, slots=True)
class Planned:
    """One invoice of the month: to whom, when, what, and how the customer behaves."""

    day: int  # days after the start of the month
    customer: Customer
    lines: tuple[tuple[str, int, int, str], ...]  # description, quantity, unit HT, VAT rate
    due_in: int
    behaviour: Behaviour
    acts_after: int  # days after issue the customer acts


def plan_history(seed: int = SEED, invoices: int = 18) -> list[Planned]:
    """Who gets which invoice on which day, and what they do with it (deterministic)."""
    rng = random.Random(seed)  # noqa: S311 - a repeatable demo, not a secret
    people = [
        Customer(
            f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i * 3) % len(LAST_NAMES)]}",
            CHANNELS[i % len(CHANNELS)],
            _address(CHANNELS[i % len(CHANNELS)], i),
        )
        for i in range(invoices)
    ]
    behaviours = [BEHAVIOURS[i % len(BEHAVIOURS)] for i in range(invoices)]
    rng.shuffle(behaviours)
    planned = []
    for i, (person, behaviour) in enumerate(zip(people, behaviours, strict=True)):
        chosen = rng.sample(PRODUCTS, rng.randint(1, 2))
        lines = tuple((name, rng.randint(1, 2), price, rate) for name, price, rate in chosen)
        if behaviour == "plan":  # a sum worth splitting (the policy has a minimum)
            lines = (("Restauration d'un lustre", 1, 24000, "20"), *lines)
        day = min(DAYS - 3, i * (DAYS - 4) // invoices + rng.randint(0, 1))
        due_in = rng.choice((7, 10, 14))
        acts_after = {
            "pays_late": due_in + rng.randint(2, 4),
            "never": 0,
        }.get(behaviour, rng.randint(0, 3))
        acts_after = min(acts_after, DAYS - 1 - day)  # within the month
        planned.append(Planned(day, person, lines, due_in, behaviour, acts_after))
    return sorted(planned, key=lambda p: p.day)


def _address(channel: str, index: int) -> str:
    if channel == "telegram":
        return str(710_000 + index)
    prefix = "+336120" if channel == "sms" else "+336980"
    return f"{prefix}{index:05d}"


class MovableClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, seconds: float) -> None: ...


@dataclass
class Seeder:
    http: Any  # aiohttp's ClientSession (absolute URLs) or its TestClient (paths)
    base: str  # prefix of every path: the server's URL, or "" with a TestClient
    api_key: str
    clock: MovableClock
    drain: Callable[[], Awaitable[int]]
    refund: Callable[[str, int], Awaitable[None]]  # (checkout session id, amount)
    issued: dict[int, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[int, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    flash_paid: set[int] = field(default_factory=set)  # flash-sale buyers who paid

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        headers = kwargs.pop("headers", {})
        if path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.api_key}"
        async with self.http.request(
            method, self.base + path, headers=headers, allow_redirects=False, **kwargs
        ) as response:
            body: Any = (
                await response.json()
                if response.content_type == "application/json"
                else await response.text()
            )
            location = response.headers.get("Location")
            return response.status, location if location else body

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    async def says(self, customer: Customer, text: str | None = None, action: str = "") -> None:
        payload = {"text": text} if text is not None else {"action": action}
        await self.call(
            "POST", f"/sandbox/api/customer/{customer.channel}/{customer.address}", json=payload
        )
        await self.drain()

    async def pay(self, index: int, pay_path: str) -> str | None:
        """Through the checkout page by card: Stripe's signed webhooks tell Facto."""
        status, checkout = await self.call("POST", pay_path)
        if status != 303 or not isinstance(checkout, str):
            return None
        checkout = urlsplit(checkout).path
        await self.call("POST", f"{checkout}/card")
        await self.drain()
        self.sessions[index] = checkout.rsplit("/", 1)[-1]
        self.count("payments")
        return self.sessions[index]

    async def last_pay_link(self, customer: Customer) -> str | None:
        _, messages = await self.call(
            "GET",
            "/sandbox/api/messages",
            params={"channel": customer.channel, "to": customer.address},
        )
        for message in reversed(messages if isinstance(messages, list) else []):
            found = _PAY_LINK.search(str(message.get("text", "")))
            if found:
                return found.group(1)
        return None


async def seed_history(seeder: Seeder, plan: list[Planned] | None = None) -> dict[str, int]:
    """Play the month; returns what was done (invoices, payments, promises...)."""
    plan = plan if plan is not None else plan_history()
    started = seeder.clock.now()
    # Back a month, at 09:30 UTC (10:30 or 11:30 in Paris): inside the reminders' hours.
    since_morning = started - started.replace(hour=9, minute=30, second=0, microsecond=0)
    if since_morning < timedelta(0):  # never end the month ahead of the real "now"
        since_morning += timedelta(days=1)
    # Day 0 is DAYS - 1 days back, the last day is today: the dashboard's default period
    # (the last 30 days) shows the whole month.
    back = timedelta(days=DAYS - 1) + since_morning
    seeder.clock.advance(-back.total_seconds())
    moved = -back.total_seconds()
    try:
        for day in range(DAYS):
            if day:
                seeder.clock.advance(DAY)
                moved += DAY
                await seeder.drain()  # what fell due overnight: reminders, notices
            for index, planned in enumerate(plan):
                if planned.day == day:
                    await _issue(seeder, index, planned)
                if index in seeder.issued and day == planned.day + planned.acts_after:
                    await _act(seeder, index, planned)
                keeps_word = planned.behaviour == "promise_kept" and index in seeder.issued
                if keeps_word and day == planned.day + planned.acts_after + 2:
                    await _pay_invoice(seeder, index)
            await flash_day(seeder, day)
            await seeder.drain()
    finally:
        seeder.clock.advance(-moved)  # back to where it was (plus the seconds it took)
    await seeder.drain()
    return dict(seeder.counts)


async def _issue(seeder: Seeder, index: int, planned: Planned) -> None:
    today = seeder.clock.now().date()
    customer = planned.customer
    address = "telegram_chat_id" if customer.channel == "telegram" else "phone"
    body = {
        "customer": {"name": customer.name, address: customer.address, "locale": "fr"},
        "channel": customer.channel,
        "currency": "EUR",
        "due_date": (today + timedelta(days=planned.due_in)).isoformat(),
        "lines": [
            {"description": d, "quantity": q, "unit_amount": a, "vat_rate": r}
            for d, q, a, r in planned.lines
        ],
    }
    status, created = await seeder.call("POST", "/api/v1/invoices", json=body)
    if status != 201:
        msg = f"the demo history could not issue an invoice: {status} {created}"
        raise RuntimeError(msg)
    seeder.issued[index] = created
    seeder.count("invoices")
    await seeder.drain()


async def _pay_invoice(seeder: Seeder, index: int) -> str | None:
    return await seeder.pay(index, urlsplit(seeder.issued[index]["pay_url"]).path)


async def _act(seeder: Seeder, index: int, planned: Planned) -> None:
    customer, behaviour = planned.customer, planned.behaviour
    if behaviour in ("pays", "pays_late"):
        await _pay_invoice(seeder, index)
    elif behaviour in ("promise_kept", "promise_broken"):
        await seeder.says(customer, "je paierai dans 3 jours")
        seeder.count("promises")
    elif behaviour == "plan":
        await seeder.says(customer, "en 3 fois")
        await seeder.says(customer, "oui")
        link = await seeder.last_pay_link(customer)
        if link is not None:
            await seeder.pay(index, link)
        seeder.count("plans")
    elif behaviour == "dispute":
        session = await _pay_invoice(seeder, index)
        if session is not None:
            await seeder.call("POST", f"/sandbox/stripe/pay/{session}/dispute")
            await seeder.drain()
            seeder.count("disputes")
    elif behaviour == "refund":
        session = await _pay_invoice(seeder, index)
        if session is not None:
            await seeder.refund(session, 1000)
            await seeder.drain()
            seeder.count("refunds")
    elif behaviour == "void":
        status, _ = await seeder.call(
            "POST", f"/api/v1/invoices/{seeder.issued[index]['id']}/void"
        )
        if status in (200, 202):
            seeder.count("voided")
        await seeder.drain()
    elif behaviour == "agent":
        await seeder.says(customer, "je voudrais parler à quelqu'un s'il vous plaît")
        seeder.count("handoffs")
