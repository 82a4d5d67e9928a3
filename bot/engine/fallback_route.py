"""Which channel carries a message its own channel could not deliver (issue 7, "Fallback").

WhatsApp and Telegram fall back to SMS: every WhatsApp customer has the number, and SMS reaches
any phone. SMS falls back to what else the customer gave us. Only addresses we know for the
customer are used (`bot.engine.facts.customer_addresses`): we never guess that a phone number
is on WhatsApp or Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.store.conversations import split_key
from channels.base import ChannelName

NEXT_CHANNELS: dict[ChannelName, tuple[ChannelName, ...]] = {
    ChannelName.WHATSAPP: (ChannelName.SMS, ChannelName.TELEGRAM),
    ChannelName.TELEGRAM: (ChannelName.SMS, ChannelName.WHATSAPP),
    ChannelName.SMS: (ChannelName.WHATSAPP, ChannelName.TELEGRAM),
}


def next_address(addresses: Iterable[str], failed: ChannelName) -> str | None:
    """The customer's next known conversation after `failed`, or None."""
    by_channel: dict[ChannelName, str] = {}
    for address in sorted(addresses):
        channel, _ = split_key(address)
        by_channel.setdefault(channel, address)
    for channel in NEXT_CHANNELS[failed]:
        if channel in by_channel:
            return by_channel[channel]
    return None
