"""Demo data for flash sales: 200 customers (mixed channels and consents), an audience and a
two-variant sale with a stock of 20, created through the merchant API like a merchant would.
The sale is left as a draft: the welcome text says how to start, watch, pause and resume it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from channels.base import ChannelName
from sandbox.state import SandboxState

CUSTOMERS = 200
SHOWN_IN_SIMULATOR = 6  # the phone simulator lists these; the others receive all the same


def demo_customers() -> list[dict[str, Any]]:
    """Even: Telegram; odd: SMS. Every fourth one has given no consent (and gets nothing);
    the others opted in at the shop's checkout, with the words they agreed to."""
    people = []
    for i in range(CUSTOMERS):
        person: dict[str, Any] = {
            "id": f"demo-{i:03d}",
            "name": f"Client {i:03d}",
            "locale": "en" if i % 7 == 0 else "fr",
            "tags": ["demo", "vip"] if i % 3 == 0 else ["demo"],
        }
        if i % 2 == 0:
            person["telegram_chat_id"] = 900_000 + i
        else:
            person["phone"] = f"+336{40_000_000 + i:08d}"
        if i % 4 != 0:
            person["consent"] = {
                "source": "shop-checkout",
                "words": "J'accepte de recevoir les offres d'Atelier Lumière",
            }
        people.append(person)
    return people


def sale_body(audience_id: str, now: datetime) -> dict[str, Any]:
    return {
        "name": "Vente flash lampes",
        "offer": {
            "product": "Lampe Lumière (série limitée)",
            "amount": 4900,
            "currency": "EUR",
            "stock": 20,
            "expires_at": (now + timedelta(days=2)).isoformat(),
            "per_customer_limit": 1,
        },
        "audience_id": audience_id,
        "variants": [
            {
                "name": "A",
                "share": 50,
                "text": {
                    "fr": "Bonjour {name}, vente flash : la Lampe Lumière à 49 € ! {link}",
                    "en": "Hi {name}, flash sale: the Lumière lamp at €49! {link}",
                },
            },
            {
                "name": "B",
                "share": 50,
                "text": {
                    "fr": "{name}, 20 lampes seulement, à 49 € : {link}",
                    "en": "{name}, only 20 lamps, at €49: {link}",
                },
            },
        ],
        "channels": ["telegram", "sms"],
    }


async def seed_flash_sale(
    http: aiohttp.ClientSession, base_url: str, api_key: str, state: SandboxState, now: datetime
) -> list[str]:
    """Creates the customers, audience and sale; returns the welcome lines."""
    headers = {"Authorization": f"Bearer {api_key}"}
    people = demo_customers()
    lines = "\n".join(json.dumps(p) for p in people)
    async with http.post(
        f"{base_url}/api/v1/customers/import",
        data=lines.encode(),
        headers={**headers, "Content-Type": "application/x-ndjson"},
    ) as response:
        imported = await response.json()
    for person in people[:SHOWN_IN_SIMULATOR]:
        channel = ChannelName.TELEGRAM if "telegram_chat_id" in person else ChannelName.SMS
        address = str(person.get("telegram_chat_id") or person.get("phone"))
        state.add_contact(str(person["name"]), channel, address)
    async with http.post(
        f"{base_url}/api/v1/audiences",
        json={"name": "Clients démo", "filter": {"tags": ["demo"]}},
        headers=headers,
    ) as response:
        audience = await response.json()
    async with http.post(
        f"{base_url}/api/v1/campaigns", json=sale_body(audience["id"], now), headers=headers
    ) as response:
        sale = await response.json()
    cid = sale.get("id", "?")
    auth = f"-H 'Authorization: Bearer {api_key}'"
    return [
        f"  Flash sale: {imported.get('imported')} customers imported, audience of "
        f"{audience.get('size')}, sale {cid} (2 variants, stock 20) ready.",
        f"    start:  curl -X POST {auth} {base_url}/api/v1/campaigns/{cid}/start",
        f"    watch:  curl -N {auth} {base_url}/api/v1/campaigns/{cid}/stream",
        "    pause / resume: the same URL as start, ending in /pause or /resume",
        "    Customers without consent get nothing; outside Mon-Sat 08:00-20:00 (Paris) the",
        "    messages wait for the morning.",
    ]
