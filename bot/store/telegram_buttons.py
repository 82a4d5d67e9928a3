"""What a message offers to pay, and what a settled invoice's messages must not offer.

Which sent Telegram messages of an invoice still offer to pay it (bot.engine.telegram_buttons
removes their buttons once the invoice is settled), and the same message without its offers
for one sent after the invoice was settled (bot.engine.outbox decides at send time)."""

from __future__ import annotations

import json
from dataclasses import replace

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.desk import CLOSED
from channels.base import Button, ChannelName, OutboundMessage
from channels.whatsapp_templates import TEMPLATES
from flows.model import Choice
from payments.invoice import Invoice

PAYING_CHOICES = frozenset({Choice.PAY.value, Choice.LATER.value, Choice.SPLIT.value})
EDIT_SUFFIX = ":unbutton"  # the edit that takes a sent message's buttons off: `<key>:unbutton`


def settled(invoice: Invoice) -> bool:
    """Nothing to pay any more: paid, paid offline, refunded, voided."""
    return invoice.amount_due <= 0 or invoice.status in CLOSED


def _offers(button: Button) -> bool:
    return button.url is not None or button.action in PAYING_CHOICES


def offers_payment(message: OutboundMessage) -> bool:
    """Pay (a URL button on Telegram), later or split: what a settled invoice must not offer."""
    return any(_offers(b) for b in message.buttons) or template_offers_payment(message)


def template_offers_payment(message: OutboundMessage) -> bool:
    """Its approved WhatsApp template has quick replies to pay (fixed at approval)."""
    template = TEMPLATES.get(message.template.name) if message.template else None
    return template is not None and any(p in PAYING_CHOICES for p, _ in template.buttons)


def without_payment_offers(message: OutboundMessage) -> OutboundMessage:
    """The same message, with no button to pay, pay later or split, and without a template
    whose own quick replies would offer them (WhatsApp cannot change an approved one)."""
    return replace(
        message,
        buttons=tuple(b for b in message.buttons if not _offers(b)),
        template=None if template_offers_payment(message) else message.template,
    )


def buttons_edit(key: str, message: OutboundMessage, provider_message_id: str) -> OutboundMessage:
    """The outbox message that takes the buttons off the Telegram message sent as `key`."""
    return OutboundMessage(
        channel=ChannelName.TELEGRAM,
        address=message.address,
        text="",
        idempotency_key=key + EDIT_SUFFIX,
        remove_buttons_of=provider_message_id,
    )


async def note_sent(
    redis: aioredis.Redis,
    key: str,
    message: OutboundMessage,
    *,
    merchant_id: str | None,
    invoice_id: str | None,
) -> Invoice | None:
    """Remember a sent Telegram message whose buttons offer to pay an invoice (called once its
    outbox record holds the message_id Telegram gave it). Returns that invoice as it is now,
    read in the same round trip (None when nothing was noted): settled during the provider
    call, its dispatch could not retire a message not noted yet."""
    if not (
        message.channel is ChannelName.TELEGRAM
        and message.remove_buttons_of is None
        and merchant_id
        and invoice_id
        and any(_offers(b) for b in message.buttons)
    ):
        return None
    async with redis.pipeline(transaction=False) as pipe:
        pipe.sadd(keys.invoice_telegram_buttons(merchant_id, invoice_id), key)
        pipe.get(keys.invoice(merchant_id, invoice_id))
        _, raw = await pipe.execute()
    return Invoice.from_dict(json.loads(raw)) if raw else None


async def noted(redis: aioredis.Redis, merchant_id: str, invoice_id: str) -> list[str]:
    return sorted(await redis.smembers(keys.invoice_telegram_buttons(merchant_id, invoice_id)))
