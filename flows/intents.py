"""What did the customer mean? Intent recognition for replies to an invoice (FR first, EN, ES).

`understand(text, locale=..., now=..., tz=...)` is pure, deterministic and offline: no I/O, no
model, no globals that change. It normalises the text (`flows.intent_text`: case, accents,
emoji, repeated letters, SMS abbreviations, clauses), then asks ordered questions. The first
rule that fires decides, so the order *is* the precedence:

 1. empty text → UNKNOWN (punctuation with a "?" only → HELP)
 2. OPT_OUT      STOP, ARRÊT, désabonner, UNSUBSCRIBE... anywhere (legal: never missed), a
                 sentence that says it ("ne m'écrivez plus", "leave me alone"); CANCEL / END /
                 QUIT only alone in the message or in a clause of their own (a concatenated
                 SMS), since "cancel my order" is a dispute and "end of the month" a date
 3. OPT_IN       START, UNSTOP, "je veux recevoir à nouveau"
 4. DISPUTE      "c'est pas moi", "montant faux", "arnaque", "I never ordered this"
 5. ALREADY_PAID "j'ai déjà payé", "c'est réglé", "paid yesterday", unless negated
                 ("j'ai pas encore payé")
 6. ASK_AGENT    "un conseiller", "call me", "human please"
 7. STATUS       "combien je dois", "il reste combien", "next payment"
 8. HELP         a problem with paying ("le lien ne marche pas", "card declined")
 9. payment      SPLIT / PAY_LATER / PAY_NOW, or NO for a refusal, decided with negation
                 scope and change of mind (`flows.intent_payment`); a bare pay verb in a
                 how-question ("comment payer ?") is HELP
10. HELP         "aide", "comment ça marche", "quelles options"
11. NO           "non", "nope", "👎", "pas d'accord" (before YES: "ok... non" is a no)
12. YES          "oui", "ok", "d'accord", "👍"
13. SMALLTALK    "merci", "bonjour", "😊"
14. UNKNOWN      anything else, including a bare number ("3"): numbered menu choices are
                 mapped by the bot before it calls us.

Safety properties the tests pin: every legal opt-out word is OPT_OUT whatever else the message
says; a dispute, an "already paid" or a refusal is never PAY_NOW or YES, because those rules
come first (dispute, already paid) or are read inside the payment decision (negations).

Dates (`flows.dates`) are resolved in the customer's time zone and are strictly in the future,
except "ce soir" / "tonight" (today). Only PAY_LATER carries a date; only SPLIT carries parts
("en 10 fois" → 10: the flow, not this module, refuses more than 3 or 4 instalments).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flows.intent_lexicon import ENGLISH_WORDS, FRENCH_WORDS, NO_PROBLEM, SPANISH_WORDS
from flows.intent_payment import Decision, Signal, decide
from flows.intent_rules import (
    ALREADY_PAID,
    ASK_AGENT,
    DISPUTE,
    DISPUTE_NEGATABLE,
    HELP,
    HELP_PROBLEM,
    NO,
    OPT_IN,
    OPT_IN_WHOLE,
    OPT_OUT,
    OPT_OUT_WHOLE,
    SMALLTALK,
    STATUS,
    YES,
    is_negated,
)
from flows.intent_text import Normalized, normalize


class Intent(enum.StrEnum):
    PAY_NOW = "pay_now"
    PAY_LATER = "pay_later"
    SPLIT = "split"
    ASK_AGENT = "ask_agent"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    STATUS = "status"
    ALREADY_PAID = "already_paid"
    DISPUTE = "dispute"
    YES = "yes"
    NO = "no"
    SMALLTALK = "smalltalk"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Understanding:
    """The reading of one message.

    ``parts`` is set for SPLIT when the number is given; ``date``/``date_text`` for PAY_LATER
    when a date is given (``date_text`` holds the normalised words: lower case, no accents).
    ``language`` is what the words look like ("fr", "en", "es"), None when they do not tell.
    """

    intent: Intent
    parts: int | None = None
    date: dt.date | None = None
    date_text: str | None = None
    language: str | None = None


def understand(text: str, *, locale: str, now: dt.datetime, tz: str) -> Understanding:
    """Read a customer's reply.

    *locale* is the customer's (e.g. "fr_FR"); it only breaks ties when the words do not
    show a language. *now* must be timezone-aware; "today" is its date in the IANA zone *tz*.
    Raises ValueError for a naive *now* and `zoneinfo.ZoneInfoNotFoundError` for an unknown
    *tz* (programming errors); never for any *text*.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(ZoneInfo(tz)).date()
    norm = normalize(text)
    language = detect_language(norm.text)
    intent = _before_payment(norm)
    if intent is not None:
        return Understanding(intent, language=language)
    signal = decide(norm.clauses, language=language or _locale_language(locale), today=today)
    if signal is not None:
        return _from_signal(signal, norm, language)
    return Understanding(_after_payment(norm.text), language=language)


