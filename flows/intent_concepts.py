"""A second reading by concept groups, for messages the ordered rules could not place.

The rules in `flows.intents` list phrasings; people find others ("plus jamais de sms svp",
"cancel notifications", "ya moyen d'avoir qqun au tel ?", "colis perdu, je paye pas"). Here a
message is read by the *concepts* it names rather than by a phrasing: each ``concept_*``
category of the data files (`flows/lexicon/*.toml`) is a group of stems and spellings for one
idea (messages, ceasing, resuming, a defect or a wrong amount, splitting, a person, a phone
call, what is left, postponing, settled), and an intent is a combination of groups
(messages + ceasing → opt-out). Word order and the exact phrasing no longer matter, so a new
phrasing is understood as long as its words belong to known groups.

It only refines readings that carry no decision (`unknown`), or that the concepts show to be
incomplete: a refusal that names a defect is a dispute, not a plain no; a pay verb next to a
splitting word is a split; a "paid" that tells a past payment is not a pay-now; agreeing to
pay another amount ("seulement 100, pas 150") is a dispute. It can move a reading *towards* a
safe intent (dispute, already paid, status) but never produces pay_now or yes, and it produces
opt_out only from a short message, not a question, naming both messages and ceasing, with no
defusing context (the others ask for confirmation through ``maybe_opt_out``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.intent_calendar import CARDINALS, WEEKDAYS
from flows.intent_words import Lexicon

#: A concept reading is explicit enough to act on, but less than a listed phrasing.
CONCEPT_CONFIDENCE = 0.8
#: One concept group alone ("c faux", "repoussez svp"): act, but it is the weakest reading.
SINGLE_CONCEPT_CONFIDENCE = 0.7
#: An opt-out read from concepts is acted on only in a short message; longer ones ask first.
SHORT_OPT_OUT_WORDS = 7

_COUNT_WORDS = "|".join(sorted((w for w, n in CARDINALS.items() if n >= 2), key=len, reverse=True))
#: "en 4", "in 5", "en 12 fois": a number of instalments (not "en 2026", "in 3 days").
_PARTS = re.compile(
    rf"\b(?:en|in) (\d{{1,2}}|{_COUNT_WORDS})\b"
    r"(?! (?:jours?|semaines?|mois|heures?|h|min\w*|ans?|annees?|euros?|eur|e|days?|weeks?"
    r"|months?|hours?|years?|pounds?|dias?|semanas?|meses|horas?|minutes?|secondes?|sec))"
)
_MIN_PARTS, _MAX_PARTS = 2, 24


@dataclass(frozen=True, slots=True)
class ConceptReading:
    intent: str  # an `Intent` value; kept as text so this module does not import the enum
    parts: int | None = None
    confidence: float = CONCEPT_CONFIDENCE
    maybe_opt_out: bool = False


def _has(words: Lexicon, concept: str, text: str) -> bool:
    return words.pattern("concept_" + concept).search(text) is not None


def _wrong(words: Lexicon, text: str) -> bool:
    """Something named as wrong, outside praise ("merci pour la réparation, ça chauffe enfin")
    and idioms that name no defect ("my French is rusty")."""
    plain = words.pattern("praise").sub(" ", text)
    return _has(words, "wrong", words.pattern("wrong_defused").sub(" ", plain))


def asks_opt_in(text: str, words: Lexicon) -> bool:
    """Messages + resuming ("je veux de nouveau les sms", "volved a mandarme los avisos"); not
    told never to come again ("never send me texts again", "nunca me vuelvas a enviar sms")."""
    return (
        _has(words, "again", text)
        and _has(words, "messages", text)
        and not _has(words, "again_negated", text)
    )


def opt_out(text: str, words: Lexicon, *, asks: bool) -> ConceptReading | None:
    """Messages + ceasing, or an unsubscribe stem, in a message the rules left undecided."""
    if asks_opt_in(text, words) or _has(words, "opt_in_want", text):
        return None
    if words.pattern("opt_out_defused").search(text):
        return None  # "les sms se sont arrêtés", "i stopped getting texts": a report
    named = (
        _has(words, "unsubscribe", text)
        or (_has(words, "messages", text) and _has(words, "cease", text))
        or (_has(words, "number", text) and _has(words, "erase", text))
    )
    if not named:
        return None
    # Politeness does not make a message longer ("plus jamais de sms s'il vous plaît").
    plain = words.pattern("polite").sub(" ", text).replace("|", " ")
    # A question ("no more reminders?", "annulé le sms ?") may be asking what happened: confirm.
    if len(plain.split()) <= SHORT_OPT_OUT_WORDS and not asks:
        return ConceptReading("opt_out")
    if not asks and _opens_with_opt_out(text, words):
        # "vous pouvez couper les notifications, on a déménagé…": the request said first and
        # whole, the rest only why.
        return ConceptReading("opt_out")
    return ConceptReading("unknown", confidence=0.0, maybe_opt_out=True)


def _opens_with_opt_out(text: str, words: Lexicon) -> bool:
    """The first clause alone is a short request to stop the messages."""
    first = text.split(" | ", 1)[0]
    if first == text or not (_has(words, "messages", first) and _has(words, "cease", first)):
        return False
    return len(words.pattern("polite").sub(" ", first).split()) <= SHORT_OPT_OUT_WORDS


def parts_named(text: str) -> int | None:
    """The number of instalments in "en 4", "in five", else None."""
    for m in _PARTS.finditer(text):
        before = text[: m.start()].split()[-1:]
        if before and before[0] in WEEKDAYS:
            continue  # "lundi en 8": a week on Monday, not eight instalments
        token = m.group(1)
        value = int(token) if token.isdigit() else CARDINALS.get(token)
        if value is not None and _MIN_PARTS <= value <= _MAX_PARTS:
            return value
    return None


#: Readings a question may turn into help or status: nothing decided, a plain yes, or a pay word
#: that only names the subject of the question ("can I pay with a prepaid card?").
_QUESTION_REFINABLE = frozenset({"unknown", "yes", "pay_now", "pay_later"})


def question(current: str, text: str, words: Lexicon) -> ConceptReading | None:
    """A question that decides nothing, read by what it asks about: how paying works (the means,
    the device, someone else paying, what to click: help) or what the invoice is made of
    (amount, total, date, penalties: status). The caller checks it is a question with no date
    and nothing that goes ahead ("maintenant", "send me the link")."""
    if current not in _QUESTION_REFINABLE or _wrong(words, text):
        return None
    if _has(words, "process", text):
        return ConceptReading("help", confidence=SINGLE_CONCEPT_CONFIDENCE)
    # An undated "later" ("j'aurais besoin d'un peu plus de temps pour la régler ?") still asks
    # for time whatever the invoice words around it; only how it works makes it help.
    if current != "pay_later" and _has(words, "invoice", text):
        return ConceptReading("status", confidence=SINGLE_CONCEPT_CONFIDENCE)
    return None


def refine(current: str, text: str, words: Lexicon, *, asks: bool) -> ConceptReading | None:
    """A better reading than *current* (an `Intent` value) from the concepts, or None."""
    if current in ("unknown", "no", "smalltalk") and (
        asks_opt_in(text, words) or _has(words, "opt_in_want", text)
    ):
        return ConceptReading("opt_in")
    if current in ("unknown", "no") and _wrong(words, text):
        return ConceptReading("dispute", confidence=SINGLE_CONCEPT_CONFIDENCE)
    # "oui sauf que vous m'avez compté 2 heures de trop", "happy to pay the 80 we agreed, not
    # 120": agreeing to pay a corrected amount contests this one (dispute before any payment),
    # unless the wrong thing is the payment link or tool ("le lien est faux": help).
    if (
        current in ("pay_now", "yes")
        and _wrong(words, text)
        and not words.pattern("payment_link").search(text)
    ):
        return ConceptReading("dispute", confidence=SINGLE_CONCEPT_CONFIDENCE)
    # "c'est réglé" of a payment to come ("c'est fait dans 2 min", "dites-moi comment vous
    # payer et c'est réglé") reports nothing.
    settled = _has(words, "settled", text) and not words.pattern("paid_future").search(text)
    if current in ("unknown", "pay_now", "pay_later") and settled:
        if words.pattern("paid_asked").search(text):
            return ConceptReading("status")  # "I thought I'd cleared it all, anything owing?"
        return ConceptReading("already_paid")
    # "le montant c'est TTC ou HT ?", "c'est celle de septembre ?": a question about what the
    # invoice is made of, that nothing else placed, asks about it.
    about_invoice = _has(words, "invoice", text) and not _wrong(words, text)
    if current == "unknown" and asks and about_invoice:
        return ConceptReading("status", confidence=SINGLE_CONCEPT_CONFIDENCE)
    # "il me reste des trucs à payer ?": a pay verb inside a question about what is left.
    left = _has(words, "left", text)
    if left and (current == "unknown" or (current == "pay_now" and asks)):
        return ConceptReading("status", confidence=SINGLE_CONCEPT_CONFIDENCE)
    # A split word next to "tout", "in full", "d'un coup" is the split being declined.
    whole = _has(words, "whole", text)
    split = _has(words, "split", text) and not whole
    parts = parts_named(text)
    if current in ("unknown", "pay_now") and split:
        return ConceptReading("split", parts=parts)
    if parts is not None and not whole and current == "unknown":
        return ConceptReading("split", parts=parts)
    # A person and a way to reach one, or a question about reaching us ("je peux vous appeler ?").
    if (
        current == "unknown"
        and _has(words, "contact", text)
        and (asks or _has(words, "person", text))
    ):
        return ConceptReading("ask_agent")
    if current in ("unknown", "no") and _has(words, "postpone", text):
        return ConceptReading("pay_later", confidence=SINGLE_CONCEPT_CONFIDENCE)
    return None
