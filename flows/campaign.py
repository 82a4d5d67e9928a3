"""One campaign message to one recipient: send it now, later, or never (pure).

```mermaid
flowchart TD
    E[campaign message due] --> C{campaign state}
    C -- cancelled / ended --> X[drop: counted]
    C -- paused --> P[wait: look again in a minute]
    C -- running --> K{marketing consent now?}
    K -- no or opted out --> N[skip: counted]
    K -- yes --> Q{Mon-Sat 08:00-20:00 local, not a public holiday?}
    Q -- no --> W[wait for the next allowed moment]
    Q -- yes --> S[send the variant's text with the personal link, signed: merchant name + STOP]
    S --> R{the customer answers}
    R -- "je prends" / yes --> L[the personal link again]
    R -- a question --> H[handed to a person]
    R -- STOP / START / thanks --> U[the usual conversation answers]
```

Consent and quiet hours are judged when the message is dispatched, not when the campaign
started: a STOP sent during a campaign stops what has not gone out yet.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays

MARKETING_OPENS = time(8, 0)
MARKETING_CLOSES = time(20, 0)
PAUSED_RECHECK = timedelta(minutes=1)


class Decision(enum.StrEnum):
    SEND = "send"
    WAIT = "wait"
    SKIP = "skip"  # no consent: counted, never sent
    DROP = "drop"  # cancelled or ended: counted, never sent


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    reason: str
    at: datetime | None = None  # for WAIT: when to look again


@lru_cache(maxsize=16)
def _french_holidays(year: int) -> holidays.HolidayBase:
    import holidays  # its country tables load at first use, not in every process's start-up

    return holidays.country_holidays("FR", years=year)


def french_holiday(day: date) -> bool:
    """A French public holiday (the `holidays` package; reminders share it, flows.dunning)."""
    return day in _french_holidays(day.year)


def marketing_day(day: date) -> bool:
    """Monday to Saturday and not a French public holiday (LEGAL_FR quiet hours)."""
    return day.weekday() != 6 and day not in _french_holidays(day.year)


def next_marketing_moment(now: datetime, zone: str) -> datetime:
    """`now` if marketing may be sent now in `zone`, else the next 08:00 local allowed."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    if marketing_day(local.date()) and MARKETING_OPENS <= local.time() < MARKETING_CLOSES:
        return now
    day = local.date() if local.time() < MARKETING_OPENS else local.date() + timedelta(days=1)
    while not marketing_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, MARKETING_OPENS, tzinfo=tz)


def decide(
    *,
    state: str,
    now: datetime,
    window_end: datetime | None,
    window_start: datetime | None,
    consented: bool,
    zone: str,
) -> Verdict:
    if state in ("cancelled", "done") or (window_end is not None and now >= window_end):
        return Verdict(Decision.DROP, "cancelled" if state == "cancelled" else "ended")
    if state == "paused":
        return Verdict(Decision.WAIT, "paused", now + PAUSED_RECHECK)
    if not consented:
        return Verdict(Decision.SKIP, "no_consent")
    if window_start is not None and now < window_start:
        return Verdict(Decision.WAIT, "window", window_start)
    allowed = next_marketing_moment(now, zone)
    if allowed > now:
        if window_end is not None and allowed >= window_end:
            return Verdict(Decision.DROP, "ended")
        return Verdict(Decision.WAIT, "quiet_hours", allowed)
    return Verdict(Decision.SEND, "send")


