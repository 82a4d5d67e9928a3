"""Every promotional message names its sender and says how to stop (LEGAL_FR 2.2, test 79).

The mention is added in one function and checked in the one place every outbound message is
queued (`outbox.queue`): a marketing record without it cannot be written.
"""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from bot.engine import outbox
from channels.base import ChannelName, OutboundMessage
from channels.sms_text import is_gsm7
from flows.campaign import (
    MissingMarketingMentions,
    has_marketing_mentions,
    with_marketing_mentions,
)

SENDER = "Atelier Lumiere"
LINK = "https://facto.example.fr/o/" + "x" * 22  # a personal link of the real length


def _queue(text: str, sender: str | None) -> None:
    pipe = aioredis.Redis().pipeline(transaction=True)
    message = OutboundMessage(ChannelName.SMS, "+33612340001", text, "campaign:c1:s1")
    extra = {"class": "marketing", "campaign": "m1/c1/A"}
    if sender is not None:
        extra["sender"] = sender
    outbox.queue(pipe, message, "sms:+33612340001", merchant_id="m1", extra=extra)


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("Bonjour Sam : -30 % ! " + LINK, SENDER),  # no mention at all
        (with_marketing_mentions("Offre", "fr", "sms", "Autre boutique"), SENDER),  # not us
        (with_marketing_mentions("Offre", "fr", "sms", SENDER) + "\nP.S.", SENDER),  # not last
        (with_marketing_mentions("Offre", "fr", "sms", SENDER), None),  # no sender recorded
        (with_marketing_mentions("Offre", "fr", "sms", SENDER), " "),
    ],
)
def test_a_promotional_message_without_its_mentions_is_refused(
    text: str, sender: str | None
) -> None:
    with pytest.raises(MissingMarketingMentions):
        _queue(text, sender)


def test_a_transactional_message_needs_no_mention() -> None:
    pipe = aioredis.Redis().pipeline(transaction=True)
    message = OutboundMessage(ChannelName.SMS, "+33612340001", "Merci !", "receipt:1")
    outbox.queue(pipe, message, "sms:+33612340001", merchant_id="m1")
    assert pipe.command_stack


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("channel", ["sms", "telegram", "whatsapp"])
def test_the_mentions_name_the_sender_and_the_free_stop(locale: str, channel: str) -> None:
    text = with_marketing_mentions("Offre " + LINK, locale, channel, SENDER)
    _queue(text, SENDER)  # accepted
    last = text.splitlines()[-1]
    assert SENDER in last and "STOP" in last
    assert has_marketing_mentions(text, SENDER)
    assert is_gsm7(last)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_from_a_sender_id_the_mention_names_the_number_to_text(locale: str) -> None:
    text = with_marketing_mentions("Offre", locale, "sms", SENDER, "+33700000011")
    assert text.endswith("+33700000011") and is_gsm7(text)
    assert has_marketing_mentions(text, SENDER)
    _queue(text, SENDER)
    forged = text.replace("+33700000011", "le 3615")
    assert not has_marketing_mentions(forged, SENDER)
