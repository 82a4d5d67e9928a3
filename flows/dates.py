"""Promised payment dates in chat replies ("vendredi", "le 5", "fin du mois", "in 2 weeks").

`resolve_date` finds the first date phrase in a reply and resolves it against *today* (the
customer's local date). Results are always strictly in the future, with one exception: "ce
soir" / "tonight" / "this evening" resolve to *today* (the customer promises to pay later today).

Product decisions, so that the flow and the tests agree:

- A weekday ("vendredi", "friday", "vendredi prochain", "next friday", "ce vendredi") is its next
  occurrence strictly after today: on a Friday, "vendredi" is next week's Friday. "vendredi en
  huit" adds a week; "vendredi de la semaine prochaine" is the Friday of next calendar week.
- A day of the month ("le 5", "on the 15th", "le 1er") is the next such day strictly after
  today: "le 5" on the 21st is the 5th of next month; "le 31" in a 30-day month skips to the
  next month that has a 31st.
- A day and month without a year ("le 10 décembre", "3/12", "Dec 10") is this year's if still
  ahead, else next year's. Numeric dates are day-first (French and UK usage). An explicit year
  in the past gives no date.
- "fin du mois" / "end of the month" is the last day of this month (next month's if today is
  the last day); "fin du mois prochain" the last day of next month.
- "la semaine prochaine" / "next week" is next Monday; "le mois prochain" / "next month" and
  "début du mois (prochain)" are the 1st of next month; "ce week-end" is the coming Saturday
  (Sunday if today is Saturday); "fin de semaine" the coming Friday.
- "dans 3 jours", "in 2 weeks", "dans un mois" add to today (months keep the day of month,
  clamped to the month's end). "en 3 mois" is *not* a date: it is a split ("payer en 3 mois").
- "mi-décembre" is the 15th, "fin décembre" the last day, "début décembre" / "en décembre" the
  1st of that month (no date if that day is already past in the current month).
- Holidays and seasons are their next occurrence strictly after today: "Noël" / "Christmas" the
  25th of December, "après Noël" / "after Christmas" the 26th, "avant Noël" the 24th; "le nouvel
  an" / "the new year" / "l'année prochaine" the 1st of January, "après le nouvel an" the 2nd;
  "fin de l'année" the 31st of December; "à la rentrée" / "back to school" the 1st of
  September; "Pâques" / "Easter" its Sunday, "après Pâques" its Monday; a season its first day
  (spring 20 March, summer 21 June, autumn 22 September, winter 21 December).
- "après <jour férié>" / "after <holiday>" is the day after the public holiday's next occurrence
  (today's included), in the country of the language it is named in (`holidays` package; the
  names customers use are in `flows/lexicon/*.toml`, ``[holidays]``): "après l'Ascension",
  "après le 1er mai", "after Easter Monday", "after the bank holiday" (whichever comes next).
- Past references ("vendredi dernier", "last friday") and pleasantries ("bonne fin de semaine",
  "bon week-end", "have a nice weekend") are not dates.

Rules handle all of these; dateparser is only used on an extracted phrase that no rule models
(year-first numeric dates such as "2026-12-03"), with an explicit language, future preference,
relative base and day-first order, and its result must still be in the future. It is imported
lazily, so a process that never meets such a phrase never pays its start-up cost.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from flows.intent_calendar import (
    COUNTS,
    MONTHS,
    WEEKDAYS,
    add_months,
    day_and_month,
    first_of_next_month,
    last_day,
    month_after,
    next_day_of_month,
    next_easter,
    next_monday,
    next_month_day,
    next_weekday,
    safe_date,
)
from flows.intent_text import normalize
from flows.intent_words import lexicon

#: The only phrases that may resolve to today (a promise to pay later today).
TONIGHT: tuple[str, ...] = (
    "ce soir",
    "tonight",
    "this evening",
    "esta noche",
    "dans la journee",
    "d ici ce soir",
    "plus tard dans la journee",
    "d ici la fin de la journee",
    "d ici la fin de journee",
    "later today",
    "by tonight",
    "by the end of the day",
    "by end of day",
    "end of the day",
    "end of day",
    "cet aprem",
    "cet apres midi",
    "cette apres midi",
    "this afternoon",
    "esta tarde",
    "tout a l heure",
    "ce midi",
    "d ici midi",
    "dans l apres midi",
    "dans l aprem",
    "en fin d aprem",
    "aujourd hui dans l aprem",
    "aujourd hui dans l apres midi",
    "aujourd hui apres midi",
    "later this afternoon",
    "this arvo",
    "hoy por la tarde",
    "en fin de journee",
    "en fin d apres midi",
    "a midi",
    "vers midi",
)


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A resolved date and where it was found (offsets into the normalised text)."""

    day: dt.date
    text: str
    start: int
    end: int


def resolve_date(text: str, *, language: str, today: dt.date) -> tuple[dt.date, str] | None:
    """The first future date promised in *text*, and the (normalised) words it came from."""
    for clause in normalize(text).clauses:
        found = find_dates(clause, language=language, today=today)
        if found:
            return found[0].day, found[0].text
    return None


