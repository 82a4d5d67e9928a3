"""`flows.dates.resolve_date`: every promised-date form, at several reference days.

Reference days: Wed 18 Nov 2026 (the corpus day), Mon 30 Nov 2026 (month end), Mon 28 Dec 2026
(year end: January rollover) and Fri 20 Nov 2026 (asking "vendredi" on a Friday). resolve_date
takes a calendar date, so it is DST-independent by construction; the time-zone tests are in
`tests/test_intents.py` (understand) and at the bottom of this file.
"""

from __future__ import annotations

import datetime as dt

import pytest

from flows.dates import TONIGHT, find_dates, resolve_date
from flows.intent_text import normalize

WED = dt.date(2026, 11, 18)
MONTH_END = dt.date(2026, 11, 30)
YEAR_END = dt.date(2026, 12, 28)
FRI = dt.date(2026, 11, 20)

# form, language, {reference day: expected}
FORMS: list[tuple[str, str, dict[dt.date, str]]] = [
    ("demain", "fr", {WED: "2026-11-19", MONTH_END: "2026-12-01", YEAR_END: "2026-12-29"}),
    ("tomorrow", "en", {WED: "2026-11-19", MONTH_END: "2026-12-01", YEAR_END: "2026-12-29"}),
    ("après-demain", "fr", {WED: "2026-11-20", MONTH_END: "2026-12-02", YEAR_END: "2026-12-30"}),
    ("vendredi", "fr", {WED: "2026-11-20", YEAR_END: "2027-01-01", FRI: "2026-11-27"}),
    ("friday", "en", {WED: "2026-11-20", YEAR_END: "2027-01-01", FRI: "2026-11-27"}),
    ("vendredi prochain", "fr", {WED: "2026-11-20", MONTH_END: "2026-12-04", FRI: "2026-11-27"}),
    ("next Friday", "en", {WED: "2026-11-20", MONTH_END: "2026-12-04", FRI: "2026-11-27"}),
    ("lundi", "fr", {WED: "2026-11-23", MONTH_END: "2026-12-07", YEAR_END: "2027-01-04"}),
    ("le 5", "fr", {WED: "2026-12-05", MONTH_END: "2026-12-05", YEAR_END: "2027-01-05"}),
    ("le 20", "fr", {WED: "2026-11-20", FRI: "2026-12-20", YEAR_END: "2027-01-20"}),
    ("le 31", "fr", {WED: "2026-12-31", MONTH_END: "2026-12-31", YEAR_END: "2026-12-31"}),
    ("le 3/12", "fr", {WED: "2026-12-03", MONTH_END: "2026-12-03", YEAR_END: "2027-12-03"}),
    ("3/12", "fr", {WED: "2026-12-03", YEAR_END: "2027-12-03"}),
    ("15/01", "fr", {WED: "2027-01-15", YEAR_END: "2027-01-15"}),
    ("le 10 décembre", "fr", {WED: "2026-12-10", MONTH_END: "2026-12-10", YEAR_END: "2027-12-10"}),
    ("10 dec", "fr", {WED: "2026-12-10", YEAR_END: "2027-12-10"}),
    ("Dec 10", "en", {WED: "2026-12-10", YEAR_END: "2027-12-10"}),
    ("December 10th", "en", {WED: "2026-12-10", YEAR_END: "2027-12-10"}),
    ("le 2 janvier", "fr", {WED: "2027-01-02", YEAR_END: "2027-01-02"}),
    ("fin du mois", "fr", {WED: "2026-11-30", MONTH_END: "2026-11-30", YEAR_END: "2026-12-31"}),
    ("fin de mois", "fr", {WED: "2026-11-30", MONTH_END: "2026-11-30"}),
    ("end of the month", "en", {WED: "2026-11-30", MONTH_END: "2026-11-30"}),
    ("by the end of December", "en", {WED: "2026-12-31", YEAR_END: "2026-12-31"}),
    ("till the end of January", "en", {WED: "2027-01-31"}),
    ("fin du mois prochain", "fr", {WED: "2026-12-31", YEAR_END: "2027-01-31"}),
    (
        "dans 2 semaines",
        "fr",
        {WED: "2026-12-02", MONTH_END: "2026-12-14", YEAR_END: "2027-01-11"},
    ),
    ("in 2 weeks", "en", {WED: "2026-12-02", YEAR_END: "2027-01-11"}),
    ("dans 3 jours", "fr", {WED: "2026-11-21", MONTH_END: "2026-12-03", YEAR_END: "2026-12-31"}),
    ("would 15 days from now be ok?", "en", {WED: "2026-12-03"}),
    ("2 weeks from today", "en", {WED: "2026-12-02"}),
    ("10 jours à partir d'aujourd'hui", "fr", {WED: "2026-11-28"}),
    ("15 días a partir de hoy", "es", {WED: "2026-12-03"}),
    ("dans un mois", "fr", {WED: "2026-12-18", MONTH_END: "2026-12-30", YEAR_END: "2027-01-28"}),
    (
        "la semaine prochaine",
        "fr",
        {WED: "2026-11-23", MONTH_END: "2026-12-07", YEAR_END: "2027-01-04"},
    ),
    ("next week", "en", {WED: "2026-11-23", FRI: "2026-11-23"}),
    (
        "le mois prochain",
        "fr",
        {WED: "2026-12-01", MONTH_END: "2026-12-01", YEAR_END: "2027-01-01"},
    ),
    ("début du mois prochain", "fr", {WED: "2026-12-01", YEAR_END: "2027-01-01"}),
    (
        "après ma paie le 1er",
        "fr",
        {WED: "2026-12-01", MONTH_END: "2026-12-01", YEAR_END: "2027-01-01"},
    ),
    ("on the 15th", "en", {WED: "2026-12-15", MONTH_END: "2026-12-15", YEAR_END: "2027-01-15"}),
    ("ce soir", "fr", {WED: "2026-11-18", YEAR_END: "2026-12-28"}),
    ("tonight", "en", {WED: "2026-11-18"}),
    (
        "ce week-end",
        "fr",
        {
            WED: "2026-11-21",
            FRI: "2026-11-21",
            dt.date(2026, 11, 21): "2026-11-22",
            dt.date(2026, 11, 22): "2026-11-28",
        },
    ),
    ("fin de semaine", "fr", {WED: "2026-11-20", FRI: "2026-11-27"}),
    ("vendredi en huit", "fr", {WED: "2026-11-27"}),
    (
        "vendredi de la semaine prochaine",
        "fr",
        {WED: "2026-11-27", dt.date(2026, 11, 22): "2026-11-27"},
    ),
    ("mi-décembre", "fr", {WED: "2026-12-15"}),
    ("fin décembre", "fr", {WED: "2026-12-31", YEAR_END: "2026-12-31"}),
    ("début décembre", "fr", {WED: "2026-12-01"}),
    ("mañana", "es", {WED: "2026-11-19"}),
    ("el viernes", "es", {WED: "2026-11-20"}),
    ("la semana que viene", "es", {WED: "2026-11-23"}),
    ("le 10/12/2026", "fr", {WED: "2026-12-10"}),
    ("2026-12-24", "fr", {WED: "2026-12-24"}),  # year-first: resolved by dateparser
]


