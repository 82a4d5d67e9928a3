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
    Q -- yes --> S[send the variant's text with the personal link]
```

Consent and quiet hours are judged when the message is dispatched, not when the campaign
started: a STOP sent during a campaign stops what has not gone out yet.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

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
    return holidays.country_holidays("FR", years=year)


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


def receipt_text(locale: str, product: str, amount: str) -> str:
    """The chat receipt of a flash-sale order (French first, English complete)."""
    template = _RECEIPTS.get(locale, _RECEIPTS["fr"])
    return template.replace("{product}", product).replace("{amount}", amount)
