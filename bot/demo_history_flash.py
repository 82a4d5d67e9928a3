"""The flash sale of the demo's month (bot.demo_history): a few opted-in customers (Telegram
and SMS: the SMS carrier reports deliveries, Telegram does not) get
the sale on one day of the month, some tap their link and pay by card in the next days, so
the dashboard's campaign figures (sent, delivered, paid) are not zeros."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bot.demo_flash import sale_body

if TYPE_CHECKING:
    from bot.demo_history import Seeder

FLASH_DAY = 12  # of the month played; the offer lasts 2 days
PEOPLE = 8
BUYERS = (0, 3, 5)  # who taps the link and pays
FIRST_CHAT = 790_000  # away from the invoices' Telegram chats (710_000 + index)
CONSENT = {
    "source": "shop-checkout",
    "words": "J'accepte de recevoir les offres d'Atelier Lumière",
}


def _address(i: int) -> tuple[str, str]:
    """Even: Telegram, odd: SMS (away from the invoices' numbers, +336120...)."""
    return ("telegram", str(FIRST_CHAT + i)) if i % 2 == 0 else ("sms", f"+3361300{i:04d}")


def flash_customers() -> list[dict[str, Any]]:
    people = []
    for i in range(PEOPLE):
        channel, address = _address(i)
        contact = (
            {"telegram_chat_id": int(address)} if channel == "telegram" else {"phone": address}
        )
        people.append(
            {"id": f"history-{i}", "name": f"Client fidèle {i}", "consent": CONSENT, **contact}
        )
    return people


async def flash_day(seeder: Seeder, day: int) -> None:
    """Start the sale on FLASH_DAY; on that day and the next two, buyers who received their
    link tap it and pay (a sale started on a Sunday reaches them on Monday morning)."""
    if day == FLASH_DAY:
        await _start(seeder)
    if FLASH_DAY <= day <= FLASH_DAY + 2:
        for i in BUYERS:
            if i not in seeder.flash_paid:
                await _buy(seeder, i)


async def _start(seeder: Seeder) -> None:
    people = flash_customers()
    for person in people:
        await seeder.call("POST", "/api/v1/customers", json=person)
    _, audience = await seeder.call(
        "POST", "/api/v1/audiences", json={"customers": [p["id"] for p in people]}
    )
    body = sale_body(str(audience.get("id")), seeder.clock.now())
    _, campaign = await seeder.call("POST", "/api/v1/campaigns", json=body)
    await seeder.call("POST", f"/api/v1/campaigns/{campaign.get('id')}/start", json={})
    await seeder.drain()
    seeder.count("campaigns")


async def _buy(seeder: Seeder, i: int) -> None:
    channel, address = _address(i)
    _, messages = await seeder.call(
        "GET", "/sandbox/api/messages", params={"channel": channel, "to": address}
    )
    links = [
        "/o/" + str(m.get("text", "")).rsplit("/o/", 1)[1].split()[0]
        for m in (messages if isinstance(messages, list) else [])
        if "/o/" in str(m.get("text", ""))
    ]
    if not links:
        return  # not sent yet (quiet hours): tomorrow
    status, checkout = await seeder.call("POST", links[-1])
    if status != 303 or not isinstance(checkout, str):
        return
    await seeder.call("POST", f"{urlsplit(checkout).path}/card")
    await seeder.drain()
    seeder.flash_paid.add(i)
    seeder.count("flash_paid")
