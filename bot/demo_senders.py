"""Demo data for merchants' own senders (issue 7): a second shop, Boutique Beta, with its own
SMS number in its own Twilio account and its own Telegram bot, registered through
`POST /api/v1/channels` like a merchant would. It invoices Alex, whom Atelier Lumière invoices
too: the phone simulator shows two SMS threads (pick the sender at the top), two conversations
that never mix, each answered from its own number."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from bot.clock import SystemClock
from bot.store.merchants import create_merchant
from sandbox.state import SandboxState

BETA: dict[str, Any] = {
    "name": "Boutique Beta",
    "legal_name": "Boutique Beta SARL",
    "siren": "443061841",
    "vat_number": None,
    "address": "3 place du Marché, 69002 Lyon",
    "legal_form": "SARL",
    "share_capital": 500_000,
    "rcs_city": "RCS Lyon",
}
# What Beta bought in its own Twilio account, and the bot BotFather gave it (sandbox only).
BETA_ACCOUNT_SID = "AC" + "be7a" * 8
BETA_AUTH_TOKEN = "boutique-beta-sandbox-auth-token"  # noqa: S105 - the sandbox's
BETA_NUMBER = "+33700000077"
BETA_BOT_TOKEN = "7700770:boutique-beta-sandbox-bot-token"  # noqa: S105 - the sandbox's


async def seed_own_senders(
    http: aiohttp.ClientSession,
    base_url: str,
    redis_url: str,
    state: SandboxState,
    *,
    phone: str,
    today: date,
) -> list[str]:
    """Beta, its own senders and one invoice to `phone`; the welcome lines to print."""
    state.add_twilio_account(BETA_ACCOUNT_SID, BETA_AUTH_TOKEN)
    state.add_twilio_number(BETA_NUMBER, BETA_ACCOUNT_SID)
    state.telegram_bots[BETA_BOT_TOKEN] = None
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        merchant, api_key = await create_merchant(client, now=SystemClock().now(), **BETA)
    finally:
        await client.aclose()
    headers = {"Authorization": f"Bearer {api_key}"}
    problems = []
    for sender in (
        {
            "channel": "sms",
            "from": BETA_NUMBER,
            "account_sid": BETA_ACCOUNT_SID,
            "auth_token": BETA_AUTH_TOKEN,
        },
        {"channel": "telegram", "token": BETA_BOT_TOKEN},
    ):
        async with http.post(f"{base_url}/api/v1/channels", json=sender, headers=headers) as r:
            if r.status != 201:
                problems.append(
                    f"  Could not register Beta's {sender['channel']}: {await r.text()}"
                )
    invoice = {
        "customer": {"name": "Alex Morgan", "phone": phone, "locale": "en"},
        "channel": "sms",
        "currency": "EUR",
        "due_date": (today + timedelta(days=10)).isoformat(),
        "lines": [
            {"description": "Vase en grès", "quantity": 1, "unit_amount": 4500, "vat_rate": "20"}
        ],
    }
    async with http.post(f"{base_url}/api/v1/invoices", json=invoice, headers=headers) as r:
        if r.status != 201:
            problems.append(f"  Could not create Beta's invoice: {await r.text()}")
    return [
        f"  Own senders: {BETA['name']} ({merchant.id}) sends from its own number {BETA_NUMBER}",
        "    (its own Twilio account) and its own Telegram bot. Alex got an invoice from both",
        "    shops: in the simulator, pick the sender at the top of Alex's SMS chat.",
        *problems,
    ]
