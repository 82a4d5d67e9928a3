"""Which sent Telegram messages of an invoice still offer to pay it (bot.engine.telegram_buttons
removes their buttons once the invoice is settled)."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot.store import keys
from channels.base import ChannelName, OutboundMessage
from flows.model import Choice

PAYING_CHOICES = frozenset({Choice.PAY.value, Choice.LATER.value, Choice.SPLIT.value})


def offers_payment(message: OutboundMessage) -> bool:
    """Pay (a URL button on Telegram), later or split: what a settled invoice must not offer."""
    return any(b.url is not None or b.action in PAYING_CHOICES for b in message.buttons)


async def note_sent(
    redis: aioredis.Redis,
    key: str,
    message: OutboundMessage,
    *,
    merchant_id: str | None,
    invoice_id: str | None,
) -> None:
    """Remember a sent Telegram message whose buttons offer to pay an invoice (called once its
    outbox record holds the message_id Telegram gave it)."""
    if (
        message.channel is ChannelName.TELEGRAM
        and message.remove_buttons_of is None
        and merchant_id
        and invoice_id
        and offers_payment(message)
    ):
        await redis.sadd(keys.invoice_telegram_buttons(merchant_id, invoice_id), key)


async def noted(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> list[str]:
    return sorted(await redis.smembers(keys.invoice_telegram_buttons(merchant_id, invoice_id)))
