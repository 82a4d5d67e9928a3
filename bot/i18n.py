"""Languages: gettext catalogs loaded once, one Jinja environment per locale (no bleed).

The locale of a message is chosen per message (ARCHITECTURE "Languages"): the customer's
profile, else Telegram's language_code, else the phone number's country, else the default.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from payments.money import Money, format_money

SUPPORTED_LOCALES = ("fr", "en")
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
_FRENCH_SPEAKING_REGIONS = frozenset({"FR", "BE", "LU", "MC", "CH", "RE", "GP", "MQ", "GF", "YT"})


def pick_locale(
    profile: str | None, language_code: str | None, phone: str | None, default: str
) -> str:
    for candidate in (profile, language_code):
        if candidate and candidate[:2].lower() in SUPPORTED_LOCALES:
            return candidate[:2].lower()
    if phone:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
        except phonenumbers.NumberParseException:
            region = None
        if region:
            return "fr" if region in _FRENCH_SPEAKING_REGIONS else "en"
    return default if default in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


def load_translations(locale: str) -> Translations:
    mo = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.mo"
    if not mo.is_file():
        msg = f"locale {locale!r} has no compiled catalog at {mo}: run pybabel compile -d locales"
        raise FileNotFoundError(msg)
    with mo.open("rb") as handle:
        return Translations(handle)


class Languages:
    """One Jinja environment per locale for chat messages, one per locale for HTML pages."""

    def __init__(self, templates_dir: Path = TEMPLATES_DIR) -> None:
        self._text: dict[str, Environment] = {}
        self._html: dict[str, Environment] = {}
        self._translations: dict[str, Translations] = {}
        for locale in SUPPORTED_LOCALES:
            translations = load_translations(locale)
            self._translations[locale] = translations
            self._text[locale] = _environment(templates_dir, locale, translations, html=False)
            self._html[locale] = _environment(templates_dir, locale, translations, html=True)

    def text(self, locale: str) -> Environment:
        return self._text.get(locale) or self._text[SUPPORTED_LOCALES[0]]

    def html(self, locale: str) -> Environment:
        return self._html.get(locale) or self._html[SUPPORTED_LOCALES[0]]

    def page_gettext(self, locale: str) -> Callable[[str], str]:
        """gettext for what reads like a page outside a template (a PDF): as `html`'s."""
        translations = self._translations.get(locale) or self._translations[SUPPORTED_LOCALES[0]]
        if locale == "fr":
            return lambda message: french_spacing(translations.gettext(message))
        return translations.gettext


def _environment(
    templates_dir: Path, locale: str, translations: Translations, *, html: bool
) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        extensions=["jinja2.ext.i18n"],
        # Chat messages are plain text sent without any markup mode, so escaping would only
        # garble them; HTML pages escape everything.
        autoescape=select_autoescape(["html"]) if html else False,  # noqa: S701
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the code: compiled once per process, never re-checked on disk
        # (the default stats the file on every `get_template`, on every message sent).
        auto_reload=False,
    )
    if html and locale == "fr":
        # French puts a space before "!", "?", ":" and ";": on a page it must not break there
        # ("Merci" on one line, "!" on the next). Pages only: a no-break space in an SMS is
        # outside GSM-7 and would double its cost.
        env.install_gettext_callables(  # type: ignore[attr-defined]
            lambda message: french_spacing(translations.gettext(message)),
            lambda singular, plural, n: french_spacing(translations.ngettext(singular, plural, n)),
            newstyle=True,
        )
    else:
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(_filters(locale))
    env.globals["locale"] = locale
    return env


# Words that show a customer name is a company's, greeted in full ("Bonjour SARL Dupont").
_COMPANY_MARKERS = re.compile(
    r"\b(?:SAS|SASU|SARL|EURL|SA|SCI|SNC|SELARL|EI|Ltd|LLC|Inc|GmbH|PLC)\b|&|\d"
)
_ELIDING = re.compile(r"[aeiouyhàâäéèêëîïôöûüœæ]", re.IGNORECASE)


def greeting_name(name: str) -> str:
    """ "Camille Martin" -> "Camille": people are greeted by their first name; companies in
    full, and a single word is kept as it is."""
    words = name.split()
    if len(words) < 2 or _COMPANY_MARKERS.search(name):
        return name.strip()
    return words[0]


def french_elision(text: str, names: Iterable[str]) -> str:
    """ "de Atelier Lumière" -> "d'Atelier Lumière", for any name starting with a vowel or an
    h (taken as mute: "d'Hélène"); other names and other words are left alone."""
    for name in names:
        if name and _ELIDING.match(name):
            text = re.sub(rf"\b([Dd])e {re.escape(name)}", rf"\1'{name}", text)
    return text


_SPACE_BEFORE_PUNCTUATION = re.compile(r" (?=[!?:;»])|(?<=«) ")


def french_spacing(text: str) -> str:
    """No-break spaces where French typography puts a space next to punctuation."""
    return _SPACE_BEFORE_PUNCTUATION.sub("\u00a0", text)


def _formatted_date(value: date, form: str, locale: str) -> str:
    """babel's date in `form` ("long", "medium", or a skeleton such as "dM"). A plain date is
    remembered: the same due dates come back in message after message, and babel parses the
    locale and the pattern again on every call. A datetime is not (two equal instants in
    different zones may fall on different days)."""
    if type(value) is date:
        return _formatted_day(value, form, locale)
    return _babel_date(value, form, locale)


@functools.lru_cache(maxsize=4096)
def _formatted_day(value: date, form: str, locale: str) -> str:
    return _babel_date(value, form, locale)


def _babel_date(value: date, form: str, locale: str) -> str:
    if form in {"long", "medium"}:
        return format_date(value, form, locale=locale)
    return format_skeleton(form, value, locale=locale)


def _filters(locale: str) -> dict[str, Callable[..., Any]]:
    def money(value: Money) -> str:
        return format_money(value, locale)

    def long_date(value: date) -> str:
        text = _formatted_date(value, "long", locale)
        # French writes the first day of a month as an ordinal: "1er décembre".
        if locale == "fr" and value.day == 1 and text.startswith("1 "):
            text = "1er" + text[1:]
        return text

    def short_date(value: date) -> str:
        return _formatted_date(value, "medium", locale)

    def day_month(value: date) -> str:
        """ "20/11" (fr), "11/20" (en): a near date where an SMS has no room for more."""
        return _formatted_date(value, "dM", locale)

    def short_time(value: datetime) -> str:
        return format_time(value, "short", locale=locale)

    def number(value: object) -> str:
        return format_decimal(Decimal(str(value)), locale=locale)

    def percent(value: object) -> str:
        number = format_decimal(Decimal(str(value)), locale=locale)
        return f"{number}\u00a0%" if locale == "fr" else f"{number}%"

    return {
        "money": money,
        "long_date": long_date,
        "short_date": short_date,
        "short_time": short_time,
        "day_month": day_month,
        "percent": percent,
        "number": number,
        "greeting_name": greeting_name,
    }
