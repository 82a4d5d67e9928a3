"""Old Telegram messages stop offering to pay once their invoice is settled (issue 13).

A Telegram message keeps its inline keyboard forever: after the invoice is paid (or refunded
by a credit note) the invoice message and the reminders would still say "Payer", "Plus tard",
"En plusieurs fois". So each sent Telegram message of an invoice that carries one of those
buttons is noted by the outbox sender once Telegram gave it a message_id (in the round trip
that records the send: `bot.engine.outbox`), and the dispatch that settles the invoice queues one
edit per noted message (`retire`): an outbox message that removes the keyboard
(editMessageReplyMarkup), sent, paced and retried like any other send. Its idempotency key and
the removal of the note in the same commit make it happen once.
"""

from __future__ import annotations

import logging

import redis.asyncio as aioredis

from bot.engine import outbox
from bot.logs import log_fields
from bot.store import keys
from bot.store.conversations import split_key
from bot.store.telegram_buttons import buttons_edit, noted, settled
from channels.base import ChannelName, OutboundMessage
from payments.invoice import Invoice

log = logging.getLogger(__name__)


async def retire(
    redis: aioredis.Redis, pipe: aioredis.client.Pipeline, invoice: Invoice | None
) -> int:
    """On the dispatch's commit: once `invoice` is settled, queue the removal of the buttons
    of each noted message, and forget the notes. Returns how many were queued."""
    if invoice is None or not settled(invoice):
        return 0
    queued = 0
    notes = keys.invoice_telegram_buttons(invoice.merchant_id, invoice.id)
    for key in await noted(redis, invoice.merchant_id, invoice.id):
        # The slimmed record of a sent message suffices: its Telegram id and its chat.
        sent = await outbox.load_sent(redis, key)
        if sent is not None and sent.provider_message_id and sent.conversation:
            _channel, chat = split_key(sent.conversation)
            shown = OutboundMessage(ChannelName.TELEGRAM, chat, "", key)
            edit = buttons_edit(key, shown, sent.provider_message_id)
            # No merchant or invoice on the edit's record: it is housekeeping, never a message
            # to fall back to another channel or to list among the merchant's failed ones.
            outbox.queue(pipe, edit, sent.conversation)
            queued += 1
        pipe.srem(notes, key)
    if queued:
        log.info(
            "telegram buttons of a settled invoice removed",
            extra=log_fields(invoice=invoice.id, messages=queued),
        )
    return queued
