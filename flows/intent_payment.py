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
import dataclasses
import datetime as dt
import enum
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flows.dates import DateMatch, find_dates
from flows.intent_calendar import WEEKDAYS
from flows.intent_lexicon import (
    CHANGE_OF_MIND,
    INABILITY,
    NEGATORS,
    NO_START,
    SCOPE_BREAKERS,
    SPANISH_VERBS,
)
from flows.intent_triggers import (
    EARLIER_ONLY,
    FRENCH_POST_NEGATION,
    FUTURE_PAY,
    HALF,
    INABILITY_PHRASE,
    LATER,
    LATER_INHERENT,
    NOW,
    NUMBERS,
    ONE_GO,
    PAY,
    POST_NEGATION,
    PREFERRING,
    REJECTED,
    SPLIT_BARE,
    SPLIT_NUMBERED,
    SPLIT_VAGUE,
)
from flows.intent_words import lexicon

#: Words that make the "delay" / "attente" after them an apology for being late.
APOLOGY = re.compile(
    r"\b(?:sorry (?:for|about) (?:the |my )?|apologies for (?:the |my )?|"
    r"desolee? (?:du|pour le|pour ce) |pardon pour (?:le|ce) |excusez (?:moi )?(?:du|pour le) |"
    r"perdon por (?:el|la) )$"
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
    """One payment signal; *start* orders signals in reading order within a segment."""

    decision: Decision
    start: int
    parts: int | None = None
    date: DateMatch | None = None
    #: A date said in the same piece as a word about paying ("je règle vendredi").
    anchored: bool = False
    #: A date marked as the one preferred ("mardi ou mercredi, mercredi plutôt").
    preferred: bool = False
    #: A date in the same clause as a pay verb ("I'm away this weekend, I'll pay on Monday":
    #: Monday), which wins over one anchored only by a reason to wait.
    with_pay_verb: bool = False
    #: A refusal of instalments only ("pas en 3 fois", "no a plazos"), not of paying.
    of_split: bool = False
    #: A later said as money being short ("no llego a fin de mes"): a reason, beside a split.
    short_of_money: bool = False
    #: A date told of the customer being away ("je pars en vacances demain", "c'est Noël"):
    #: beside a payment now, the reason for it.
    away: bool = False


_AFTER = frozenset({"after", "apres", "despues"})
_UNTIL = frozenset({"avant", "avt", "before", "until", "till", "til", "jusqu", "hasta", "antes"})
#: A wait said not to be needed ("no need to wait till friday", rewritten by `dropped_option` to
#: "pas wait till friday"): the date it names is dropped with it, whatever "till" says.
_DROPPED_WAIT = re.compile(
    # "rather than waiting till friday" (rewritten to "pas waiting till friday") too.
    r"\bpas (?:wait|waiting|delay|delaying|hold off|holding off|postpone|put it off|"
    r"putting it off|attendre|patienter)"
    r"(?: (?:till|until|til|for|jusqu a|jusqu au|jusqu|a|au))? (?:the |le |la )?$"
)
#: A wait asked "why" about ("pourquoi attendre ?", "why wait?"): none wanted.
_WHY_BEFORE = re.compile(r"\b(?:pourquoi|why|por que|para que) $")
#: Correcting words that, at the end of a clause, close what they correct ("Thursday instead").
_AFTERWORDS = frozenset({"instead", "rather", "actually", "plutot", "mejor"})
#: A weekday just before an afterword ("mercredi plutôt"): the day it prefers.
_DAY_BEFORE = re.compile(rf"\b(?:{'|'.join(WEEKDAYS)}) $")
_APOLOGY_OPENS = re.compile(r"(?:sorry|pardon)\b")
_APOLOGY_ONLY = re.compile(r"(?:sorry|pardon)(?: (?:mate|guys|folks|again))?")
# "je suis payé le 4" is a salary: a passive pay verb is not the customer paying.
_AUXILIARIES = frozenset(
    {"ai", "avons", "avez", "ont", "ve", "have", "has", "had", "ete", "as", "suis", "serai"}
)
_POSSESSIVES = frozenset({"ma", "ta", "sa", "la", "de", "une", "votre", "notre", "leur", "mon"})
#: "je réglerai tout d'un coup maintenant": a future pay verb that says when, and it is now.
_FUTURE_NOW = re.compile(
    r" (?:\w+ ){0,4}?(?:maintenant|tout de suite|de suite|immediatement|right now|right away|"
    r"now|immediately)\b"
)
_NEGATION_WINDOW = 5
#: Said right after a date, it picks that one among those named ("mercredi plutôt").
#: "…jeudi c férié… mardi alors", "tuesday then": the day settled on.
_PREFERRED = re.compile(
    r" (?:plutot|rather|instead|de preference|preferably|mejor)\b|"
    r" (?:alors|then|entonces)(?: \||$)|"
    # "mardi pas avant, j'ai ma paye lundi soir": the earliest day, the one promised.
    r" (?:pas avant|not before|no antes|at the earliest|au plus tot)\b"
)
#: A day put as a question ("Tuesday ok? Easter Monday the bank is shut"): the one proposed,
#: unless it is a bare day of the month another date places ("après Noël, le 26 ça irait ?").
#: A day proposed right after it ("vendredi ça vous va ?"); `PROPOSED` for the reader too.
PROPOSED = _PROPOSED = re.compile(
    r" (?:ok|okay|ca vous va|ca va|ca marche|ca vous irait|ca irait|is that ok|that ok|"
    r"c est bon|c bon|c est ok|ca vous convient|ca convient|is that fine|that fine|"
    r"alright|would that work|does that work|vale|te va|le va|os va|if that s ok|if thats ok|"
    r"if that works|if ok|if that s alright|si ca vous va|si c est ok|si ca va|si possible|"
    # "fin du mois ça ira": the day that will do.
    r"ca ira|ca ira tres bien|ca ira bien|that ll do|that will do|eso bastara)"
    r"(?: \||$)"
)
_DAY_OF_MONTH = re.compile(r"(?:le |the |el )?\d{1,2}(?:er|st|nd|rd|th)?")
_PREFERRED_BEFORE = re.compile(
    r"\b(?:disons|mettons|let s say|lets say|say|digamos|make it|plutot|rather|mejor|"
    r"de preference|preferably) $"
)
#: "lundi. ah non mardi, lundi j'ai le rdv…": a piece made of the "non" of a correction and
#: the day it names.
_CORRECTION_NON = re.compile(r"^non $")
#: "ma fille se marie samedi donc pas avant le 18": the earliest day is the one promised.
_NOT_BEFORE = frozenset({"pas", "not", "no"})
_BEFORE = frozenset({"avant", "before", "antes"})
#: "c'est pas avant juin", "it's not before June": when something else happens.
_IS = frozenset({"est", "c", "is", "s", "es", "sera", "will"})
#: A time said for the start of something ("en commençant le mois prochain", "starting in May").
_STARTING = re.compile(
    r"\b(?:en commencant|a partir d|a compter d|starting|start(?:ing)? (?:from|on|in)|"
    # "3 fois mais commencer le 1er mars", "can the first one be on friday".
    r"commencer|debuter|demarrer|(?:commence|start|begin) (?:le|la|au|a|en|on|the|in|from)|"
    r"(?:le|la) (?:premier|premiere|1er|1ere|1re) (?:\w+ )?(?:peut|pourrait|serait)|"
    r"(?:le|la) (?:premier|premiere|1ere|1re)\b(?! (?:jour|de|du|d|janvier|fevrier|mars|avril|"
    r"mai|juin|juillet|aout|septembre|octobre|novembre|decembre)\b)|"
    r"the first (?:\w+ )?(?:could|can|would)|"
    r"beginning|empezando|a partir del?)\b"
)
_DATE_ARTICLES = frozenset({"the", "le", "la", "l", "on", "by", "au", "pour", "for", "el"})
#: Words that start another thought inside a clause: a date before or after them is not
#: anchored by a payment said on the other side.
_CONSEQUENCE = re.compile(
    r"\b(?:donc|du coup|alors|so|because|car|parce que|puisque|vu que|par contre|as|since|"
    r"comme ca|bref|anyway|anyhow|en tout cas|asi que|por eso|porque|ya que)\b"
)


#: A number of instalments said alone to correct one said before ("three instalments. actually
#: no, two is fine", "c'est pas 3 fois c'est 2"): ends its piece, after a word that corrects.
_CORRECTED_COUNT = re.compile(
    r"(?:^|\b(?:c est|c|it s|make it|say|plutot|en fait|actually|non|no|neg|mais|but|enfin|"
    rf"{PREFERRING}|je voudrais|"
    r"mettez|mettons|faites|faisons|finalement|passer a|passe a|passons a|passer en|go to|"
    r"could we do|can we do|could we make it|can we make it|what about|how about|"
    r"ou mieux|mieux|or even|or better|rather|faire|on peut faire|"
    # "vous m'avez proposé 3 paiements, c possible en 6 plutôt ?": another count asked.
    r"possible|can it be|could it be|can you do|could you do|can you make it|could you make it|"
    # "10 payments? joking... 5 would be great": the count said in jest taken back.
    r"joking|kidding|je plaisante|je rigole|blague a part|"
    r"go up to|make that|stretch it to|stretch to|spread it over|spread over|extend it to|"
    r"do it over|do it in|make it over|"
    # "3 fois c'est trop lourd, vous pouvez monter à 6 ?": the count raised.
    r"monter a|monter jusqu a|aller jusqu a|etaler sur|subir a|subir hasta) )"
    # "ah non attendez 4", "non sérieux en 3": a word of hesitation before the count.
    r"(?:(?:attendez|attends|wait|pardon|euh|serieux|serieusement|seriously|sorry) )?"
    # "I'd rather do 5": the count done.
    r"(?:(?:do|go for|have) )?"
    r"(?:en |in )?"
    rf"(?P<n>\d{{1,2}}|{'|'.join(sorted(NUMBERS, key=len, reverse=True))})x?"
    r"(?: (?:is fine|is ok|will do|is enough|ca suffit|ca suffira|then|instead|plutot|alors|"
    r"though|"
    r"ca ira largement|ca suffira largement|largement|"
    r"ca ira|ira|ca va|svp|please|suffira|suffit|suffiront|suffisent|bastan|basta|"
    r"ideally|preferably|idealement|de preference|si possible|if possible|"
    r"fois|times|s il vous plait|s il te plait|merci|si c possible|si c est pas trop demander|"
    r"(?:ce sera|ca sera|ca ira|c est|it s|it ll be|will be) (?:\w+ ){0,2}(?:simple|mieux|facile|"
    r"vite|easier|better|simpler|quicker)|"
    r"veces|x|instal+ments?|payments?|mensualites|echeances|would be (?:ideal|best|better|great)|"
    r"(?:ce|ca|c) serait (?:mieux|ideal|parfait|top|bien|super|genial|cool)|"
    r"si vous (?:acceptez|voulez|pouvez)|si c est possible|(?:pour|pr) moi|"
    r"si c est pareil pour vous|si ca vous va|si ca vous convient|"
    r"sinon (?:je|j|on|c|ca)(?: \w+){0,5}|otherwise(?: \w+){0,5}|"
    r"si possible|"
    r"if possible|if you (?:can|accept|agree)|"
    r"if (?:that s|thats|it s|its) (?:ok|okay|alright|fine|all right|possible|doable)|if ok|"
    r"if that works))*$"
)
#: A count of payments named ("4 fois c'est possible ?"); `COUNT_NAMED` for the reader too.
COUNT_NAMED = _COUNT_NAMED = re.compile(
    rf"\b(?:\d{{1,2}}|{'|'.join(sorted(NUMBERS, key=len, reverse=True))}) "
    r"(?:fois|times|veces|instal+ments?|payments|paiements|versements|mensualites|echeances|"
    r"plazos|cuotas)\b"
)
#: A count refused alone ("pas 3", "not 3"): what follows may correct it ("mettez 4 fois").
_COUNT_REFUSED = re.compile(
    r"(?:non |no )?(?:pas|not|neg) (?:en |in )?"
    rf"(?:\d{{1,2}}|{'|'.join(sorted(NUMBERS, key=len, reverse=True))})"
    r"(?: (?:fois|times|x|payments|instal+ments))?"
)
_MAX_CORRECTED = 12  # "en 2 fois, 50": an amount, not fifty instalments


def decide(clauses: tuple[str, ...], *, language: str, today: dt.date) -> Signal | None:
    """The payment decision of a whole message, or None if it says nothing about paying."""
    segments, begins, signal = _decision(clauses, language=language, today=today)
    if signal is None or signal.decision is not Decision.SPLIT or any(begins):
        return signal
    return _with_rest_day(signal, [s for segment in segments for s in segment])


def _with_rest_day(split: Signal, said: list[Signal]) -> Signal:
    """A split in two the customer shapes ("50 maintenant et le reste vendredi", "half now,
    half at the end of the month"): something paid now and one day named, which is the day
    of the rest. Not a split that starts on a day ("en 3 fois à partir du 5": `decide` leaves
    those), nor one with two days or more."""
    if split.parts not in (None, 2) or not any(s.decision is Decision.NOW_STRONG for s in said):
        return split
    days = {s.date.day: s.date for s in said if s.date is not None}
    if len(days) != 1:
        return split
    [rest] = days.values()
    return dataclasses.replace(split, parts=2, date=rest)


def _decision(
    clauses: tuple[str, ...], *, language: str, today: dt.date
) -> tuple[list[list[Signal]], list[bool], Signal | None]:
    """The segments' signals, whether each says when something starts, and the decision."""
    segments: list[list[Signal]] = []
    apologies: list[bool] = []  # per segment: opened by "sorry" / "pardon"
    begins: list[bool] = []  # per segment: says when something starts ("en commençant")
    offset = 0  # signal positions are made message-wide, so reading order holds across pieces
    read: list[str] = []  # the pieces read, joined by one space: the text offsets count in
    counted = False  # a number of instalments was named (chosen or refused) before
    correction: Signal | None = None
    named: dt.date | None = None  # the last day named so far, for "le lendemain"
    said_alone: dt.date | None = None  # the last day said alone ("lundi."), to take back
    turned_down: dt.date | None = None  # that day turned down ("ah non mardi je suis à Lyon")
    for piece, new_segment in _pieces(clauses):
        if new_segment or not segments:
            segments.append([])
            apologies.append(_APOLOGY_OPENS.match(piece) is not None)
            begins.append(False)
        begins[-1] = begins[-1] or _STARTING.search(piece) is not None
        found = _signals(
            piece,
            language=language,
            today=today,
            previous=named,
            taken_back=said_alone,
            turned_down=turned_down,
        )
        named = next((s.date.day for s in reversed(found) if s.date is not None), named)
        turned_down = _turned_down(piece, found, said_alone, turned_down)
        said_alone = _day_said_alone(piece, found, said_alone)
        segments[-1].extend(dataclasses.replace(s, start=s.start + offset) for s in found)
        count = _CORRECTED_COUNT.search(piece)
        if count is not None and (
            counted
            or any(s.parts is not None and s.start < count.start() for s in found)
            or _COUNT_NAMED.search(piece, 0, count.start()) is not None
        ):
            parts = _number(count.group("n"))
            if parts is not None and 2 <= parts <= _MAX_CORRECTED:
                correction = Signal(Decision.SPLIT, offset + count.start("n"), parts=parts)
        counted = (
            counted
            or any(s.parts is not None for s in found)
            or _COUNT_REFUSED.fullmatch(piece) is not None
            or _COUNT_NAMED.search(piece) is not None  # "j'avais dit 4 fois"
            or any(s.decision is Decision.SPLIT for s in found)  # "pas tout d'un coup, en 3 ?"
        )
        offset += len(piece) + 1
        read.append(piece)
    segments = [_days_as_reason(" ".join(read), segment) for segment in segments]
    ranked = [(best, sorry) for best, sorry in zip(map(_best, segments), apologies, strict=True)]
    results = [best for best, _ in ranked if best is not None]
    starting = [begin for (best, _), begin in zip(ranked, begins, strict=True) if best is not None]
    if not results:
        return segments, begins, correction
    last = results[-1]
    last_sorry = next(sorry for best, sorry in reversed(ranked) if best is not None)
    last_said = [seg for seg, (best, _) in zip(segments, ranked, strict=True) if best][-1]
    only_short = all(s.short_of_money for s in last_said if s.decision is Decision.LATER)
    if (last_sorry or only_short) and last.decision is Decision.LATER and last.date is None:
        # "I can't pay before Friday, sorry, payday": an apology with a reason keeps the day;
        # so does money short said after it ("pago el viernes, hasta entonces no cobro").
        dated = [r for r in results[:-1] if r.decision is Decision.LATER and r.date is not None]
        if dated:
            return segments, begins, dated[-1]
    # "2 fois. ah non mettez 3, noël arrive et je suis à sec": money short said after the
    # count corrected is why, not a wait.
    reason_last = last.decision is Decision.LATER and last.date is None and last.short_of_money
    if correction is not None and (correction.start >= last.start or reason_last):
        return segments, begins, correction
    whole = _whole_kept(segments, results)
    if whole is not None:
        return segments, begins, whole
    said = " | ".join(clauses)
    paid_now = _paid_now_beside(segments, last, said)
    # "je règle 45 maintenant, le reste le 4": the day of the rest is said of a payment. Read
    # only here: most messages never get this far, and the split's reading reads it again.
    if paid_now is not None and not lexicon().pattern("split_rest").search(said):
        return segments, begins, paid_now
    starts_later = last.decision is Decision.LATER and (
        starting[results.index(last)] or last.short_of_money
    )
    return segments, begins, _split_kept(results, starts_later=starts_later, said=said)


def _split_kept(results: list[Signal], *, starts_later: bool, said: str) -> Signal:
    """The last decision, unless it only says when a split named before starts: "En 3 fois,
    mais pas maintenant", "3 fois mais en commençant le mois prochain", "Dividido en 3 por
    favor, no llego a fin de mes" (a split that starts later, or that money is short), "en 3
    fois mais je paie la première aujourd'hui" (the first instalment now) are still a split."""
    last = results[-1]
    first_now = last.decision in (Decision.NOW_STRONG, Decision.NOW_WEAK) and bool(
        _FIRST_PART.search(said)
    )
    if last.decision is Decision.LATER_DERIVED or starts_later or first_now:
        earlier_split = [r for r in results[:-1] if r.decision is Decision.SPLIT]
        if earlier_split:
            return earlier_split[-1]
    return last


#: The first instalment named ("la première", "the first one").
_FIRST_PART = re.compile(
    r"\b(?:la premiere|le premier|la 1ere|la 1re|le 1er|the first(?: one| instal+ment| payment)?|"
    r"la primera|el primero)\b"
)


def _whole_kept(segments: list[list[Signal]], results: list[Signal]) -> Signal | None:
    """ "je vais payer maintenant en fait, oubliez le paiement en 3 fois", "quiero pagar ya,
    no a plazos": a last segment that only refuses instalments keeps paying now in full."""
    said = [s for s in segments[-1] if s.decision is not Decision.REFUSAL or s.of_split]
    if not any(s.of_split for s in segments[-1]) or any(not s.of_split for s in said):
        return None
    now = [r for r in results[:-1] if r.decision is Decision.NOW_STRONG]
    return now[-1] if now else None


def _without(phrases: re.Pattern[str], text: str, *, keep_if_empty: bool = True) -> str:
    """*text* without *phrases*, single-spaced (token offsets count one space); *text* itself
    when nothing else is left, unless not *keep_if_empty*."""
    rest = " ".join(phrases.sub(" ", text).split())
    return rest or (text if keep_if_empty else rest)


#: What may follow a closing "instead" ("make it 6 instead please, 3 is too much").
_POLITE_ONLY = re.compile(r"(?: (?:please|pls|svp|s il vous plait|thanks|merci|por favor))*\s*")


def _pieces(clauses: tuple[str, ...]) -> list[tuple[str, bool]]:
    pieces: list[tuple[str, bool]] = []
    for raw in clauses:
        # "maintenant plutôt que plus tard": what follows is rejected, not chosen.
        kept = REJECTED.sub("", raw).strip() or raw
        words = lexicon()
        dropped = words.pattern("dropped_option").sub("pas", kept)
        dropped = words.pattern("not_now").sub("pas maintenant", dropped)
        # "the boiler works perfectly now": the state of a repair, no payment now.
        dropped = _without(words.pattern("now_of_state"), dropped)
        idioms = words.pattern("negation_idioms").sub("neg", dropped)
        polite = words.pattern("no_problem").sub("ok", idioms)
        # "on the train with no signal": a "no" that refuses nothing opens no refusal.
        # A clause that is only that ("…than split it, no stress") says nothing either.
        clause = _without(
            words.pattern("no_word_defused"), polite, keep_if_empty=len(clauses) == 1
        )
        # "jveux payer mais g pas reçu de lien": a link not received refuses nothing.
        clause = _without(words.pattern("link_missing"), clause)
        # "votre bouton PLUS TARD s'est déclenché tout seul": an option named, not chosen.
        clause = _without(words.pattern("option_misfired"), clause, keep_if_empty=False)
        # "could I pay on Thursday instead": a correcting word that ends its clause closes
        # what it corrects; it opens nothing.
        cuts = [
            m.start()
            for m in CHANGE_OF_MIND.finditer(clause)
            if m.start() > 0
            and (not _POLITE_ONLY.fullmatch(clause[m.end() :]) or m.group() not in _AFTERWORDS)
            # "mercredi plutôt pour la leçon": the day preferred, then what is paid.
            and not (m.group() in _AFTERWORDS and _DAY_BEFORE.search(clause, 0, m.start()))
        ]
        for begin, end in itertools.pairwise([0, *cuts, len(clause)]):
            piece = clause[begin:end].strip()
            if not piece:
                continue
            # "can't do it till thursday sorry, the insurance came out today": an apology that
            # closes a clause excuses what was said; it does not take it back.
            closing = begin > 0 and end == len(clause) and _APOLOGY_ONLY.fullmatch(piece)
            pieces.append((piece, CHANGE_OF_MIND.match(piece) is not None and not closing))
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
        # "Je bosse jusqu'à jeudi, je règle vendredi": the date next to the pay verb.
        dated = sorted(
            (s for s in ranked if s.date is not None),
            key=lambda s: (not s.preferred, not s.anchored, not s.with_pay_verb),
        )
        return dated[0] if dated else ranked[0]
    return ranked[0]


def _days_as_reason(text: str, signals: list[Signal]) -> list[Signal]:
    """ "je suis chez ma mère jeudi et vendredi sans réseau, donc je règle maintenant": days
    told with no pay verb, before the last "donc" (a result, not a "car") that a payment now
    follows, are why the customer pays now, across the message's clauses (money short on a
    day too). Not the day of the rest of a split ("le reste vendredi, donc la moitié tout de
    suite")."""
    if lexicon().pattern("rest_of_it").search(text):
        return signals
    results = reversed(list(lexicon().pattern("result_said").finditer(text)))
    return _reasons_before_paying_now(results, signals, _told_as_why)


def _told_as_why(signal: Signal) -> bool:
    """Money short on a day, or a day named with no pay verb of its own."""
    return signal.short_of_money or (
        signal.decision is Decision.LATER and signal.date is not None and not signal.with_pay_verb
    )


def _shortage_as_reason(piece: str, signals: list[Signal]) -> list[Signal]:
    """ "J'ai pas d'argent vendredi donc autant payer maintenant": money short later is why
    the customer pays now ("donc", "so"), not a wait asked for."""
    return _reasons_before_paying_now(
        _CONSEQUENCE.finditer(piece), signals, lambda s: s.short_of_money
    )


def _reasons_before_paying_now(
    markers: Iterable[re.Match[str]], signals: list[Signal], is_reason: Callable[[Signal], bool]
) -> list[Signal]:
    """*signals* without the reasons said before the first of *markers* that a payment now
    follows."""
    for m in markers:
        if any(s.decision is Decision.NOW_STRONG and s.start > m.start() for s in signals):
            return [s for s in signals if not (is_reason(s) and s.start < m.start())]
    return signals


#: The link named as a "now" trigger (`NOW`): negated, it is missing (wanted), not put off.
_LINK_WORDS = frozenset({"lien", "link", "enlace"})
#: A pay or use verb before the link: the link turned down as the way to pay.
_LINK_USE = re.compile(r"\b(?:pay\w*|pa[iy]e\w*|regl\w*|pagar\w*|use|using|utilis\w*|usar)\b")


def _signals(
    piece: str,
    *,
    language: str,
    today: dt.date,
    previous: dt.date | None = None,
    taken_back: dt.date | None = None,
    turned_down: dt.date | None = None,
) -> list[Signal]:
    tokens = piece.split()
    starts = _token_starts(piece)
    signals: list[Signal] = []
    if NO_START.match(piece):
        signals.append(Signal(Decision.REFUSAL, 0))
    signals.extend(_split_signals(piece, tokens, starts))
    for regex, plain in ((NOW, Decision.NOW_STRONG), (ONE_GO, Decision.NOW_STRONG)):
        for m in regex.finditer(piece):
            negation = _negation(piece, tokens, starts, m.start(), m.end())
            if negation is None:
                signals.append(Signal(plain, m.start()))
            elif regex is ONE_GO:
                signals.append(Signal(Decision.SPLIT, m.start()))  # "pas en une fois"
            elif m.group().split()[-1] in _LINK_WORDS and not _LINK_USE.search(
                piece, 0, m.start()
            ):
                # "the message doesn't show a link": the link missing, wanted; not "not now"
                # (but "I won't pay through the link" turns the link down).
                signals.append(Signal(Decision.NOW_WEAK, m.start()))
            else:
                signals.append(Signal(Decision.LATER_DERIVED, m.start()))
    signals.extend(_verb_signals(piece, tokens, starts))
    signals.extend(_later_signals(piece, tokens, starts))
    signals = _shortage_as_reason(piece, signals)
    dates = _date_signals(
        piece,
        tokens,
        starts,
        language=language,
        today=today,
        previous=previous,
        taken_back=taken_back,
        turned_down=turned_down,
    )
    # A date is anchored by something about paying in its part of the piece: "je suis chez ma
    # sœur vendredi donc je paie maintenant" names Friday beside the payment, not for it.
    bounds = [0, *(m.start() for m in _CONSEQUENCE.finditer(piece)), len(piece) + 1]
    # Where "donc" / "so" sets a part apart, its days are the reason ("au boulot vendredi et
    # samedi donc je règle tout de suite"): they do not anchor each other. Elsewhere a day
    # next to another is said of a payment too ("20 ce soir et le reste le 5").
    about_paying = signals.copy() if len(bounds) > 2 else signals
    for date in dates:
        part = bisect.bisect_right(bounds, date.start)
        low, high = bounds[part - 1], bounds[min(part, len(bounds) - 1)]
        end = date.date.end if date.date is not None else date.start
        around = (piece[low : date.start] + piece[end:high]).split()
        # "so the 31st", "vendredi": a day said alone is said of the payment.
        alone = all(_CONSEQUENCE.fullmatch(w) or w in _DATE_ARTICLES for w in around)
        # "je suis au chômage cet été": the money short before the day says how long it
        # lasts, not when to pay.
        anchors = [s for s in about_paying if not (s.short_of_money and s.start < date.start)]
        away = _ends_with(piece, date.start, "away_on_day") or _of_a_service(piece, date)
        anchored = not (away or _of_an_event(piece, date.start)) and (
            alone or any(low <= s.start < high for s in anchors)
        )
        # The clause, and the side of a "donc" the day is on: "j'ai ma paye fin août donc je
        # règle le 1er septembre" pays on the day said with the verb, the income day its reason.
        clause_low = max(piece.rfind("|", 0, date.start) + 1, low)
        bar = piece.find("|", date.start)
        clause_high = min(len(piece) if bar < 0 else bar, high)
        verb = any(
            s.decision is Decision.NOW_WEAK and clause_low <= s.start < clause_high
            for s in about_paying
        )
        signals.append(dataclasses.replace(date, anchored=anchored, with_pay_verb=verb, away=away))
    return signals


def _forgotten_on(piece: str, start: int) -> bool:
    """Whether the day at *start* is when the payment would be forgotten ("de l'oublier
    jeudi", "so I don't forget it on Thursday")."""
    before = piece[:start].rstrip()
    ends = [m.end() for m in lexicon().pattern("forgotten_on").finditer(before)]
    return bool(ends) and ends[-1] == len(before)


def _of_an_event(piece: str, start: int) -> bool:
    """Whether the day at *start* names an event ("le cours de samedi", "the lesson on
    Saturday"): said of the event, never of a payment."""
    return _ends_with(piece, start, "event_of_day")


#: An English possessive after a weekday ("saturday s lesson"); not "s il vous plaît".
_POSSESSIVE = re.compile(r" s (?!il\b)")


def _of_a_service(piece: str, date: Signal) -> bool:
    """Whether the weekday of *date* names the service paid for ("comment je vous règle la note
    du resto de samedi ?", "the dinner from Saturday"): what the bill is, not when it is paid,
    so a pay word said with it pays now, as beside a day told of being away."""
    found = date.date
    if found is None or found.text.split()[-1] not in WEEKDAYS:
        return False
    if _POSSESSIVE.match(piece, found.end):
        return True  # "How do I pay for Saturday's riding lesson?": the day's lesson
    # The weekday itself: the phrase may have taken the preposition ("from saturday").
    weekday_start = found.end - len(found.text.split()[-1])
    return _ends_with(piece, weekday_start, "service_of_day")


def _ends_with(piece: str, start: int, category: str) -> bool:
    """Whether a phrase of *category* ends right before *start* in *piece*."""
    before = piece[:start].rstrip()
    ends = [m.end() for m in lexicon().pattern(category).finditer(before)]
    return bool(ends) and ends[-1] == len(before)


def _paid_now_beside(segments: list[list[Signal]], later: Signal, text: str) -> Signal | None:
    """A payment now said beside a day named for something else ("je paie maintenant. par
    contre c'est à quelle heure la leçon de mercredi ?", "I'm at my sister's on friday so better
    get it done now"): the day is not a promise when nothing about paying is said with it, no
    later word is said at all, and a pay verb or the link asked for ("…so let's just do it now
    - link?") says the now is a payment."""
    if later.decision is not Decision.LATER or later.date is None or later.anchored:
        return None
    said = [s for segment in segments for s in segment]
    if any(s.decision is Decision.LATER and s.date is None for s in said):
        return None
    if any(s.decision in (Decision.LATER_DERIVED, Decision.REFUSAL) for s in said):
        return None
    weak = [s for s in said if s.decision is Decision.NOW_WEAK]
    if not weak and not _link_asked(text):
        return None
    now = [s for s in said if s.decision is Decision.NOW_STRONG]
    if now:
        return now[0]
    # "PAYER svp, je pars en vacances demain", "Bon allez je paie, c'est Noël": the pay word
    # said first, the day told of being away only why.
    first = [s for s in weak if s.start < later.start]
    return first[0] if later.away and first else None


def _link_asked(text: str) -> bool:
    """ "…on Friday so let's just do it now - link?": the link asked for, the day its reason
    (read only for the few messages that get this far)."""
    return bool(lexicon().pattern("payment_link").search(text) and _CONSEQUENCE.search(text))


#: Another count offered just before the one read ("3 or 4", "3 ou 4", "3 o 4").
_CHOICE_BEFORE = re.compile(
    rf"\b(?:\d{{1,2}}|{'|'.join(sorted(NUMBERS, key=len, reverse=True))})"
    r"(?: (?:fois|x|times|veces|payments|versements|paiements))? (?:or|ou|o) (?:en |in )?$"
)


#: Another count offered just after ("trois fois ou quatre", "3 payments or 4").
_CHOICE_AFTER = re.compile(
    rf" (?:or|ou|o) (?:en |in )?(?:\d{{1,2}}|{'|'.join(sorted(NUMBERS, key=len, reverse=True))})\b"
    r"(?! ?(?:h|heures?|hours?|jours?|days?|semaines?|weeks?|e|eur|euros?)\b)"
)


def _split_signals(piece: str, tokens: list[str], starts: list[int]) -> list[Signal]:
    signals: list[Signal] = []
    numbered: list[tuple[int, int]] = []
    for regex in SPLIT_NUMBERED:
        for m in regex.finditer(piece):
            parts = _number(m.group("n"))
            if parts is None or parts == 0:
                continue
            if any(start <= m.start() < end for start, end in numbered):
                continue  # "tres plazos" inside "en tres plazos": one count, negated as a whole
            numbered.append((m.start(), m.end()))
            negated = (
                _negation(piece, tokens, starts, m.start(), m.end()) is not None
                or _declined_after(piece, m.end())
                or _declined_before(piece, m.start())
            )
            if (
                parts > 1
                and not negated
                and (
                    _CHOICE_BEFORE.search(piece[: m.start("n")])
                    or _CHOICE_AFTER.match(piece, m.end())
                )
            ):
                # "3 or 4 payments", "en 3 ou 4 fois": a split, the count not chosen yet.
                signals.append(Signal(Decision.SPLIT, m.start()))
                continue
            if parts == 1:  # "en 1 fois" is paying in full
                decision = Decision.SPLIT if negated else Decision.NOW_STRONG
                signals.append(Signal(decision, m.start()))
            else:
                decision = Decision.REFUSAL if negated else Decision.SPLIT
                signals.append(Signal(decision, m.start(), parts=parts, of_split=negated))
    bare = SPLIT_BARE.match(piece)
    if bare:  # "non pas en 3 fois, en 4": the correction names the number alone
        parts = _number(bare.group("n"))
        if parts is not None and parts >= 2:
            signals.append(Signal(Decision.SPLIT, 0, parts=parts))
    for m in HALF.finditer(piece):
        negated = _negation(piece, tokens, starts, m.start(), m.end()) is not None
        decision = Decision.REFUSAL if negated else Decision.SPLIT
        signals.append(Signal(decision, m.start(), parts=2, of_split=negated))
    for m in SPLIT_VAGUE.finditer(piece):
        if any(start <= m.start() < end for start, end in numbered):
            continue  # "installments" in "in 3 installments": one trigger, negated as a whole
        negated = (
            _negation(piece, tokens, starts, m.start(), m.end()) is not None
            or _declined_before(piece, m.start())
            or _declined_after(piece, m.end())
        )
        decision = Decision.REFUSAL if negated else Decision.SPLIT
        signals.append(Signal(decision, m.start(), of_split=negated))
    return signals


#: Thanks for an offer of instalments, right before it ("non merci pour le 3x", "no thanks to
#: the instalment option").
_DECLINED_BEFORE = re.compile(
    r"\b(?:non|nan|no|nope|nah)(?: \|)? (?:merci|thanks|thank you|gracias) (?:pour|for|to|por) "
    r"(?:(?:le|la|les|l|the|votre|your|vos|el|la) )?(?:(?:paiement|payment|option|offre|offer|"
    r"proposition|propuesta|pago|facilite|facilites|possibilite|de|du|of) ){0,3}(?:(?:en|in) )?$"
)


#: What is preferred to instalments, right before them ("rather pay it all today than faff
#: about with instalments", "tout de suite plutôt que de payer en plusieurs fois").
_PREFERRED_TO = re.compile(
    r"\b(?:than|plutot que|plutot qu|au lieu de|au lieu d|en vez de|en lugar de)"
    r"(?: (?:de|d|to|with|about|around|the|le|la|les|l|un|une|a|los|las|el))*"
    r"(?: (?:faff\w*|mess\w*|muck\w*|bother\w*|fiddl\w*|drag\w*|do|doing|go|going|payer|regler|"
    r"passer|pagar|hacer|paying|splitting|spreading))?"
    r"(?: (?:de|d|to|with|about|around|the|le|la|les|l|un|une|a|los|las|el|by|in|en|par|por|"
    r"it out))* ?$"
)


def _declined_before(piece: str, start: int) -> bool:
    """Whether the count starting at *start* is thanked for and turned down right before it
    ("non merci pour le 3x, je préfère tout payer maintenant"), or put after what is preferred
    ("rather pay the lot today than faff about with instalments")."""
    return (
        _DECLINED_BEFORE.search(piece, 0, start) is not None
        or _PREFERRED_TO.search(piece, 0, start) is not None
    )


def _declined_after(piece: str, end: int) -> bool:
    """Whether the count ending at *end* is turned down right after it ("le 3x ça
    m'intéresse pas", "3 payments is not for me")."""
    return lexicon().pattern("split_declined").match(piece, end + 1) is not None


_PAYMENT_NOUNS = frozenset({"paiement", "payment", "pago"})
#: A split named after "paiement" / "payment" / "pago".
_SPLIT_NAMED_AFTER = re.compile(
    r" (?:en (?:\d+|deux|trois|quatre|plusieurs) (?:fois|mensualites|echeances)|plan|"
    r"in (?:\d+ |several |monthly )?instal+ments|en (?:\d+ )?(?:plazos|cuotas)|a plazos)\b"
)


def _verb_signals(piece: str, tokens: list[str], starts: list[int]) -> list[Signal]:
    signals: list[Signal] = []
    for regex, plain in ((PAY, Decision.NOW_WEAK), (FUTURE_PAY, Decision.LATER)):
        for m in regex.finditer(piece):
            index = _token_index(starts, m.start())
            previous = tokens[max(0, index - 3) : index]
            if any(word in _AUXILIARIES for word in previous):
                continue  # "j'ai (pas encore) payé" is about the past, not a decision
            if m.group() in ("paie", "paye") and previous and previous[-1] in _POSSESSIVES:
                continue  # "ma paie" is a salary
            if m.group() in _PAYMENT_NOUNS and _SPLIT_NAMED_AFTER.match(piece, m.end()):
                continue  # "le paiement en 3 fois": the split's name, its own signal
            negation = _negation(piece, tokens, starts, m.start(), m.end(), verb=True)
            if negation is None and plain is Decision.LATER and _FUTURE_NOW.match(piece, m.end()):
                signals.append(Signal(Decision.NOW_WEAK, m.start()))
            elif negation is None:
                signals.append(Signal(plain, m.start()))
            else:
                decision = Decision.LATER_DERIVED if negation else Decision.REFUSAL
                signals.append(Signal(decision, m.start()))
    return signals


def _later_signals(piece: str, tokens: list[str], starts: list[int]) -> list[Signal]:
    signals = [
        Signal(Decision.LATER, m.start(), short_of_money=True)
        for m in LATER_INHERENT.finditer(piece)
    ]
    for m in INABILITY_PHRASE.finditer(piece):  # "je peux pas": not now, whatever follows
        signals.append(Signal(Decision.LATER_DERIVED, m.start()))
    for m in LATER.finditer(piece):
        if _interjection(piece, tokens, starts, m.start(), m.end()):
            continue
        if APOLOGY.search(piece, 0, m.start()):
            continue  # "sorry for the delay", "désolé du retard": an apology, not a request
        if _DROPPED_WAIT.search(piece, 0, m.start()):
            continue  # "no need to wait till payday": the wait is what is dropped
        if _WHY_BEFORE.search(piece, 0, m.start()):
            continue  # "pk attendre ? je paie maintenant": why wait, so no wait
        if _gone_by(piece, m.group(), m.start()):
            continue  # "c'est moi qui t'ai appelé tout à l'heure": earlier today, not later
        if _negation(piece, tokens, starts, m.start(), m.end(), until_cancels=True) is None:
            signals.append(Signal(Decision.LATER, m.start()))
    return signals


#: A compound past right before ("t'ai appelé ", "suis passé "): "tout à l'heure" after it is
#: a moment gone by.
_PAST_JUST_BEFORE = re.compile(
    r"\b(?:ai|as|a|avons|avez|ont|suis|es|est|sommes|etes|sont) (?:\w+ )?"
    r"\w+(?:e|es|ee|ees|i|is|u|us|it)\s*$"
)


#: A simple past right before ("I returned them "): "the next day" after it is gone by. Not
#: "need", "feed" ("I need till the next day").
_SIMPLE_PAST_BEFORE = re.compile(r"\b\w*[^e\s]ed(?: \w+){0,2}\s*$")
#: Moments that are gone by when told after a past: "c'est moi qui t'ai appelé tout à
#: l'heure", "je les ai rendues le lendemain de la fête", "I returned them the next day".
_GONE_BY = {
    "tout a l heure": _PAST_JUST_BEFORE,
    "le lendemain": _PAST_JUST_BEFORE,
    "le jour d apres": _PAST_JUST_BEFORE,
    "le jour suivant": _PAST_JUST_BEFORE,
    "the next day": _SIMPLE_PAST_BEFORE,
    "the following day": _SIMPLE_PAST_BEFORE,
}


def _gone_by(piece: str, said: str, start: int) -> bool:
    """Whether the moment *said* at *start* follows a past (a moment gone by, not later)."""
    past = _GONE_BY.get(said)
    return past is not None and past.search(piece, 0, start) is not None


#: "attendez" / "wait" opening a correction ("non attendez, pas en 3 fois", "wait, I'll pay
#: now") asks the reader to hold on, not for time to pay.
HOLD_ON = frozenset({"attendez", "attends", "attend", "wait", "espera", "espere"})
_CORRECTION_OPENERS = frozenset(
    {"non", "no", "pas", "je", "j", "en", "finalement", "actually", "i", "c", "ah", "oh", "stop"}
)


def _interjection(piece: str, tokens: list[str], starts: list[int], start: int, end: int) -> bool:
    word = piece[start:end]
    if word not in HOLD_ON:
        return False
    index = _token_index(starts, start)
    if index == len(tokens) - 1 and lexicon().pattern("pay_ready").search(piece, 0, start):
        return True  # "je sors la cb attendez": the customer holds on while fetching the card
    if index > 1 or (index == 1 and tokens[0] not in ("non", "no", "oh", "ah", "euh", "hum")):
        return False
    following = tokens[index + 1 : index + 2]
    moment = lexicon().pattern("a_moment").match(" ".join(tokens[index + 1 : index + 3]))
    if moment and lexicon().pattern("pay_ready").search(piece, end):
        return True  # "attendez 2 sec je cherche ma cb": a moment to fetch the card
    return not following or following[0] in _CORRECTION_OPENERS


def _date_signals(
    piece: str,
    tokens: list[str],
    starts: list[int],
    *,
    language: str,
    today: dt.date,
    previous: dt.date | None = None,
    taken_back: dt.date | None = None,
    turned_down: dt.date | None = None,
) -> list[Signal]:
    signals: list[Signal] = []
    for found in _dates_in(piece, language=language, today=today, previous=previous):
        if _DROPPED_WAIT.search(piece, 0, found.start):
            continue
        if lexicon().pattern("day_hard").match(piece, found.end + 1):
            continue  # "I'll pay after payday, end of the week is tight": a reason, no promise
        if _gone_by(piece, found.text, found.start):
            continue  # "je t'ai appelé tout à l'heure": a moment gone by
        if _forgotten_on(piece, found.start):
            continue  # "je paie là, ça m'évitera de l'oublier jeudi": paid now, not then
        if _names_today(found, today) and _ends_with(piece, found.start, "today_named"):
            continue  # "on est le 3, mon salaire tombe le 10": the day it is today
        if found.text.split()[0] in _AFTER and _ends_with(piece, found.start, "short_after_day"):
            continue  # "bit skint after Christmas": when money is short, not when it is paid
        if found.text.split()[0] not in _UNTIL and _ends_with(
            piece, found.start, "reason_before_day"
        ):
            continue  # "a tight month with Christmas and all": why, not when ("tight till
            # the 28th" names the day the wait ends)
        if _SEASON.match(found.text) and _ends_with(piece, found.start, "event_of_season"):
            continue  # "les places du spectacle de fin d'année": the event's name, no day
        if _ends_with(piece, found.start, "departure_before_day"):
            continue  # "on part en vacances demain": the day the customer leaves
        if _ends_with(piece, found.start, "past_before_day") or lexicon().pattern(
            "day_praised"
        ).match(piece, found.end + 1):
            continue  # "the lads worked on Saturday", "Sunday's workshop was brilliant": gone by
        negation = _negation(piece, tokens, starts, found.start, found.end, until_cancels=True)
        if negation is None:
            proposed = _PROPOSED.match(piece, found.end) is not None
            preferred = (
                _PREFERRED.match(piece, found.end) is not None
                or (proposed and _DAY_OF_MONTH.fullmatch(found.text) is None)
                or _PREFERRED_BEFORE.search(piece, 0, found.start) is not None
                or _corrected_to(piece, found, taken_back)
                # "mardi. ah non mardi je suis à Lyon, mercredi prochain": the day after.
                or (turned_down is not None and found.day != turned_down)
                or _not_before(piece, found)
                # "ma paye tombe le 28, je règle le lendemain": the day named is the reason.
                or _DAY_AFTER.fullmatch(found.text) is not None
            )
            signals.append(Signal(Decision.LATER, found.start, date=found, preferred=preferred))
    return signals


#: A part of the year or a season, which names an event with the noun before it ("le spectacle
#: de fin d'année", "la colo de cet été").
_SEASON = re.compile(
    r"(?:fin|debut|end|start|final|fines|principios|(?:cet|l) (?:ete|hiver|automne)|"
    r"(?:ce|le) printemps)\b"
)

#: The day after the one named before ("ma paye tombe le 28, je règle le lendemain"); not "le
#: lendemain de Noël" nor "the day after tomorrow", which name their own day.
_DAY_AFTER = re.compile(
    r"\b(?:le lendemain|the (?:day|morning) after|the next day|the following day|"
    r"le jour (?:d apres|suivant)|al dia siguiente)\b(?! (?:de|d|du|of|tomorrow)\b)"
)


def _dates_in(
    piece: str, *, language: str, today: dt.date, previous: dt.date | None
) -> list[DateMatch]:
    """The piece's dates, with "le lendemain" read as the day after the last day named before
    it: in the piece, or else earlier in the message (*previous*)."""
    found = list(find_dates(piece, language=language, today=today))
    for m in _DAY_AFTER.finditer(piece):
        if any(f.start < m.end() and m.start() < f.end for f in found):
            continue
        before = [f.day for f in found if f.end <= m.start()]
        named = before[-1] if before else previous
        if named is not None:
            found.append(DateMatch(named + dt.timedelta(days=1), m.group(), m.start(), m.end()))
    return sorted(found, key=lambda match: match.start)


def _names_today(found: DateMatch, today: dt.date) -> bool:
    """Whether *found* is today's day of the month or weekday, read as its next occurrence
    ("on est le 3" said on the 3rd; "on est dimanche" on a Sunday): "quand on est le 5", said
    on the 18th, names the day to pay."""
    ahead = (found.day - today).days
    if not any(c.isdigit() for c in found.text) and any(w in WEEKDAYS for w in found.text.split()):
        return ahead == 7  # a weekday alone, said on that weekday, is read a week ahead
    # A day of the month said on that day is read a month ahead (28 days or more): never
    # "tonight" nor "demain", which are days ahead of today.
    return ahead > 0 and found.day.day == today.day


def _corrected_to(piece: str, found: DateMatch, taken_back: dt.date | None) -> bool:
    """ "lundi. ah non mardi": another day than the one just said alone, after the "non" that
    takes it back; "mercredi. ah non mercredi j'ai le dentiste" turns the same day down, and
    "le prélèvement était lundi. non mardi" corrects a day told, not a promise."""
    return (
        taken_back is not None
        and found.day != taken_back
        and _CORRECTION_NON.match(piece[: found.start]) is not None
    )


def _turned_down(
    piece: str, found: list[Signal], said_alone: dt.date | None, before: dt.date | None
) -> dt.date | None:
    """The day said alone that *piece* turns down with a reason ("mardi. ah non mardi je suis à
    Lyon"), so that another day named after it is the one promised; kept until a piece names
    a day."""
    days = [s.date for s in found if s.date is not None]
    if not days:
        return before
    first = days[0]
    turns_down = (
        first.day == said_alone
        and _CORRECTION_NON.match(piece[: first.start]) is not None
        and piece[first.end :].strip() != ""
    )
    return said_alone if turns_down and len(days) == 1 else None


def _day_said_alone(piece: str, found: list[Signal], before: dt.date | None) -> dt.date | None:
    """The day of a piece that is nothing but that day ("lundi"); a piece with another day
    said otherwise ("le prélèvement était lundi") forgets the one before."""
    days = [s.date for s in found if s.date is not None]
    if not days:
        return before
    return days[0].day if len(days) == 1 and days[0].text == piece.strip() else None


def _not_before(piece: str, found: DateMatch) -> bool:
    """ "pas avant le 18", "not before the 18th": the earliest day, the one promised; not when
    something else is (`_IS`: "le festival c'est pas avant juin")."""
    before = piece[: found.start].split()[-2:]
    return (
        bool(before)
        and before[-1] in _NOT_BEFORE
        and found.text.split()[0] in _BEFORE
        and not (len(before) == 2 and before[0] in _IS)
    )


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
    for word in reversed(tokens[max(0, index - _NEGATION_WINDOW) : index]):
        if word in SCOPE_BREAKERS or (until_cancels and word in _UNTIL):
            break
        window.append(word)
    trigger = piece[start:end].split(maxsplit=1)[0] if end > start else ""
    if any(_is_negator(word, window, i, trigger) for i, word in enumerate(window)):
        return any(word in INABILITY for word in window)
    if verb and FRENCH_POST_NEGATION.match(piece, end):
        return any(word in INABILITY for word in window)
    post = POST_NEGATION.match(piece[end:])
    if post is not None:
        return None if EARLIER_ONLY.match(piece, end + post.end()) else True
    return None


def _is_negator(word: str, window: list[str], i: int, trigger: str) -> bool:
    """Whether ``window[i]`` (words read right to left from *trigger*) negates it."""
    if word in NEGATORS:
        return True
    if word == "plus":  # "je ne peux plus payer", but not "plus tard"
        return any(w in ("ne", "n") for w in window[i + 1 :])
    if word == "than":  # "rather pay the whole lot today than do instalments"
        return i <= 1
    if word == "nada":  # "nada de tres plazos"; not "no pasa nada, pago el viernes"
        return i > 0 and window[i - 1] == "de"
    if word == "no":  # Spanish "no puedo pagar", English "no split"
        following = window[i - 1] if i > 0 else trigger
        english_noun = i == 0 and not trigger.isdigit() and trigger not in ("in", "sur")
        return following in SPANISH_VERBS or english_noun
    return False


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return NUMBERS.get(word)


def _token_starts(piece: str) -> list[int]:
    starts = [0]
    starts.extend(i + 1 for i, char in enumerate(piece) if char == " ")
    return starts


def _token_index(starts: list[int], position: int) -> int:
    """Index of the token that starts at (or contains) *position*."""
    return max(0, bisect.bisect_right(starts, position) - 1)