def pick_variant(campaign_id: str, customer_id: str, shares: Sequence[int]) -> int:
    """The variant index of a recipient: stable (a replay picks the same), split by shares."""
    digest = hashlib.sha256(f"{campaign_id}:{customer_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % max(sum(shares), 1)
    for index, share in enumerate(shares):
        if point < share:
            return index
        point -= share
    return len(shares) - 1


_RECEIPTS = {
    "fr": "Merci ! Votre paiement pour « {product} » ({amount}) est bien reçu. "
    "Votre commande est confirmée.",
    "en": 'Thank you! Your payment for "{product}" ({amount}) is received. '
    "Your order is confirmed.",
}


_RECEIPT_INVOICES = {
    "fr": "Facture {number} : {url}",
    "en": "Invoice {number}: {url}",
}


def receipt_text(
    locale: str,
    product: str,
    amount: str,
    *,
    invoice_number: str | None = None,
    invoice_url: str | None = None,
) -> str:
    """The chat receipt of a flash-sale order (French first, English complete), naming the
    order's invoice and its link when it was issued."""
    template = _RECEIPTS.get(locale, _RECEIPTS["fr"])
    text = template.replace("{product}", product).replace("{amount}", amount)
    if invoice_number and invoice_url:
        line = _RECEIPT_INVOICES.get(locale, _RECEIPT_INVOICES["fr"])
        text += "\n" + line.replace("{number}", invoice_number).replace("{url}", invoice_url)
    return text


class ReplyKind(enum.StrEnum):
    LINK_AGAIN = "link_again"  # "je prends": the personal link again
    HUMAN = "human"  # a question about the offer: a person answers
    USUAL = "usual"  # STOP/START, thanks...: the usual conversation answers


_TAKE = (
    "je prends",
    "je le prends",
    "je la prends",
    "je les prends",
    "je veux",
    "je commande",
    "j'achete",
    "je l'achete",
    "i'll take",
    "i will take",
    "i take it",
    "i want it",
    "buy",
    "lien",
    "link",
)


def read_reply(text: str, intent: str) -> ReplyKind:
    """What a customer's answer to a campaign message asks for (`intent`: flows.intents)."""
    if intent in ("opt_out", "opt_in"):
        return ReplyKind.USUAL
    plain = text.lower().replace("\u2019", "'").replace("\u00e8", "e").replace("\u00e9", "e")
    if intent in ("pay_now", "yes") or any(words in plain for words in _TAKE):
        return ReplyKind.LINK_AGAIN
    if "?" in text or intent in ("ask_agent", "unknown", "help", "status"):
        return ReplyKind.HUMAN
    return ReplyKind.USUAL


_REPLY_TEXTS = {
    ReplyKind.LINK_AGAIN: {
        "fr": "Avec plaisir ! Voici votre lien pour « {product} » : {link}",
        "en": 'With pleasure! Here is your link for "{product}": {link}',
    },
    ReplyKind.HUMAN: {
        "fr": "Bonne question ! Je la transmets à l'équipe, quelqu'un vous répond ici très vite.",
        "en": "Good question! I am passing it to the team; someone will answer you here shortly.",
    },
}


def reply_text(kind: ReplyKind, locale: str, *, product: str = "", link: str = "") -> str:
    texts = _REPLY_TEXTS[kind]
    template = texts.get(locale, texts["fr"])
    return template.replace("{product}", product).replace("{link}", link)


_CART_TEXTS = {
    "fr": "Bonjour {name}, votre panier ({amount}) vous attend toujours. "
    "Vous pouvez le régler ici : {link}",
    "en": "Hello {name}, your cart ({amount}) is still waiting for you. "
    "You can pay for it here: {link}",
}


def cart_text(locale: str, name: str, amount: str, link: str) -> str:
    """The one relaunch of an abandoned cart."""
    template = _CART_TEXTS.get(locale, _CART_TEXTS["fr"])
    return template.replace("{name}", name).replace("{amount}", amount).replace("{link}", link)


# Who sends it and how to stop it (LEGAL_FR 2.2, test 79): every promotional message ends with
# the merchant's commercial name and a free opt-out. Replying STOP to the number (or chat) the
# offer came from is free and honoured on every channel of the merchant (flows.conversation);
# Facto has no short code, so the SMS says "reply STOP" rather than "STOP au 36xxx". An SMS from
# an alphanumeric sender ID cannot be answered: it names the merchant's reply number instead.
# SMS gets the short form (each segment is billed); chats have room for a sentence. GSM-7 only.
_MENTIONS = {
    ("sms", "fr"): "{sender} - STOP: repondez STOP",
    ("sms", "en"): "{sender} - Opt out: reply STOP",
    ("chat", "fr"): "Offre de {sender}. Pour ne plus recevoir nos offres, repondez STOP.",
    ("chat", "en"): "Offer from {sender}. To stop receiving our offers, reply STOP.",
}
_MENTIONS_TO_NUMBER = {
    "fr": "{sender} - STOP au {number}",
    "en": "{sender} - Opt out: text STOP to {number}",
}
_E164 = r"\+[1-9][0-9]{6,14}"


class MissingMarketingMentions(ValueError):
    """A promotional message without its sender or its opt-out: it must not be queued."""


def marketing_mentions(locale: str, channel: str, sender: str, stop_to: str | None = None) -> str:
    """The closing line; `stop_to`: the number an SMS customer texts STOP to when the message
    comes from an alphanumeric sender ID (bot.engine.facts.stop_number)."""
    if channel == "sms" and stop_to:
        template = _MENTIONS_TO_NUMBER.get(locale, _MENTIONS_TO_NUMBER["fr"])
        return template.replace("{sender}", sender.strip()).replace("{number}", stop_to)
    kind = "sms" if channel == "sms" else "chat"
    template = _MENTIONS.get((kind, locale), _MENTIONS[(kind, "fr")])
    return template.replace("{sender}", sender.strip())


def with_marketing_mentions(
    text: str, locale: str, channel: str, sender: str, stop_to: str | None = None
) -> str:
    """`text` signed by its sender, with the opt-out, on its last line."""
    return f"{text.rstrip()}\n{marketing_mentions(locale, channel, sender, stop_to)}"


def has_marketing_mentions(text: str, sender: str) -> bool:
    """The text's last line is one of the mentions, naming `sender` (not empty)."""
    if not sender.strip():
        return False
    last = text.rstrip().rsplit("\n", 1)[-1]
    if any(last == t.replace("{sender}", sender.strip()) for t in _MENTIONS.values()):
        return True
    return any(
        re.fullmatch(
            re.escape(t.replace("{sender}", sender.strip())).replace(re.escape("{number}"), _E164),
            last,
        )
        for t in _MENTIONS_TO_NUMBER.values()
    )


def require_marketing_mentions(text: str, sender: str) -> None:
    if not has_marketing_mentions(text, sender):
        msg = "a promotional message must name its sender and say how to stop (reply STOP)"
        raise MissingMarketingMentions(msg)
