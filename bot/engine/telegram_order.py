"""A Telegram update that comes after a later update of its chat was already applied is
recorded, not acted upon (PROVIDERS G3; decisions "Telegram updates in update_id order").

Ingest puts an update before the later ones of its chat still waiting in the inbox
(`bot.engine.pipeline`); this covers the rest: the later one already left the inbox (or is
being handled). Acting on the older one then would answer out of turn: a "payer" sent before a
"STOP" must not bring a pay link after the STOP's answer. It is kept in the transcript, marked
late, for the people who read the conversation, and nothing is said.

The mark (highest update_id applied in the conversation) lives 48 h: Telegram keeps an update
at most 24 h, so no delivery is later than that, and the ids only restart (at a random number)
after a week without any update for the bot, which a mark younger than 48 h rules out.
"""

from __future__ import annotations

import logging
from datetime import datetime

import redis.asyncio as aioredis

from bot.engine.pipeline import Event, update_order
from bot.logs import log_fields, mask_card_numbers
from bot.store import keys
from bot.store.conversations import append_transcript

log = logging.getLogger(__name__)

APPLIED_TTL_SECONDS = 48 * 3600


async def late_update(
    redis: aioredis.Redis, pipe: aioredis.client.Pipeline, event: Event, now: datetime
) -> bool:
    """True when `event` is a Telegram update older than one already applied in its
    conversation: recorded in the transcript (on `pipe`), and the caller does nothing else.
    Otherwise its update_id becomes the conversation's mark, committed with the event."""
    order = update_order(event)
    if order is None:
        return False
    mark = keys.conv_telegram_applied(event.conversation)
    applied = await redis.get(mark)
    if applied is not None and str(applied).isdigit() and int(applied) > order:
        append_transcript(
            pipe,
            event.conversation,
            direction="in",
            text=mask_card_numbers(str(event.data.get("text") or "")),
            at=now,
            ref=event.id,
            late=True,
        )
        log.info(
            "late telegram update recorded, not acted upon",
            extra=log_fields(event=event.id, applied=str(applied)),
        )
        return True
    pipe.set(mark, str(order), ex=APPLIED_TTL_SECONDS)
    return False
