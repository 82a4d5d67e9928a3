"""The payment decision: pay now, pay later (maybe with a date), split, or a refusal.

A reply is cut into *pieces*: at punctuation (clauses) and before change-of-mind words
("finalement", "mais", "non", "actually", "no"...). A piece that starts with such a word opens a
new *segment*; the last segment that says anything about paying wins, so "je paie maintenant...
non finalement en 3 fois" is a split and "en 3 fois ? non" is a refusal.

Inside a piece every trigger is checked for negation: a negator among the five words before it
(stopping at "comment", "si", "how", "if"... which open another clause), or "c'est pas possible"
/ "je peux pas" right after it. What a negation means depends on the trigger:

====================  ===========================  ==================================
trigger               plain                        negated
====================  ===========================  ==================================
split ("en 3 fois")   SPLIT                        REFUSAL ("pas en 3 fois")
one go ("en 1 fois")  NOW_STRONG                   SPLIT, parts unknown
now ("maintenant")    NOW_STRONG                   LATER_DERIVED ("pas maintenant")
pay verb ("payer")    NOW_WEAK                     LATER_DERIVED if "peux"/"can" is near
                                                   (inability), else REFUSAL
future ("paierai")    LATER                        same as a pay verb
later ("plus tard")   LATER                        ignored ("pas plus tard que...")
a date                LATER with the date          ignored, unless "pas avant vendredi"
====================  ===========================  ==================================

Within a segment the strongest signal wins: SPLIT > LATER > NOW_STRONG > LATER_DERIVED >
NOW_WEAK > REFUSAL. So "je ne veux pas payer en 3 fois, je paie maintenant" is NOW_STRONG, and
"pas maintenant je paie" is LATER_DERIVED (a bare "je paie" never overrides a "not now").
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import itertools
import re
from dataclasses import dataclass

from flows.dates import DateMatch, find_dates
from flows.intent_lexicon import (
    CHANGE_OF_MIND,
    INABILITY,
    NEGATION_IDIOMS,
    NEGATORS,
    NO_PROBLEM,
    NO_START,
    SCOPE_BREAKERS,
    SPANISH_VERBS,
)


class Decision(enum.IntEnum):
    """Payment signals, weakest first (the value is the rank)."""

    REFUSAL = 1
    NOW_WEAK = 2
    LATER_DERIVED = 3
    NOW_STRONG = 4
    LATER = 5
    SPLIT = 6


@dataclass(frozen=True, slots=True)
class Signal:
    decision: Decision
    start: int
    parts: int | None = None
    date: DateMatch | None = None


_NUMBERS: dict[str, int] = {
    "un": 1, "une": 1, "one": 1, "uno": 1, "una": 1, "deux": 2, "two": 2, "dos": 2,
    "trois": 3, "three": 3, "tres": 3, "quatre": 4, "four": 4, "cuatro": 4, "cinq": 5,
    "five": 5, "cinco": 5, "six": 6, "seis": 6, "sept": 7, "seven": 7, "siete": 7, "huit": 8,
    "eight": 8, "ocho": 8, "neuf": 9, "nine": 9, "nueve": 9, "dix": 10, "ten": 10, "diez": 10,
    "onze": 11, "eleven": 11, "once": 11, "douze": 12, "twelve": 12, "doce": 12,
}
_N = r"(?P<n>\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_NOT_TEMPORAL = r"(?! ?(?:que|qu)\b)"
_NOT_UNIT = (
    r"(?! ?(?:jours?|j|semaines?|sem|days?|weeks?|heures?|h|minutes?|min|hours?|euros?|eur|"
    r"e|dollars?|months?|ans?|years?|\d)\b)"
)
_PAY_VERB = r"(?:pay\w*|paie\w*|paye\w*|regler|pagar|split\w*|divis\w*|fractionner|echelonner)"

_SPLIT_NUMBERED = (
    re.compile(
        rf"\b(?:en|sur) {_N} ?(?:fois|x|versements?|mensualites?|echeances?|mois|parties|"
        rf"tranches?|paiements?|prelevements?|traites?|cuotas?|plazos?|pagos?|veces)\b"
        + _NOT_TEMPORAL
    ),
    re.compile(
        rf"\b(?:in|into) {_N} (?:installments?|payments?|parts|monthly payments?|goes|chunks|"
        rf"times|pieces)\b"
    ),
    re.compile(rf"\bover {_N} (?:months|payments|installments)\b"),
    re.compile(
        rf"\b{_N} ?(?:fois sans frais|x sans frais|versements?|mensualites?|echeances?|traites?|"
        rf"tranches?|installments?|monthly payments?|cuotas?|plazos?|mensualidades?|"
        rf"prelevements?|ways|payments)\b"
    ),
    re.compile(r"\b(?P<n>\d{1,2}) ?x\b"),
    re.compile(r"\bx ?(?P<n>\d{1,2})\b"),
    re.compile(
        r"^(?:(?:ok|oui|yes|alors|bon|donc|finalement|plutot|je prends|je choisis|choix|option|"
        r"payer|pay|paye|paie|regler|je veux|je voudrais|i want|i ll take|let s do|lets do|"
        r"go for|je vais|s il vous plait|s il te plait|please|je paie|je paye|i ll pay|i will pay|"
        rf"pagar|en|sur) )*{_N} (?:fois|times|veces)\b" + _NOT_TEMPORAL
    ),
    re.compile(
        rf"\b{_PAY_VERB}(?: (?:it|this|that|the (?:payment|bill|invoice|amount)|le paiement|"
        rf"la facture|le montant|la somme|ca|le tout|moi))* (?:en|in|into|by) {_N}\b{_NOT_UNIT}"
    ),
    re.compile(rf"\b(?:split\w*|divis\w*|couper) (?:it |this |that )?{_N}\b{_NOT_UNIT}"),
)
_HALF = re.compile(
    r"\b(?:(?:la )?moitie (?:maintenant|now|ahora|tout de suite)|half now|half (?:and|&) half|"
    r"moitie moitie|(?:en )?deux moities|in (?:two )?halves)\b"
)
_SPLIT_VAGUE = re.compile(
    r"\b(?:en plusieurs fois|plusieurs (?:fois|versements|mensualites|echeances|paiements|"
    r"prelevements)|en plusieurs|echelonn\w*|etaler|etale|etalement|fractionn\w*|mensualis\w*|"
    r"facilites? de paiement|en combien de fois|combien de fois|split\w*|installments?|"
    r"payment plan|installment plan|in parts|partial payments?|pay in parts|paiements? partiels?"
    r"|a plazos|en cuotas|en varias veces|en varios pagos|petit a petit|petits? (?:paiements|"
    r"versements)|un peu chaque mois|chaque mois|tous les mois|par mois|per month|each month|"
    r"every month|monthly|a little at a time|bit by bit|en (?:\d|deux|trois|quatre) ou "
    r"(?:\d|deux|trois|quatre) fois)\b"
)
_ONE_GO = re.compile(
    r"\b(?:(?:en|in) (?:une|un|1|one) (?:seule )?(?:fois|x|versement|paiement|payment|go|shot|"
    r"installment)|une seule fois|comptant|en totalite|en entier|integralement|in full|"
    r"all at once|in one go|the (?:full|whole) (?:amount|thing)|en un solo pago|de una vez|"
    r"tout d un coup|en une fois|1 ?x|x ?1|tout payer|pay (?:it )?all|la totalite)\b"
)
_NOW = re.compile(
    r"\b(?:maintenant|tout de suite|de suite|immediatement|direct|directement|aujourd hui|"
    r"right now|right away|now|immediately|asap|today|straight away|ahora(?: mismo)?|"
    r"enseguida|hoy|des maintenant|illico|sur le champ|par carte(?: bancaire| bleue)?|par cb|"
    r"avec (?:ma )?(?:carte|cb)|by card|with (?:my )?card|(?:le|un|the|a|votre|your|ce|this)"
    r" (?:lien|link)|payment link|lien de paiement|checkout|pour l instant|pour le moment|"
    r"en ce moment|for now|at the moment|por ahora|cette fois)\b"
)
_PAY = re.compile(
    r"\b(?:payer|paye|payes|payez|payons|paie|paies|paient|regler|reglez|je regle|pay|paying|"
    r"pagar|pago|paiement|payment|virement|transfer|bank transfer|regle)\b"
)
_FUTURE_PAY = re.compile(
    r"\b(?:paierai|payerai|paierais|payerais|reglerai|reglerais|paierons|payerons|pagare|"
    r"virerai|ferai le (?:virement|paiement)|rembourserai)\b"
)
_LATER = re.compile(
    r"\b(?:plus tard|(?<!trop )tard|later|mas tarde|luego|despues|ulterieurement|apres|after|"
    r"attendre|attendez|attends|patienter|patientez|wait|delai|un delai|extension|reporter|"
    r"repousser|decaler|differer|postpone|delay|push (?:it )?back|more time|plus de temps|"
    r"un peu de temps|du temps|some time|quelques jours|a few days|few days|quand j aurai|"
    r"quand je (?:toucherai|recevrai|serai|pourrai|peux|touche|recois|suis)|des que (?:je|j)|"
    r"when i (?:get|have|can|receive)|once i (?:get|have)|une fois que|payday|jour de paie|"
    r"(?:ma|la|mon) (?:paie|paye|salaire)|my (?:salary|paycheck|wages)|paycheck|get paid|"
    r"cet aprem|cet apres midi|tout a l heure|this afternoon|later today|cette semaine|"
    r"dans la semaine|this week|esta semana|mas adelante|cuando cobre|sometime|un de ces jours|"
    r"prochainement|bientot|soon)\b"
)
_LATER_INHERENT = re.compile(
    r"\b(?:pas les moyens|pas l argent|pas d argent|pas de sous|pas un sou|pas assez|"
    r"plus d argent|plus un rond|pas un rond|fauche\w*|a sec|broke|no money|no cash|"
    r"short on (?:money|cash)|tight this month|(?:dont|do not) have (?:the |any |enough )?"
    r"(?:money|cash|funds)|n ai pas (?:l |d |assez d )?argent|no tengo (?:dinero|plata)|"
    r"sin dinero|pas encore (?:recu|touche|eu) (?:ma|mon|la|le) (?:paie|paye|salaire|virement)|"
    r"pas ce mois ci|not this month|short this month|(?:un peu )?juste ce mois ci|un peu juste|"
    r"(?:un peu )?serre ce mois ci|difficile ce mois ci|a bit short|tight this month|"
    r"c est (?:complique|difficile|dur|chaud|tendu)|pas facile en ce moment)\b"
)
_INABILITY = re.compile(
    r"\b(?:(?:je |j )?(?:ne )?(?:peux|peut|pourrai|pourrais) pas|cant|unable|impossible|"
    r"pas possible|not possible|no puedo|(?:je )?n y arrive pas|j y arrive pas)\b"
)
_POST_NEGATION = re.compile(
    r"^(?: \w+){0,2}? (?:c est |ce n est |c |ca |that s |it s )?(?:pas possible|impossible|"
    r"pas pour moi|(?:je |j )?(?:ne )?(?:peux|peut|pourrai|pourrais|vais) pas|i cant|cant|"
    r"not possible|no puedo|no es posible)\b"
)
_FRENCH_POST_NEGATION = re.compile(r" (?:pas|jamais|rien|point|plus(?! (?:tard|tot|de|d)\b))\b")
#: "Pas avant vendredi" / "not until Friday": the negation is about *before*, the date stands.
_UNTIL = frozenset({"avant", "before", "until", "till", "jusqu", "hasta", "antes"})
_AUXILIARIES = frozenset({"ai", "avons", "avez", "ont", "ve", "have", "has", "had", "ete", "as"})
_POSSESSIVES = frozenset({"ma", "ta", "sa", "la", "de", "une", "votre", "notre", "leur", "mon"})
_NEGATION_WINDOW = 5


def decide(
    clauses: tuple[str, ...], *, language: str, today: dt.date
) -> Signal | None:
    """The payment decision of a whole message, or None if it says nothing about paying."""
    segments: list[list[Signal]] = []
    for piece, new_segment in _pieces(clauses):
        if new_segment or not segments:
            segments.append([])
        segments[-1].extend(_signals(piece, language=language, today=today))
    results = [best for best in map(_best, segments) if best is not None]
    if not results:
        return None
    last = results[-1]
    if last.decision is Decision.LATER_DERIVED:
        # "En 3 fois, mais pas maintenant": a split that starts later is still a split.
        earlier_split = [r for r in results[:-1] if r.decision is Decision.SPLIT]
        if earlier_split:
            return earlier_split[-1]
    return last


def _pieces(clauses: tuple[str, ...]) -> list[tuple[str, bool]]:
    pieces: list[tuple[str, bool]] = []
    for raw in clauses:
        clause = NO_PROBLEM.sub("ok", NEGATION_IDIOMS.sub("neg", raw))
        cuts = [m.start() for m in CHANGE_OF_MIND.finditer(clause) if m.start() > 0]
        for begin, end in itertools.pairwise([0, *cuts, len(clause)]):
            piece = clause[begin:end].strip()
            if piece:
                pieces.append((piece, CHANGE_OF_MIND.match(piece) is not None))
    return pieces


def _best(signals: list[Signal]) -> Signal | None:
    if not signals:
        return None
    top = max(s.decision for s in signals)
    ranked = sorted((s for s in signals if s.decision is top), key=lambda s: s.start)
    if top is Decision.SPLIT:
        with_parts = [s for s in ranked if s.parts is not None]
        return with_parts[0] if with_parts else ranked[0]
    if top is Decision.LATER:
        dated = [s for s in ranked if s.date is not None]
        return dated[0] if dated else ranked[0]
    return ranked[0]


def _signals(piece: str, *, language: str, today: dt.date) -> list[Signal]:
    tokens = piece.split()
    starts = _token_starts(piece)
    signals: list[Signal] = []
    if NO_START.match(piece):
        signals.append(Signal(Decision.REFUSAL, 0))
    signals.extend(_split_signals(piece, tokens, starts))
    for regex, plain in ((_NOW, Decision.NOW_STRONG), (_ONE_GO, Decision.NOW_STRONG)):
        for m in regex.finditer(piece):
            negation = _negation(piece, tokens, starts, m.start(), m.end())
            if negation is None:
                signals.append(Signal(plain, m.start()))
            elif regex is _ONE_GO:
                signals.append(Signal(Decision.SPLIT, m.start()))  # "pas en une fois"
            else:
                signals.append(Signal(Decision.LATER_DERIVED, m.start()))
    signals.extend(_verb_signals(piece, tokens, starts))
    signals.extend(_later_signals(piece, tokens, starts))
    signals.extend(_date_signals(piece, tokens, starts, language=language, today=today))
    return signals


def _split_signals(piece: str, tokens: list[str], starts: list[int]) -> list[Signal]:
    signals: list[Signal] = []
    for regex in _SPLIT_NUMBERED:
        for m in regex.finditer(piece):
            parts = _number(m.group("n"))
            if parts is None or parts == 0:
                continue
            negated = _negation(piece, tokens, starts, m.start(), m.end()) is not None
            if parts == 1:  # "en 1 fois" is paying in full
                decision = Decision.SPLIT if negated else Decision.NOW_STRONG
                signals.append(Signal(decision, m.start()))
            else:
                decision = Decision.REFUSAL if negated else Decision.SPLIT
                signals.append(Signal(decision, m.start(), parts=parts))
    for m in _HALF.finditer(piece):
        negated = _negation(piece, tokens, starts, m.start(), m.end()) is not None
        signals.append(Signal(Decision.REFUSAL if negated else Decision.SPLIT, m.start(), parts=2))
    for m in _SPLIT_VAGUE.finditer(piece):
        negated = _negation(piece, tokens, starts, m.start(), m.end()) is not None
        signals.append(Signal(Decision.REFUSAL if negated else Decision.SPLIT, m.start()))
    return signals


def _verb_signals(piece: str, tokens: list[str], starts: list[int]) -> list[Signal]:
    signals: list[Signal] = []
    for regex, plain in ((_PAY, Decision.NOW_WEAK), (_FUTURE_PAY, Decision.LATER)):
        for m in regex.finditer(piece):
            index = _token_index(starts, m.start())
            previous = tokens[max(0, index - 3):index]
            if any(word in _AUXILIARIES for word in previous):
                continue  # "j'ai (pas encore) payé" is about the past, not a decision
            if m.group() in ("paie", "paye") and previous and previous[-1] in _POSSESSIVES:
                continue  # "ma paie" is a salary
            negation = _negation(piece, tokens, starts, m.start(), m.end(), verb=True)
            if negation is None:
                signals.append(Signal(plain, m.start()))
            else:
                decision = Decision.LATER_DERIVED if negation else Decision.REFUSAL
                signals.append(Signal(decision, m.start()))
    return signals


def _later_signals(piece: str, tokens: list[str], starts: list[int]) -> list[Signal]:
    signals = [Signal(Decision.LATER, m.start()) for m in _LATER_INHERENT.finditer(piece)]
    signals += [Signal(Decision.LATER_DERIVED, m.start()) for m in _INABILITY.finditer(piece)]
    for m in _LATER.finditer(piece):
        if _negation(piece, tokens, starts, m.start(), m.end(), until_cancels=True) is None:
            signals.append(Signal(Decision.LATER, m.start()))
    return signals


def _date_signals(
    piece: str, tokens: list[str], starts: list[int], *, language: str, today: dt.date
) -> list[Signal]:
    signals: list[Signal] = []
    for found in find_dates(piece, language=language, today=today):
        negation = _negation(piece, tokens, starts, found.start, found.end, until_cancels=True)
        if negation is None:
            signals.append(Signal(Decision.LATER, found.start, date=found))
    return signals


def _negation(
    piece: str,
    tokens: list[str],
    starts: list[int],
    start: int,
    end: int,
    *,
    until_cancels: bool = False,
    verb: bool = False,
) -> bool | None:
    """None if the trigger at ``piece[start:end]`` is not negated; else whether it is an
    inability ("je ne peux pas payer") rather than a refusal ("je ne veux pas payer").

    A *verb* trigger is also negated by the French "pas" that follows it: "je (ne) paierai pas".
    """
    if until_cancels and piece[start:end].split(maxsplit=1)[0] in _UNTIL:
        return None  # the phrase itself starts with "avant"/"until"
    index = _token_index(starts, start)
    window: list[str] = []
    for word in reversed(tokens[max(0, index - _NEGATION_WINDOW):index]):
        if word in SCOPE_BREAKERS or (until_cancels and word in _UNTIL):
            break
        window.append(word)
    trigger = piece[start:end].split(maxsplit=1)[0] if end > start else ""
    if any(_is_negator(word, window, i, trigger) for i, word in enumerate(window)):
        return any(word in INABILITY for word in window)
    if verb and _FRENCH_POST_NEGATION.match(piece, end):
        return any(word in INABILITY for word in window)
    if _POST_NEGATION.match(piece[end:]):
        return True
    return None


def _is_negator(word: str, window: list[str], i: int, trigger: str) -> bool:
    """Whether ``window[i]`` (words read right to left from *trigger*) negates it."""
    if word in NEGATORS:
        return True
    if word == "plus":  # "je ne peux plus payer", but not "plus tard"
        return any(w in ("ne", "n") for w in window[i + 1:])
    if word == "no":  # Spanish "no puedo pagar", English "no split"
        following = window[i - 1] if i > 0 else trigger
        english_noun = i == 0 and not trigger.isdigit() and trigger not in ("en", "in", "sur")
        return following in SPANISH_VERBS or english_noun
    return False


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _NUMBERS.get(word)


def _token_starts(piece: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(piece) if char == " ")
    return starts


def _token_index(starts: list[int], position: int) -> int:
    """Index of the token that starts at (or contains) *position*."""
    return max(0, bisect.bisect_right(starts, position) - 1)