@pytest.mark.parametrize(
    ("text", "language", "today", "expected"),
    [
        pytest.param(text, language, today, expected, id=f"{text}@{today}")
        for text, language, cases in FORMS
        for today, expected in cases.items()
    ],
)
def test_date_forms(text: str, language: str, today: dt.date, expected: str) -> None:
    found = resolve_date(text, language=language, today=today)
    assert found is not None
    assert found[0].isoformat() == expected


@pytest.mark.parametrize("text", [form for form, _, _ in FORMS])
@pytest.mark.parametrize("today", [WED, MONTH_END, YEAR_END, FRI])
def test_dates_are_in_the_future(text: str, today: dt.date) -> None:
    found = resolve_date(text, language="fr", today=today)
    if found is None:
        return  # e.g. "début décembre" on 28 December: that day has passed, no date
    day, words = found
    # Today only for tonight, or the month's end said on its last day.
    month_end = words in ("fin du mois", "fin de mois", "end of the month")
    assert day > today or (day == today and (words in TONIGHT or month_end))


def test_matched_words_are_returned() -> None:
    assert resolve_date("je paierai vendredi prochain promis", language="fr", today=WED) == (
        dt.date(2026, 11, 20),
        "vendredi prochain",
    )
    assert resolve_date("OK for Dec 10th then", language="en", today=WED) == (
        dt.date(2026, 12, 10),
        "dec 10th",
    )


@pytest.mark.parametrize(
    "text",
    [
        "je",
        "je paie",
        "jeudi dernier",
        "vendredi dernier",
        "last friday",
        "3 fois",
        "en 3 mois",
        "12.50 euros",
        "le 2e versement",
        "bonne fin de semaine",
        "bon week-end",
        "have a nice weekend",
        "31/11",
        "le 10/12/2025",
        "rappelez-moi au 06 12 34 56 78",
        "en 10 fois",
        "3x",
        "",
        "hier",
        "la semaine dernière",
    ],
)
def test_not_a_future_date(text: str) -> None:
    assert resolve_date(text, language="fr", today=WED) is None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("les frais de la rentrée m'ont ruiné, je règle le 10 décembre", "fr", "2026-12-10"),
        ("avec les cadeaux de noel je suis juste, je paie début janvier", "fr", "2027-01-01"),
        ("j'attends ma prime de fin d'année, disons le 20 décembre", "fr", "2026-12-20"),
        ("the christmas bills are piling up, I'll pay on the 4th", "en", "2026-12-04"),
    ],
)
def test_a_feast_or_season_that_names_a_cost_is_no_date(
    text: str, language: str, expected: str
) -> None:
    # The customer's reason ("the Christmas bills") is not when they will pay.
    found = resolve_date(text, language=language, today=WED)
    assert found is not None
    assert found[0].isoformat() == expected


