"""How long an ingested event's dedupe marker lives: as long as its source may send it again.

A marker (`conv:{...}:seen:<event id>`, one per event) exists only to recognise a redelivery;
past its source's retry horizon (PROVIDERS.md) it is memory for nothing, one per message.
"""

from __future__ import annotations

HOUR = 3600
DAY = 24 * HOUR

# Twilio does not retry a messaging webhook (T6; at most one connection retry, T7, within its
# 15 s): a day still covers our own inbound spool, replayed when Redis comes back.
TWILIO_SEEN_SECONDS = DAY
# Telegram keeps an update it could not deliver for at most 24 h (G2), retrying meanwhile.
TELEGRAM_SEEN_SECONDS = 2 * DAY
# Stripe resends for up to 3 days (S5) and the reconcile sweep reads the Events API; internal
# events (an issued invoice, a released job) are replayed by sweeps too: kept as before.
DEFAULT_SEEN_SECONDS = 14 * DAY

_BY_SOURCE = {
    "sms": TWILIO_SEEN_SECONDS,
    "whatsapp": TWILIO_SEEN_SECONDS,
    "telegram": TELEGRAM_SEEN_SECONDS,
}


def seen_ttl_seconds(event_id: str) -> int:
    """The marker's life for an event id "<source>:<provider id>" (bot.web.webhooks)."""
    source, _, _rest = event_id.partition(":")
    return _BY_SOURCE.get(source, DEFAULT_SEEN_SECONDS)
