"""Calendar words and arithmetic for `flows.dates` (weekday and month names in French,
English and Spanish; "next such day strictly after today" helpers). Pure and immutable."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

WEEKDAYS: Mapping[str, int] = MappingProxyType(
    {
        "lundi": 0,
        "mardi": 1,
        "mercredi": 2,
        "jeudi": 3,
        "vendredi": 4,
        "samedi": 5,
        "dimanche": 6,
        "monday": 0,
        "tuesday": 1,
        "wednesday": 2,
        "thursday": 3,
        "friday": 4,
        "saturday": 5,
        "sunday": 6,
        "tues": 1,
        "weds": 2,
        "thurs": 3,
        "fri": 4,
        "lunes": 0,
        "martes": 1,
        "miercoles": 2,
        "jueves": 3,
        "viernes": 4,
        "sabado": 5,
        "domingo": 6,
    }
)
MONTHS: Mapping[str, int] = MappingProxyType(
    {
        "janvier": 1,
        "janv": 1,
        "jan": 1,
        "january": 1,
        "enero": 1,
        "fevrier": 2,
        "fev": 2,
        "fevr": 2,
        "feb": 2,
        "february": 2,
        "febrero": 2,
        "mars": 3,
        "march": 3,
        "marzo": 3,
        "avril": 4,
        "avr": 4,
        "apr": 4,
        "april": 4,
        "abril": 4,
        "mai": 5,
        "may": 5,
        "mayo": 5,
        "juin": 6,
        "june": 6,
        "jun": 6,
        "junio": 6,
        "juillet": 7,
        "juil": 7,
        "jul": 7,
        "july": 7,
        "julio": 7,
        "aout": 8,
        "aug": 8,
        "august": 8,
        "agosto": 8,
        "septembre": 9,
        "sept": 9,
        "sep": 9,
        "september": 9,
        "septiembre": 9,
        "setiembre": 9,
        "octobre": 10,
        "oct": 10,
        "october": 10,
        "octubre": 10,
        "novembre": 11,
        "nov": 11,
        "november": 11,
        "noviembre": 11,
        "decembre": 12,
        "dec": 12,
        "december": 12,
        "diciembre": 12,
        "dic": 12,
    }
)
# Number words in the three languages, as customers spell them out ("en trois fois").
CARDINALS: Mapping[str, int] = MappingProxyType(
    {
        "un": 1,
        "une": 1,
        "one": 1,
        "uno": 1,
        "una": 1,
        "deux": 2,
        "two": 2,
        "dos": 2,
        "trois": 3,
        "three": 3,
        "tres": 3,
        "quatre": 4,
        "four": 4,
        "cuatro": 4,
        "cinq": 5,
        "five": 5,
        "cinco": 5,
        "six": 6,
        "seis": 6,
        "sept": 7,
        "seven": 7,
        "siete": 7,
        "huit": 8,
        "eight": 8,
        "ocho": 8,
        "neuf": 9,
        "nine": 9,
        "nueve": 9,
        "dix": 10,
        "ten": 10,
        "diez": 10,
        "onze": 11,
        "eleven": 11,
        "douze": 12,
        "twelve": 12,
        "doce": 12,
    }
)

# Counts in durations ("dans deux semaines", "in a couple of days") also take articles.
COUNTS: Mapping[str, int] = MappingProxyType(
    {
        **CARDINALS,
        "a": 1,
        "an": 1,
        "couple": 2,
        "quinze": 15,
        "fifteen": 15,
        "quince": 15,
        "vingt": 20,
        "twenty": 20,
        "veinte": 20,
        "trente": 30,
        "thirty": 30,
        "treinta": 30,
    }
)


def last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def month_after(year: int, month: int, count: int = 1) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


def safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def next_weekday(today: dt.date, weekday: int) -> dt.date:
    """The next *weekday* strictly after *today*."""
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)


def next_monday(today: dt.date) -> dt.date:
    return next_weekday(today, 0)


def first_of_next_month(today: dt.date) -> dt.date:
    year, month = month_after(today.year, today.month)
    return dt.date(year, month, 1)


def next_day_of_month(today: dt.date, day: int) -> dt.date | None:
    """The next date strictly after *today* whose day of month is *day*."""
    if not 1 <= day <= 31:
        return None
    for ahead in range(13):
        year, month = month_after(today.year, today.month, ahead)
        candidate = safe_date(year, month, day)
        if candidate is not None and candidate > today:
            return candidate
    return None


def day_and_month(today: dt.date, day: int, month: int, year: int | None) -> dt.date | None:
    if year is not None:
        return safe_date(year + 2000 if year < 100 else year, month, day)
    candidate = safe_date(today.year, month, day)
    if candidate is not None and candidate > today:
        return candidate
    return safe_date(today.year + 1, month, day)


def add_months(today: dt.date, count: int) -> dt.date:
    year, month = month_after(today.year, today.month, count)
    return dt.date(year, month, min(today.day, last_day(year, month)))


def easter(year: int) -> dt.date:
    """Easter Sunday of *year* (Gregorian calendar; anonymous algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def next_easter(today: dt.date, days_after: int = 0) -> dt.date:
    """Easter Sunday (plus *days_after*) strictly after *today*."""
    for year in (today.year, today.year + 1):
        candidate = easter(year) + dt.timedelta(days=days_after)
        if candidate > today:
            return candidate
    return easter(today.year + 2) + dt.timedelta(days=days_after)


def next_month_day(today: dt.date, month: int, day: int) -> dt.date:
    """The next *day* of *month* strictly after *today* (a holiday, the start of a season)."""
    candidate = dt.date(today.year, month, day)
    return candidate if candidate > today else dt.date(today.year + 1, month, day)