def test_je_is_never_jeudi() -> None:
    # dateparser's search_dates reads "je" as Thursday (INTEGRATION_NOTES 6); we never do.
    assert resolve_date("je vous dis ça bientôt", language="fr", today=WED) is None


def test_month_addition_clamps_to_month_end() -> None:
    assert resolve_date("dans un mois", language="fr", today=dt.date(2027, 1, 31)) == (
        dt.date(2027, 2, 28),
        "dans un mois",
    )


def test_day_already_past_in_current_month_gives_no_date() -> None:
    assert resolve_date("début décembre", language="fr", today=YEAR_END) is None
    assert resolve_date("mi-décembre", language="fr", today=YEAR_END) is None


def test_find_dates_reports_positions_in_reading_order() -> None:
    clause = normalize("pas vendredi mais lundi ou le 3/12").clauses[0]
    found = find_dates(clause, language="fr", today=WED)
    assert [m.text for m in found] == ["vendredi", "lundi", "le 3/12"]
    assert all(clause[m.start : m.end] == m.text for m in found)


def test_a_day_of_the_month_after_a_word_ending_in_en_is_still_a_day() -> None:
    # "lundi en 8" is a week on Monday; "le lien le 5", "le chien le 12" name the 5th, the 12th.
    assert [m.text for m in find_dates("le lien le 5", language="fr", today=WED)] == ["le 5"]
    assert [m.day for m in find_dates("le chien le 12", language="fr", today=WED)] == [
        dt.date(2026, 12, 12)
    ]
    assert [m.day for m in find_dates("lundi en 8", language="fr", today=WED)] == [
        dt.date(2026, 11, 30)
    ]


def test_extreme_reference_days_do_not_crash() -> None:
    for text in ("demain", "fin du mois", "le 5", "dans 2 semaines", "le mois prochain"):
        last = resolve_date(text, language="fr", today=dt.date.max)
        assert last is None or last[0] == dt.date.max  # the month's end: that very day
        assert resolve_date(text, language="fr", today=dt.date.min) is not None


@pytest.mark.parametrize(
    ("text", "language", "today", "expected"),
    [
        # Days named by what happens on them: after it, the next day.
        ("je paie après la Saint-Valentin", "fr", dt.date(2028, 1, 18), dt.date(2028, 2, 15)),
        ("je vous règle ça après la Chandeleur", "fr", dt.date(2028, 1, 18), dt.date(2028, 2, 3)),
        ("after Valentine's Day", "en", dt.date(2028, 2, 14), dt.date(2029, 2, 15)),
        ("avant Halloween", "fr", dt.date(2027, 10, 30), dt.date(2028, 10, 30)),
        ("avant Halloween", "fr", dt.date(2027, 10, 29), dt.date(2027, 10, 30)),
        ("pour la fête de la musique", "fr", dt.date(2027, 6, 1), dt.date(2027, 6, 21)),
        ("después de San Valentín", "es", dt.date(2027, 12, 1), dt.date(2028, 2, 15)),
        # Next year's February in a leap year ends on the 29th.
        ("fin février", "fr", dt.date(2027, 12, 20), dt.date(2028, 2, 29)),
        ("end of February", "en", dt.date(2027, 12, 20), dt.date(2028, 2, 29)),
        ("fin février", "fr", dt.date(2028, 3, 1), dt.date(2029, 2, 28)),
        ("mi-février", "fr", dt.date(2027, 12, 20), dt.date(2028, 2, 15)),
        # Holidays named in full: Easter Monday, not Easter Sunday.
        ("lundi de Pâques", "fr", dt.date(2027, 3, 10), dt.date(2027, 3, 29)),
        ("le lundi de Pâques", "fr", dt.date(2028, 4, 1), dt.date(2028, 4, 17)),
        ("Easter Monday", "en", dt.date(2027, 3, 10), dt.date(2027, 3, 29)),
        ("après le lundi de Pâques", "fr", dt.date(2027, 3, 10), dt.date(2027, 3, 30)),
        ("à la rentrée de septembre", "fr", dt.date(2028, 2, 29), dt.date(2028, 9, 1)),
    ],
)
def test_named_days_and_month_parts_at_other_reference_days(
    text: str, language: str, today: dt.date, expected: dt.date
) -> None:
    found = resolve_date(text, language=language, today=today)
    assert found is not None and found[0] == expected and found[0] > today