def detect_language(text: str) -> str | None:
    """ "fr", "en" or "es" when one language has strictly the most marker words, else None."""
    words = set(text.split())
    scores = {
        "fr": len(words & FRENCH_WORDS),
        "en": len(words & ENGLISH_WORDS),
        "es": len(words & SPANISH_WORDS),
    }
    best = max(scores.values())
    leaders = [language for language, score in scores.items() if score == best]
    return leaders[0] if best > 0 and len(leaders) == 1 else None


def _locale_language(locale: str) -> str:
    language = locale.replace("-", "_").split("_", 1)[0].lower()
    return language or "fr"


def _before_payment(norm: Normalized) -> Intent | None:
    """Steps 1-8 of the precedence (module docstring)."""
    if norm.is_empty:
        return Intent.HELP if norm.question_only else Intent.UNKNOWN
    text = norm.text
    if OPT_OUT.search(text) or any(OPT_OUT_WHOLE.match(c) for c in norm.clauses):
        return Intent.OPT_OUT
    if OPT_IN_WHOLE.match(text) or OPT_IN.search(text):
        return Intent.OPT_IN
    if _is_dispute(text):
        return Intent.DISPUTE
    if any(not is_negated(text, m.start(), m.end()) for m in ALREADY_PAID.finditer(text)):
        return Intent.ALREADY_PAID
    if ASK_AGENT.search(text):
        return Intent.ASK_AGENT
    if STATUS.search(text):
        return Intent.STATUS
    if HELP_PROBLEM.search(text):
        return Intent.HELP
    return None


def _is_dispute(text: str) -> bool:
    for m in DISPUTE.finditer(text):
        # "je ne conteste pas la facture, mais..." is not a dispute.
        negatable = DISPUTE_NEGATABLE.search(m.group()) is not None
        if not (negatable and is_negated(text, m.start(), m.end())):
            return True
    return False


def _from_signal(signal: Signal, norm: Normalized, language: str | None) -> Understanding:
    decision = signal.decision
    if decision is Decision.SPLIT:
        return Understanding(Intent.SPLIT, parts=signal.parts, language=language)
    if decision in (Decision.LATER, Decision.LATER_DERIVED):
        found = signal.date
        if found is None:
            return Understanding(Intent.PAY_LATER, language=language)
        return Understanding(
            Intent.PAY_LATER, date=found.day, date_text=found.text, language=language
        )
    if decision is Decision.REFUSAL:
        return Understanding(Intent.NO, language=language)
    if decision is Decision.NOW_WEAK and HELP.search(norm.text):
        return Understanding(Intent.HELP, language=language)  # "comment payer ?"
    return Understanding(Intent.PAY_NOW, language=language)


def _after_payment(text: str) -> Intent:
    """Steps 10-14 of the precedence (module docstring)."""
    text = NO_PROBLEM.sub("ok", text)  # "pas de souci" / "no problem" say yes
    if HELP.search(text):
        return Intent.HELP
    if NO.search(text):
        return Intent.NO
    if YES.search(text):
        return Intent.YES
    if SMALLTALK.search(text):
        return Intent.SMALLTALK
    return Intent.UNKNOWN
