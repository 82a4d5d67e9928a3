"""Telegram deep links: `t.me/<bot>?start=<token>` binds the chat that opens it to a merchant's
customer, so the merchant learns the chat id it needs to send invoices there.

Telegram lets a bot write only to a chat that wrote first, and tells only the bot the chat's
id. Opening the link makes the customer's app send `/start <token>` to the bot: the webhook
records that chat on the token, and the merchant reads it back through the API.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.invoices import hash_link_token

LINK_LIFETIME = timedelta(days=30)
# Telegram allows 1-64 characters of A-Z, a-z, 0-9, _ and - in a start parameter.
_START = re.compile(r"/start(?:@\w+)? ([A-Za-z0-9_-]{22,64})")


@dataclass(frozen=True, slots=True)
class TelegramLink:
    token: str
    merchant_id: str
    chat_id: int | None


def start_token(text: str | None) -> str | None:
    """The token of a `/start <token>` message, else None."""
    match = _START.fullmatch((text or "").strip())
    return match.group(1) if match else None


async def create_link(redis: aioredis.Redis, merchant_id: str, now: datetime) -> TelegramLink:
    token = secrets.token_urlsafe(16)  # 128 bits, 22 characters
    key = keys.telegram_link(hash_link_token(token))
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping={"merchant_id": merchant_id, "created_at": now.isoformat()})
        pipe.expire(key, int(LINK_LIFETIME.total_seconds()))
        await pipe.execute()
    return TelegramLink(token, merchant_id, None)


async def get_link(redis: aioredis.Redis, token: str) -> TelegramLink | None:
    data = await redis.hgetall(keys.telegram_link(hash_link_token(token)))
    if "merchant_id" not in data:
        return None
    chat = data.get("chat_id")
    return TelegramLink(token, data["merchant_id"], int(chat) if chat else None)


async def bind_chat(redis: aioredis.Redis, token: str, chat_id: str) -> bool:
    """Record the chat that opened the link; the first one keeps it (a forwarded link does
    not move the customer to someone else's chat)."""
    key = keys.telegram_link(hash_link_token(token))
    if not await redis.exists(key):
        return False
    return bool(await redis.hsetnx(key, "chat_id", chat_id))