def find_dates(clause: str, *, language: str, today: dt.date) -> tuple[DateMatch, ...]:
    """Every date phrase in one normalised clause, in reading order.

    A phrase a rule recognises but cannot resolve to a future date (a past year, 31/11) is
    still consumed, so a weaker rule does not reinterpret part of it.
    """
    holidays = _HOLIDAY_HINT.search(clause) is not None
    after = _AFTER_HINT.search(clause) is not None
    if not (holidays or after or _HINT.search(clause)):
        return ()
    taken = bytearray(len(clause))  # 1 where an earlier rule already matched
    found: list[DateMatch] = []
    rules = _RULES if holidays else _EVERYDAY_RULES
    if after:
        rules = (_after_public_holiday(), *rules)
    for rule in rules:
        for m in rule.pattern.finditer(clause):
            if any(taken[m.start() : m.end()]):
                continue
            taken[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
            start, end = m.start(), m.end()
            if _is_pleasantry(clause, start, end) or _names_a_cost(clause, start, end):
                continue
            try:
                day = rule.resolve(m, today)
            except (OverflowError, ValueError):  # near date.max: no future to promise
                day = None
            if day is not None and (day > today or (rule.allows_today and day == today)):
                found.append(DateMatch(day, m.group(), m.start(), m.end()))
    if not found:
        found.extend(_dateparser_fallback(clause, language=language, today=today))
    return tuple(sorted(found, key=lambda match: match.start))


def _day_number(word: str) -> int:
    return 1 if word == "premier" else int(word)


def _year(m: re.Match[str]) -> int | None:
    year = m.group("y")
    return int(year) if year else None


# --- rules -------------------------------------------------------------------------------

_WD = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# "sept" is also "seven" and "may" also a verb: not without a day number next to them.
_MONTH_LOOSE = "|".join(
    m for m in sorted(MONTHS, key=len, reverse=True) if m not in ("sept", "may")
)
_COUNT = r"\d{1,3}|" + "|".join(sorted(COUNTS, key=len, reverse=True))
_ORDINAL = r"(?:er|ere|e|eme|st|nd|rd|th)"
_DAY_PREFIX = (
    r"(?:le|the|on the|el|el dia|au|avant le|before the|by the|jusqu au|until the|till the|"
    r"til the|d ici le|vers le|around the|a partir du|from the|after the|apres le|pour le|for the|"
    # "avant la paie du 5": the salary's day is the day waited for.
    r"paie du|paye du|salaire du|virement du)"
)
_YEAR_FIRST = r"\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
_NOT_A_DAY = (
    # "j" is "jours" ("dans 28 j"), not the "j'" of "le 28 j'ai ma paye".
    r"(?! ?(?:fois|x|h|heures?|hours?|euros?|eur|e|%|mois|months?|jours?|days?|semaines?|"
    r"j(?! (?:ai|avais|aurai|etais|suis|y)\b)|weeks?|ans?|years?|versements?|echeances?|"
    r"paiements?|payments?|installments?|min|"
    r"minutes?|pm|am|pieces?|articles?|colis|factures?|sms|messages?|mails?|textos?|liens?|"
    r"rappels?|relances?|courriers?|appels?|cours|rendez|rdv|coups?|"
    # "pour le premier trimestre": an ordinal, no day of the month.
    r"trimestres?|semestres?|mensualites?|acomptes?|seances?|lecons?|stages?)\b)(?! ?\d)"
)


_Resolver = Callable[[re.Match[str], dt.date], dt.date | None]


@dataclass(frozen=True, slots=True)
class _Rule:
    source: str
    resolve: _Resolver
    allows_today: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        return _compiled(self.source)


@functools.cache
def _compiled(source: str) -> re.Pattern[str]:
    """A rule's regex, compiled when a message first has a date hint: compiling them all at
    import cost a worker a twentieth of a second before its first reply, which most often
    names no date (issue 12: first reply after a restart)."""
    return re.compile(source)


def _rule(pattern: str, resolve: _Resolver, *, allows_today: bool = False) -> _Rule:
    return _Rule(r"\b(?=[a-z0-9])(?:" + pattern + r")\b", resolve, allows_today)


def _end_of_next_month(_m: re.Match[str], today: dt.date) -> dt.date:
    year, month = month_after(today.year, today.month)
    return dt.date(year, month, last_day(year, month))


def _end_of_month(_m: re.Match[str], today: dt.date) -> dt.date:
    # Said on the last day itself, it is that day ("by the end of the month" on the 31st:
    # tonight), as "ce soir" is; the customer would say "next month" otherwise.
    return dt.date(today.year, today.month, last_day(today.year, today.month))


def _start_of_next_month(_m: re.Match[str], today: dt.date) -> dt.date:
    return first_of_next_month(today)


def _day_of_next_month(m: re.Match[str], today: dt.date) -> dt.date | None:
    year, month = month_after(today.year, today.month)
    return safe_date(year, month, _day_number(m.group("d")))


def _weekday_of_next_week(m: re.Match[str], today: dt.date) -> dt.date:
    return next_monday(today) + dt.timedelta(days=WEEKDAYS[m.group("wd")])


def _end_of_next_week(_m: re.Match[str], today: dt.date) -> dt.date:
    return next_monday(today) + dt.timedelta(days=4)


def _weekend_after_next(_m: re.Match[str], today: dt.date) -> dt.date:
    return _weekend(_m, today) + dt.timedelta(days=7)


def _weekday_week_later(m: re.Match[str], today: dt.date) -> dt.date:
    """ "A week on Friday", "Friday week" (British): the Friday after the coming one."""
    return next_weekday(today, WEEKDAYS[m.group("wd") or m.group("wd2")]) + dt.timedelta(days=7)


def _first_week_of_month(m: re.Match[str], today: dt.date) -> dt.date | None:
    return day_and_month(today, 1, MONTHS[m.group("m")], None)


def _next_week(_m: re.Match[str], today: dt.date) -> dt.date:
    return next_monday(today)


def _weekend(_m: re.Match[str], today: dt.date) -> dt.date:
    return today + dt.timedelta(days=1) if today.weekday() == 5 else next_weekday(today, 5)


def _end_of_week(_m: re.Match[str], today: dt.date) -> dt.date:
    return next_weekday(today, 4)


def _offset(m: re.Match[str], today: dt.date) -> dt.date | None:
    if m.group("special"):
        return today + dt.timedelta(days=7 if m.group("special") == "huitaine" else 14)
    count_word = m.group("n")
    count = int(count_word) if count_word.isdigit() else COUNTS[count_word]
    unit = m.group("unit")
    if unit.startswith(("mois", "month", "mes")):
        if m.group("prep") == "en" or count > 24:
            return None  # "payer en 3 mois" is a split, not a date
        return add_months(today, count)
    days = count * 7 if unit.startswith(("sem", "week", "wk")) else count
    return today + dt.timedelta(days=days) if days <= 366 else None


def _tonight(_m: re.Match[str], today: dt.date) -> dt.date:
    return today


def _in_days(days: int) -> _Resolver:
    def resolve(_m: re.Match[str], today: dt.date) -> dt.date:
        return today + dt.timedelta(days=days)

    return resolve


def _day_month(m: re.Match[str], today: dt.date) -> dt.date | None:
    return day_and_month(today, _day_number(m.group("d")), MONTHS[m.group("m")], _year(m))


def _month_part(m: re.Match[str], today: dt.date) -> dt.date | None:
    month = MONTHS[m.group("m")]
    part = m.group("p")
    year = _year(m) or today.year
    candidate = safe_date(year, month, _part_day(part, year, month))
    if candidate is None or candidate > today or m.group("y"):
        return candidate
    if month == today.month:
        return None  # "début novembre" on 18 November: that moment has passed
    # Next year's: "fin février" said in December 2027 is 29 February 2028.
    return safe_date(year + 1, month, _part_day(part, year + 1, month))


def _part_day(part: str, year: int, month: int) -> int:
    """The day of the month a part names: mid-month the 15th, its end the last day, else 1."""
    if part in ("mi", "mid", "a mediados de", "mediados de", "a mitad de", "mitad de"):
        return 15
    if part in ("fin", "end of", "the end of", "late") or part.startswith(
        ("a fin", "fin de", "final", "a final", "fines de")
    ):
        return last_day(year, month)
    return 1


def _numeric(m: re.Match[str], today: dt.date) -> dt.date | None:
    if m.group("sep") != "/" and not (m.group("pre") or m.group("y")):
        return None  # "12.50" is an amount, "3-4" a range: only "/" dates stand alone
    return day_and_month(today, int(m.group("d")), int(m.group("m")), _year(m))


def _weekday(m: re.Match[str], today: dt.date) -> dt.date | None:
    if m.group("past") or m.group("past2"):
        return None  # "vendredi dernier", "last friday"
    day = next_weekday(today, WEEKDAYS[m.group("wd")])
    later = m.group("suffix") in ("en huit", "en 8", "d apres", "suivant", "after next")
    return day + dt.timedelta(days=7) if later else day


#: The weekdays cut short that `_short_weekday` reads, only where a day must stand.
_SHORT_WEEKDAYS = MappingProxyType({"mon": 0, "tue": 1, "wed": 2, "thu": 3, "sat": 5, "sun": 6})


def _short_weekday(m: re.Match[str], today: dt.date) -> dt.date:
    return next_weekday(today, _SHORT_WEEKDAYS[m.group("short")])


def _day_only(m: re.Match[str], today: dt.date) -> dt.date | None:
    ordinal = m.group("suf") in ("er", "st", "nd", "rd", "th")
    if not (m.group("pre") or m.group("wd") or ordinal):
        return None
    return next_day_of_month(today, _day_number(m.group("d")))


def _fixed(month: int, day: int) -> _Resolver:
    def resolve(_m: re.Match[str], today: dt.date) -> dt.date:
        return next_month_day(today, month, day)

    return resolve


def _end_of_year(_m: re.Match[str], today: dt.date) -> dt.date:
    return next_month_day(today, 12, 31)


def _new_year(_m: re.Match[str], today: dt.date) -> dt.date:
    return dt.date(today.year + 1, 1, 1)


def _after_year_end_feasts(_m: re.Match[str], today: dt.date) -> dt.date | None:
    # "après les fêtes" / "after the holidays" in the last quarter means the year-end feasts;
    # the rest of the year "the holidays" may be the summer ones: no date is better than a guess.
    if today.month < 10:
        return None
    return next_month_day(today, 1, 2)


def _easter(days_after: int) -> _Resolver:
    def resolve(_m: re.Match[str], today: dt.date) -> dt.date:
        return next_easter(today, days_after)

    return resolve


#: Days named by what happens on them: (words, month, day).
_NAMED_DAYS = (
    (
        r"(?:saint valentin|st valentin|valentine s day|valentines day|valentine s|san valentin)",
        2,
        14,
    ),
    (r"chandeleur", 2, 2),
    (r"(?:halloween)", 10, 31),
    (r"(?:epiphanie|galette des rois)", 1, 6),
    (r"(?:fete de la musique)", 6, 21),
)


def _fixed_after(month: int, day: int) -> _Resolver:
    def resolve(_m: re.Match[str], today: dt.date) -> dt.date:
        return next_month_day(today, month, day) + dt.timedelta(days=1)

    return resolve


def _fixed_before(month: int, day: int) -> _Resolver:
    def resolve(_m: re.Match[str], today: dt.date) -> dt.date:
        # The day before the next one still to come (on the eve itself: next year's).
        return next_month_day(today + dt.timedelta(days=1), month, day) - dt.timedelta(days=1)

    return resolve


_XMAS = r"(?:(?:les )?fetes de )?(?:noel|christmas|xmas|navidad)"
_NEW_YEAR = (
    r"(?:(?:le )?nouvel an|jour de l an|new year s day|new years day|(?:the )?new year|"
    r"ano nuevo)"
)
_HOLIDAY_RULES: tuple[_Rule, ...] = (
    # "lundi de Pâques", "Easter Monday": the Monday after Easter, not Easter Sunday.
    _rule(
        r"(?<!after )(?<!apres )(?:le )?lundi de paques|easter monday|lunes de pascua", _easter(1)
    ),
    _rule(
        rf"(?:apres|after|despues de) (?:the |la )?{_XMAS}|boxing day|"
        rf"(?:le |au )?lendemain de {_XMAS}|(?:the )?day after {_XMAS}",
        _fixed(12, 26),
    ),
    _rule(rf"(?:once|when) {_XMAS} (?:is over|is done|has passed)|{_XMAS} passe", _fixed(12, 26)),
    _rule(rf"(?:avant|before|antes de) {_XMAS}", _fixed(12, 24)),
    _rule(rf"(?:apres|after|despues de) (?:le |the )?{_NEW_YEAR}", _fixed(1, 2)),
    _rule(
        r"(?:apres|after|despues de) (?:les |the |las )?(?:fetes(?: de fin d annee)?|"
        r"festive season|festivities|holidays|christmas holidays|fiestas(?: navidenas)?)",
        _after_year_end_feasts,
    ),
    _rule(
        r"(?:(?:au |en )?debut (?:de l |d )?annee(?: prochaine)?|(?:l |d ici l )?annee prochaine|"
        r"(?:early |the beginning of |beginning of |start of )?next year|"
        r"el ano que viene|el proximo ano|principios de ano)",
        _new_year,
    ),
    _rule(_NEW_YEAR, _fixed(1, 1)),
    _rule(_XMAS, _fixed(12, 25)),
    _rule(
        r"(?:(?:a |avant |d ici |en )?(?:la )?fin (?:de l |d )annee|"
        r"(?:the )?end of (?:the |this )?year|(?:a )?(?:fin|finales?) (?:de|del) ano|year end)",
        _end_of_year,
    ),
    # "à la rentrée", not "quand je serai rentrée du salon" (back home), nor "l'allocation de
    # rentrée", "les fournitures de rentrée" (what the season brings, not a day; "le jour de
    # rentrée" is one).
    _rule(
        r"(?<!allocation de )(?<!allocations de )(?<!prime de )(?<!fournitures de )"
        r"(?<!achats de )(?<!frais de )(?<!liste de )(?<!soldes de )(?<!courses de )"
        # Nor "la rentrée m'a ruinée" (the season past, told as why).
        r"(?:la )?rentree(?: scolaire| de septembre)?+(?! (?:du|de|d|des|a|au|chez)\b)"
        r"(?! (?:m|nous) (?:a|ont) \w+)|"
        r"back to school|"
        r"la vuelta al cole",
        _fixed(9, 1),
    ),
    _rule(r"(?:apres|despues de|after) (?:les |los )?(?:rois|reyes)", _fixed(1, 7)),
    # Days named by what happens on them (no public holiday): after it, the next day.
    *(
        rule
        for words, month, day in _NAMED_DAYS
        for rule in (
            _rule(
                rf"(?:apres|after|despues de) (?:la |le |l |the |el |san )?{words}",
                _fixed_after(month, day),
            ),
            _rule(
                rf"(?:(?:avant|before|antes de) (?:la |le |l |the |el )?){words}",
                _fixed_before(month, day),
            ),
            _rule(
                rf"(?:(?:a|pour|on|for|para) (?:la |le |l |the |el )?)?{words}", _fixed(month, day)
            ),
        )
    ),
    _rule(r"(?:apres|after|despues de) (?:paques|easter|semana santa)", _easter(1)),
    # Not Easter as what an event is called ("the Easter camp cost more", "le stage de Pâques"):
    # no day said.
    _rule(
        r"(?<!stage de )(?<!stages de )(?<!camp de )(?<!atelier de )(?<!ateliers de )"
        r"(?<!spectacle de )(?<!concert de )(?<!gala de )(?<!marche de )(?<!menu de )"
        r"(?<!oeufs de )(?<!chocolats de )(?<!panier de )(?<!campamento de )(?<!curso de )"
        r"(?:paques|easter|semana santa)"
        r"(?! (?:camp|camps|course|courses|workshop|club|show|fair|market|party|egg|eggs|hunt|"
        r"trip|concert|recital|gala|menu|special|offer|sale|lunch|dinner|hamper|basket|gift|"
        r"cake|package|treatment|holiday club|play scheme|playscheme)\b)",
        _easter(0),
    ),
    _rule(
        r"(?:(?:au|ce|d ici le|debut du|avant le|this|next|in the|in|by|en|esta) )?"
        r"(?:printemps|spring|primavera)",
        _fixed(3, 20),
    ),
    _rule(
        r"(?:(?:cet|en|pendant l|d ici l|debut de l|avant l|a l|des l) ete|l ete prochain|"
        r"(?:this|next|in the|by|in) summer|(?:en|este|el) verano)",
        _fixed(6, 21),
    ),
    _rule(
        r"(?:(?:en|cet|a l|d ici l) automne|(?:this|next|in the|by) (?:autumn|fall)|"
        r"(?:en|este|el) otono)",
        _fixed(9, 22),
    ),
    _rule(
        r"(?:(?:en|cet|d ici l|a l) hiver|(?:this|next|in the|by) winter|(?:en|este|el) invierno)",
        _fixed(12, 21),
    ),
)


#: "après l'Ascension", "after the bank holiday": read only in a clause with one of these.
_AFTER_HINT = re.compile(r"\b(?:apres|after|despues)\b")


@functools.cache
def _after_public_holiday() -> _Rule:
    """The day after a public holiday named as customers call it (`flows/lexicon/*.toml`,
    ``[holidays]``), at its next occurrence in that language's country."""
    names = "|".join(h.alias.pattern for h in lexicon().holidays) or "(?!x)x"
    return _rule(
        rf"(?:apres|after|despues del?) (?:the )?(?P<holiday>{names})", _day_after_holiday
    )


def _day_after_holiday(m: re.Match[str], today: dt.date) -> dt.date | None:
    alias = m.group("holiday")
    for holiday in lexicon().holidays:
        if not holiday.alias.fullmatch(alias):
            continue
        for year in (today.year, today.year + 1):
            for day, name in _public_holidays(holiday.country, holiday.subdiv, year):
                if day >= today and holiday.name in ("*", name):
                    return day + dt.timedelta(days=1)
    return None


@functools.cache
def _public_holidays(
    country: str, subdiv: str | None, year: int
) -> tuple[tuple[dt.date, str], ...]:
    import holidays

    return tuple(sorted(holidays.country_holidays(country, subdiv=subdiv, years=year).items()))


def _not_resolved_here(_m: re.Match[str], _today: dt.date) -> None:
    return None  # year-first dates: left to dateparser (see _dateparser_fallback)


_EVERYDAY_RULES: tuple[_Rule, ...] = (
    _rule(
        r"(?:(?:a |en |d ici |avant )?(?:la )?fin (?:du|de) mois prochain|end of next month|"
        r"(?:a )?finales del (?:mes que viene|proximo mes))",
        _end_of_next_month,
    ),
    _rule(
        r"(?:(?:a |en |d ici |avant )?(?:la )?fin (?:du |de |de ce |d |de mon )?mois|"
        r"(?:the |by the |at the )?end of (?:the |this )?month|month end|"
        # Not "no llego a fin de mes" (I can't make ends meet); "mi nómina llega a final de
        # mes" is the salary's day.
        r"last day of (?:the )?month|(?<!llego )(?<!llegar )(?<!llegamos )(?<!no llega )"
        r"(?<!llego a )(?<!llegar a )(?<!llegamos a )(?<!no llega a )"
        r"(?<!no nos llega )(?<!no me llega )(?<!no nos llega a )(?<!no me llega a )"
        r"(?:a )?(?:fin|final|finales) de(?:l)? mes)"
        rf"(?! (?:de |d |of )(?:{_MONTH})\b)"
        # "fin de mois difficile": a tight month told, no day.
        r"(?! (?:difficile|dure|serree?|compliquee?|tendue?|galere|un peu juste|ric rac|tight|"
        r"hard|dificil)\b)",
        _end_of_month,
        allows_today=True,
    ),
    _rule(
        r"(?:(?:au |en )?debut (?:du |de )?(?:mois prochain|prochain mois|mois)|"
        r"beginning of (?:next|the) month|start of (?:next|the) month|early next month|"
        r"(?:a )?principios? (?:de|del) mes(?: que viene| proximo)?|inicio (?:de|del) mes)"
        rf"(?! (?:de |d |of )(?:{_MONTH})\b)",
        _start_of_next_month,
    ),
    _rule(
        r"(?:(?:le|the|on the|el) )?(?P<d>\d{1,2}|premier)" + _ORDINAL + r"? (?:du mois "
        r"prochain|of next month|del mes que viene|del proximo mes)",
        _day_of_next_month,
    ),
    _rule(
        r"(?:(?:le|au|du|en) mois prochain|(?:au |le )?prochain mois|next month|"
        r"el mes que viene|el proximo mes|mes que viene)",
        _start_of_next_month,
    ),
    _rule(
        r"(?:(?:a |en |d ici )?(?:la )?fin de (?:la )?semaine prochaine|"
        r"(?:the |by the |at the )?end of next week)",
        _end_of_next_week,
    ),
    _rule(
        rf"(?P<wd>{_WD}) (?:de la semaine prochaine|next week|de la semana que viene)",
        _weekday_of_next_week,
    ),
    _rule(
        r"(?:the )?week ?end after next|(?:le )?week end (?:d apres|suivant)",
        _weekend_after_next,
    ),
    # "after the weekend": the Monday that ends it, not the weekend itself.
    _rule(
        r"(?:apres|after|despues del?) (?:le |ce |the |this |el |este )?"
        r"(?:week ?end|fin de semana)",
        _next_week,
    ),
    _rule(rf"a week (?:on|from) (?P<wd>{_WD})|(?P<wd2>{_WD}) week(?! end)", _weekday_week_later),
    _rule(
        rf"(?:(?:the )?(?:first|1st) week (?:of|in)|(?:la )?premiere semaine (?:de|d)|"
        rf"(?:la )?1ere semaine (?:de|d)) (?P<m>{_MONTH_LOOSE})",
        _first_week_of_month,
    ),
    _rule(
        r"(?:(?:en |au )?debut de (?:la )?semaine prochaine|"
        r"(?:early|beginning of|start of) next week)",
        _next_week,
    ),
    _rule(
        r"(?:(?:la |en |dans la )?semaine (?:prochaine|pro|d apres|qui vient)|next week|"
        r"la semana que viene|la proxima semana|(?:la )?semana proxima)",
        _next_week,
    ),
    _rule(
        r"(?:ce |le |this |el |este |over the )?(?:week end|fin de semana)|(?:ce|le|du) we|"
        r"(?:this|the) wknd",
        _weekend,
    ),
    _rule(
        r"(?:(?:en |a la |d ici la |avant la )?fin de (?:la |cette )?semaine|"
        r"end of (?:the |this )?week)",
        _end_of_week,
    ),
    _rule(
        r"(?P<prep>dans|d ici|sous|in|within|en|dentro de|encore|another|need|besoin de|"
        # "pouvez-vous attendre 15 jours ?": the wait asked of us (not "j'ai dû attendre 15
        # jours pour un rdv", "I can't wait 2 weeks").
        r"(?:(?<=merci d )|(?<=please )|(?<=pouvez vous )|(?<=pourriez vous )|(?<=vous pouvez )|"
        r"(?<=vous pourriez )|(?<=tu peux )|(?<=tu pourrais )|(?<=can you )|(?<=could you )|"
        r"(?<=would you )|"
        r"(?<=pueden )|(?<=podeis )|(?<=puede )|(?<=podrian )|(?<=podria ))"
        r"(?:attendre|patienter|wait|esperar)(?: encore)?(?: (?:for|pendant|another))?|"
        r"besoin d|il me faut|il me faudrait|(?:give|donne|donnez|laisse|laissez|accorde|"
        r"accordez|dame|deme)(?: moi| me| nous)?(?: encore)?) "
        rf"(?:(?:a |an |une |un )?(?P<n>{_COUNT})(?: more| extra| of)? ?"
        r"(?P<unit>jours?|j|days?|dias?|"
        r"semaines?|sem|weeks?|wks?|semanas?|mois|months?|mes|meses)|(?:a |une )?"
        r"(?P<special>fortnight|quinzaine|huitaine))(?: de jours)?",
        _offset,
    ),
    _rule(
        rf"(?P<prep>)(?P<n>{_COUNT}) (?P<unit>jours?|days?|dias?|semaines?|weeks?|semanas?)"
        r"(?= (?:de (?:delai|plus|rab|sursis)|(?:more|extra) (?:time|delay)|de plazo|more|"
        r"from (?:now|today)|a (?:partir|compter) d aujourd hui|a partir de maintenant|"
        r"desde hoy|a partir de hoy))"
        r"(?P<special>)",
        _offset,
    ),
    # Not the time of another day ("mardi en fin de journée", "tomorrow end of day").
    _rule(
        "".join(rf"(?<!\b{day} )" for day in (*WEEKDAYS, "demain", "tomorrow", "manana"))
        + "(?:"
        + "|".join(sorted(TONIGHT, key=len, reverse=True))
        + ")"
        # Nor one said before its day ("à midi demain").
        + rf"(?! (?:demain|tomorrow|manana|{'|'.join(WEEKDAYS)})\b)",
        _tonight,
        allows_today=True,
    ),
    # "i pay after-tomorow" (a French speaker's "après-demain"); not "after tomorrow's lesson".
    _rule(
        r"apres demain|(?:the )?day after tomorrow|pasado manana|"
        r"after tomorrow(?! s\b| (?:morning|afternoon|lunch(?:time)?)\b| (?:evening|night) s\b)",
        _in_days(2),
    ),
    _rule(r"demain|tomorrow|(?<!la )(?<!esta )manana", _in_days(1)),
    _rule(
        rf"(?:(?:{_WD}) )?(?:{_DAY_PREFIX} )?(?P<d>\d{{1,2}}|premier){_ORDINAL}? "
        rf"(?:of |de |d )?(?P<m>{_MONTH})(?: (?:de |del )?(?P<y>\d{{4}}))?",
        _day_month,
    ),
    _rule(
        rf"(?P<m>{_MONTH_LOOSE}|may)(?: the)? (?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?"
        r"(?: ?,? (?P<y>\d{4}))?(?! ?(?:fois|x|times|veces|h|heures?|euros?|eur|e)\b)",
        _day_month,
    ),
    _rule(
        r"(?P<p>mi|mid|fin|end of|debut|beginning of|start of|the start of|the beginning of|"
        r"the end of|early|late|a fines de|a finales de|(?:a )?fin de|(?:a )?final de|"
        r"finales de|fines de|principios de|mediados de|"
        r"a principios de|a mediados de|a mitad de|mitad de|courant|en|in|au mois de|"
        r"en el mes de|durant|during|"
        r"avant|before|until|jusqu en)"
        rf"(?: (?:du |de )?mois (?:de|d)| (?:of )?the month of)? (?P<m>{_MONTH_LOOSE})"
        r"(?: (?P<y>\d{4}))?",
        _month_part,
    ),
    _rule(
        # "may" is a verb too: the month only with a part of it ("mid May", "end of May").
        r"(?P<p>mid|end of|the end of|early|late|beginning of|start of|the start of|"
        r"the beginning of)(?: the month of)? (?P<m>may)(?: (?P<y>\d{4}))?",
        _month_part,
    ),
    _rule(_YEAR_FIRST, _not_resolved_here),
    _rule(
        r"(?:(?P<pre>le|the|el|on|on the|au|avant le|before|by|jusqu au|until|a partir du|"
        r"from|du|pour le) )?(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})"
        r"(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![/.\-]?\d)",
        _numeric,
    ),
    _rule(
        # "(?<!\ben )": "lundi en 8" is a week on Monday, "en 8" is no day of the month ("le
        # lien le 5" is).
        rf"(?<!\ben )(?:(?P<wd>{_WD}) )?(?:(?P<pre>{_DAY_PREFIX}) )?(?P<d>\d{{1,2}}|premier)"
        rf"(?P<suf>{_ORDINAL})?(?: (?:du|of the|of|de) (?:mois|month|mes))?"
        # "on the 10th x": a kiss after an ordinal day, not "10 times".
        rf"(?:(?<=st|nd|rd|th|er)(?= x+(?: \||$))|{_NOT_A_DAY})",
        _day_only,
    ),
    _rule(
        # "Sat ok?", "on sat": a weekday cut short where it can only be a day (not "sat down",
        # "the sun", "wed in June").
        r"(?:(?<=\bon )|(?<=\bnext )|(?<=\bby )|(?<=\btill )|(?<=\buntil )|(?<=\bpay )|^)"
        r"(?P<short>sat|sun|mon|tue|wed|thu)"
        r"(?= (?:ok|okay|then|works|morning|afternoon|evening|night|pm|am|or)\b| ?$)",
        _short_weekday,
    ),
    _rule(
        # "since Tuesday", "depuis lundi": a day gone by, as "last Tuesday".
        r"(?:(?:(?P<past>last|pasado|since|depuis|desde)|ce|cette|this|next|coming|el proximo|"
        r"el|este|proximo|"
        r"prochain|on|le|d ici|avant|before|by|until|till|til|jusqu a|a partir de|from) )?"
        rf"(?P<wd>{_WD})(?: (?:(?P<suffix>prochain|qui vient|next|que viene|proximo|en huit|"
        r"en 8|d apres|suivant|after next)|(?P<past2>dernier|passe|pasado)))?",
        _weekday,
    ),
)
_RULES: tuple[_Rule, ...] = (*_HOLIDAY_RULES, *_EVERYDAY_RULES)

#: Quick gate: no rule can match a clause without one of these.
#: Words such as "fin", "next" or "j" are left out: every rule that reads them also needs a
#: word listed here (a month, "semaine", a digit...), and they are too common to gate anything.
_HINT = re.compile(
    r"\d|\b(?:demain|tomorrow|manana|soir|tonight|evening|noche|mois|month|mes|semaines?|today|"
    r"weeks?|wks?|semanas?|week end|jours?|days?|dias?|fortnight|quinzaine|huitaine|premier|"
    r"journee|(?:ce|le|du) we|wknd|aprem|apres midi|afternoon|tarde|heure|midi|"
    r"sat|sun|mon|tue|wed|thu|"
    rf"{_WD}|{_MONTH})\b"
)
#: Holiday and season rules only run on a clause with one of these (they are many, and "été",
#: "new" or "year" would otherwise open the gate for every rule).
_HOLIDAY_HINT = re.compile(
    r"\b(?:noel|christmas|xmas|navidad|nouvel|new|annee|year|ano|rentree|school|cole|paques|boxing|"
    r"easter|santa|reyes|rois|printemps|spring|primavera|ete|summer|verano|automne|autumn|fall|"
    r"otono|hiver|winter|invierno|fetes|festive|festivities|holidays|fiestas|valentin|"
    r"valentine|valentines|chandeleur|halloween|epiphanie|galette|musique)\b"
)
#: "Bonne fin de semaine", "bon week-end", "have a nice weekend" are wishes, not dates.
_PLEASANTRY = re.compile(
    r"(?:^|\s)(?:bon|bonne|bonnes|bons|have a (?:nice|good|great|lovely)|good|happy|nice|merry|"
    r"joyeux|joyeuse|excellent|excellente|feliz|buen|buena|buenos|enjoy (?:the|your)|"
    r"profite[sz]? (?:bien )?(?:de |du )?(?:votre|ton|ta|la|le)?) ?$"
)
#: "les frais de la rentrée", "les cadeaux de Noël", "la prime de fin d'année", "Christmas
#: costs": a season or a feast that names what money went on (the customer's reason), not when
#: they will pay.
_COST_OF = re.compile(
    r"(?:^|\s)(?:(?:frais|cadeaux|courses|depenses|achats|budget|repas|fournitures|prime|primes|"
    r"gastos|regalos|compras|paga extra) (?:de |d |du |des |de la |de los |de las )?"
    # English puts the feast first ("the Christmas bills": `_COST_AFTER`); after the noun
    # only with "of"/"for" ("the bill next week" is when it is paid).
    r"|(?:costs?|expenses|presents|gifts|bills?|bonus) (?:of|for) )"
    r"(?:la |l |les |the |my |mes |los |las )?$"
)
#: The same in English word order: "the Christmas bills", "back to school costs".
_COST_AFTER = re.compile(r" (?:bills?|costs?|presents|gifts|shopping|expenses|spending|bonus)\b")
#: A feast that names an event or a thing ("the stall at the Christmas market", "le stand du
#: marché de Noël"), where it is not said when anything is paid.
_FEAST_EVENT_AFTER = re.compile(
    r" (?:markets?|fairs?|stalls?|party|parties|dinner|lunch|show|concert|panto|jumpers?|trees?|"
    r"lights|decorations|menu|hampers?|raffle|fete|workshop)\b"
)
_FEAST_EVENT_BEFORE = re.compile(
    r"(?:^|\s)(?:marche|marches|stand|spectacle|sapin|decorations|colis|menu|atelier|concert|gala|"
    r"kermesse|mercado|mercadillo|cena|belen|concierto) (?:de |d |du |des |de la |del )"
    r"(?:la |l |les |los |las )?$"
)
_FALLBACK_CANDIDATE = re.compile(r"\b" + _YEAR_FIRST + r"\b")
_DATEPARSER_LANGUAGES = frozenset({"fr", "en", "es"})


#: "bon mercredi quand même": "bon" settles on the day ("ok then"), wishing nothing.
_SETTLED_AFTER = re.compile(r" (?:quand meme|alors|du coup|finalement|plutot|ca ira|ok)\b")


def _is_pleasantry(clause: str, start: int, end: int) -> bool:
    if _SETTLED_AFTER.match(clause, end):
        return False
    return _PLEASANTRY.search(clause[max(0, start - 40) : start]) is not None


#: A day said with these is when something happens ("the bill on Monday"), never what a cost
#: is for ("the Christmas bills").
_WHEN_WORDS = re.compile(r"(?:on|by|before|until|till|til|avant|avant le|le|el|jusqu au) ")


def _names_a_cost(clause: str, start: int, end: int) -> bool:
    if _WHEN_WORDS.match(clause, start):
        return False
    return (
        _COST_OF.search(clause[max(0, start - 40) : start]) is not None
        or _COST_AFTER.match(clause, end) is not None
        or _names_a_feast_event(clause, start, end)
    )


#: The feasts whose name is also an event's ("the Christmas market", "la kermesse de Pâques").
_FEAST_NAMES = re.compile(r"\b(?:noel|christmas|xmas|navidad|paques|easter|halloween)\b")


def _names_a_feast_event(clause: str, start: int, end: int) -> bool:
    if _FEAST_NAMES.search(clause, start, end) is None:
        return False  # "the Saturday market", "the new year party": their own readings
    return (
        _FEAST_EVENT_BEFORE.search(clause[max(0, start - 40) : start]) is not None
        or _FEAST_EVENT_AFTER.match(clause, end) is not None
    )


def _dateparser_fallback(clause: str, *, language: str, today: dt.date) -> list[DateMatch]:
    found: list[DateMatch] = []
    for m in _FALLBACK_CANDIDATE.finditer(clause):
        try:
            day = _parse_phrase(m.group(), language, today)
        except (OverflowError, ValueError):
            continue
        if day is not None and day > today:
            found.append(DateMatch(day, m.group(), m.start(), m.end()))
    return found


@functools.lru_cache(maxsize=1024)
def _parse_phrase(phrase: str, language: str, today: dt.date) -> dt.date | None:
    """dateparser on one extracted phrase, never on the whole message (it reads "je" as
    jeudi, and auto-detecting the language takes seconds)."""
    import dateparser

    parsed = dateparser.parse(
        phrase,
        languages=[language if language in _DATEPARSER_LANGUAGES else "fr"],
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12)),
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    return parsed.date() if parsed is not None else None
