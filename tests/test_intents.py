"""`flows.intents.understand` (TESTCASES 28, 38; LEGAL_FR 2.2, 4.3) and `bot.intents_cli`."""

from __future__ import annotations

import argparse
import ast
import dataclasses
import datetime as dt
import io
import json
import unicodedata
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.intents_cli import add_intents_parser, run_intents
from flows.dates import TONIGHT
from flows.intent_text import normalize
from flows.intents import (
    Intent,
    Understanding,
    detect_language,
    understand,
    understand_by_rules,
)
from tests.intents.evaluate import HELD_OUT, Example, evaluate, load_corpus

CORPUS = load_corpus()
NOW = CORPUS.now  # Wednesday 2026-11-18 10:00 +01:00
TZ = CORPUS.tz
ROOT = Path(__file__).resolve().parents[1]


def read(text: str, locale: str = "fr_FR") -> Understanding:
    return understand(text, locale=locale, now=NOW, tz=TZ)


# --- corpus ----------------------------------------------------------------------------


def test_corpus_is_large_and_covers_every_intent() -> None:
    assert len(CORPUS.examples) >= 400
    assert {e.intent for e in CORPUS.examples} == set(Intent)
    assert {e.locale[:2] for e in CORPUS.examples} >= {"fr", "en", "es"}


def test_corpus_accuracy() -> None:
    report = evaluate(CORPUS.examples, now=NOW, tz=TZ)
    assert report.accuracy >= 0.97, [(e.text, r.intent) for e, r in report.failures]
    assert report.critical == 0, [(e.text, r.intent) for e, r in report.failures]


def test_held_out_accuracy() -> None:
    # Only the figures: the held-out texts are not to be read while tuning.
    held_out = load_corpus(HELD_OUT)
    report = evaluate(held_out.examples, now=held_out.now, tz=held_out.tz)
    accuracy, critical = report.accuracy, report.critical
    del report  # pytest would print it, failing texts included
    assert len(held_out.examples) >= 200
    assert accuracy >= 0.97, f"held-out accuracy {accuracy:.1%}"
    assert critical == 0, f"held-out critical errors: {critical}"


def _examples(*intents: Intent) -> list[Example]:
    return [e for e in CORPUS.examples if e.intent in intents]


def read_example(example: Example) -> Understanding:
    """An example read at its own reference time (a blind batch keeps the one it was written
    for)."""
    now, tz = example.moment(NOW, TZ)
    return understand(example.text, locale=example.locale, now=now, tz=tz)


@pytest.mark.parametrize("example", _examples(Intent.OPT_OUT), ids=lambda e: e.text)
def test_every_opt_out_is_recognised(example: Example) -> None:
    assert read_example(example).intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    "example",
    _examples(Intent.DISPUTE, Intent.ALREADY_PAID, Intent.NO, Intent.OPT_OUT),
    ids=lambda e: e.text,
)
def test_never_read_as_agreeing_to_pay(example: Example) -> None:
    assert read_example(example).intent not in (Intent.PAY_NOW, Intent.YES)


@pytest.mark.parametrize("example", _examples(Intent.DISPUTE), ids=lambda e: e.text)
def test_a_dispute_is_never_read_as_a_promise_to_pay(example: Example) -> None:
    # The promise would be booked and the contest never reach a person.
    assert read_example(example).intent is not Intent.PAY_LATER


# --- targeted requirements ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("je ne veux pas payer en 3 fois, je paie maintenant", Intent.PAY_NOW),
        ("je ne peux pas payer maintenant", Intent.PAY_LATER),
        ("pas maintenant", Intent.PAY_LATER),
        ("je paie pas maintenant", Intent.PAY_LATER),
        ("I can't pay right now", Intent.PAY_LATER),
        ("je ne paierai pas", Intent.NO),
        ("je paierai pas", Intent.NO),
        ("I won't pay", Intent.NO),
        ("no way I'm paying", Intent.NO),
        ("je ne veux pas payer", Intent.NO),
        ("pas en 3 fois", Intent.NO),
        ("je ne peux pas payer en une fois", Intent.SPLIT),
        ("je paie maintenant, pas en 3 fois", Intent.PAY_NOW),
        ("pas de souci je paie maintenant", Intent.PAY_NOW),
        ("je ne conteste pas la facture mais je ne peux pas payer maintenant", Intent.PAY_LATER),
        ("j'ai pas encore payé", Intent.UNKNOWN),
        ("I haven't paid yet", Intent.UNKNOWN),
        ("payer ? jamais", Intent.NO),
        ("en 3 fois ? non", Intent.NO),
    ],
)
def test_negations(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent", "parts"),
    [
        ("finalement en 3 fois", Intent.SPLIT, 3),
        ("je paie maintenant... non finalement en 3 fois", Intent.SPLIT, 3),
        (
            "je voulais payer en 3 fois mais finalement je paie tout maintenant",
            Intent.PAY_NOW,
            None,
        ),
        ("en 3 fois non en 4 fois", Intent.SPLIT, 4),
        ("je paie plus tard... non en fait maintenant c'est bon", Intent.PAY_NOW, None),
        ("en 3 fois mais pas maintenant", Intent.SPLIT, 3),
    ],
)
def test_change_of_mind(text: str, intent: Intent, parts: int | None) -> None:
    result = read(text)
    assert (result.intent, result.parts) == (intent, parts)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("plustard", Intent.PAY_LATER),
        ("paiment", Intent.PAY_NOW),
        # "payé" alone reports a payment (reading it as "pay" would be a critical error);
        # the unaccented "paye" alone is asked about (see test_paye_alone_is_asked_about).
        ("payé", Intent.ALREADY_PAID),
        ("Payée !", Intent.ALREADY_PAID),
        ("payer", Intent.PAY_NOW),
        ("jpeux pas payer", Intent.PAY_LATER),
        ("je paie maintenant stp", Intent.PAY_NOW),
        ("plus tard svp", Intent.PAY_LATER),
        ("jsp", Intent.UNKNOWN),
        ("tkt je paie demain", Intent.PAY_LATER),
        ("pk je dois payer ??", Intent.DISPUTE),
        ("PAYER EN 3 FOIS", Intent.SPLIT),
        ("OUIIIII", Intent.YES),
        ("nooooon", Intent.NO),
        ("stooooop", Intent.OPT_OUT),
        ("merciiii 😊", Intent.SMALLTALK),
        ("plus taaaard", Intent.PAY_LATER),
        ("jvoudrais payé en 3 foi", Intent.SPLIT),
        ("dm1", Intent.PAY_LATER),
        ("g deja payé", Intent.ALREADY_PAID),
        ("tmrw", Intent.PAY_LATER),
    ],
)
def test_how_people_really_text(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("je paie maintenant", "en_GB", Intent.PAY_NOW),
        ("pay later", "fr_FR", Intent.PAY_LATER),
        ("I already paid", "fr_FR", Intent.ALREADY_PAID),
        ("c'est pas moi", "en_GB", Intent.DISPUTE),
        ("ARRET", "en_GB", Intent.OPT_OUT),
        ("unsubscribe", "fr_FR", Intent.OPT_OUT),
        ("Merci, I'll pay vendredi", "en_GB", Intent.PAY_LATER),
    ],
)
def test_reply_in_another_language(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "intent", "parts"),
    [
        ("Payer", Intent.PAY_NOW, None),
        ("Payer plus tard", Intent.PAY_LATER, None),
        ("Payer en 3 fois", Intent.SPLIT, 3),
        ("Pay now", Intent.PAY_NOW, None),
        ("Pay later", Intent.PAY_LATER, None),
        ("Split in 3", Intent.SPLIT, 3),
        ("1", Intent.UNKNOWN, None),
        ("2", Intent.UNKNOWN, None),
        ("3", Intent.UNKNOWN, None),
        ("3 fois", Intent.SPLIT, 3),
    ],
)
def test_buttons_and_bare_digits(text: str, intent: Intent, parts: int | None) -> None:
    result = read(text)
    assert (result.intent, result.parts) == (intent, parts)


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop.",
        "Stop ",
        "ARRET",
        "ARRÊT",
        "arrête",
        "STOP SMS",
        "désabonner",
        "désinscrire",
        "DESINSCRIPTION",
        "UNSUBSCRIBE",
        "STOPALL",
        "CANCEL",
        "END",
        "QUIT",
        "STOP PLEASE",
        "ne m'écrivez plus",
        "arrêtez de m'envoyer des messages",
        "leave me alone",
        "don't text me anymore",
        "Stop, je paierai demain",
        "STOP c'est une arnaque",
        "oui, arrête",
        "Payer plus tard\nCANCEL",
    ],
)
def test_opt_out_words(text: str) -> None:
    assert read(text).intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # CANCEL/END/QUIT are opt-outs alone; inside a sentence they mean something else.
        ("cancel my order", Intent.DISPUTE),
        ("end of the month", Intent.PAY_LATER),
        ("I'll pay at the end of the week", Intent.PAY_LATER),
        ("week-end", Intent.PAY_LATER),
        ("unstop", Intent.OPT_IN),
    ],
)
def test_opt_out_keywords_inside_sentences(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    "text", ["START", "UNSTOP", "je veux recevoir à nouveau", "resubscribe", "Start svp"]
)
def test_opt_in(text: str) -> None:
    assert read(text).intent is Intent.OPT_IN


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("non", Intent.NO),
        ("no way", Intent.NO),
        ("je ne paierai pas", Intent.NO),
        ("c'est pas moi", Intent.DISPUTE),
        ("je n'ai jamais commandé", Intent.DISPUTE),
        ("montant faux", Intent.DISPUTE),
        ("erreur sur la facture", Intent.DISPUTE),
        ("arnaque", Intent.DISPUTE),
        ("je conteste", Intent.DISPUTE),
        ("wrong amount", Intent.DISPUTE),
        ("I never ordered this", Intent.DISPUTE),
        ("j'ai déjà payé", Intent.ALREADY_PAID),
        ("deja regle", Intent.ALREADY_PAID),
        ("c'est payé", Intent.ALREADY_PAID),
        ("I already paid", Intent.ALREADY_PAID),
        ("paid yesterday", Intent.ALREADY_PAID),
        ("virement fait", Intent.ALREADY_PAID),
        # precedence: dispute > already paid > ask agent > payment
        ("j'ai déjà payé mais le montant était faux", Intent.DISPUTE),
        ("oui j'ai déjà payé", Intent.ALREADY_PAID),
        ("c'est pas moi, je veux parler à un conseiller", Intent.DISPUTE),
        ("je veux parler à un conseiller pour payer en 3 fois", Intent.ASK_AGENT),
        ("ok pour payer, mais le montant est faux", Intent.DISPUTE),
    ],
)
def test_refusals_disputes_and_already_paid(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("un conseiller svp", Intent.ASK_AGENT),
        ("parler à quelqu'un", Intent.ASK_AGENT),
        ("un humain", Intent.ASK_AGENT),
        ("agent", Intent.ASK_AGENT),
        ("je veux parler à une vraie personne", Intent.ASK_AGENT),
        ("call me", Intent.ASK_AGENT),
        ("human please", Intent.ASK_AGENT),
        ("je m'appelle Julie, je paie demain", Intent.PAY_LATER),
        ("aide", Intent.HELP),
        ("help", Intent.HELP),
        ("?", Intent.UNKNOWN),
        ("comment ça marche", Intent.HELP),
        ("quelles options", Intent.HELP),
        # LABELS: "how do I pay" asks for the way to pay, the link; the means or a difficulty
        # is help.
        ("comment payer ?", Intent.PAY_NOW),
        ("on peut payer comment ? cb, virement ?", Intent.HELP),
        ("je ne vois pas comment payer", Intent.HELP),
        ("le lien ne marche pas", Intent.HELP),
        ("combien je dois", Intent.STATUS),
        ("il reste combien", Intent.STATUS),
        ("où en est ma facture", Intent.STATUS),
        ("solde", Intent.STATUS),
        ("how much do I owe", Intent.STATUS),
        ("balance", Intent.STATUS),
        ("next payment", Intent.STATUS),
        ("en combien de fois je peux payer ?", Intent.SPLIT),
        ("oui", Intent.YES),
        ("ok", Intent.YES),
        ("d'accord", Intent.YES),
        ("ouais", Intent.YES),
        ("yes", Intent.YES),
        ("yep", Intent.YES),
        ("sure", Intent.YES),
        ("👍", Intent.YES),
        ("non", Intent.NO),
        ("nan", Intent.NO),
        ("no", Intent.NO),
        ("nope", Intent.NO),
        ("👎", Intent.NO),
        ("oui non", Intent.NO),
        ("ok... non", Intent.NO),
        ("merci", Intent.SMALLTALK),
        ("bonjour", Intent.SMALLTALK),
        ("salut", Intent.SMALLTALK),
        ("thanks", Intent.SMALLTALK),
        ("hello", Intent.SMALLTALK),
        ("bonne journée", Intent.SMALLTALK),
        ("😊", Intent.SMALLTALK),
        ("bonne fin de semaine", Intent.SMALLTALK),
        ("asdfgh", Intent.UNKNOWN),
        ("", Intent.UNKNOWN),
        ("   ", Intent.UNKNOWN),
        ("...", Intent.UNKNOWN),
    ],
)
def test_other_intents(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("en 3 fois", 3),
        ("3 fois sans frais", 3),
        ("en trois fois", 3),
        ("3x", 3),
        ("x3", 3),
        ("en plusieurs fois", None),
        ("split in 3", 3),
        ("3 installments", 3),
        ("pay in 4", 4),
        ("finalement en 3 fois", 3),
        ("en 10 fois", 10),
        ("en 3 cuotas", 3),
    ],
)
def test_split_parts(text: str, parts: int | None) -> None:
    result = read(text)
    assert (result.intent, result.parts, result.date) == (Intent.SPLIT, parts, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demain", "2026-11-19"),
        ("après-demain", "2026-11-20"),
        ("vendredi", "2026-11-20"),
        ("lundi", "2026-11-23"),
        ("vendredi prochain", "2026-11-20"),
        ("le 5", "2026-12-05"),
        ("le 3/12", "2026-12-03"),
        ("3/12", "2026-12-03"),
        ("le 10 décembre", "2026-12-10"),
        ("10 dec", "2026-12-10"),
        ("fin du mois", "2026-11-30"),
        ("fin de mois", "2026-11-30"),
        ("dans 2 semaines", "2026-12-02"),
        ("dans 3 jours", "2026-11-21"),
        ("la semaine prochaine", "2026-11-23"),
        ("le mois prochain", "2026-12-01"),
        ("ce soir", "2026-11-18"),
        ("après ma paie le 1er", "2026-12-01"),
        ("début du mois prochain", "2026-12-01"),
        ("next Friday", "2026-11-20"),
        ("friday", "2026-11-20"),
        ("tomorrow", "2026-11-19"),
        ("end of the month", "2026-11-30"),
        ("Dec 10", "2026-12-10"),
        ("December 10th", "2026-12-10"),
        ("in 2 weeks", "2026-12-02"),
        ("next week", "2026-11-23"),
        ("on the 15th", "2026-12-15"),
        ("je ne peux pas payer maintenant, je paierai le 5", "2026-12-05"),
        ("je peux pas payer avant vendredi", "2026-11-20"),
        ("pas vendredi, lundi", "2026-11-23"),
    ],
)
def test_pay_later_dates(text: str, expected: str) -> None:
    result = read(text)
    assert result.intent is Intent.PAY_LATER
    assert result.date is not None and result.date.isoformat() == expected
    assert result.date_text


def test_pay_later_without_a_date() -> None:
    assert read("plus tard") == Understanding(Intent.PAY_LATER, language="fr")


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        # 23:30 UTC is already tomorrow in Paris and Auckland, still today in New York.
        (dt.datetime(2026, 11, 18, 23, 30, tzinfo=dt.UTC), "Europe/Paris", "2026-11-20"),
        (dt.datetime(2026, 11, 18, 23, 30, tzinfo=dt.UTC), "America/New_York", "2026-11-19"),
        (dt.datetime(2026, 11, 18, 11, 30, tzinfo=dt.UTC), "Pacific/Auckland", "2026-11-20"),
        # Around the DST changes in Paris (29 March, 25 October 2026).
        (dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC), "Europe/Paris", "2026-03-30"),
        (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), "Europe/Paris", "2026-10-26"),
    ],
)
def test_dates_resolve_in_the_customer_time_zone(now: dt.datetime, tz: str, expected: str) -> None:
    result = understand("demain", locale="fr", now=now, tz=tz)
    assert result.date is not None and result.date.isoformat() == expected


def test_language_detection() -> None:
    assert read("je paie demain").language == "fr"
    assert read("I'll pay tomorrow").language == "en"
    assert read("pagaré el lunes").language == "es"
    assert read("ok").language is None
    assert detect_language("") is None


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        understand("demain", locale="fr", now=dt.datetime(2026, 11, 18, 10, 0), tz=TZ)


def test_understanding_is_immutable() -> None:
    result = read("en 3 fois")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.parts = 4  # type: ignore[misc]


def test_flows_stay_pure() -> None:
    """flows/ never imports bot/, channels/ or a vendor SDK (only stdlib, dateparser, the
    offline holiday calendar, `holidays`, which flows/campaign.py already reads, and NumPy for
    the trained model's arithmetic, `flows.intent_model`; never scikit-learn)."""
    allowed = {"flows", "dateparser", "holidays", "numpy", "__future__"}
    for path in [*ROOT.glob("flows/intent*.py"), ROOT / "flows" / "dates.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in _stdlib(), f"{path.name} imports {name}"


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)


# --- properties ---------------------------------------------------------------------------

_MEANINGFUL = [e for e in CORPUS.examples if normalize(e.text).clauses]
_NEUTRAL_EMOJI = ["😅", "🤔", "🙃", "📱", "💶", "🎉", "😬", "🤷"]
# No "?": a question mark carries meaning ("plus de rappels ?" may ask whether they stopped,
# "c'est pour la réparation ?" asks what the invoice is for), see
# test_explicit_requests_keep_their_intent_as_questions.
_SURROUNDING = st.text(alphabet=" \t\n.,!;:…-\"'«»()", max_size=4)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# deadline=None: the first dateparser call in a language loads its data (~0.1 s); speed is
# measured by bench/bench_intents.py, not here.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    example=st.sampled_from(_MEANINGFUL),
    case=st.sampled_from([str.upper, str.lower, str.title, str.swapcase, str.capitalize]),
    strip=st.booleans(),
    before=_SURROUNDING,
    after=_SURROUNDING,
    emoji=st.lists(st.sampled_from(_NEUTRAL_EMOJI), max_size=3),
)
def test_surface_changes_keep_the_intent(
    example: Example, case, strip: bool, before: str, after: str, emoji: list[str]
) -> None:
    # Accents are compared with accents stripped on both sides: a participle written with its
    # accent tells a payment ("payé par ma mère"), its unaccented form may be "I pay"; that is
    # meaning, pinned by test_paye_alone_is_asked_about and the corpus, not surface.
    plain = _strip_accents(example.text) if strip else example.text
    text = case(plain)
    variant = before + text + after + " " + "".join(emoji)
    expected = read(plain, example.locale)
    got = read(variant, example.locale)
    assert (got.intent, got.parts, got.date) == (expected.intent, expected.parts, expected.date)


_TZS = [
    "Europe/Paris",
    "America/New_York",
    "Pacific/Auckland",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
    "Asia/Kolkata",
    "UTC",
]
_DATEY = st.sampled_from(
    [
        "demain",
        "vendredi",
        "le 5",
        "le 31",
        "3/12",
        "29/02",
        "fin du mois",
        "ce soir",
        "tonight",
        "dans 2 semaines",
        "next week",
        "le 1er",
        "mi-décembre",
        "en janvier",
        "2027-02-01",
        "le mois prochain",
        "ce week-end",
        "fin décembre",
        "on the 15th",
        "le 30/11/2026",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.builds(
            lambda a, b, c: f"{a} {b} {c}",
            st.text(max_size=20),
            _DATEY,
            st.sampled_from([e.text for e in CORPUS.examples]),
        ),
    ),
    now=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2099, 12, 31),
        timezones=st.just(dt.UTC),
    ),
    tz=st.sampled_from(_TZS),
    locale=st.sampled_from(["fr", "fr_FR", "en_GB", "es", "", "xx-YY"]),
)
def test_never_raises_and_dates_are_not_in_the_past(
    text: str, now: dt.datetime, tz: str, locale: str
) -> None:
    result = understand(text, locale=locale, now=now, tz=tz)
    assert isinstance(result.intent, Intent)
    if result.date is not None:
        from zoneinfo import ZoneInfo

        today = now.astimezone(ZoneInfo(tz)).date()
        # A promise's day, or the day of the rest of a split in two ("le reste vendredi").
        assert result.intent is Intent.PAY_LATER or (
            result.intent is Intent.SPLIT and result.parts == 2
        )
        # Today only for tonight, or the month's end said on its last day.
        month_end = (today + dt.timedelta(days=1)).day == 1
        allowed_today = result.date_text in TONIGHT or month_end
        assert result.date > today or (result.date == today and allowed_today)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 1_000_000,
        "3/12 " * 200_000,
        "\u0301" * 50_000,
        "👍" * 100_000,
        "non " * 100_000,
        "stop" + " " * 100_000,
        "\x00\ud800\uffff" * 1000,
        "je ne " * 50_000 + "payer",
    ],
)
def test_huge_or_weird_texts_are_capped(text: str) -> None:
    assert isinstance(read(text).intent, Intent)


def test_stop_at_the_very_end_of_a_huge_text_is_beyond_the_cap() -> None:
    # Work is capped at 2,000 characters: documented in flows.intent_text.MAX_CHARS.
    assert read("x " * 5_000 + "STOP").intent is Intent.UNKNOWN


# --- CLI ------------------------------------------------------------------------------------


def _run(lines: list[str]) -> list[dict[str, object]]:
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    assert run_intents(stdin, stdout, now=NOW, tz=TZ) == 0
    return [json.loads(line) for line in stdout.getvalue().splitlines()]


def test_cli_answers_every_line_in_order() -> None:
    out = _run(
        [
            json.dumps({"text": "vendredi", "locale": "fr"}),
            "not json",
            "",
            json.dumps({"text": 3, "locale": "fr"}),
            json.dumps(["a list"]),
            json.dumps({"text": "en 3 fois"}),
            json.dumps({"text": "STOP", "locale": "en_GB"}),
            json.dumps({"text": "ok", "locale": 12}),
        ]
    )
    assert len(out) == 8
    assert out[0] == {"intent": "pay_later", "parts": None, "date": "2026-11-20"}
    assert out[5] == {"intent": "split", "parts": 3, "date": None}
    assert out[6] == {"intent": "opt_out", "parts": None, "date": None}
    for bad in (out[1], out[2], out[3], out[4], out[7]):
        assert bad["intent"] == "unknown" and bad["parts"] is None and bad["date"] is None
        assert isinstance(bad["error"], str) and bad["error"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot")
    add_intents_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_cli_parser_defaults_and_naive_now() -> None:
    args = _parser().parse_args(["intents", "--now", "2026-11-18T09:00:00"])
    assert args.now == dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)
    assert args.tz == "Europe/Paris"
    assert callable(args.func)


@pytest.mark.parametrize(
    "argv",
    [
        ["intents", "--now", "2026-11-18T09:00:00", "--tz", "Mars/Olympus_Mons"],
        ["intents", "--now", "2026-11-18T09:00:00", "--tz", "../etc/passwd"],
        ["intents", "--now", "yesterday"],
        ["intents"],
    ],
)
def test_cli_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err


def test_cli_handler_reads_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO('{"text": "demain"}\n'))
    monkeypatch.setattr("sys.stdout", stdout)
    args = _parser().parse_args(["intents", "--now", "2026-11-18T10:00:00+01:00"])
    assert args.func(args) == 0
    assert json.loads(stdout.getvalue()) == {
        "intent": "pay_later",
        "parts": None,
        "date": "2026-11-19",
    }


# --- Understanding v2: every kind of the issue -----------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop.",
        "STOP!!!",
        "Stop 🛑",
        "STOP ❌",
        "ARRET",
        "Arrêt.",
        "stop sms 🙏",
        "STOP SMS.",
    ],
)
def test_legal_keywords_alone_always_opt_out(text: str) -> None:
    reading = read(text)
    assert reading.intent is Intent.OPT_OUT
    assert reading.confidence == 1.0


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("je bosse non stop cette semaine, je paierai lundi", "fr_FR", Intent.PAY_LATER),
        ("I'll stop by the shop on Friday and pay there", "en_GB", Intent.PAY_LATER),
        ("j'ai pas dit stop, je veux juste payer plus tard", "fr_FR", Intent.PAY_LATER),
        ("I didn't say stop, I want to pay now", "en_GB", Intent.PAY_NOW),
        ("j'ai envoyé STOP par erreur, vous pouvez me réinscrire ?", "fr_FR", Intent.OPT_IN),
        ("I sent STOP by mistake, can you put me back on?", "en_GB", Intent.OPT_IN),
        ("je suis en arrêt maladie, je paierai début décembre", "fr_FR", Intent.PAY_LATER),
        ("arrêtez de me facturer des choses que je n'ai pas commandées", "fr_FR", Intent.DISPUTE),
        ("stop charging me for things I never ordered", "en_GB", Intent.DISPUTE),
        ("STOP et je conteste", "fr_FR", Intent.OPT_OUT),
        ("j'en ai marre de vos messages, stop", "fr_FR", Intent.OPT_OUT),
        ("please stop texting me", "en_GB", Intent.OPT_OUT),
    ],
)
def test_stop_inside_a_sentence_is_read_by_meaning(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("arrêtez de me facturer des choses que je n'ai pas commandées", "fr_FR"),
        ("stop charging me for things I never ordered", "en_GB"),
        ("vous m'envoyez trop de messages", "fr_FR"),
    ],
)
def test_a_sentence_that_might_opt_out_asks_for_a_confirmation(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out


def test_a_clear_opt_out_and_a_clear_non_opt_out_ask_nothing() -> None:
    assert not read("STOP").maybe_opt_out
    assert not read("je bosse non stop, je paie lundi").maybe_opt_out


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("on avait dit 150, pas 180", "fr_FR"),
        ("vous m'avez compté deux fois la livraison", "fr_FR"),
        ("j'ai jamais reçu le colis", "fr_FR"),
        ("la lampe est arrivée cassée", "fr_FR"),
        ("je paierai quand vous aurez corrigé le montant", "fr_FR"),
        ("je ne paierai pas tant que le montant n'est pas corrigé", "fr_FR"),
        ("we agreed on 120, not 150", "en_GB"),
        ("I'll pay once you fix the amount", "en_GB"),
        ("the item arrived broken", "en_GB"),
        ("never received the parcel", "en_GB"),
        ("llegó roto", "es_ES"),
    ],
)
def test_disputes_without_the_word_contest_are_never_payment(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "locale"),
    [("le lien ne marche pas", "fr_FR"), ("tried to pay but it doesn't work", "en_GB")],
)
def test_a_broken_payment_tool_is_help_not_a_dispute(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.HELP


@pytest.mark.parametrize(
    ("text", "locale", "intent", "parts"),
    [
        ("je conteste pas, je veux juste payer plus tard", "fr_FR", Intent.PAY_LATER, None),
        (
            "je refuse de payer en plusieurs fois, je règle tout d'un coup",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        ("non pas en 3 fois, en 4", "fr_FR", Intent.SPLIT, 4),
        ("no instalments", "en_GB", Intent.NO, None),
        ("no instalments, I'll pay it all now", "en_GB", Intent.PAY_NOW, None),
        ("je refuse de payer maintenant", "fr_FR", Intent.DISPUTE, None),
    ],
)
def test_negation_and_correction(
    text: str, locale: str, intent: Intent, parts: int | None
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (intent, parts)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("il me reste des échéances à payer ?", "fr_FR", Intent.STATUS),
        ("how many instalments are left?", "en_GB", Intent.STATUS),
        ("elle est due pour quand la facture ?", "fr_FR", Intent.STATUS),
        ("est-ce que je peux parler à quelqu'un ?", "fr_FR", Intent.ASK_AGENT),
        ("can I speak to someone?", "en_GB", Intent.ASK_AGENT),
    ],
)
def test_questions(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("tu viens ce soir ?", "fr_FR", Intent.SMALLTALK),
        ("quel temps il fait demain", "fr_FR", Intent.SMALLTALK),
        ("on se voit vendredi ?", "fr_FR", Intent.SMALLTALK),
        ("are we still on for dinner tomorrow?", "en_GB", Intent.SMALLTALK),
        ("quand j'aurai ma paye", "fr_FR", Intent.PAY_LATER),
        ("vendredi", "fr_FR", Intent.PAY_LATER),
        ("lundi ça ira ?", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_time_words_are_a_promise_only_about_paying(
    text: str, locale: str, intent: Intent
) -> None:
    reading = read(text, locale)
    assert reading.intent is intent
    if intent is Intent.SMALLTALK:
        assert reading.date is None


def test_a_date_in_a_message_about_nothing_known_is_unsure() -> None:
    reading = read("je suis chez ma sœur vendredi")
    assert reading.intent is Intent.PAY_LATER
    assert reading.is_unsure
    assert Intent.PAY_LATER in reading.alternatives


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("remettez-moi les notifications", "fr_FR"),
        ("réinscrivez-moi", "fr_FR"),
        ("je veux de nouveau recevoir vos messages", "fr_FR"),
        ("please turn the notifications back on", "en_GB"),
        ("sign me back up", "en_GB"),
        ("quiero volver a recibir mensajes", "es_ES"),
        # a regretted unsubscription, or asking whether the messages can go on
        ("j'aurais pas dû me désinscrire, vous pouvez me remettre ?", "fr_FR"),
        ("je n'aurais jamais dû répondre stop", "fr_FR"),
        ("pressed STOP without thinking, could I still receive the reminders?", "en_GB"),
        ("can we keep getting the texts please", "en_GB"),
    ],
)
def test_opt_in_phrasings(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.OPT_IN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("après Noël", "2026-12-26"),
        ("after Christmas", "2026-12-26"),
        ("début janvier", "2027-01-01"),
        ("à la rentrée", "2027-09-01"),
        ("fin janvier", "2027-01-31"),
        ("pour Noël", "2026-12-25"),
        ("in the new year", "2027-01-01"),
        ("à la fin de l'année", "2026-12-31"),
        ("à Pâques", "2027-03-28"),
        ("cet été", "2027-06-21"),
    ],
)
def test_holiday_and_season_dates(text: str, expected: str) -> None:
    reading = read(text)
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("tz", "expected"),
    [("Europe/Paris", "2026-12-26"), ("Pacific/Auckland", "2027-12-26")],
)
def test_holidays_are_in_the_customer_zone_and_ahead(tz: str, expected: str) -> None:
    # 25 Dec 2026 12:00 UTC: still Christmas Day in Paris, already the 26th in Auckland.
    now = dt.datetime(2026, 12, 25, 12, 0, tzinfo=dt.UTC)
    reading = understand("après Noël", locale="fr_FR", now=now, tz=tz)
    assert reading.date == dt.date.fromisoformat(expected)


@pytest.mark.parametrize(
    ("text", "intent", "then"),
    [
        ("STOP et je conteste", Intent.OPT_OUT, (Intent.DISPUTE,)),
        ("stop, je veux parler à un conseiller", Intent.OPT_OUT, (Intent.ASK_AGENT,)),
        ("je conteste, je paierai quand ce sera corrigé", Intent.DISPUTE, ()),
        ("50 maintenant et le reste vendredi", Intent.SPLIT, ()),
    ],
)
def test_several_intents_in_one_message(
    text: str, intent: Intent, then: tuple[Intent, ...]
) -> None:
    reading = read(text)
    assert (reading.intent, reading.then) == (intent, then)


# --- round 4: questions about the invoice, about paying, stops taken back, part now ----------


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("qu'est-ce que je vous dois exactement ?", "fr_FR"),
        ("c'est combien déjà ?", "fr_FR"),
        ("il me reste quoi à payer ?", "fr_FR"),
        ("rappelez-moi la somme svp", "fr_FR"),  # not a call back
        ("c'est pour quoi cette facture ?", "fr_FR"),  # asks, does not contest
        ("c'est pour la réparation de la chaudière ça ?", "fr_FR"),
        ("quel est le numéro de la facture svp", "fr_FR"),
        ("elle est à payer pour quand ?", "fr_FR"),
        ("je vous dois encore quelque chose ou tout est soldé ?", "fr_FR"),
        ("je ne dis pas que c'est faux, je veux savoir à quoi correspond ce montant", "fr_FR"),
        ("le montant c'est TTC ou HT ?", "fr_FR"),
        ("what do I owe you?", "en_GB"),
        ("what's this invoice for?", "en_GB"),
        ("can you send me a breakdown of the invoice?", "en_GB"),
        ("¿de qué es esta factura?", "es_ES"),
        ("¿cuánto os debo?", "es_ES"),
    ],
)
def test_questions_about_the_invoice_are_status(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.STATUS


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # Naming something wrong still contests it.
        ("c'est pour quoi ces 40 € de frais ? rien n'était prévu", Intent.DISPUTE),
        ("je vous dois rien du tout", Intent.DISPUTE),
        ("le numéro de facture ne correspond à rien chez moi", Intent.DISPUTE),
        ("qu'est-ce que je dois faire ?", Intent.HELP),
        ("c'est pour quoi faire ce lien ?", Intent.HELP),
        # Naming a means in a promise is not a question about it.
        ("je paie en espèces demain au magasin", Intent.PAY_LATER),
        ("je vais payer par virement ce soir", Intent.PAY_LATER),
    ],
)
def test_status_questions_do_not_swallow_disputes_or_help(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("on peut payer par chèque ou c'est que par carte ?", "fr_FR"),
        ("vous acceptez les chèques ?", "fr_FR"),
        ("c'est sécurisé le paiement par lien ?", "fr_FR"),
        ("je comprends pas comment payer avec ce lien", "fr_FR"),
        ("PLUS TARD ça veut dire quoi, c'est combien de temps ?", "fr_FR"),
        ("il faut que je crée un compte pour payer ?", "fr_FR"),
        ("is the link safe?", "en_GB"),
        ("which payment methods do you accept?", "en_GB"),
        ("is there a fee for paying later?", "en_GB"),
        ("¿se puede pagar con transferencia o solo con tarjeta?", "es_ES"),
    ],
)
def test_questions_about_paying_are_help(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.HELP


@pytest.mark.parametrize(
    "text",
    [
        "vous prenez paypal ? je paye direct",  # goes ahead now
        "je n'ai pas reçu le lien, vous pouvez le renvoyer pour que je paie tout de suite ?",
        "never got the link, send it again and I'll pay",
        "Je n'ai pas besoin d'un conseiller, je veux juste payer maintenant",
        "pas besoin d'aide, je paie",
    ],
)
def test_going_ahead_is_paying_now(text: str) -> None:
    assert read(text).intent is Intent.PAY_NOW


@pytest.mark.parametrize(
    ("text", "intent", "parts"),
    [
        ("stop attendez je me suis trompé de bouton je voulais mettre en 3 fois", Intent.SPLIT, 3),
        ("stop, wrong button, I meant to choose 3 instalments", Intent.SPLIT, 3),
        ("arrêtez, j'ai appuyé sur le mauvais bouton, je veux payer en 3 fois", Intent.SPLIT, 3),
        ("stop, me equivoqué, quería pagar en 3 plazos", Intent.SPLIT, 3),
        # "stop" for "wait, no", from a customer who will not wait to pay
        ("stop stop, pas envie d'attendre, je vous règle tout de suite", Intent.PAY_NOW, None),
        ("stop, inutile d'attendre lundi je veux payer maintenant", Intent.PAY_NOW, None),
        ("stop, no point waiting, I'd like to pay right now", Intent.PAY_NOW, None),
    ],
)
def test_a_stop_taken_back_reads_the_rest_and_asks(
    text: str, intent: Intent, parts: int | None
) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (intent, parts)
    assert reading.maybe_opt_out  # one line lets them send STOP again if they meant it


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("stop the bot and put me through to a person", Intent.ASK_AGENT),
        ("si je réponds stop je peux quand même payer en 3 fois ?", Intent.HELP),
        ("Le mot stop c'est pour arrêter les messages ? moi je veux juste savoir", Intent.HELP),
        ("pas stop ! je veux le lien", Intent.PAY_NOW),
        ("stop asking me for £90, we agreed 60", Intent.DISPUTE),
        ("STOP, pardon, mauvaise conversation", Intent.SMALLTALK),
    ],
)
def test_a_stop_about_something_else_does_not_opt_out(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    "text",
    [
        "STOP. je paierai au magasin",
        "STOP, je paie en 3 fois ailleurs",
        "stop, je ne veux plus de vos messages, je passerai payer",
        "oubliez mon numéro svp",
        "c'est la 3e fois cette semaine, j'en ai marre de vos textos, vous arrêtez maintenant",
        "STOP. and I'm disputing this",
        "no quiero recibir nada más de vosotros",
        "Stop, vous vous trompez de personne",  # their mistake, not the customer's
        "Stop, je me suis trompé en vous donnant mon numéro",  # a mistake, not about the STOP
        "arrêtez avec les relances, je paie vendredi promis",
        "STOP je vous règle maintenant",  # no "wait" taken back: the keyword stands
        "stop, pas besoin d'attendre, je paie tout de suite mais arrêtez vos sms",
    ],
)
def test_opt_outs_around_other_requests_still_opt_out(text: str) -> None:
    assert read(text).intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("je paie 50 maintenant et le reste vendredi", "fr_FR"),
        ("une partie maintenant, le reste le 5", "fr_FR"),
        ("je règle la moitié aujourd'hui et l'autre moitié samedi", "fr_FR"),
        ("I'll pay 50 now and the rest on Friday", "en_GB"),
        ("pago 50 ahora y el resto el viernes", "es_ES"),
    ],
)
def test_a_part_now_and_the_rest_later_is_a_split_in_two(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, 2)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # A question that decides nothing is read by what it asks about, not by its pay word.
        ("est-ce que ça passe avec une carte prépayée ?", Intent.HELP),
        ("can I pay with a prepaid card?", Intent.HELP),
        ("je dois cliquer sur quoi ?", Intent.HELP),
        ("pouvez-vous me donner le total à payer ?", Intent.STATUS),
        ("what's the date it needs paying by?", Intent.STATUS),
        ("est-ce qu'il y a des pénalités de retard ?", Intent.STATUS),
        # The "?" is often left out: a clause that opens like a question is one.
        ("pouvez-vous me donner le total à payer", Intent.STATUS),
        ("can I pay with a prepaid card", Intent.HELP),
        # ... unless it goes ahead or asks for the link.
        ("where do I click to pay?", Intent.PAY_NOW),
        ("ok je peux régler avec le lien ?", Intent.PAY_NOW),
        ("lien ?", Intent.PAY_NOW),
    ],
)
def test_a_question_is_read_by_what_it_asks_about(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    "text",
    [
        "je veux régler la facture",
        "Je vais régler par virement",
        "je passe au magasin demain pour payer en liquide",
        "j'ai pas de souci avec la facture, je veux payer, c'est où",
        "envoyez la facture à payer svp",
        "non, le prix n'est pas celui du devis",
        "j'aurais besoin d'un peu plus de temps pour la régler",
        "en 3 fois",
        "STOP",
    ],
)
def test_explicit_requests_keep_their_intent_as_questions(text: str) -> None:
    plain, asked = read(text), read(text + " ?")
    assert (asked.intent, asked.parts, asked.date) == (plain.intent, plain.parts, plain.date)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("paye par ma mere", "fr_FR"),  # unaccented, but only "paid by" makes sense
        ("ya paye wsh", "fr_FR"),
        ("ya lo pago mi marido", "es_ES"),
        ("my card was charged yesterday", "en_GB"),
        ("the direct debit went out", "en_GB"),
        ("ma carte a été débitée ce matin", "fr_FR"),
    ],
)
def test_payment_reports_without_their_accent_or_their_verb(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.ALREADY_PAID


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("n'utilisez plus mon numéro", "fr_FR"),
        ("supprimez mes données", "fr_FR"),
        ("don't use my number", "en_GB"),
        ("enough texts now", "en_GB"),
        ("no further contact please", "en_GB"),
        ("dejadme en paz", "es_ES"),
        # for someone else, or a number that is not theirs any more
        ("merci de ne plus leur écrire, ce sont mes parents", "fr_FR"),
        ("ne plus contacter ce numéro svp", "fr_FR"),
        ("vous écrivez plus sur ce portable, il est à mon fils", "fr_FR"),
        ("denme de baja, gracias", "es_ES"),
        ("dame de baja de los avisos", "es_ES"),
    ],
)
def test_opt_outs_without_a_stop_word(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.OPT_OUT


def test_the_rest_alone_on_a_date_is_a_promise() -> None:
    reading = read("je vous règle le reste vendredi")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 20))


def test_a_decimal_comma_does_not_cut_the_message() -> None:
    assert read("c'est bien 85,80 € à payer ?").intent is Intent.STATUS


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hello, I would like to pay now please", "en"),
        ("bonjour je voudrais payer maintenant", "fr"),
        ("quiero pagar ahora por favor", "es"),
    ],
)
def test_the_language_the_customer_writes_in(text: str, language: str) -> None:
    assert read(text, "fr_FR").language == language


def test_word_lists_live_in_one_data_file_per_language() -> None:
    from flows.intent_words import LEXICON_DIR, lexicon

    files = sorted(p.stem for p in LEXICON_DIR.glob("*.toml"))
    assert files == sorted(lexicon().markers)
    assert {"fr", "en", "es"} <= set(files)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("c'est du spam ?", "fr_FR"),
        ("is this spam?", "en_GB"),
    ],
)
def test_asking_whether_it_is_spam_asks_for_a_confirmation(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("j'arrête de travailler à 18h, je paie ce soir", "fr_FR", Intent.PAY_LATER),
        ("I'll stop working at 6 and pay tonight", "en_GB", Intent.PAY_LATER),
        ("j'aimerais stopper l'échéancier et tout payer", "fr_FR", Intent.PAY_NOW),
        ("arrêtez de m'écrire", "fr_FR", Intent.OPT_OUT),
        ("stop texting me", "en_GB", Intent.OPT_OUT),
    ],
)
def test_stopping_something_else_is_not_an_opt_out(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("votre mail était dans mes spams", "fr_FR", Intent.UNKNOWN),
        ("j'ai trouvé la facture dans les spams, je paie demain", "fr_FR", Intent.PAY_LATER),
        ("je me suis désabonné et je reçois encore vos messages", "fr_FR", Intent.OPT_OUT),
        ("I unsubscribed but I'm still getting your texts", "en_GB", Intent.OPT_OUT),
        ("je me suis désabonné par erreur", "fr_FR", Intent.OPT_IN),
    ],
)
def test_spam_folders_and_reported_unsubscriptions(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


# --- Understanding v2, second round: concept groups, spelling, dates -----------------------


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # messages + ceasing, in words no rule lists
        ("plus jamais de sms svp", "fr_FR", Intent.OPT_OUT),
        ("je veux plus de notifs", "fr_FR", Intent.OPT_OUT),
        ("fini les textos", "fr_FR", Intent.OPT_OUT),
        ("cancel notifications", "en_GB", Intent.OPT_OUT),
        ("turn off the reminders", "en_GB", Intent.OPT_OUT),
        ("parad de mandarme sms", "es_ES", Intent.OPT_OUT),
        # messages + resuming
        ("je veux de nouveau les sms", "fr_FR", Intent.OPT_IN),
        ("volved a mandarme los avisos", "es_ES", Intent.OPT_IN),
        # a defect, a wrong amount or a missing discount with a refusal
        ("colis perdu, je paye pas un truc que j'ai pas", "fr_FR", Intent.DISPUTE),
        ("c faux", "fr_FR", Intent.DISPUTE),
        ("vous avez oublié la réduction", "fr_FR", Intent.DISPUTE),
        ("esto no lo he pedido yo", "es_ES", Intent.DISPUTE),
        # splitting words and a bare number of instalments
        ("découper le paiement stp", "fr_FR", Intent.SPLIT),
        ("pay in chunks?", "en_GB", Intent.SPLIT),
        # a person and a phone
        ("ya moyen d'avoir qqun au tel ?", "fr_FR", Intent.ASK_AGENT),
        ("quiero que me llame alguien", "es_ES", Intent.ASK_AGENT),
        # what is left, settled, postponed
        ("cuantos plazos me quedan?", "es_ES", Intent.STATUS),
        ("je suis à jour ou pas ?", "fr_FR", Intent.STATUS),
        ("all settled", "en_GB", Intent.ALREADY_PAID),
        ("c'est prélevé depuis longtemps", "fr_FR", Intent.ALREADY_PAID),
        ("repoussez svp", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_concept_groups_read_phrasings_no_rule_lists(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [("on peut faire en 4 ?", 4), ("en 5 c possible", 5), ("in five?", 5)],
)
def test_a_bare_number_of_instalments_is_a_split(text: str, parts: int) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # declining the split is not asking for it
        ("pas besoin d'étaler, je paie tout", "fr_FR", Intent.PAY_NOW),
        # "en 3 jours" is a delay, not three instalments
        ("en 3 jours c'est possible ?", "fr_FR", Intent.PAY_LATER),
        # a truncated message is not a message being stopped
        ("le message est coupé, je vois pas le montant", "fr_FR", Intent.UNKNOWN),
        # "stop sending the paper invoice" is not an opt-out
        ("Can you stop sending the paper invoice and just do it here? paying now", "en_GB",
         Intent.PAY_NOW),
        # chit-chat with a time word is not a promise nor a payment
        ("see you at the pub later?", "en_GB", Intent.SMALLTALK),
        ("c'est mon anniv aujourd'hui 🎉", "fr_FR", Intent.SMALLTALK),
    ],
)  # fmt: skip
def test_concepts_do_not_overreach(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_long_message_naming_messages_and_ceasing_asks_to_confirm() -> None:
    reading = read(
        "bonjour, je voulais vous dire que pour les notifications c est fini pour moi merci bien"
    )
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("plus de notifcations svp", "fr_FR", Intent.OPT_OUT),
        ("i never recieved it", "en_GB", Intent.DISPUTE),
        ("en plusieur fois", "fr_FR", Intent.SPLIT),
        ("can i pay in instalmets", "en_GB", Intent.SPLIT),
        ("jai fait le virment", "fr_FR", Intent.ALREADY_PAID),
        # Not "manager" (ask_agent): stopping on the way is chit-chat.
        ("je m'arrête pour manger", "fr_FR", Intent.SMALLTALK),
    ],
)
def test_one_key_slips_are_corrected(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_correction_never_yields_an_agreement_to_pay() -> None:
    # "paiyer" is one edit from "payer": read through a correction, it is asked about ("did
    # you mean to pay?"), never acted on.
    reading = read("je veux paiyer")
    assert reading.is_unsure and reading.alternatives == (Intent.PAY_NOW,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("le lendemain de noel", "2026-12-26"),
        ("boxing day lol", "2026-12-26"),
        ("later today", "2026-11-18"),
        ("15 jours de delai c'est possible ?", "2026-12-03"),
        ("fin du mois de janvier, jpeux pas avant stp", "2027-01-31"),
        ("début du mois de janvier", "2027-01-01"),
        ("je paie lundi en 8", "2026-11-30"),  # a week on Monday, not 8 instalments
        ("lundi en 8", "2026-11-30"),
        ("fin du mois", "2026-11-30"),
    ],
)
def test_more_dates(text: str, expected: str) -> None:
    reading = read(text)
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date.fromisoformat(expected)


def test_an_adverb_inside_a_negated_contest_keeps_it_negated() -> None:
    text = "je ne conteste absolument pas la facture mais j'aurais besoin d'un peu plus de temps"
    assert read(text).intent is Intent.PAY_LATER


def test_the_spelling_vocabulary_is_rebuilt_from_the_tuning_corpus() -> None:
    # Stale after a corpus or lexicon change: `python -m tests.intents.build_vocabulary`.
    from flows.intent_spelling import VOCABULARY
    from tests.intents.build_vocabulary import render

    assert VOCABULARY.read_text(encoding="utf-8") == render()


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("je reçois plus de sms depuis lundi", "fr_FR"),
        ("plus de sms reçu ?", "fr_FR"),
        ("vous avez arrêté les rappels ?", "fr_FR"),
        ("les sms se sont arrêtés", "fr_FR"),
        ("pourquoi plus de messages ?", "fr_FR"),
        ("ya plus de notifs dans l'appli", "fr_FR"),
        ("i stopped getting texts", "en_GB"),
        ("did you stop the reminders?", "en_GB"),
        ("the messages stopped", "en_GB"),
        ("no more reminders?", "en_GB"),
    ],
)
def test_a_report_that_messages_stopped_is_not_an_opt_out(text: str, locale: str) -> None:
    assert read(text, locale).intent is not Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("oui sauf que vous m'avez compté 2 heures de trop", "fr_FR"),
        ("d'accord pour payer mais seulement 100, pas 150", "fr_FR"),
        ("je paie si vous enlevez les frais", "fr_FR"),
        ("happy to pay the 80 we agreed, not 120", "en_GB"),
    ],
)
def test_agreeing_to_pay_another_amount_is_a_dispute(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.DISPUTE


def test_forgetting_to_pay_is_not_a_dispute() -> None:
    assert read("J'ai oublié, je paie maintenant").intent is Intent.PAY_NOW


def test_paye_alone_is_asked_about() -> None:
    assert read("payé").confidence == 1.0
    reading = read("paye")
    assert reading.intent is Intent.ALREADY_PAID
    assert reading.is_unsure
    assert set(reading.alternatives) == {Intent.ALREADY_PAID, Intent.PAY_NOW}


# --- round 3: kinds found by blind batch C (sentences written for these tests, not the corpus)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("l'appareil s'arrete tout seul, il est defectueux", "fr_FR"),
        ("je m'arrête au distributeur et je paye", "fr_FR"),
        ("je veux pas arrêter les rappels, je paie lundi", "fr_FR"),
        ("je ne veux pas me désabonner", "fr_FR"),
        ("stop stop je me suis trompé, je voulais en 3 fois", "fr_FR"),
        ("arrêtez de me proposer l'échéancier, je paie tout", "fr_FR"),
        ("pas de stop svp, je veux garder les rappels", "fr_FR"),
        ("surtout ne m'enlevez pas de la liste", "fr_FR"),
        ("j'ai jamais demandé l'arrêt des sms", "fr_FR"),
        ("don't stop the reminders, I'll pay on the 30th", "en_GB"),
        ("I didn't mean to send stop, keep texting me", "en_GB"),
        ("no pares los mensajes", "es_ES"),
    ],
)
def test_stop_words_about_something_else_do_not_opt_out(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert reading.intent is not Intent.OPT_OUT
    assert not reading.then or Intent.OPT_OUT not in reading.then


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("ST0P", "fr_FR"),
        ("stopp", "fr_FR"),
        ("je veux plus rien recevoir", "fr_FR"),
        ("arrêtez de m'envoyer ça", "fr_FR"),
        ("je veux être retiré de votre liste", "fr_FR"),
        ("plus jamais vous m'écrivez", "fr_FR"),
        ("je veux pas recevoir ces notifs", "fr_FR"),
        ("I don't wanna receive these any more", "en_GB"),
        ("get me off this list", "en_GB"),
        ("quit texting", "en_GB"),
        ("I wish to no longer receive these", "en_GB"),
        ("don't text this number again", "en_GB"),
        ("quítenme de la lista", "es_ES"),
        ("para de escribirme", "es_ES"),
        ("no quiero mensajes", "es_ES"),
    ],
)
def test_opt_outs_without_a_listed_phrasing(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("ya payé wsh", "fr_FR", Intent.ALREADY_PAID),
        ("g réglé hier soir", "fr_FR", Intent.ALREADY_PAID),
        ("j'ai fé le virement", "fr_FR", Intent.ALREADY_PAID),
        ("ya lo pagé ayer", "es_ES", Intent.ALREADY_PAID),
        ("ya te hice bizum", "es_ES", Intent.ALREADY_PAID),
        ("my husband sorted it last week", "en_GB", Intent.ALREADY_PAID),
        # The accent is not a participle after a modal: a misspelt infinitive.
        ("jvoudrais payé en 3 fois", "fr_FR", Intent.SPLIT),
        ("je serai payé le 5, je vous règle après", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_misspelt_payment_reports(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("je paierai quand la chaudière sera réparée", "fr_FR"),
        ("pas tant que la fuite est pas réparée", "fr_FR"),
        ("réparez d'abord la porte", "fr_FR"),
        ("le technicien est jamais venu", "fr_FR"),
        ("vous avez facturé un joint qui a pas été changé", "fr_FR"),
        ("non, l'écran est rayé", "fr_FR"),
        ("ok pour vendredi mais 80 pas 120", "fr_FR"),
        ("120 balles ? c'était 90 sur le devis", "fr_FR"),
        ("will pay once the heating actually works", "en_GB"),
        ("sure, once you fix the invoice", "en_GB"),
        ("no, it broke after a day", "en_GB"),
        ("the part you charged for was never fitted", "en_GB"),
        ("no me ha llegado nada", "es_ES"),
        ("la nevera se apaga sola, no pago", "es_ES"),
    ],
)
def test_disputes_tied_to_a_defect_or_a_condition(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("no need for instalments, I'll pay the lot now", "en_GB", Intent.PAY_NOW),
        ("non attendez, pas en 3 fois, je paye tout maintenant", "fr_FR", Intent.PAY_NOW),
        ("finalement maintenant, laissez tomber le plus tard", "fr_FR", Intent.PAY_NOW),
        ("je préfère régler par mensualités", "fr_FR", Intent.SPLIT),
        ("puedo pagar la mitad ahora", "es_ES", Intent.SPLIT),
        ("what do I do now", "en_GB", Intent.HELP),
        ("à quoi sert ce sms ?", "fr_FR", Intent.HELP),
        ("how many more instalments do I have left?", "en_GB", Intent.STATUS),
        ("I'd like an advisor", "en_GB", Intent.ASK_AGENT),
        ("le bus s'arrête devant chez vous ?", "fr_FR", Intent.SMALLTALK),
    ],
)
def test_phrasings_no_rule_listed(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("I'll pay on Friday, sorry for the delay", "en_GB", "2026-11-20"),
        ("désolé du retard, je paye lundi", "fr_FR", "2026-11-23"),
        ("tout à l'heure", "fr_FR", "2026-11-18"),
    ],
)
def test_an_apology_for_the_delay_keeps_the_date(text: str, locale: str, expected: str) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.PAY_LATER
    assert reading.date is not None and reading.date.isoformat() == expected


# --- round 5: kinds from blind batch E -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A stop word applied to the speaker, or to something that stops by itself.
        ("stop me if I'm wrong but can I pay in 3?", "en_GB", Intent.SPLIT),
        ("arrête-moi si je dis une bêtise, on peut payer en 2 fois ?", "fr_FR", Intent.SPLIT),
        ("when will the payments stop?", "en_GB", Intent.UNKNOWN),
        # Paying only part because of a defect contests the rest.
        ("I'll only pay half, the tiles are cracked", "en_GB", Intent.DISPUTE),
        ("je paie que la moitié, les carreaux sont fissurés", "fr_FR", Intent.DISPUTE),
        # A charge named and challenged, without a dispute verb.
        ("why £60 extra? nobody told me", "en_GB", Intent.DISPUTE),
        ("c'est quoi ces 20 € de supplément ??", "fr_FR", Intent.DISPUTE),
        ("¿por qué 90? nadie me lo dijo", "es_ES", Intent.DISPUTE),
        # A payment report, then a question about what is left: the question is answered.
        ("j'ai réglé la première, il en reste combien ?", "fr_FR", Intent.STATUS),
        # Told paid, then why something is left: the payment is checked first, as the
        # blind writers label a report beside a question (the retrained arbiter, round 39).
        ("j'ai déjà payé, pourquoi il reste 50 ?", "fr_FR", Intent.ALREADY_PAID),
        # Whether the message is genuine: help (a bare "est-ce une arnaque ?" still contests).
        ("c'est une arnaque ou pas ?", "fr_FR", Intent.HELP),
        ("est-ce que c'est une arnaque ?", "fr_FR", Intent.DISPUTE),
        # Going ahead with the card at hand; not when the card is missing.
        ("je sors ma carte", "fr_FR", Intent.PAY_NOW),
        # A missing card is a problem with paying (help), never a going ahead.
        ("je trouve pas ma carte", "fr_FR", Intent.HELP),
        # A person named by title or role.
        ("je veux parler à Mme Martin", "fr_FR", Intent.ASK_AGENT),
        ("vous pouvez me mettre en relation avec le technicien ?", "fr_FR", Intent.ASK_AGENT),
        ("START 👍", "fr_FR", Intent.OPT_IN),
    ],
)  # fmt: skip
def test_round_five_kinds(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("en 4 fois... non, 3 plutôt", "fr_FR", 3),
        ("three instalments. actually no, two is fine", "en_GB", 2),
        ("c'est pas 3 fois c'est 2", "fr_FR", 2),
        ("payer en 2 fois, 50 maintenant", "fr_FR", 2),  # an amount, not fifty instalments
    ],
)
def test_a_corrected_number_of_instalments_wins(text: str, locale: str, parts: int) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_asking_when_the_messages_stop_asks_to_confirm() -> None:
    reading = read("when will the texts stop?", "en_GB")
    assert reading.intent is not Intent.OPT_OUT
    assert reading.maybe_opt_out
    assert read("when will you stop texting me", "en_GB").intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A stop the customer says is not needed is no opt-out (blind F's critical error).
        ("pas la peine de stopper les relances, je règle lundi", "fr_FR", Intent.PAY_LATER),
        ("no need to stop the texts, I'll pay on monday", "en_GB", Intent.PAY_LATER),
        ("no hace falta dar de baja, pago el lunes", "es_ES", Intent.PAY_LATER),
        # Agreeing on condition that the amount is corrected first contests it (critical in F).
        ("vale, pero antes revisen el precio", "es_ES", Intent.DISPUTE),
        # Written to the wrong person, or to a voice assistant: nothing to act on, unless
        # the rest contests the invoice.
        ("je crois que vous avez le mauvais numéro", "fr_FR", Intent.UNKNOWN),
        ("you've got the wrong person, sorry", "en_GB", Intent.UNKNOWN),
        ("hey siri appelle maman", "fr_FR", Intent.UNKNOWN),
        ("trompé de personne, je ne suis pas client chez vous", "fr_FR", Intent.DISPUTE),
        # Praise for the work, wishes for a holiday, the lesson itself: chit-chat.
        ("merci pour l'intervention, du bon boulot", "fr_FR", Intent.SMALLTALK),
        ("great job on the repair, thanks", "en_GB", Intent.SMALLTALK),
        ("joyeux Noël à toute l'équipe", "fr_FR", Intent.SMALLTALK),
        ("running late for my class on friday, sorry", "en_GB", Intent.SMALLTALK),
        # Asking whether a payment went through is a question, not a report; with the
        # transfer told as made ("mon virement"), the payment is checked, as the blind
        # writers label it ("le virement je l'ai fait lundi, c'est pas encore arrivé ?").
        ("mon virement est bien arrivé ?", "fr_FR", Intent.ALREADY_PAID),
        ("did my transfer go through?", "en_GB", Intent.STATUS),
        # A STOP or an unsubscription taken back: opt in.
        ("sorry I didn't mean to type stop", "en_GB", Intent.OPT_IN),
        ("me he dado de baja sin querer", "es_ES", Intent.OPT_IN),
        # Fees never shown, part of the work charged twice, a defect still there.
        ("le supplément n'était pas mentionné sur le devis", "fr_FR", Intent.DISPUTE),
        ("the job isn't even done yet", "en_GB", Intent.DISPUTE),
        ("toujours une fuite, je paierai pas tant que c pas réparé", "fr_FR", Intent.DISPUTE),
        # Whether card details are kept, whether the link is a scam: help.
        ("vous gardez mes coordonnées bancaires ?", "fr_FR", Intent.HELP),
        ("is this link a scam?", "en_GB", Intent.HELP),
        # "Where is the link" asks for it; "how can I pay" asks for the way to pay.
        ("je veux régler, où est le lien ?", "fr_FR", Intent.PAY_NOW),
        ("how can we pay?", "en_GB", Intent.PAY_NOW),
        ("est-ce que quelqu'un pourrait me rappeler demain matin ?", "fr_FR", Intent.ASK_AGENT),
        ("the cheque was sent in the post on monday", "en_GB", Intent.ALREADY_PAID),
    ],
)  # fmt: skip
def test_round_six_kinds(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_paid_by_a_day_to_come_is_a_promise() -> None:
    reading = read("d'ici jeudi ce sera réglé")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 19))
    later_today = read("je passe payer aujourd'hui dans l'aprem")
    assert (later_today.intent, later_today.date) == (Intent.PAY_LATER, dt.date(2026, 11, 18))


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("50 maintenant et le reste vendredi", 2),
        ("je paie 80 ce soir, 80 le 5 et le reste à Noël", 3),
        ("20 now, 20 on friday and the rest next month", 3),
    ],
)
def test_each_amount_before_the_rest_is_one_more_instalment(text: str, parts: int) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_a_split_asked_with_what_it_is_for_is_a_split() -> None:
    reading = read("en 10 fois c'est possible ? c pour la chaudière")
    assert (reading.intent, reading.parts) == (Intent.SPLIT, 10)


# --- round 8: kinds, not lines (texts written for these tests, not taken from the corpus) ---


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("mercredi, je peux pas avant désolé", "fr_FR", "2026-11-25"),
        ("friday, can't any sooner sorry", "en_GB", "2026-11-20"),
        ("can't do it till monday sorry, the rent went out today", "en_GB", "2026-11-23"),
        ("nous sommes payés le 30 ici, je vous règle ce jour-là", "fr_FR", "2026-11-30"),
        ("le 5 j'ai ma prime, je paye ce jour là", "fr_FR", "2026-12-05"),
        ("ok pour la somme, je paie lundi quand je reçois mon remboursement mutuelle", "fr_FR",
         "2026-11-23"),
        ("fine, I'll pay on friday once my refund comes through", "en_GB", "2026-11-20"),
    ],
)  # fmt: skip
def test_a_date_given_with_a_reason_or_a_constraint_stands(
    text: str, locale: str, expected: str
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date.fromisoformat(expected))


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("laissez-moi qq jours svp", "fr_FR"),
        ("laisse moi 2-3 jours", "fr_FR"),
        ("dame unos días", "es_ES"),
        ("I'll sort it once I'm back from my holiday", "en_GB"),
    ],
)
def test_time_asked_without_a_day_is_a_promise(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, None)


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("je paierai après l'Ascension", "fr_FR", "2027-05-07"),
        ("après le 1er mai", "fr_FR", "2027-05-02"),
        ("je règle après le 14 juillet", "fr_FR", "2027-07-15"),
        ("après la Toussaint", "fr_FR", "2027-11-02"),
        ("après le 11 novembre", "fr_FR", "2027-11-12"),
        ("after Easter Monday", "en_GB", "2027-03-30"),
        ("I'll pay after the bank holiday", "en_GB", "2026-12-26"),
        ("después del 1 de mayo", "es_ES", "2027-05-02"),
    ],
)
def test_after_a_public_holiday_is_the_day_after_it(text: str, locale: str, expected: str) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date.fromisoformat(expected))


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("la piscine était fermée en octobre et vous me prélevez octobre", "fr_FR"),
        ("le prof a annulé deux cours, ils sont sur la facture", "fr_FR"),
        ("la séance a été annulée par le coach, je la paie pas", "fr_FR"),
        ("mon abonnement était suspendu ce mois-là, pourquoi je paie ?", "fr_FR"),
        ("vous facturez 3h alors qu'il est resté même pas 2 heures", "fr_FR"),
        ("la coupe a duré 20 min pas une heure", "fr_FR"),
        ("jamais eu ces frais avant, c'est nouveau ?", "fr_FR"),
        ("the studio was shut all of july and you've billed me for july", "en_GB"),
        ("my plan was paused in june, shouldn't be charged", "en_GB"),
        ("the session was 40 minutes not an hour", "en_GB"),
        ("never paid this booking fee before, is it new?", "en_GB"),
        ("la academia estuvo cerrada todo julio y me cobráis julio", "es_ES"),
    ],
)
def test_a_dispute_told_as_a_story_is_a_dispute(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("le cours a été annulé, je paie lundi", "fr_FR"),
        ("the shop was closed so I'll pay monday", "en_GB"),
    ],
)
def test_a_service_cancelled_without_a_charge_named_is_no_dispute(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.PAY_LATER


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("je préfère en 4, pas en 3", "fr_FR", 4),
        ("plutôt 2 que 3", "fr_FR", 2),
        ("3 fois pas 2", "fr_FR", 3),
        ("2 not 3", "en_GB", 2),
        ("rather 3 than 4", "en_GB", 3),
        ("mejor en 2 que en 3", "es_ES", 2),
        ("en 3 fois non en 4", "fr_FR", 4),
    ],
)
def test_a_number_of_instalments_chosen_over_another(text: str, locale: str, parts: int) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_numbers_that_are_no_count_of_instalments_are_not_a_split() -> None:
    assert read("80 pas 144").intent is Intent.DISPUTE
    assert read("on avait dit 3 pas 4 heures").intent is Intent.DISPUTE
    assert read("le 3 pas le 4").intent is not Intent.SPLIT


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("paiement immédiat", "fr_FR", Intent.PAY_NOW),
        ("comment je peux vous payer ?", "fr_FR", Intent.PAY_NOW),
        ("c'est pour quoi ce lien ?", "fr_FR", Intent.HELP),
        ("what's the link for?", "en_GB", Intent.HELP),
        ("qui vous a donné mon numéro ?", "fr_FR", Intent.HELP),
        ("top merci 😊", "fr_FR", Intent.SMALLTALK),
        ("brilliant, thanks", "en_GB", Intent.SMALLTALK),
        ("ok merci", "fr_FR", Intent.YES),
        ("n'arrêtez surtout pas les rappels", "fr_FR", Intent.SMALLTALK),
        ("keep the reminders coming please", "en_GB", Intent.SMALLTALK),
        ("vous prélevez quand ?", "fr_FR", Intent.STATUS),
        ("when will the money come out?", "en_GB", Intent.STATUS),
        ("le garage est ouvert samedi ?", "fr_FR", Intent.SMALLTALK),
        ("STOP in 3 payments", "en_GB", Intent.OPT_OUT),
    ],
)
def test_round_eight_small_kinds(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("mon compte était bloqué, j'ai pas pu payer, je paie demain", Intent.PAY_LATER),
        ("la banque était fermée, je ferai le virement lundi", Intent.PAY_LATER),
        ("10 pas 12", Intent.DISPUTE),
    ],
)
def test_a_reason_of_the_customer_is_no_story_of_a_dispute(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


# --- round 10: the kinds behind blind batch I's misses, in phrasings the batch did not use ----


@pytest.mark.parametrize(
    ("text", "locale", "intent", "parts"),
    [
        # A STOP told as a slip, or keeping the reminders: opt in (I's first critical error).
        ("j'ai mis ARRET sans faire attention, remettez moi svp", "fr_FR", Intent.OPT_IN, None),
        (
            "I texted STOP to the wrong chat, I want to keep getting your reminders",
            "en_GB",
            Intent.OPT_IN,
            None,
        ),
        (
            "mandé STOP sin querer, quiero seguir recibiendo los avisos",
            "es_ES",
            Intent.OPT_IN,
            None,
        ),
        # Paying once a credit note or correction shows: a dispute (I's second critical error).
        ("ok je paierai quand l'avoir sera fait", "fr_FR", Intent.DISPUTE, None),
        ("yes I'll pay once the credit note shows on my account", "en_GB", Intent.DISPUTE, None),
        ("sí, pago cuando aparezca el abono", "es_ES", Intent.DISPUTE, None),
        # Paid, told in the past with its day.
        ("vous l'avez déjà prélevé lundi", "fr_FR", Intent.ALREADY_PAID, None),
        (
            "they already took the money from my account on Monday",
            "en_GB",
            Intent.ALREADY_PAID,
            None,
        ),
        # A named person or the business's own line.
        ("je voudrais en discuter avec le docteur Martin", "fr_FR", Intent.ASK_AGENT, None),
        ("can I get a call back please", "en_GB", Intent.ASK_AGENT, None),
        ("¿me podéis dar el teléfono de la consulta?", "es_ES", Intent.ASK_AGENT, None),
        # Paying by phone and a means "possible ?" are questions about the means.
        ("on peut régler par téléphone ?", "fr_FR", Intent.HELP, None),
        ("apple pay possible?", "en_GB", Intent.HELP, None),
        # Not for them, or an automatic reply.
        (
            "réponse automatique : je suis en congé jusqu'au 3 janvier",
            "fr_FR",
            Intent.UNKNOWN,
            None,
        ),
        ("this message isn't for me, my name isn't Paul", "en_GB", Intent.UNKNOWN, None),
        # A count changed, or not chosen yet.
        ("on peut passer de 2 à 3 fois ?", "fr_FR", Intent.SPLIT, 3),
        ("could we switch from 4 to 2 payments", "en_GB", Intent.SPLIT, 2),
        ("en dos o tres plazos", "es_ES", Intent.SPLIT, None),
        # Disputes told without a dispute word.
        ("c'est pas ce que disait le devis", "fr_FR", Intent.DISPUTE, None),
        ("there shouldn't be any cancellation fee", "en_GB", Intent.DISPUTE, None),
        # "?!" on a question about the amount is not a challenge.
        ("c'est combien je vous dois ?!", "fr_FR", Intent.STATUS, None),
    ],
)
def test_round_10_kinds(text: str, locale: str, intent: Intent, parts: int | None) -> None:
    got = read(text, locale)
    assert (got.intent, got.parts) == (intent, parts)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (dt.datetime(2026, 11, 18, 10, tzinfo=dt.UTC), "2027-01-02"),
        # In July "the holidays" may be the summer ones: no date rather than a guess.
        (dt.datetime(2027, 7, 1, 10, tzinfo=dt.UTC), None),
    ],
)
def test_after_the_year_end_feasts(now: dt.datetime, expected: str | None) -> None:
    for text, locale in (
        ("après les fêtes", "fr_FR"),
        ("after the holidays", "en_GB"),
        ("después de las fiestas", "es_ES"),
    ):
        got = understand(text, locale=locale, now=now, tz=TZ)
        assert got.intent is Intent.PAY_LATER
        assert (got.date.isoformat() if got.date else None) == expected


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A payment tool that fails is a problem with paying, however the failure is told.
        ("the payment page is broken on my phone", "en_GB", Intent.HELP),
        ("le lien de paiement marche plus depuis hier", "fr_FR", Intent.HELP),
        ("el enlace no funciona", "es_ES", Intent.HELP),
        ("j'ai jamais reçu le code de confirmation de la banque", "fr_FR", Intent.HELP),
        # Whether we are a scam, asked: help, not a dispute.
        ("is it a scam?", "en_GB", Intent.HELP),
        ("c'est une arnaque ?", "fr_FR", Intent.HELP),
        # A part paid and a question about what is left.
        ("paid the first instalment, what's my balance?", "en_GB", Intent.STATUS),
        # A payment reported and a person asked for: the person.
        ("c'est payé mais je voudrais parler à la responsable", "fr_FR", Intent.ASK_AGENT),
        # A call declined ("rappeler" is also "to remind").
        ("pas besoin de me rappeler, je règle ce soir en ligne", "fr_FR", Intent.PAY_LATER),
        ("no I don't want anyone to call me", "en_GB", Intent.NO),
        # The proposed schedule agreed to by name.
        ("ok pour le calendrier proposé", "fr_FR", Intent.YES),
        ("happy with the payment plan, thanks", "en_GB", Intent.YES),
        # Paying on condition that the invoice is put right.
        ("I'll pay as soon as the callout fee is taken off", "en_GB", Intent.DISPUTE),
        ("je paie uniquement le montant du devis", "fr_FR", Intent.DISPUTE),
        # A service the customer ended, paused or sent back, billed anyway.
        ("why am I being charged for shoes I sent back?", "en_GB", Intent.DISPUTE),
        (
            "j'ai résilié mon abonnement en janvier et vous me facturez février",
            "fr_FR",
            Intent.DISPUTE,
        ),
        # A refusal that names the harm done.
        ("je paierai pas, vous avez abîmé ma portière", "fr_FR", Intent.DISPUTE),
        # Time words in family news or one's own pay spent are chit-chat.
        ("samedi c'est l'anniversaire de mon fils, on fait une fête", "fr_FR", Intent.SMALLTALK),
        ("quand j'aurai ma paye je m'achète un vélo", "fr_FR", Intent.SMALLTALK),
        ("non stop les réunions, je suis crevée", "fr_FR", Intent.SMALLTALK),
        # Our messages wanted again, in so many words.
        ("je voudrais avoir de nouveau les rappels svp", "fr_FR", Intent.OPT_IN),
        ("I'd like to get the reminders again please", "en_GB", Intent.OPT_IN),
        # Billing asked to stop is contested (whether messages should stop is asked apart).
        ("cessez de me prélever pour un cours que j'ai annulé", "fr_FR", Intent.DISPUTE),
        ("stop billing me for a service I never used", "en_GB", Intent.DISPUTE),
        # The customer's own "promis" is no broken promise.
        ("je paie ce soir, promis", "fr_FR", Intent.PAY_LATER),
        # A real company asked about is no person asked for.
        ("vous êtes une vraie société ou une arnaque ?", "fr_FR", Intent.HELP),
        # Not paid yet, being paid now.
        ("pas encore réglé, je vous règle tout de suite", "fr_FR", Intent.PAY_NOW),
        ("not yet, paying it now", "en_GB", Intent.PAY_NOW),
    ],
)
def test_round_12_kinds(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_part_paid_and_the_rest_promised_for_a_day() -> None:
    got = read("j'ai versé 40 hier, le solde vendredi")
    assert (got.intent, got.date) == (Intent.PAY_LATER, dt.date(2026, 11, 20))
    got = read("paid half already, the rest on Monday", "en_GB")
    assert (got.intent, got.date) == (Intent.PAY_LATER, dt.date(2026, 11, 23))


@pytest.mark.parametrize(
    ("text", "locale", "intent", "maybe_opt_out"),
    [
        # "stop" for "wait": the rest is acted on and the STOP is asked about, never recorded.
        ("stop attendez, c'est possible en 2 fois ?", "fr_FR", Intent.SPLIT, True),
        ("stop, j'ai compris, envoyez le lien", "fr_FR", Intent.PAY_NOW, True),
        ("stop wait, can I split it?", "en_GB", Intent.SPLIT, True),
        # A STOP sent by someone else, then a request to turn the messages back on.
        ("le stop c'est ma fille, réactivez les sms svp", "fr_FR", Intent.OPT_IN, False),
        ("ignore my unsubscribe request", "en_GB", Intent.OPT_IN, False),
        # A refused schedule is no agreement.
        ("non, ce plan me convient pas du tout", "fr_FR", Intent.NO, False),
    ],
)
def test_round_13_stop_kinds(text: str, locale: str, intent: Intent, maybe_opt_out: bool) -> None:
    got = read(text, locale)
    assert (got.intent, got.maybe_opt_out) == (intent, maybe_opt_out)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("I'll pay when the work is properly finished", "en_GB", Intent.DISPUTE),
        ("est-ce que mon virement a bien été reçu ?", "fr_FR", Intent.STATUS),
        ("am I all paid up?", "en_GB", Intent.STATUS),
        ("je peux régler depuis ma tablette ?", "fr_FR", Intent.HELP),
        ("passez-moi le mécanicien svp", "fr_FR", Intent.ASK_AGENT),
        ("je viendrai au salon samedi pour choisir une couleur", "fr_FR", Intent.SMALLTALK),
        ("c'est trop gentil", "fr_FR", Intent.SMALLTALK),
    ],
)
def test_round_13_kinds(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_rejected_number_of_instalments_gives_way_to_the_one_chosen() -> None:
    assert read("no en 2, en 3 por favor", "es_ES").parts == 3
    assert read("vous m'aviez proposé 2 fois, je préfère 3").parts == 3


@pytest.mark.parametrize(
    "text",
    [
        "stop stop, attendez, je peux payer en deux fois ?",
        "stop ça fait deux fois que je vous dis que c'est réglé",
    ],
)
def test_a_repeated_or_irritated_stop_before_something_else_is_asked_about(text: str) -> None:
    got = read(text)
    assert got.intent is not Intent.OPT_OUT and got.maybe_opt_out


def test_an_irritated_stop_about_the_messages_still_opts_out() -> None:
    assert read("stop ça fait 3 fois que je vous dis d'arrêter les sms").intent is Intent.OPT_OUT


def test_an_amount_a_month_asked_with_outrage_is_still_a_split() -> None:
    """Found by test_surface_changes_keep_the_intent: "?" + "!" made "?!", read as a charge
    challenged; an amount a month or a week names instalments, as "en 3 fois ??" does."""
    assert read("JPEUX PAYER 30 BALLES PAR MOIS ?!").intent is Intent.SPLIT
    assert read("can I pay 20 a week?!", "en_GB").intent is Intent.SPLIT


def test_a_remembered_reading_follows_the_day() -> None:
    # The rules' readings are kept per (text, locale, today): "demain" read again on another
    # day is that day's tomorrow, not the first one's.
    first = understand("je paie demain", locale="fr_FR", now=NOW, tz=TZ)
    again = understand("je paie demain", locale="fr_FR", now=NOW + dt.timedelta(days=3), tz=TZ)
    assert first.date is not None and again.date == first.date + dt.timedelta(days=3)
    assert understand("je paie demain", locale="fr_FR", now=NOW, tz=TZ) is first


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # texted abbreviations in an accented message: a salary, not the invoice, is paid
        ("samedi jsuis payée, je vous règle ce jour là", "fr_FR", Intent.PAY_LATER),
        ("on peut regler en plsrs fois ?", "fr_FR", Intent.SPLIT),
        ("c ok pour nous", "fr_FR", Intent.YES),
        # a person named by their trade, after "au"
        ("je veux parler au technicien svp", "fr_FR", Intent.ASK_AGENT),
        # "à bientôt" says goodbye, it promises nothing
        ("merci beaucoup, à bientôt !", "fr_FR", Intent.SMALLTALK),
        ("je vous règle bientôt promis", "fr_FR", Intent.PAY_LATER),
        # time billed against time spent, and work not done (Spanish)
        ("la prof est restée 45 min pas 1h", "fr_FR", Intent.DISPUTE),
        ("la técnica no reparó nada", "es_ES", Intent.DISPUTE),
        ("eso no es lo que dijo el técnico", "es_ES", Intent.DISPUTE),
        # "today" is when the lesson was, in a sentence that names no payment
        ("thanks so much, brilliant lesson today, the kids loved it", "en_GB", Intent.SMALLTALK),
        ("today", "en_GB", Intent.PAY_NOW),
        ("hoy mismo lo hago", "es_ES", Intent.PAY_NOW),
        # a reassurance is not a refusal
        ("vous inquiétez pas, je règle le 30", "fr_FR", Intent.PAY_LATER),
        # money the customer waits for, from a loan or from someone else
        ("I'll settle up when my bursary comes through", "en_GB", Intent.PAY_LATER),
        ("quand ma sœur m'aura rendu l'argent je vous paie", "fr_FR", Intent.PAY_LATER),
        # someone else's name, or a number that changed hands: nothing for us to act on
        ("je suis pas madame Leroy, elle a changé de numéro", "fr_FR", Intent.UNKNOWN),
        ("I'm not Mrs Bennett, I only got this number last month", "en_GB", Intent.UNKNOWN),
        ("je ne suis pas M. Roux, mauvais numéro", "fr_FR", Intent.UNKNOWN),
        # amounts each with its day: a schedule of as many payments
        ("je vous fais 25 demain, 25 vendredi et 25 le 30", "fr_FR", Intent.SPLIT),
        ("I can do 60 now and 60 at the end of the month", "en_GB", Intent.SPLIT),
    ],
)
def test_round_24_kinds(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("je vous fais 25 demain, 25 vendredi et 25 le 30", 3),
        ("I can do 60 now and 60 at the end of the month", 2),
        ("40 maintenant, 40 le 10, et le reste fin du mois, donc 3 fois", 3),  # said: kept
        # a joke taken back: "seriously" corrects the count
        ("en 8 fois mdr ? non sérieux en 4 ?", 4),
        ("12 instalments lol, no seriously, 3", 3),
    ],
)
def test_how_many_payments_a_schedule_or_a_correction_names(text: str, parts: int) -> None:
    assert read(text).parts == parts


def test_a_salary_day_texted_gives_its_date() -> None:
    reading = read("samedi jsuis payée, je vous règle ce jour là")
    assert reading.date == dt.date(2026, 11, 21)  # NOW is Wednesday 18 November 2026


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("no need to wait till friday, I can pay now", "en_GB"),
        ("you don't have to wait until the 5th, send me the link", "en_GB"),
        ("dont need to wait till payday, paying now", "en_GB"),
        ("pas besoin d'attendre jusqu'à vendredi, je règle maintenant", "fr_FR"),
    ],
)
def test_a_wait_said_not_needed_drops_its_date(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.PAY_NOW
    assert reading.date is None


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("can you wait till friday?", "en_GB"),
        ("pouvez-vous attendre jusqu'à vendredi ?", "fr_FR"),
    ],
)
def test_a_wait_asked_for_keeps_its_date(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.PAY_LATER
    assert reading.date is not None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Je réglerai la facture le 5, merci de votre compréhension !!", Intent.PAY_LATER),
        ("je paierai la facture vendredi !!", Intent.PAY_LATER),
        ("je paierai pas 140€ pour ça !!", Intent.DISPUTE),
        ("140€ pour une vidange !! je paierai vendredi", Intent.DISPUTE),
    ],
)
def test_insisting_on_a_promise_challenges_nothing(text: str, intent: Intent) -> None:
    assert read(text).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        (
            "je règle dès que ma conseillère de banque a validé le découvert, lundi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("my mortgage adviser says I can pay on monday", "en_GB", Intent.PAY_LATER),
        ("je veux parler à mon conseiller", "fr_FR", Intent.ASK_AGENT),
        ("can I talk to an adviser please", "en_GB", Intent.ASK_AGENT),
    ],
)
def test_someone_elses_adviser_is_not_a_person_asked_for(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("could I get the payment page again?", Intent.PAY_NOW),
        ("did you receive the payment?", Intent.ALREADY_PAID),
    ],
)
def test_a_payment_page_asked_for_is_no_payment_received(text: str, intent: Intent) -> None:
    assert read(text, "en_GB").intent is intent


@pytest.mark.parametrize(
    "text", ["c'est pour quelle intervention exactement ?", "pour quels travaux exactement ?"]
)
def test_which_service_was_billed_is_a_status_question(text: str) -> None:
    assert read(text, "fr_FR").intent is Intent.STATUS


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("c'est une arnaque ce sms ? je connais aucun Dupont", "fr_FR", Intent.HELP),
        ("is this a scam? no idea who you are", "en_GB", Intent.HELP),
        ("¿quién eres? no conozco esta tienda", "es_ES", Intent.HELP),
        ("c'est une arnaque, je ne connais pas votre garage", "fr_FR", Intent.DISPUTE),
    ],
)
def test_asking_whether_an_unknown_sender_is_genuine_is_help(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("c pour quoi exactement ?", "fr_FR", Intent.STATUS),
        ("what exactly is it for?", "en_GB", Intent.STATUS),
        ("exactement", "fr_FR", Intent.YES),
        ("oui exactement", "fr_FR", Intent.YES),
    ],
)
def test_exactly_stresses_a_question_and_answers_alone(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("je suis passé régler au magasin samedi dernier", "fr_FR"),
        ("I gave the money to your plumber when he finished the repair", "en_GB"),
    ],
)
def test_a_payment_made_in_person_is_reported_paid(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.ALREADY_PAID


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("can I pay after ascension?", dt.date(2027, 5, 7)),
        ("after whit monday if that's ok", dt.date(2027, 5, 18)),
    ],
)
def test_french_holidays_named_in_english_are_their_day_after(text: str, day: dt.date) -> None:
    reading = read(text, "en_GB")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == day


def test_a_misspelt_day_of_a_promise_is_still_its_day() -> None:
    reading = read("je vous réglerai ça demin", "fr_FR")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2026, 11, 19)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("rather than waiting I'd like to pay now", "en_GB"),
        ("plutôt que d'attendre je règle maintenant", "fr_FR"),
        ("pas besoin d'attendre je règle maintenant", "fr_FR"),
        ("j'attends votre lien, je paie de suite", "fr_FR"),
        ("je veux régler maintenant, comment je procède ?", "fr_FR"),
        ("I want to settle it right now, what should I do?", "en_GB"),
    ],
)
def test_the_wait_set_aside_or_the_link_awaited_is_paying_now(text: str, locale: str) -> None:
    assert read(text, locale).intent is Intent.PAY_NOW


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("c'est à régler avant quand ?", "fr_FR", Intent.STATUS),
        ("quand dois-je la régler ?", "fr_FR", Intent.STATUS),
        ("pouvez-vous vérifier si mon mari a bien payé ?", "fr_FR", Intent.STATUS),
        ("votre numéro de téléphone fixe ?", "fr_FR", Intent.ASK_AGENT),
        ("mon fils pourrait vous appeler demain ?", "fr_FR", Intent.ASK_AGENT),
        ("necesito hablar con el responsable", "es_ES", Intent.ASK_AGENT),
        ("start again please, I unsubscribed by accident", "en_GB", Intent.OPT_IN),
        ("je paierai quand le plombier aura refait la soudure", "fr_FR", Intent.DISPUTE),
        ("15 € de frais de dossier c'est du vol", "fr_FR", Intent.DISPUTE),
        ("l'assurance a déjà dû vous régler", "fr_FR", Intent.ALREADY_PAID),
        ("le site me demande un mot de passe", "fr_FR", Intent.HELP),
        ("je ne trouve pas le lien, je veux payer", "fr_FR", Intent.PAY_NOW),
        ("quiero pagarla ya", "es_ES", Intent.PAY_NOW),
        ("je regarde avec ma banque et je reviens vers vous", "fr_FR", Intent.PAY_LATER),
        ("I'll sort it eventually, no need to chase me", "en_GB", Intent.PAY_LATER),
        ("jeudi c'est le spectacle de l'école, je serai pas là", "fr_FR", Intent.SMALLTALK),
        ("the kids break up for Easter on Friday!", "en_GB", Intent.SMALLTALK),
        ("c'est pour la facture de la tonte, je peux payer maintenant ?", "fr_FR", Intent.PAY_NOW),
    ],
)
def test_kinds_of_the_december_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_new_years_day_is_a_holiday_to_pay_after() -> None:
    reading = read("je réglerai après le jour de l'an", "fr_FR")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2027, 1, 2)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("2 fois svp. ah non, 3 si vous acceptez", 3),
        ("en 3 fois. non pardon, 4 si c'est possible", 4),
    ],
)
def test_a_count_corrected_with_a_condition_is_the_new_count(text: str, parts: int) -> None:
    reading = read(text, "fr_FR")
    assert reading.intent is Intent.SPLIT
    assert reading.parts == parts


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("c'est le 10 de quel mois ?", "fr_FR", Intent.STATUS),
        ("je reconnais pas ce numéro, c'est du phishing ?", "fr_FR", Intent.HELP),
        ("bonsoir, c'est une arnaque ou pas ?", "fr_FR", Intent.HELP),
        ("je réglerai quand la haie sera proprement taillée", "fr_FR", Intent.DISPUTE),
        ("do you take American Express?", "en_GB", Intent.HELP),
        ("je voudrais un rendez-vous téléphonique pour en parler", "fr_FR", Intent.ASK_AGENT),
    ],
)
def test_kinds_of_the_september_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("can I pay on friday instead? I'm broke till then", "en_GB"),
        ("je n'oublierai pas, vendredi", "fr_FR"),
    ],
)
def test_a_day_before_an_afterword_stays_the_promise(text: str, locale: str) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("vous me faites payer la même facture pour la 2e fois", "fr_FR", Intent.DISPUTE),
        ("third time you've billed me for this", "en_GB", Intent.DISPUTE),
        ("me la volvieron a cobrar", "es_ES", Intent.DISPUTE),
        ("no reconozco este pedido", "es_ES", Intent.DISPUTE),
        ("who is this? I don't know this number", "en_GB", Intent.HELP),
        ("what's this bill for? don't recognise the number", "en_GB", Intent.STATUS),
        ("¿quién es? no tengo agendado este número", "es_ES", Intent.HELP),
        ("I'd like to speak to Tom please, he quoted for the job", "en_GB", Intent.ASK_AGENT),
        ("je voudrais parler à Karim qui a fait le devis", "fr_FR", Intent.ASK_AGENT),
        ("Sunday is our son's christening, can't wait", "en_GB", Intent.SMALLTALK),
        ("le mariage c'est samedi, on est débordés", "fr_FR", Intent.SMALLTALK),
        ("I'm the practice manager, send me the link and I'll pay", "en_GB", Intent.PAY_NOW),
        ("my husband says he paid it on Friday", "en_GB", Intent.ALREADY_PAID),
        ("je ne paierai qu'une séance, l'autre a été annulée", "fr_FR", Intent.DISPUTE),
        ("fat chance", "en_GB", Intent.NO),
        ("how do I pay? there's no link", "en_GB", Intent.PAY_NOW),
        ("c'est quoi plus tard ?", "fr_FR", Intent.HELP),
        ("what does 3x mean?", "en_GB", Intent.HELP),
        ("j'ai des frais de voiture en ce moment, mi-avril ça irait ?", "fr_FR", Intent.PAY_LATER),
        ("je paierai quand les vitres auront été refaites", "fr_FR", Intent.DISPUTE),
    ],
)
def test_kinds_of_the_february_and_june_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_the_fourteenth_of_july_in_english_is_a_holiday_to_pay_after() -> None:
    reading = read("can it wait until after the 14th of July?", "en_GB")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2027, 7, 15)


def test_a_count_corrected_after_en_fait_is_the_new_count() -> None:
    reading = read("en 2 fois... non en fait en 3 si possible", "fr_FR")
    assert reading.intent is Intent.SPLIT
    assert reading.parts == 3


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("j'avais mis STOP mais en fait je préfère recevoir les rappels", "fr_FR", Intent.OPT_IN),
        ("I sent stop but I'd rather keep getting your reminders", "en_GB", Intent.OPT_IN),
        ("je veux régler tout de suite mais j'ai pas de lien", "fr_FR", Intent.PAY_NOW),
        ("the payment page wants my online banking password??", "en_GB", Intent.HELP),
        ("c'est quoi ce truc de PLUS TARD ?", "fr_FR", Intent.HELP),
        ("espèces déposées à l'accueil hier", "fr_FR", Intent.ALREADY_PAID),
        ("I have never set foot in your salon", "en_GB", Intent.DISPUTE),
        ("what exactly does the £95 cover?", "en_GB", Intent.STATUS),
        ("is this for the March sessions or the April ones?", "en_GB", Intent.STATUS),
        ("can I drop off a cheque instead?", "en_GB", Intent.HELP),
        ("that's another bill for the same repair", "en_GB", Intent.DISPUTE),
        ("eran 80 no 95, corríjanlo y le pago", "es_ES", Intent.DISPUTE),
        ("on décale la soirée au 12, je vous redis", "fr_FR", Intent.SMALLTALK),
        (
            "pourquoi vous m'écrivez ? j'ai déjà réglé le mois dernier",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("never bought anything from you, who gave you my number?", "en_GB", Intent.DISPUTE),
        ("merci de me faire parvenir le lien, je règle ce soir", "fr_FR", Intent.PAY_NOW),
    ],
)
def test_kinds_of_the_november_and_may_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_back_home_is_not_back_to_school() -> None:
    reading = read("plus tard, quand je serai rentré du boulot", "fr_FR")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date is None


def test_a_count_corrected_with_enfin_is_the_new_count() -> None:
    reading = read("en 2x ? enfin 3x ce serait mieux", "fr_FR")
    assert reading.intent is Intent.SPLIT
    assert reading.parts == 3


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("Génial, encore une augmentation de 15 % cette année, bravo 👏", "fr_FR", Intent.DISPUTE),
        (
            "you've put up your prices again, not paying until it's explained",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("est-ce que c'est une arnaque ? je connais pas votre numéro", "fr_FR", Intent.HELP),
        ("¿quién es? no tengo su número", "es_ES", Intent.HELP),
        ("el link no carga", "es_ES", Intent.HELP),
        ("je peux avoir le numéro de l'électricien ?", "fr_FR", Intent.ASK_AGENT),
        ("je paierai 3 séances, pas 4", "fr_FR", Intent.DISPUTE),
        ("lundi c'est la rentrée des classes, quelle semaine !", "fr_FR", Intent.SMALLTALK),
        ("je paie la facture 2", "fr_FR", Intent.PAY_NOW),
    ],
)
def test_kinds_of_the_august_and_january_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_an_apology_with_a_reason_keeps_the_day() -> None:
    reading = read("can't pay before friday, sorry, that's when I get paid", "en_GB")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A STOP said to someone else, or sent for a joke, or taken back with a pronoun.
        ("j'ai envoyé stop à ma banque, pas à vous, je règle maintenant", "fr_FR", Intent.PAY_NOW),
        ("I texted stop to the gym not to you, send me the link", "en_GB", Intent.PAY_NOW),
        (
            "ma fille a envoyé STOP pour jouer, je veux continuer à recevoir vos rappels",
            "fr_FR",
            Intent.OPT_IN,
        ),
        ("j'avais répondu stop mais je voudrais les recevoir de nouveau", "fr_FR", Intent.OPT_IN),
        ("I replied stop last week but I'd like to get them back", "en_GB", Intent.OPT_IN),
        # A stop to a charge beside a contest is the contest (the bot asks about the opt-out).
        ("stop les facturations abusives, je ne suis jamais venu", "fr_FR", Intent.DISPUTE),
        ("stop these bogus charges, I never had that session", "en_GB", Intent.DISPUTE),
        (
            "the boiler leaks again, I expect it fixed before I pay anything",
            "en_GB",
            Intent.DISPUTE,
        ),
        # Someone else's invoice, a cancelled class billed.
        (
            "c'est la facture d'un autre client, je ne m'appelle pas Durand",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "vous me facturez la séance de mardi alors qu'elle a été annulée",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("why am I billed for the class that was cancelled?", "en_GB", Intent.DISPUTE),
        # What the invoice covers; up to date.
        ("ça correspond à quoi, j'ai eu deux interventions", "fr_FR", Intent.STATUS),
        ("what does this cover? there were two call-outs", "en_GB", Intent.STATUS),
        ("¿vamos al día con los pagos?", "es_ES", Intent.STATUS),
        # The way to pay; a failure when paying; a card emoji.
        ("how do I settle this?", "en_GB", Intent.PAY_NOW),
        ("I click on pay and nothing happens", "en_GB", Intent.HELP),
        ("💳 !", "fr_FR", Intent.PAY_NOW),
        ("¿se puede pagar mensualmente?", "es_ES", Intent.SPLIT),
        # An unknown sender beside "why am I getting this?": what the message is.
        ("pourquoi je reçois ça ? je connais pas cette entreprise", "fr_FR", Intent.HELP),
        # Waiting for an insurer's refund is a reason to wait, not a claim.
        ("dans 10 jours, le temps que la mutuelle me rembourse", "fr_FR", Intent.PAY_LATER),
        # An event or a relative's news asked about.
        ("c'est demain soir le spectacle de danse ? on viendra", "fr_FR", Intent.SMALLTALK),
        ("le chien de mon fils va mieux ?", "fr_FR", Intent.SMALLTALK),
    ],
)
def test_kinds_of_the_march_october_and_june_batches(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("je suis au ski samedi alors autant payer maintenant, le lien svp", "fr_FR"),
        ("we're away on Sunday so I'll pay now, link please", "en_GB"),
        ("Je règle maintenant. Au fait, le cours de jeudi est maintenu ?", "fr_FR"),
    ],
)
def test_a_day_named_for_something_else_beside_paying_now_is_paying_now(
    text: str, locale: str
) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.PAY_NOW
    assert reading.date is None


def test_a_day_alone_after_so_is_the_day_of_the_payment() -> None:
    reading = read("we pay suppliers at month end, so the 30th", "en_GB")
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "locale", "day"),
    [
        ("thusrday is fine", "en_GB", dt.date(2026, 11, 19)),
        ("venderdi ça ira", "fr_FR", dt.date(2026, 11, 20)),
        ("wendsday, sorry for the wait", "en_GB", dt.date(2026, 11, 25)),
        ("saturdy", "en_GB", dt.date(2026, 11, 21)),
    ],
)
def test_a_misspelt_day_is_the_day(text: str, locale: str, day: dt.date) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.PAY_LATER
    assert reading.date == day


def test_days_said_as_a_habit_are_no_day() -> None:
    assert read("fridays are busy for us", "en_GB").date is None
    assert read("les samedis on est fermés", "fr_FR").date is None


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("pas 2, mettez 3 fois svp", "fr_FR", 3),
        ("not 2, make it 3 please", "en_GB", 3),
        ("4 versements c'est trop, on peut passer a 2 ?", "fr_FR", 2),
        ("j'avais demandé 3 fois mais finalement 2 ira", "fr_FR", 2),
        ("en 4 fois mais en commençant en janvier ?", "fr_FR", 4),
        ("two payments, starting next month?", "en_GB", 2),
    ],
)
def test_a_count_corrected_or_started_later_is_the_split(
    text: str, locale: str, parts: int
) -> None:
    reading = read(text, locale)
    assert reading.intent is Intent.SPLIT
    assert reading.parts == parts


@pytest.mark.parametrize(
    ("text", "locale", "day", "first"),
    [
        ("30 € tout de suite et le reste lundi", "fr_FR", dt.date(2026, 11, 23), Decimal("30")),
        (
            "je règle 45,50 maintenant, le reste le 4",
            "fr_FR",
            dt.date(2026, 12, 4),
            Decimal("45.50"),
        ),
        ("£25 today and the balance on the 1st?", "en_GB", dt.date(2026, 12, 1), Decimal("25")),
        ("half now, half on friday", "en_GB", dt.date(2026, 11, 20), None),
        ("moitié maintenant moitié le mois prochain", "fr_FR", dt.date(2026, 12, 1), None),
        (
            "je vous fais 40e maintenant et le solde samedi",
            "fr_FR",
            dt.date(2026, 11, 21),
            Decimal("40"),
        ),
        ("la mitad ahora y el resto el día 30", "es_ES", dt.date(2026, 11, 30), None),
    ],
)
def test_a_split_in_two_on_the_customers_terms_names_the_rests_day(
    text: str, locale: str, day: dt.date, first: Decimal | None
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts, reading.date) == (Intent.SPLIT, 2, day)
    assert reading.first == first


@pytest.mark.parametrize(
    "text",
    [
        "en 3 fois à partir du 5",  # the day the plan starts, not the rest's
        "en 2 fois, le 5 et le 20",  # two days: which is which is not read
        "en 2 fois svp",
    ],
)
def test_a_split_without_one_day_for_the_rest_has_no_day(text: str) -> None:
    reading = read(text, "fr_FR")
    assert reading.intent is Intent.SPLIT
    assert reading.date is None and reading.first is None and reading.later == ()


_D = dt.date


@pytest.mark.parametrize(
    ("text", "locale", "first", "later"),
    [
        (
            "50 maintenant, 50 le 10 et le reste le 20",
            "fr_FR",
            "50",
            ((_D(2026, 12, 10), "50"), (_D(2026, 12, 20), None)),
        ),
        (
            "je paie 30 aujourd'hui, 30 le 10 et 30 le 20",  # the 20th after the 10th
            "fr_FR",
            "30",
            ((_D(2026, 12, 10), "30"), (_D(2026, 12, 20), "30")),
        ),
        (
            "can I do 25 today, 25 next friday and 70 at the end of the month?",
            "en_GB",
            "25",
            ((_D(2026, 11, 20), "25"), (_D(2026, 11, 30), "70")),
        ),
        (
            "40 hoy, 40 el viernes y 40 a fin de mes",
            "es_ES",
            "40",
            ((_D(2026, 11, 20), "40"), (_D(2026, 11, 30), "40")),
        ),
    ],
)
def test_a_split_in_three_with_every_days_amount_reads_the_schedule(
    text: str, locale: str, first: str, later: tuple[tuple[dt.date, str | None], ...]
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts, reading.date) == (Intent.SPLIT, 3, None)
    assert reading.first == Decimal(first)
    assert reading.later == tuple(
        (day, Decimal(amount) if amount is not None else None) for day, amount in later
    )


@pytest.mark.parametrize(
    "text",
    [
        "30 le 5, 30 le 15 et 60 le 25",  # nothing today: the flow's schedule
        "40 le 20 décembre, 40 aujourd'hui et 40 le 5 décembre",  # not in order
    ],
)
def test_a_split_in_three_not_starting_today_in_order_reads_no_schedule(text: str) -> None:
    reading = read(text, "fr_FR")
    assert (reading.intent, reading.parts) == (Intent.SPLIT, 3)
    assert reading.later == ()


def test_the_day_said_with_rather_is_the_one_chosen() -> None:
    assert read("jeudi ou vendredi, vendredi plutôt", "fr_FR").date == dt.date(2026, 11, 20)
    assert read("thursday or friday, friday rather", "en_GB").date == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # Hitchhiking is no STOP; a fault still there, or work to be done properly first.
        ("je fais du stop jusqu'à Lyon, je vous règle demain", "fr_FR", Intent.PAY_LATER),
        ("the tap is still leaking, not paying yet", "en_GB", Intent.DISPUTE),
        ("I'll settle once someone comes back to fix it", "en_GB", Intent.DISPUTE),
        ("la lavadora sigue sin funcionar, no pago", "es_ES", Intent.DISPUTE),
        ("vous confondez avec un autre client, je ne suis jamais venue", "fr_FR", Intent.DISPUTE),
        # A button that does nothing, a page in the wrong language, a means asked about.
        ("j'appuie sur payer et il ne se passe rien", "fr_FR", Intent.HELP),
        ("la web de pago está en inglés", "es_ES", Intent.HELP),
        ("lydia ça passe chez vous ?", "fr_FR", Intent.HELP),
        # The link asked for again; how to pay asked any way round.
        ("c'est quoi votre lien encore ? je paie", "fr_FR", Intent.PAY_NOW),
        ("on vous règle comment ?", "fr_FR", Intent.PAY_NOW),
        # Already taken; already paid beside a reference given.
        ("you already debited it last week", "en_GB", Intent.ALREADY_PAID),
        ("paid at the desk, they gave me a reference number", "en_GB", Intent.ALREADY_PAID),
        # Agreement, a polite refusal, a status question.
        ("parfait ça me convient", "fr_FR", Intent.YES),
        ("I would rather not, thank you", "en_GB", Intent.NO),
        ("est-ce que je suis à jour ?", "fr_FR", Intent.STATUS),
        # A deposit already given: the rest is a promise, not a split.
        ("j'ai versé un acompte, le solde fin du mois", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_kinds_of_the_may_and_august_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("en 4 fois... non finalement en 3 ce sera plus simple", 3),
        ("pas 2 fois, plutôt 3 si c possible", 3),
        ("je peux faire 2 fois ? ou mieux 3 si c'est pas trop demander", 3),
        ("je peux pas tout régler d'un coup, on peut faire en 2 ?", 2),
    ],
)
def test_a_count_said_as_a_preference_is_the_count(text: str, parts: int) -> None:
    reading = read(text, "fr_FR")
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_a_day_chosen_with_disons_and_a_key_held_down() -> None:
    assert read("jeudi ou vendredi, disons jeudi", "fr_FR").date == dt.date(2026, 11, 19)
    assert read("vendredii je vous paie", "fr_FR").date == dt.date(2026, 11, 20)
    assert read("je paie maintenant comme ça c'est fait avant lundi", "fr_FR").date is None


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # "no ... needed", "no point waiting", "no idea when": no refusal.
        ("I'll settle the lot today, no payment plan needed", "en_GB", Intent.PAY_NOW),
        ("I'll pay once my bonus lands, no idea exactly when", "en_GB", Intent.PAY_LATER),
        # A STOP denied beside messages that stopped coming: the messages wanted back.
        ("j'ai jamais envoyé stop, pourquoi je reçois plus vos rappels ?", "fr_FR", Intent.OPT_IN),
        # A call back misspelt; a means asked about; a transfer made by a relative.
        ("pouvez vous me rapeler demain matin", "fr_FR", Intent.ASK_AGENT),
        ("c'est possible par chèque ?", "fr_FR", Intent.HELP),
        ("mi marido hizo la transferencia ayer", "es_ES", Intent.ALREADY_PAID),
        # Paying put off, in sarcasm, until the work finally works.
        ("je paierai le jour où la chaudière marchera enfin", "fr_FR", Intent.DISPUTE),
    ],
)
def test_kinds_of_the_december_and_september_batches(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


def test_a_split_chosen_by_the_models_keeps_the_count_said() -> None:
    from flows import intents

    norm = normalize("c'est combien par mois si je règle en 4 fois ?")
    rules = Understanding(Intent.STATUS, language="fr", confidence=0.7)
    chosen = intents._arbitrated(
        rules, Intent.SPLIT, 0.95, norm, today=dt.date(2026, 11, 18), locale="fr_FR"
    )
    assert (chosen.intent, chosen.parts) == (Intent.SPLIT, 4)
    unsure = Understanding(Intent.UNKNOWN, language="fr", confidence=0.0)
    filled = intents._fallback(unsure, {i: 0.0 for i in Intent} | {Intent.SPLIT: 0.99}, norm.text)
    assert (filled.intent, filled.parts) == (Intent.SPLIT, 4)


@pytest.mark.parametrize(
    "text",
    ["je paye la facture de 80 €", "je paie celle de 80 euros", "je paye celle de 120,50"],
)
def test_an_amount_naming_the_invoice_paid_is_no_dispute(text: str) -> None:
    # The shipped reader leans to a dispute on an amount's n-grams alone (most amounts in
    # its examples are contested); the rules read a payment naming its invoice.
    reading = read(text)
    assert (reading.intent, reading.is_unsure) == (Intent.PAY_NOW, False)


class _AmountsLookContested:
    """A reader that sees a dispute wherever there is a number, and a payment elsewhere."""

    def probabilities(self, text: str) -> dict[str, float]:
        contested = any(c.isdigit() for c in text) or "pas" in text.split()
        base = {i.value: 0.0 for i in Intent}
        return base | ({"dispute": 0.9, "pay_now": 0.1} if contested else {"pay_now": 1.0})


def test_the_reader_rereads_a_payment_without_its_numbers_only_when_they_alone_doubt_it() -> None:
    from flows import intents

    reader = _AmountsLookContested()
    paying = Understanding(Intent.PAY_NOW, language="fr", confidence=1.0)
    amount_alone = intents._read_without_amounts_alone(paying, "je paye celle de 80", reader)  # type: ignore[arg-type]
    assert amount_alone["pay_now"] == 1.0
    # Other words doubt it too: the reader's first reading stands.
    worded = intents._read_without_amounts_alone(paying, "je paye 80 pas 120", reader)  # type: ignore[arg-type]
    assert worded["dispute"] == 0.9
    # Only a payment the rules are sure of is read again.
    unsure = dataclasses.replace(paying, confidence=0.5, alternatives=(Intent.PAY_NOW,))
    assert intents._read_without_amounts_alone(unsure, "je paye 80", reader)["dispute"] == 0.9  # type: ignore[arg-type]
    status = Understanding(Intent.STATUS, language="fr", confidence=1.0)
    assert intents._read_without_amounts_alone(status, "il reste 80", reader)["dispute"] == 0.9  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "locale"), [("en une fois", "fr_FR"), ("in one go", "en_GB")])
def test_the_whole_paid_at_once_is_never_made_a_split_by_the_arbiter(
    text: str, locale: str
) -> None:
    from flows import intents

    paying = Understanding(Intent.PAY_NOW, language=locale[:2], confidence=1.0)
    kept = intents._arbitrated(
        paying, Intent.SPLIT, 0.95, normalize(text), today=dt.date(2026, 11, 18), locale=locale
    )
    assert (kept.intent, kept.is_unsure) == (Intent.PAY_NOW, False)
    # A count named is the split's to read.
    counted = intents._arbitrated(
        paying,
        Intent.SPLIT,
        0.95,
        normalize("en 3 fois"),
        today=dt.date(2026, 11, 18),
        locale="fr_FR",
    )
    assert counted.intent is Intent.SPLIT


# --- the January and July batches (U18, U19): kinds, in words the batches did not use -----


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # The count proposed, agreed to by name.
        ("parfait, on valide les deux échéances", "fr_FR", Intent.YES),
        ("fine with the two payments, thanks", "en_GB", Intent.YES),
        # A call back asked, the invoice named after it.
        ("vous pouvez me rappeler ? c'est pour la facture du plombier", "fr_FR", Intent.ASK_AGENT),
        ("¿podría llamarme alguien? no entiendo la factura", "es_ES", Intent.ASK_AGENT),
        # The reminders kept after "no stop"; a payment that does not go through.
        ("non stop, continuez les relances svp", "fr_FR", Intent.OPT_IN),
        ("ma cb passe pas sur votre page", "fr_FR", Intent.HELP),
        ("le site s'affiche en anglais, je comprends rien", "fr_FR", Intent.HELP),
        ("j'ai du mal avec ce système de lien, ça fonctionne comment ?", "fr_FR", Intent.HELP),
        # Not the customer's; taken already and asked again.
        ("j'ai jamais rien acheté chez vous", "fr_FR", Intent.DISPUTE),
        ("cette facture est pas pour moi, je suis pas Mr Girard", "fr_FR", Intent.DISPUTE),
        ("this bill is meant for someone else, I'm not Mrs Patel", "en_GB", Intent.DISPUTE),
        ("you already debited it last week and now you're asking again?", "en_GB", Intent.DISPUTE),
        ("vous l'avez déjà débité et vous me le réclamez encore", "fr_FR", Intent.DISPUTE),
        # Praise for the lesson or the work: thanks, not agreement.
        ("super la séance de kiné hier, mon dos va mieux", "fr_FR", Intent.SMALLTALK),
        ("bravo à l'équipe pour la terrasse, c'est superbe", "fr_FR", Intent.SMALLTALK),
        # Paying now, the link asked for after a day named for something else.
        (
            "je suis en vacances lundi donc je règle ce soir, maintenant même, envoyez",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        # A cheque on a day beside a lesson; paying in person on a day.
        ("je vous donne un chèque mardi quand je viens au cours", "fr_FR", Intent.PAY_LATER),
        ("could I pop in on friday and pay by card?", "en_GB", Intent.PAY_LATER),
        # The invoice total asked in reported order; how to pay, the first text lost.
        ("can you tell me what the total is? half the message is missing", "en_GB", Intent.STATUS),
        ("je règle comment ? j'ai perdu le premier message", "fr_FR", Intent.PAY_NOW),
    ],
)
def test_kinds_of_the_january_and_july_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("finalement 2 fois c'est trop peu, je voudrais 4", "fr_FR", 4),
        ("au lieu de 2 versements, vous pourriez faire 3 ?", "fr_FR", 3),
        ("en 12 fois c'est jouable ? sinon 3 alors", "fr_FR", 3),
        ("d'accord pour 3 fois alors, pas 2", "fr_FR", 3),
        ("two instalments is ok but could we make it four?", "en_GB", 4),
        ("on pourrait faire 5 fois ?", "fr_FR", 5),
        ("una parte hoy y lo demás a plazos", "es_ES", None),
        ("30 maintenant et le reste en quelques fois", "fr_FR", None),
    ],
)
def test_a_count_asked_in_place_of_another_is_the_count(
    text: str, locale: str, parts: int | None
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


@pytest.mark.parametrize(
    ("text", "locale", "day"),
    [
        # The rest's own day, not the moment the part was paid.
        (
            "j'ai réglé 40 € tout à l'heure, le reste lundi prochain",
            "fr_FR",
            dt.date(2026, 11, 23),
        ),
        (
            "déjà payé la moitié par chèque, le reste je vous le règle vendredi",
            "fr_FR",
            dt.date(2026, 11, 20),
        ),
        # The day with the pay verb, not the day of a reason to wait.
        ("I'm away on friday, I'll pay next tuesday", "en_GB", dt.date(2026, 11, 24)),
        # A day chosen over another, whatever the other is for.
        (
            "jeudi... non jeudi y a le judo du petit, vendredi plutôt",
            "fr_FR",
            dt.date(2026, 11, 20),
        ),
    ],
)
def test_the_day_promised_is_the_one_for_paying(text: str, locale: str, day: dt.date) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, day)


def test_the_first_message_is_no_first_of_the_month() -> None:
    reading = read("comment je paie ? j'ai effacé le premier sms")
    assert reading.date is None


# --- the April batch (U22): kinds, in words the batch did not use ---------------------------


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("ok, validé pour les 3 échéances", "fr_FR", Intent.YES),
        ("vous êtes qui au juste ?", "fr_FR", Intent.HELP),
        ("¿hay una persona con quien hablar?", "es_ES", Intent.ASK_AGENT),
        ("¿desde cuándo os debo esta factura?", "es_ES", Intent.STATUS),
        ("your electrician damaged my wall and now you want paying?", "en_GB", Intent.DISPUTE),
        ("on m'a déjà prélevée hier, pourquoi ce message ?", "fr_FR", Intent.ALREADY_PAID),
        ("j'aimerais régler mensuellement si possible", "fr_FR", Intent.SPLIT),
        ("j'vous règle ça mardi", "fr_FR", Intent.PAY_LATER),
        ("I'll pay the whole thing now, forget the payment plan", "en_GB", Intent.PAY_NOW),
    ],
)
def test_kinds_of_the_april_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("3x au lieu de 4, c'est jouable ?", "fr_FR", 3),
        ("ok pour 4x mais pas 3", "fr_FR", 4),
        ("not 2, could we do 4 please", "en_GB", 4),
        ("not 3 payments, 2 would be fine", "en_GB", 2),
    ],
)
def test_a_count_written_3x_or_refused_then_named_is_the_count(
    text: str, locale: str, parts: int
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("jeuid", dt.date(2026, 11, 19)),  # two letters swapped
        ("je paie samdi", dt.date(2026, 11, 21)),  # a letter missing
        ("I'll pay on frday", dt.date(2026, 11, 20)),
    ],
)
def test_a_short_slip_in_a_day_is_the_day(text: str, day: dt.date) -> None:
    reading = read(text, "en_GB" if "pay" in text else "fr_FR")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, day)


def test_an_everyday_word_a_letter_short_of_a_day_is_no_day() -> None:
    assert read("thanks mates", "en_GB").date is None  # "martes" a letter longer


# --- the March batch (U20): kinds, in words the batch did not use ---------------------------


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("bizum enviado hace un rato", "es_ES", Intent.ALREADY_PAID),
        ("I never signed up to your texts, where did you get my number?", "en_GB", Intent.HELP),
        ("I never signed up for anything with your company", "en_GB", Intent.DISPUTE),
        ("je règle tout de suite, pas la peine de me relancer", "fr_FR", Intent.PAY_NOW),
        ("could I get Marc's direct number? he fitted the boiler", "en_GB", Intent.ASK_AGENT),
        ("can I pay with gift vouchers?", "en_GB", Intent.HELP),
        (
            "je sais pas de quel cours il s'agit, j'étais pas venue ce jour-là",
            "fr_FR",
            Intent.DISPUTE,
        ),
        # The day names an event, the payment is now.
        ("je règle maintenant, et la séance de jeudi c'est à 18h ?", "fr_FR", Intent.PAY_NOW),
        ("I'll pay now. what time is the class on monday?", "en_GB", Intent.PAY_NOW),
        ("in Nice on Monday so let's just do it now, text me the link", "en_GB", Intent.PAY_NOW),
        ("envoyez le lien svp, je réglerai mardi", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_kinds_of_the_march_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("y a moyen de régler en 12 fois ? non je rigole, en 3", 3),
        ("en 2 fois ? oh non attends 3 ce serait plus simple", 3),
    ],
)
def test_a_count_said_again_after_a_joke_or_a_second_thought(text: str, parts: int) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_a_rest_in_so_many_days_is_a_day_of_the_schedule() -> None:
    two = read("40 maintenant et 80 dans 15 jours")
    assert (two.intent, two.parts, two.date) == (Intent.SPLIT, 2, dt.date(2026, 12, 3))
    three = read("30 maintenant, 30 dans 15 jours et 60 dans un mois")
    assert (three.parts, [day for day, _ in three.later]) == (
        3,
        [dt.date(2026, 12, 3), dt.date(2026, 12, 18)],
    )


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # Sarcasm: a payment on a condition that will never come is a contest.
        (
            "oh sure, I'll pay the moment the radiator actually gets warm. any decade now",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("I'll pay the moment you send the link", "en_GB", Intent.PAY_NOW),
        # A "no" that refuses nothing.
        ("can it wait till tomorow? on the train with no signal", "en_GB", Intent.PAY_LATER),
        ("Cómo os pago? No veo nada en el mensaje", "es_ES", Intent.PAY_NOW),
        ("no, no pago", "es_ES", Intent.NO),
        # How quick paying is, and a tag question: no report, no refusal.
        (
            "à Lyon tout le week-end donc autant payer maintenant, c'est fait en 2 min non ?",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("c'est fait", "fr_FR", Intent.ALREADY_PAID),
        ("je paie vendredi, ça vous va non ?", "fr_FR", Intent.PAY_LATER),
        # Instalments refused after paying now: paying now in full.
        (
            "ok je vais payer maintenant en fait, oubliez le paiement en 3 fois",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("Quiero pagar ya, no a plazos", "es_ES", Intent.PAY_NOW),
        ("¿Quiénes sois? No conozco esta empresa", "es_ES", Intent.HELP),
        # The due date told, then paying at once.
        (
            "Je vois que c'est le vendredi 12 la date limite mais je préfère payer tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("il reste combien à payer maintenant", "fr_FR", Intent.STATUS),
        ("This invoice is for a Mr Martin, I'm Mrs Martins", "en_GB", Intent.DISPUTE),
        ("quand les allocs tombent", "fr_FR", Intent.PAY_LATER),
        ("No voy a pagar, el trabajo quedó fatal y hay que repetirlo", "es_ES", Intent.DISPUTE),
        ("jsuis devant chez toi ouvre moi 😂", "fr_FR", Intent.SMALLTALK),
        # Not now, so later; not now and not wanted is no agreement.
        ("ahora no", "es_ES", Intent.PAY_LATER),
        ("después de Navidad, que ahora no llego", "es_ES", Intent.PAY_LATER),
        ("je paie au retour de vacances", "fr_FR", Intent.PAY_LATER),
        ("de retour de vacances, je paie maintenant", "fr_FR", Intent.PAY_NOW),
        ("je règle dès que la CAF a versé", "fr_FR", Intent.PAY_LATER),
        ("c bon jai compris je paye tout de suite envoyez le lien", "fr_FR", Intent.PAY_NOW),
        # A yes with its condition still to come agrees to nothing.
        ("d'accord mais", "fr_FR", Intent.UNKNOWN),
        ("yes but", "en_GB", Intent.UNKNOWN),
        ("oui mais en 3 fois", "fr_FR", Intent.SPLIT),
    ],
)
def test_kinds_of_the_november_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_day_texted_without_its_vowels_is_the_day() -> None:
    reading = read("mrdi jvous fais le virement")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 24))


def test_not_now_and_not_wanted_is_no_agreement() -> None:
    assert read("ahora no quiero pagar", "es_ES").intent not in (Intent.PAY_NOW, Intent.YES)


def test_an_amount_now_and_one_on_a_day_is_a_split_in_two() -> None:
    reading = read("je paie 30 tout de suite et 30 le 5, ça vous va ?")
    assert (reading.intent, reading.parts, reading.first, reading.date) == (
        Intent.SPLIT,
        2,
        Decimal(30),
        dt.date(2026, 12, 5),
    )
    assert read("je paye dans 15 jrs").date == dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A stop to being billed is a dispute, not a stop to our messages.
        ("STOP de me facturer deux fois la même chose", "fr_FR", Intent.DISPUTE),
        ("stop de m'envoyer des sms", "fr_FR", Intent.OPT_OUT),
        # The customer's pay, not a payment: "je suis pas payé avant le 1er".
        (
            "jeudi.. ah non jsuis pas payé avant le 1er, disons le 2 juillet",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("j'ai jamais payé ça avant", "fr_FR", Intent.DISPUTE),
        ("pas 3 mais 5 mensualités si possible", "fr_FR", Intent.SPLIT),
        ("pas 30 mais 50 euros, vous vous êtes trompés", "fr_FR", Intent.DISPUTE),
        (
            "je n'ai rien contre la facture mais je ne pourrai régler que dans 15 jours",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("le prof n'est resté que 20 minutes et vous facturez 1h", "fr_FR", Intent.DISPUTE),
        ("ouais envoie j'paye direct 💳", "fr_FR", Intent.PAY_NOW),
        ("¿Para qué es esta factura? No recuerdo haber ido", "es_ES", Intent.STATUS),
        ("¿Hasta qué día tengo para pagar?", "es_ES", Intent.STATUS),
        ("Thank you, the boiler works perfectly now", "en_GB", Intent.SMALLTALK),
        ("it works now, I'll pay now", "en_GB", Intent.PAY_NOW),
        (
            "je voulais payer lundi mais en fait ma paye est tombée, je paye maintenant",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("je paie quand ma paye tombe", "fr_FR", Intent.PAY_LATER),
        (
            "Après le jour de l'an, désolée, on a trop de frais avec le déménagement",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("y a des frais si je paie par carte ?", "fr_FR", Intent.HELP),
        ("debut septembre svp, apres la rentrée des enfants", "fr_FR", Intent.PAY_LATER),
        ("vendredi, je serai au cours de piano", "fr_FR", Intent.SMALLTALK),
        ("pouvez-vous me rappeler le détail des travaux facturés ?", "fr_FR", Intent.STATUS),
        ("pouvez-vous me rappeler ?", "fr_FR", Intent.ASK_AGENT),
        # The days of a reason set apart by "donc" are not the payment's.
        (
            "jsuis au boulot vendredi et samedi donc je prefere regler tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("I didn't mean to unsubscribe, please keep sending", "en_GB", Intent.OPT_IN),
        ("Quiero pagarlo todo de una vez, no en tres plazos", "es_ES", Intent.PAY_NOW),
        ("PAYER PAYER PAYER ça fait 3 fois que j'écris", "fr_FR", Intent.PAY_NOW),
        ("on peut faire 3 fois ?", "fr_FR", Intent.SPLIT),
        # A report asking us to check it came is a report, whatever it asks besides.
        (
            "le virement est parti hier, vérifiez svp. il reste quelque chose ?",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("j'ai payé la 1ere mensualité, il reste combien ?", "fr_FR", Intent.STATUS),
    ],
)
def test_kinds_of_the_june_and_december_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_french_day_typed_one_key_off_is_the_day() -> None:
    assert read("lindi je paye").date == dt.date(2026, 11, 23)
    assert read("lines", "en_GB").date is None


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A stop said by someone else, or of the billing, is no stop to our messages.
        (
            "Le moniteur a dit stop au bout de 40 min, la leçon était pas complète, "
            "pourquoi je paie 1h ?",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("en 3 fois... non attendez en 2 ce sera mieux", "fr_FR", Intent.SPLIT),
        (
            "Paid by bank transfer this morning, ref DUPUIS-0312. Anything else outstanding?",
            "en_GB",
            Intent.ALREADY_PAID,
        ),
        (
            "je paierai avec plaisir quand la prise arrêtera de faire des étincelles",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("je paierai quand il arrêtera de pleuvoir", "fr_FR", Intent.PAY_LATER),
        (
            "est-ce que la facture inclut la pièce ou seulement la main d'oeuvre ?",
            "fr_FR",
            Intent.STATUS,
        ),
        ("Can I pay mid April? Tax refund comes then", "en_GB", Intent.PAY_LATER),
        ("I want a refund", "en_GB", Intent.DISPUTE),
        ("the radiator still doesn't heat, so no, I'm not paying yet", "en_GB", Intent.DISPUTE),
        (
            "j'ai le rdv au garage vendredi pour les pneus mais la vidange je la paye direct",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        (
            "Encore prélevé ?! C'est la deuxième fois ce mois-ci pour la même cotisation",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "forfait de 20h déjà payé, cette facture ne devrait pas exister",
            "fr_FR",
            Intent.DISPUTE,
        ),
    ],
)
def test_kinds_of_the_february_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    "text",
    [
        "Stop, arrêtez de me compter les séances où le cheval était boiteux",
        "STOP de me facturer deux fois la même chose",
    ],
)
def test_a_stop_said_of_the_billing_is_a_dispute_and_asks_about_the_messages(text: str) -> None:
    reading = read(text)
    assert (reading.intent, reading.maybe_opt_out) == (Intent.DISPUTE, True)


def test_after_the_weekend_is_the_monday() -> None:
    assert read("je paie après le week-end").date == dt.date(2026, 11, 23)
    assert read("I'll pay at the weekend", "en_GB").date == dt.date(2026, 11, 21)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("Reprise des messages svp", "fr_FR", Intent.OPT_IN),
        (
            "I know I said Friday but I've got the money now so let's just do it today",
            "en_GB",
            Intent.PAY_NOW,
        ),
        ("did you get my payment?", "en_GB", Intent.ALREADY_PAID),
        ("j'ai pas envie d'étaler, je paye les 210 maintenant", "fr_FR", Intent.PAY_NOW),
        ("STOP de me facturer des séances que je n'ai jamais réservées", "fr_FR", Intent.DISPUTE),
        (
            "Lundi j'envoie 50, et le reste jeudi prochain quand j'aurai été payée",
            "fr_FR",
            Intent.SPLIT,
        ),
        ("g payé hier", "fr_FR", Intent.ALREADY_PAID),
        (
            "avant Noël promis, là avec la rentrée des enfants c'est la cata",
            "fr_FR",
            Intent.PAY_LATER,
        ),
    ],
)
def test_kinds_of_the_autumn_2027_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_count_taken_back_after_ah_non_is_the_new_count() -> None:
    reading = read("en 4 fois. ah non 3 ça suffira finalement")
    assert (reading.intent, reading.parts) == (Intent.SPLIT, 3)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A cheque handed over on a day to come, the day said first: a promise.
        ("Samedi au cours je vous donne un chèque", "fr_FR", Intent.PAY_LATER),
        ("samedi je vous ai donné un chèque", "fr_FR", Intent.ALREADY_PAID),
        # "c'est fait / réglé" of a payment about to be made reports nothing.
        ("allez je regle, c'est fait dans 2 min, envoyez", "fr_FR", Intent.PAY_NOW),
        ("dites moi juste comment vous payer et c'est réglé", "fr_FR", Intent.PAY_NOW),
        ("c'est fait depuis 5 minutes", "fr_FR", Intent.ALREADY_PAID),
        # A payment made whose money arrives by a day: a report, not a promise.
        (
            "transfer went out this morning, should hit your account by Monday",
            "en_GB",
            Intent.ALREADY_PAID,
        ),
        ("j'ai fait le virement ce matin, vous l'aurez d'ici lundi", "fr_FR", Intent.ALREADY_PAID),
        ("je fais le virement, vous l'aurez d'ici lundi", "fr_FR", Intent.PAY_LATER),
        # Who is not contesting is no dispute; who did not order still is.
        (
            "c'est pas moi qui conteste, c'est juste que j'attends le remboursement de "
            "l'assurance, dans 15 jours environ",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("c'est pas moi qui ai commandé ça", "fr_FR", Intent.DISPUTE),
        # A month missing from the payments is what is owed, not a defect.
        (
            "est-ce que je suis à jour pour les cours de chant ? la prof m'a dit qu'il "
            "manquait un mois",
            "fr_FR",
            Intent.STATUS,
        ),
        # The lesson praised.
        ("trop cool le stage de poterie, ma fille a adoré !!", "fr_FR", Intent.SMALLTALK),
        ("the pottery camp was so cool, my daughter loved it", "en_GB", Intent.SMALLTALK),
    ],
)
def test_kinds_left_in_the_september_2028_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"), [("4x stp au lieu de 3", 4), ("en 4 fois s'il vous plait au lieu de 3", 4)]
)
def test_a_count_asked_politely_in_place_of_another(text: str, parts: int) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_days_counted_from_now_are_a_promise_for_that_day() -> None:
    reading = read("would 15 days from now be ok? money's a bit tight", "en_GB")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 12, 3))


@pytest.mark.parametrize(
    "text",
    [
        "je voulais pas me désabonner, c'est possible de revenir en arrière ?",
        "j'ai envoyé ARRET mais en fait je veux bien continuer à recevoir les factures",
    ],
)
def test_a_regretted_opt_out_asks_for_the_messages_back(text: str) -> None:
    assert read(text).intent is Intent.OPT_IN


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("4 fois ou 3 je sais pas... allez 3", "fr_FR", 3),
        ("en plusieurs fois please, 3 ou 4 comme vous voulez... allez 3", "fr_FR", 3),
        ("3 or 4 instalments idk... let's say 3", "en_GB", 3),
        ("3 veces no, mejor en 2", "es_ES", 2),
    ],
)
def test_the_count_chosen_after_hesitating_or_refusing_another(
    text: str, locale: str, parts: int
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_not_before_a_day_promises_that_day_over_the_event_named() -> None:
    reading = read("ma fille se marie samedi donc pas avant le 25")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 25))


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("jeudi jpasse a la banque et c regle", "fr_FR", Intent.PAY_LATER),
        ("hier je suis passé à la banque et c'est réglé", "fr_FR", Intent.ALREADY_PAID),
        ("payé ? non pas encore, mais je veux payer là, envoyez le lien", "fr_FR", Intent.PAY_NOW),
        ("le prof de piano est génial, ma fille adore", "fr_FR", Intent.SMALLTALK),
        ("great service as always", "en_GB", Intent.SMALLTALK),
        ("j'adore payer deux fois la même facture", "fr_FR", Intent.DISPUTE),
    ],
)
def test_kinds_left_in_the_january_2028_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_named_day_after_which_the_customer_pays() -> None:
    reading = read("vous inquiétez pas je paie après la Saint-Valentin 😉")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2027, 2, 15))


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [("en 4 veces, no en 3", "es_ES", 4), ("£40 today, rest on Friday", "en_GB", 2)],
)
def test_counts_kept_over_one_refused_and_a_rest_without_article(
    text: str, locale: str, parts: int
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # Who the sender is, asked beside a number not recognised: help (who are you).
        ("c qui ? je connais pas ce numero", "fr_FR", Intent.HELP),
        (
            "c qui ? je connais pas de Léa, vous avez du vous tromper de numéro",
            "fr_FR",
            Intent.UNKNOWN,
        ),
        # Spanish "no hablo" refuses nothing.
        ("Bonjour, comment je paye? no hablo bien francés", "fr_FR", Intent.PAY_NOW),
        # The customer's own money to come, named by when it lands: a reason to wait.
        (
            "g pas encore été payé par mon patron, je vous règle dès que le salaire arrive",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        (
            "Dès que mon remboursement de la mutuelle arrive je vous paie",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("quand le remboursement arrive je paie", "fr_FR", Intent.DISPUTE),
        (
            "quand la banque aura débloqué ma carte, elle est en opposition, je vous tiens au "
            "courant",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        # A payment told with its means or payer, then "anything left?": the report first.
        (
            "c'est ma mère qui a réglé les cours de piano, elle vous a donné un chèque à la "
            "dernière séance. Il reste quelque chose ou pas ?",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("j'ai payé la 1ere mensualité, il reste combien ?", "fr_FR", Intent.STATUS),
        # No link received beside a wish to pay: a request to pay; alone, help.
        ("jveux payer mais g pas reçu de lien", "fr_FR", Intent.PAY_NOW),
        ("j'ai pas reçu le lien", "fr_FR", Intent.HELP),
        ("can I pay a bit each week?", "en_GB", Intent.SPLIT),
        ("by when do I need to pay?", "en_GB", Intent.STATUS),
        (
            "Je ne veux pas être désinscrit, continuez à m'envoyer les factures par SMS",
            "fr_FR",
            Intent.OPT_IN,
        ),
        # "enfin là maintenant": the time taken back.
        (
            "vous me proposez 3 fois mais franchement je préfère solder ce soir... enfin là "
            "maintenant tant que j'y pense",
            "fr_FR",
            Intent.PAY_NOW,
        ),
    ],
)
def test_kinds_of_the_august_2027_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_day_taken_back_after_bon_is_the_new_day() -> None:
    reading = read(
        "Je paie demain. Ah non demain c'est jeudi et j'ai pas accès à mon compte pro... bon "
        "je vous fais ça lundi"
    )
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 23))


def test_a_pay_word_misspelt_alone_is_asked_about_not_acted_on() -> None:
    reading = read("payerr")
    assert (reading.intent, reading.alternatives) == (Intent.PAY_NOW, (Intent.PAY_NOW,))
    assert reading.is_unsure


def test_a_count_said_instead() -> None:
    reading = read("make it 6 instead", "en_GB")
    assert (reading.intent, reading.parts) == (Intent.SPLIT, 6)


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("Ya hice el virement hace dos días, mira tu cuenta", "es_ES", Intent.ALREADY_PAID),
        # Instalments set aside, then the whole asked for.
        (
            "No thanks on the 3 payments, just send me the full link and I'll clear it now",
            "en_GB",
            Intent.PAY_NOW,
        ),
        ("Les 3x c pas la peine, envoyez le lien du total", "fr_FR", Intent.PAY_NOW),
        ("Pago todo de una vez, no hace falta en tres", "es_ES", Intent.PAY_NOW),
        (
            "payé... euh non pas encore en fait, je le fais là tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        # Billed after the activity stopped.
        (
            "Ma fille a arrêté l'équitation en décembre, pourquoi vous facturez janvier ??",
            "fr_FR",
            Intent.DISPUTE,
        ),
        # A debit told softly, then a check asked.
        (
            "Il me semble que le prélèvement est passé le 28, vous pouvez vérifier ?",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        (
            "Mi ex tiene que pasarme la pensión, cuando la reciba os pago",
            "es_ES",
            Intent.PAY_LATER,
        ),
        # The amount named to say it is not contested.
        (
            "je conteste pas le montant, je veux juste payer, il est où le lien ??",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("Cheers mate, the van's running like a dream now", "en_GB", Intent.SMALLTALK),
        ("Bouton payer grisé, impossible de valider", "fr_FR", Intent.HELP),
        ("Merci Julien pour le coup de main avec la prise, au top", "fr_FR", Intent.SMALLTALK),
    ],
)
def test_kinds_of_the_january_2028_month_end_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("Dividido en 3 por favor, no llego a fin de mes", "es_ES", 3),
        ("Could I split it into 3... actually no, 2 is enough", "en_GB", 2),
        ("Rather than 3, could it be 2 bigger payments?", "en_GB", 2),
    ],
)
def test_the_count_kept_with_a_reason_or_after_taking_one_back(
    text: str, locale: str, parts: int
) -> None:
    reading = read(text, locale)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_the_month_end_said_on_its_last_day_is_that_day() -> None:
    reading = understand(
        "By the end of the month, promise",
        locale="en_GB",
        now=dt.datetime(2028, 1, 31, 21, 45, tzinfo=dt.UTC),
        tz="Europe/Paris",
    )
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2028, 1, 31))


def test_a_rest_named_the_remaining() -> None:
    reading = read("100 today and the remaining 85 next week?", "en_GB")
    assert (reading.intent, reading.parts, reading.date) == (
        Intent.SPLIT,
        2,
        dt.date(2026, 11, 23),
    )


def test_ascension_in_spanish() -> None:
    reading = read("Después de la Ascensión, que es cuando cobro la paga extra", "es_ES")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2027, 5, 7))


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # "can't stop now": no time to stop, nothing about our messages (a critical miss).
        (
            "Can't stop now, driving. I'll pop in and pay at the counter on Saturday",
            "en_GB",
            Intent.PAY_LATER,
        ),
        ("stop", "en_GB", Intent.OPT_OUT),
        ("I can't stop receiving your texts, make it stop", "en_GB", Intent.OPT_OUT),
        # A call told as past is no person asked for.
        (
            "Bonjour Mr Garnier, je vous règle mi-décembre comme convenu avec votre femme au "
            "téléphone",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("sorry that was my toddler on the phone jhgggggg", "en_GB", Intent.UNKNOWN),
        ("je voudrais qu'on m'appelle au téléphone", "fr_FR", Intent.ASK_AGENT),
        # The day is the reason the link is asked for now.
        (
            "I'm at my sister's in Cornwall on Friday so let's just do it now - link?",
            "en_GB",
            Intent.PAY_NOW,
        ),
        ("¿Cómo le pago? No entiendo bien el mensaje en francés", "es_ES", Intent.PAY_NOW),
        ("¿Qué es esto? No conozco este número", "es_ES", Intent.HELP),
        ("Bonjour je voulais vous dire que", "fr_FR", Intent.UNKNOWN),
        (
            "Bon ok je paye, mais c'est bien parce que c'est vous 😏 le lien ?",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        (
            "Je peux vous payer dans 10 jours ? j'attends le solde de ma prime",
            "fr_FR",
            Intent.PAY_LATER,
        ),
    ],
)
def test_kinds_of_the_armistice_2027_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("pas 3 mais 5 si c'est possible, je suis étudiante", 5),
        ("pas en 4 finalement, en 3 ce sera bien", 3),
    ],
)
def test_small_counts_in_place_of_others_are_instalments(text: str, parts: int) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


def test_an_amount_not_a_count_is_still_contested() -> None:
    assert read("pas 80 mais 120").intent is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "date"),
    [
        # The day taken after the other is refused: "mardi alors".
        ("jeudi. ah non jeudi c ferié jsuis chez mes parents. mardi alors", dt.date(2026, 11, 24)),
        # The salary's day is the reason, the promise is in two weeks.
        ("dans quinze jours ça irait ? mon salaire tombe le 24", dt.date(2026, 12, 3)),
    ],
)
def test_the_day_promised_among_two(text: str, date: dt.date) -> None:
    reading = read(text)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, date)


def test_the_rest_named_by_its_amount_is_the_rest() -> None:
    reading = read("je paie 40 maintenant et les 45 restants le 1er")
    assert (reading.intent, reading.parts, reading.date) == (Intent.SPLIT, 2, dt.date(2026, 12, 1))


def test_a_cut_off_message_is_unknown_but_a_sentence_ending_on_la_is_not() -> None:
    assert read("Bonjour je voulais vous dire que").intent is Intent.UNKNOWN
    assert read("jeudi c'est le spectacle de l'école, je serai pas là").intent is Intent.SMALLTALK


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # A protest against prices, not a request to stop messages: asked, never ignored.
        ("STOP aux tarifs abusifs, 240€ pour changer un interrupteur ??", "fr_FR", Intent.DISPUTE),
        ("stop aux relances", "fr_FR", Intent.OPT_OUT),
        # Holding on while the card is fetched.
        ("je sors la cb attendez... c bon envoyez", "fr_FR", Intent.PAY_NOW),
        ("j'ai pas les sous, attendez", "fr_FR", Intent.PAY_LATER),
        # An experience told ("never used"), not a refusal.
        ("How do I pay this? Never used this system before", "en_GB", Intent.PAY_NOW),
        ("never", "en_GB", Intent.NO),
        ("jamais", "fr_FR", Intent.NO),
        # A payment someone else says they made.
        (
            "c'est mon ex qui devait payer et il m'a dit que c'était fait hier, "
            "vous avez rien reçu ?",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        # Care that did not work, the payment held until it is seen to.
        (
            "La dent me fait toujours mal après la couronne, "
            "je réglerai quand le docteur aura revu ça",
            "fr_FR",
            Intent.DISPUTE,
        ),
        # "là" closing a sentence about paying is now.
        (
            "je suis en déplacement jusqu'à vendredi prochain mais je peux payer de mon tel là",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("je suis là", "fr_FR", Intent.UNKNOWN),
        ("ahah trop bien la photo du chien", "fr_FR", Intent.SMALLTALK),
    ],
)
def test_kinds_of_the_easter_2028_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_count_that_will_do_corrects_the_one_refused() -> None:
    reading = read("pas 3 fois, 2 suffira")
    assert (reading.intent, reading.parts) == (Intent.SPLIT, 2)


def test_a_day_put_as_a_question_is_the_one_proposed() -> None:
    friday_before_easter = dt.datetime(2028, 4, 14, 10, 0, tzinfo=NOW.tzinfo)
    reading = understand(
        "Tuesday ok? Easter Monday the bank won't process anything anyway",
        locale="en_GB",
        now=friday_before_easter,
        tz=TZ,
    )
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2028, 4, 18))


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # The stop asked about and turned down at once: no opt-out.
        (
            "stop the reminders? no need, I'm paying right now, send the link",
            "en_GB",
            Intent.PAY_NOW,
        ),
        ("arrêter les relances ? pas besoin, je paie", "fr_FR", Intent.PAY_NOW),
        ("stop the reminders", "en_GB", Intent.OPT_OUT),
        # A payment gone out, in Spanish: never read as paying now.
        ("el pago ya salió esta mañana", "es_ES", Intent.ALREADY_PAID),
        ("Where do I click to pay? can't find it in the message", "en_GB", Intent.PAY_NOW),
        ("can't pay today", "en_GB", Intent.PAY_LATER),
        (
            "Pagaré cuando me devuelvan el dinero del primer cobro, me cobraron 2 veces",
            "es_ES",
            Intent.DISPUTE,
        ),
        ("Link says 'merchant not found'", "en_GB", Intent.HELP),
        ("facture de quoi ? j'ai eu 3 rdv chez vous ce mois-ci", "fr_FR", Intent.STATUS),
        (
            "Je ne veux pas payer plus tard, je veux payer maintenant, "
            "votre bouton PLUS TARD s'est declenché tout seul",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("Why do you need my card details, isn't it already on file?", "en_GB", Intent.HELP),
        ("ça roule", "fr_FR", Intent.YES),
    ],
)
def test_kinds_of_the_ascension_2028_batch(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


def test_a_payment_report_beside_lessons_left_is_the_report() -> None:
    reading = understand_by_rules(
        "J'ai payé hier. Au fait il me reste combien de seances sur le forfait ?",
        locale="fr_FR",
        now=NOW,
        tz=TZ,
    )
    assert reading.intent is Intent.ALREADY_PAID
    assert read("j'ai payé la 1ère, il reste combien ?").intent is Intent.STATUS


@pytest.mark.parametrize(
    ("text", "date"),
    [
        # A day said to be hard is the reason, not the promise.
        ("I'll pay after payday, end of the week is tight", None),
        ("vendredi c'est serré, lundi ?", dt.date(2026, 11, 23)),
        ("a la rentrée pour les cours de guitare, là on est ric rac", dt.date(2027, 9, 1)),
    ],
)
def test_a_day_said_to_be_hard_is_not_promised(text: str, date: dt.date | None) -> None:
    reading = read(text)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, date)


def test_half_now_half_tomorrow_is_a_split_in_two() -> None:
    reading = read("moitié aujourd'hui moitié demain")
    assert (reading.intent, reading.parts, reading.date) == (
        Intent.SPLIT,
        2,
        dt.date(2026, 11, 19),
    )


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("Which cards do you take? Is Amex ok?", "en_GB", Intent.HELP),
        ("can I spread it over a few months? hope that's not a problem", "en_GB", Intent.SPLIT),
        ("there's a problem with the link", "en_GB", Intent.HELP),
        (
            "Brilliant, 250 quid to make my boiler worse. Really great work 👏",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("No to the instalments, I'll just pay the lot now", "en_GB", Intent.PAY_NOW),
        ("You did a cracking job on the car by the way", "en_GB", Intent.SMALLTALK),
        (
            "Le solde a été débité de mon compte le 24, tout est ok de mon côté",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("It's asking me for a code from my bank but I never got one", "en_GB", Intent.HELP),
        ("My wife took care of it at reception last Wednesday", "en_GB", Intent.ALREADY_PAID),
        (
            "My mum paid the instalment for me on Saturday, can you confirm you got it?",
            "en_GB",
            Intent.ALREADY_PAID,
        ),
        ("Thanks, have a great Christmas!", "en_GB", Intent.SMALLTALK),
        ("great", "en_GB", Intent.YES),
        ("Vos liens marchent jamais, ca me met 'session invalide'", "fr_FR", Intent.HELP),
        ("Voy a pagar en cuanto pueda", "es_ES", Intent.PAY_LATER),
        ("¿Cuánto le debo?", "es_ES", Intent.STATUS),
        (
            "Je souhaite payer par virement, vous pouvez m'envoyer votre RIB ?",
            "fr_FR",
            Intent.HELP,
        ),
        ("ok ok je paye, c'est quoi la marche à suivre", "fr_FR", Intent.PAY_NOW),
        ("The page is in Dutch?? can't read it", "en_GB", Intent.HELP),
        ("pk j'ai pas encore le lien ? je veux payer moi", "fr_FR", Intent.PAY_NOW),
        ("Gracias por todo, el coche va genial", "es_ES", Intent.SMALLTALK),
        ("en varias veces por favor, no llego a todo de golpe", "es_ES", Intent.SPLIT),
        ("ça comprend le déplacement ou pas ?", "fr_FR", Intent.STATUS),
        ("quel est le dernier délai ?", "fr_FR", Intent.STATUS),
        ("Si, me parece bien", "es_ES", Intent.YES),
        (
            "Merci pour la réparation de la chaudière, ça chauffe enfin !! "
            "je vous règle tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("Je paie maintenant, merci (sorry, my French is rusty)", "fr_FR", Intent.PAY_NOW),
        # Whether it is paid, asked: the state of the account, not a report.
        ("I thought I'd cleared it all, is there still something owing?", "en_GB", Intent.STATUS),
        ("Is everything paid up on my account now? Just want to be sure", "en_GB", Intent.STATUS),
        (
            "Je sais pas si c'est déjà payé, mon ex-mari devait s'en occuper... "
            "vous pouvez vérifier si la facture est soldée ?",
            "fr_FR",
            Intent.STATUS,
        ),
        ("paid it all yesterday", "en_GB", Intent.ALREADY_PAID),
        ("les frais de paiement sont à ma charge ?", "fr_FR", Intent.HELP),
        ("non, ni maintenant ni en plusieurs fois", "fr_FR", Intent.NO),
    ],
)
def test_kinds_of_the_2027_2028_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("3x stp. ah non attendez 4 si c possible", 4),
        ("3 is a bit much each month, could we stretch it to 6?", 6),
        ("en 10 fois ??? 😅 non sérieux en 3 si vous pouvez", 3),
        ("Can I pay monthly, say 3 or 4 payments? Whatever's easier for you, 4 ideally", 4),
    ],
)
def test_the_count_settled_on_after_hesitating(text: str, parts: int) -> None:
    reading = read(text)
    assert (reading.intent, reading.parts) == (Intent.SPLIT, parts)


@pytest.mark.parametrize(
    ("text", "date"),
    [
        # The day the customer is busy, or a holiday, is the reason; the other day is promised.
        ("samedi... non plutot mercredi en fait, samedi je bosse", dt.date(2026, 11, 25)),
        ("demain c ferié donc je ferai ca vendredi matin promis", dt.date(2026, 11, 20)),
        ("Thursday if that's ok, I get paid Wednesday", dt.date(2026, 11, 19)),
        ("je peux passer vendredi au cabinet regler en liquide", dt.date(2026, 11, 20)),
        ("je vous paie à la rentrée de septembre", dt.date(2027, 9, 1)),
    ],
)
def test_the_day_promised_beside_a_reason(text: str, date: dt.date) -> None:
    reading = read(text)
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, date)


def test_the_third_instalment_promised_after_two_paid() -> None:
    reading = read("j'ai réglé les deux premières échéances, la troisième je la paierai début mai")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2027, 5, 1))


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        ("how do I pay you? never done this before", "en_GB", Intent.PAY_NOW),
        ("the gutters were never cleared", "en_GB", Intent.DISPUTE),
        ("how do i actually pay u for this", "en_GB", Intent.PAY_NOW),
        (
            "Love being billed for a lesson my instructor didn't show up to. Great service 👏",
            "en_GB",
            Intent.DISPUTE,
        ),
        (
            "Le virement est parti ce midi, vous devriez le voir d'ici demain",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("it was taken by direct debit already on the 1st", "en_GB", Intent.ALREADY_PAID),
        (
            "merci beaucoup pour la vidange, la voiture roule comme jamais 😊",
            "fr_FR",
            Intent.SMALLTALK,
        ),
        ("I never ordered anything from you, who is this", "en_GB", Intent.DISPUTE),
        ("is this a scam? who is this", "en_GB", Intent.HELP),
        ("il y a des frais si je paie par carte ?", "fr_FR", Intent.HELP),
    ],
)
def test_kinds_of_the_may_2027_to_january_2028_batches(
    text: str, locale: str, intent: Intent
) -> None:
    assert read(text, locale).intent is intent


def test_a_stop_thought_of_and_not_sent_is_no_opt_out() -> None:
    text = "I was going to say stop but actually no, keep the reminders, they help lol"
    assert read(text, "en_GB").intent is not Intent.OPT_OUT
    assert read("STOP", "fr_FR").intent is Intent.OPT_OUT


def test_relentless_reminders_are_the_stop_unless_a_payment_is_decided_beside_them() -> None:
    text = "non stop les relances c pas possible, 4 messages cette semaine ! j'ai DEJA payé"
    reading = read(text)
    assert (reading.intent, reading.then) == (Intent.OPT_OUT, (Intent.ALREADY_PAID,))
    promised = read("non stop les relances?? j'ai compris je paye samedi")
    assert promised.intent is Intent.PAY_LATER and promised.maybe_opt_out


def test_a_day_not_before_which_is_the_day_promised() -> None:
    reading = read("mardi pas avant, j'ai ma paye lundi soir")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 24))


def test_an_amount_today_and_the_rest_tomorrow_is_a_split_in_two() -> None:
    reading = read("je mets 200 aujourd'hui et je vous fais le reste demain")
    expected = (Intent.SPLIT, 2, dt.date(2026, 11, 19))
    assert (reading.intent, reading.parts, reading.date) == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "Bonjour je souhaiterais qu'une personne du secrétariat me contacte "
            "concernant ma facture",
            Intent.ASK_AGENT,
        ),
        ("Je vous ai donné 60 € en liquide à la fin du cours", Intent.ALREADY_PAID),
        ("le prélèvement du 2 a été fait ?", Intent.STATUS),
        ("à quoi correspondent les boutons PAYER et PLUS TARD ?", Intent.HELP),
    ],
)
def test_rules_for_what_the_arbiter_used_to_catch(text: str, intent: Intent) -> None:
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is intent


def test_cash_handed_over_and_the_rest_promised_is_the_promise() -> None:
    reading = read("j'ai donné 40 en liquide au technicien, pour les 45 restants ce sera mardi")
    assert (reading.intent, reading.date) == (Intent.PAY_LATER, dt.date(2026, 11, 24))


@pytest.mark.parametrize(
    ("text", "locale", "intent"),
    [
        # START said alone in a clause asks for the messages back; the STOP told is reported.
        ("START svp, c'est mon fils qui a répondu stop avec mon tel", "fr_FR", Intent.OPT_IN),
        ("c'est mon fils qui a répondu stop avec mon tel", "fr_FR", Intent.OPT_OUT),
        # Sarcasm about a fault that persists is a dispute, never consent.
        (
            "oh génial, payer pour un disjoncteur qui saute toujours, merci du service 👏",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("le lien bloque encore", "fr_FR", Intent.HELP),
        ("je préfère payer direct plutôt qu'en 3 fois, merci", "fr_FR", Intent.PAY_NOW),
        ("Quiero pagar todo de una vez, no en 3 veces", "es_ES", Intent.PAY_NOW),
        ("Je suis pas votre cliente, je sais pas qui est Mme Martin", "fr_FR", Intent.DISPUTE),
    ],
)
def test_kinds_of_the_final_state_batches(text: str, locale: str, intent: Intent) -> None:
    assert read(text, locale).intent is intent


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # A future pay verb that says "now" pays now; "pas maintenant" still waits.
        ("je paierai maintenant", "fr_FR", (Intent.PAY_NOW, None, None)),
        (
            "non je préfère pas les 3 paiements, je réglerai tout d'un coup maintenant",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("je paierai pas maintenant", "fr_FR", (Intent.PAY_LATER, None, None)),
        # A run of k is laughter or a thumb on one key, not "k" for "ok".
        ("kkkkkkkk", "fr_FR", (Intent.UNKNOWN, None, None)),
        ("kk", "fr_FR", (Intent.YES, None, None)),
        # An option named is chosen; the options asked for are a question.
        ("je prends l'option 3 fois", "fr_FR", (Intent.SPLIT, None, 3)),
        ("je choisis le paiement 3 fois", "fr_FR", (Intent.SPLIT, None, 3)),
        ("quelles options ?", "fr_FR", (Intent.HELP, None, None)),
        # A newcomer to the way of paying contests nothing.
        (
            "how do i pay this? never used your system before",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        # A leak that did not come back is praise; one that did is a dispute.
        (
            "top le travail sur le toit, aucune fuite avec l'orage d'hier",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        ("ça fuit toujours sous l'évier", "fr_FR", (Intent.DISPUTE, None, None)),
        # Owing nothing beyond the sum written accepts it.
        (
            "je vous dois rien de plus que ce qui est écrit, je regle, envoyez",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("je vous dois rien de plus", "fr_FR", (Intent.DISPUTE, None, None)),
        # Whether it is all paid, asked, is a question about the invoice.
        (
            "Est-ce que j'ai bien tout réglé pour l'année de danse ?",
            "fr_FR",
            (Intent.STATUS, None, None),
        ),
        ("j'ai bien tout réglé", "fr_FR", (Intent.ALREADY_PAID, None, None)),
        (
            "Actually keep me on the reminder texts, I replied the wrong word earlier",
            "en_GB",
            (Intent.OPT_IN, None, None),
        ),
        # Another count in place of the one offered.
        ("not 3, can we make it 5? money's really tight", "en_GB", (Intent.SPLIT, None, 5)),
        (
            "on avait dit 3 fois, finalement je prefere 6 si vous acceptez",
            "fr_FR",
            (Intent.SPLIT, None, 6),
        ),
        # Two counts offered, none chosen.
        (
            "trois fois ou quatre, comme vous voulez, mais pas en une",
            "fr_FR",
            (Intent.SPLIT, None, None),
        ),
        ("en 3 fois ou en 4 fois", "fr_FR", (Intent.SPLIT, None, None)),
        # How the instalments "sans frais" work is a question, not a fee contested.
        (
            "Comment ça marche le paiement en 3 fois sans frais, c'est via une banque ?",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        ("en 3 fois sans frais svp", "fr_FR", (Intent.SPLIT, None, 3)),
        ("I'm at the counter, can I just tap my card?", "en_GB", (Intent.PAY_NOW, None, None)),
        # The day put as a question is the one proposed; the one after "si" a fallback.
        (
            "vendredi c'est bon ? ou jeudi si la paye tombe avant",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        # A split whose first payment starts on a day stays a split.
        (
            "je voudrais payer 3 fois comme vous proposez mais commencer le 1er décembre",
            "fr_FR",
            (Intent.SPLIT, None, 3),
        ),
        ("en 3 fois mais commencer vendredi", "fr_FR", (Intent.SPLIT, None, 3)),
    ],
)
def test_kinds_of_the_u42_u44_batches(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # The day first, on its own, then why: a promise.
        (
            "Next week, I'm away on holiday right now 🏖️",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        (
            "la semaine prochaine, je suis en vacances là",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        # Now rather than in instalments.
        (
            "I'd rather pay it all now than in 3 goes, thanks",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        ("rather in 3 goes than now", "en_GB", (Intent.SPLIT, None, 3)),
        # A count asked for in place of the one offered; an amount so put is contested.
        ("4 fois c'est possible au lieu de 3 ?", "fr_FR", (Intent.SPLIT, None, 4)),
        ("c'est 80 au lieu de 60 ?", "fr_FR", (Intent.DISPUTE, None, None)),
        # A closing "instead please" opens nothing: the count said before it stands.
        (
            "Make it 6 instalments instead please, 3 is too much each month",
            "en_GB",
            (Intent.SPLIT, None, 6),
        ),
        # Whether the message is genuine, asked.
        (
            "Is this really from Dr Moreau's practice? Never had texts from them before",
            "en_GB",
            (Intent.HELP, None, None),
        ),
        ("c'est vraiment le cabinet du Dr Moreau ?", "fr_FR", (Intent.HELP, None, None)),
        ("never had to pay for this before", "en_GB", (Intent.DISPUTE, None, None)),
        # A visit to say thanks; one to pay is a promise.
        (
            "I'll stop by the shop tomorrow to say thanks, the bike is perfect",
            "en_GB",
            (Intent.SMALLTALK, None, None),
        ),
        (
            "I'll stop by the shop tomorrow to pay",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        # Thanks for a call that took place; a call asked for is a person asked for.
        (
            "Merci à Sandrine pour sa gentillesse au téléphone hier",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        ("merci de me rappeler au téléphone", "fr_FR", (Intent.ASK_AGENT, None, None)),
    ],
)
def test_kinds_of_batch_u45(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("REPRENDRE", "fr_FR", (Intent.OPT_IN, None, None)),
        ("besoin d'aide svp", "fr_FR", (Intent.HELP, None, None)),
        # The day settled on after "make it" / "bon … quand même".
        (
            "I'll sort it Monday... actually no, make it Friday, I get paid Thursday night",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "mercredi ça vous va ? ah non c'est férié... bon mercredi quand même en ligne",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 25), None),
        ),
        ("bon week-end", "fr_FR", (Intent.SMALLTALK, None, None)),
        # Money short later is why the customer pays now; a negation stops at "donc".
        (
            "J'ai pas d'argent vendredi donc autant payer maintenant tant que c'est sur le compte",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "pas d'argent maintenant donc vendredi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        # Paying once the fault is gone contests the invoice.
        (
            "je vais payer hein, mais seulement une fois que le robinet ne fuira plus",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        # A split whose first payment is put on a day; the 1st of a month is a date.
        ("3 fois mais la première seulement samedi", "fr_FR", (Intent.SPLIT, None, 3)),
        (
            "je paie le premier du mois",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 1), None),
        ),
        # Paying monthly until it is done is a split; a payment held until work is done is not.
        (
            "je peux vous donner 30 euros par mois jusqu'à ce que ce soit fini ?",
            "fr_FR",
            (Intent.SPLIT, None, None),
        ),
        (
            "je paie pas tant que le chantier n'est pas terminé",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("Quiero pagarlo en 6 meses", "es_ES", (Intent.SPLIT, None, 6)),
        ("Partie maintenant, partie plus tard, c faisable ?", "fr_FR", (Intent.SPLIT, None, 2)),
        # The day it would be forgotten is no promise.
        (
            "c'est bon je paie là, ça m'évitera de l'oublier jeudi",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je paie jeudi, faut pas que j'oublie",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        # The wait dropped is no question about the due date.
        (
            "Can I pay it all today instead of waiting for the due date?",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        ("what's the due date?", "en_GB", (Intent.STATUS, None, None)),
    ],
)
def test_kinds_of_batch_u46(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


def test_a_person_named_with_a_role_is_asked_for_before_what_they_said() -> None:
    found = understand_by_rules(
        "je veux parler à Julien le moniteur, c'est lui qui m'a dit que je pouvais payer après",
        locale="fr_FR",
        now=NOW,
        tz=TZ,
    )
    assert found.intent is Intent.ASK_AGENT


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # Our keywords named together in a question: what they mean, nothing sent.
        (
            "Je comprends rien à votre message, c'est quoi ce PLUS TARD 3X STOP ?",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        ("plus tard stop", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("c'est quoi ce STOP ?", "fr_FR", (Intent.OPT_OUT, None, None)),
        # A count put instead of one asked about.
        ("en 10 fois c possible lol ? bon 3 alors", "fr_FR", (Intent.SPLIT, None, 3)),
        ("en 4 fois... en fait non 3 c mieux pour moi", "fr_FR", (Intent.SPLIT, None, 3)),
        # Paying by the month; a monthly subscription named asks nothing of the kind.
        (
            "paiement mensuel possible pour l'abonnement du club ?",
            "fr_FR",
            (Intent.SPLIT, None, None),
        ),
        ("je peux payer mensuellement ?", "fr_FR", (Intent.SPLIT, None, None)),
    ],
)
def test_kinds_of_batch_u48(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # Our opt-out keyword said in a sentence that is no opt-out (U52's critical errors).
        (
            "Non stop ! j'ai bossé tout le weekend 😅 bref je paie ce soir",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 18), None),
        ),
        (
            "J'ai reçu le message STOP de confirmation mais je voulais pas me désabonner, "
            "je fais comment pour revenir ?",
            "fr_FR",
            (Intent.OPT_IN, None, None),
        ),
        (
            "I got the STOP confirmation text but I didn't mean it, how do I get back?",
            "en_GB",
            (Intent.OPT_IN, None, None),
        ),
        # A way to pay asked about: by phone, at a card reader.
        (
            "is there a card reader at the reception? I'd rather pay in person",
            "en_GB",
            (Intent.HELP, None, None),
        ),
        ("jpeux payer par tel ? genre je vous donne ma cb", "fr_FR", (Intent.HELP, None, None)),
        ("do you have a card machine at the shop?", "en_GB", (Intent.HELP, None, None)),
        # Not the customer, said before asking who writes.
        (
            "I never booked any lesson with your driving school, who is this?",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        # A count changed, a total counted.
        (
            "je voulais en 3 mais en fait en 6 ce serait mieux, c'est possible ?",
            "fr_FR",
            (Intent.SPLIT, None, 6),
        ),
        (
            "Je vous fais un premier paiement aujourd'hui puis on voit pour le reste en 2 fois ?"
            " donc 3 en tout",
            "fr_FR",
            (Intent.SPLIT, None, 3),
        ),
        ("one payment today and the rest in 2, so 3 in total", "en_GB", (Intent.SPLIT, None, 3)),
        ("2 fois 50 donc 100 en tout", "fr_FR", (Intent.SPLIT, None, 2)),
        # The day after the one named; a day turned down for being too far.
        (
            "ma paye tombe le 28, je regle le lendemain",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 29), None),
        ),
        (
            "I get paid on Friday so I'll pay the day after",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        (
            "I'll pay the day after tomorrow",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        # With no day named before it: later, the day unknown.
        ("je règle le lendemain", "fr_FR", (Intent.PAY_LATER, None, None)),
        ("I'll pay the next day", "en_GB", (Intent.PAY_LATER, None, None)),
        (
            "je paie le lendemain de Noël",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 26), None),
        ),
        (
            "Friday week is too far, I'll do it on Saturday",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        # The wait turned down.
        (
            "honnêtement je préfère vous payer maintenant que d'attendre la fin du mois, vous "
            "m'envoyez le lien ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "I'd rather pay now than wait till the end of the month",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "Right, how do I pay this then? Never used one of these links",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        # The plan already agreed kept.
        ("non je refuse, je garde l'échéancier qu'on avait", "fr_FR", (Intent.NO, None, None)),
        ("no thanks, I'll keep the current plan", "en_GB", (Intent.NO, None, None)),
    ],
)
def test_kinds_of_batch_u52(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    "text",
    [
        # "non stop" as an adverb, what went on told after it: asked about, never ignored.
        "Non stop ! j'ai bossé tout le weekend 😅 bref je paie ce soir",
        "non stop! been working all weekend, I'll pay tonight",
    ],
)
def test_a_bare_non_stop_before_what_went_on_is_asked_about(text: str) -> None:
    found = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert found.intent is Intent.PAY_LATER and found.maybe_opt_out


@pytest.mark.parametrize(
    "text",
    [
        "Non stop ! je veux plus de messages",
        "Non, stop ! j'ai bossé tout le weekend",
        "non stop",
        "non stop ! j'ai payé",
    ],
)
def test_non_stop_alone_or_about_our_messages_stays_an_opt_out(text: str) -> None:
    found = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert found.intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        (
            "le bus s'est arrêté en panne, je passerai payer samedi au cabinet",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        (
            "j'ai eu la voiture en panne sur l'autoroute, je vous règle vendredi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "the car broke down on the way home, I'll pay on Friday",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "le bus s'est arrêté en panne, je vais être en retard au cours",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
    ],
)
def test_a_mishap_on_the_road_is_a_reason_not_a_dispute(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        # A garage's customer may be telling that the repair did not hold.
        ("ma voiture est en panne, je vous règle lundi", "fr_FR"),
        ("la voiture est retombée en panne sur la route, je paie pas", "fr_FR"),
        ("j'ai eu la voiture en panne en sortant de chez vous, je paierai pas", "fr_FR"),
        ("the car you fixed broke down on the way home, not paying", "en_GB"),
        ("my car broke down on the way home from your garage, I want a refund", "en_GB"),
        ("my van broke down again, you only fixed it last week", "en_GB"),
    ],
)
def test_a_breakdown_that_may_be_our_work_stays_a_dispute(text: str, locale: str) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is Intent.DISPUTE


@pytest.mark.parametrize(
    ("text", "locale", "parts"),
    [
        ("Je vous fais 3 fois 70€, ça vous va ?", "fr_FR", 3),
        ("je peux faire 4 virements de 50 ?", "fr_FR", 4),
        ("Je vous fais 3 chèques si ça vous va", "fr_FR", 3),
        ("I'll send you 3 cheques, one a month", "en_GB", 3),
    ],
)
def test_a_number_of_payments_offered_by_a_means_is_a_split(
    text: str, locale: str, parts: int
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.parts) == (Intent.SPLIT, parts)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        # Critical before: a count of transfers made, then "c'est bon ?", read as a yes.
        ("j'ai fait 2 virements de 50, c'est bon ?", "fr_FR"),
        ("j'ai fait les virements hier", "fr_FR"),
        ("I sent 2 transfers last week", "en_GB"),
        ("I did both payments already", "en_GB"),
    ],
)
def test_payments_made_counted_are_a_payment_report(text: str, locale: str) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is Intent.ALREADY_PAID


@pytest.mark.parametrize(
    ("text", "locale", "day"),
    [
        # "til" is "until": the day waited for, the payday after it only the reason.
        ("i cant pay til the 28th sorry thats payday", "en_GB", dt.date(2026, 11, 28)),
        ("cant pay til friday, payday", "en_GB", dt.date(2026, 11, 20)),
        # The salary's day named ("la paie du 5"): the day waited for.
        ("je peux pas avant la paie du 5, désolé", "fr_FR", dt.date(2026, 12, 5)),
        ("j'attends le virement du 25 pour vous payer", "fr_FR", dt.date(2026, 11, 25)),
    ],
)
def test_the_day_of_the_salary_waited_for_is_the_promise(
    text: str, locale: str, day: dt.date
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (Intent.PAY_LATER, day)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Can't stop laughing 😂😂 omg", "en_GB"),
        ("can't believe it's Christmas already", "en_GB"),
        ("je peux pas m'empêcher de rire 😂", "fr_FR"),
        ("impossible de dormir avec ce bruit lol", "fr_FR"),
    ],
)
def test_an_idiom_of_not_being_able_is_no_wait_to_pay(text: str, locale: str) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is Intent.SMALLTALK


@pytest.mark.parametrize("text", ["je voudrais payer que 2 fois", "je veux régler qu'en 2 fois"])
def test_only_two_payments_asked_for_is_a_split_not_a_double_charge(text: str) -> None:
    found = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert (found.intent, found.parts) == (Intent.SPLIT, 2)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # Round 35's probe and U59c's kinds.
        (
            "STOP aux erreurs svp : le stage c'était 3 jours pas 5, corrigez la facture",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "la machine a laver m'a lachee ce matin donc je vous paie que samedi, dsl",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        (
            "the washing machine flooded my kitchen, can I pay on friday instead",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "je peux vous faire 2 chèques, un maintenant et un le 10 décembre ?",
            "fr_FR",
            (Intent.SPLIT, dt.date(2026, 12, 10), 2),
        ),
        (
            "j'ai arrêté la guitare en mars, pourquoi je reçois encore une facture ?",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "le cours s'est arrêté plus tôt hier, c'est normal que ce soit facturé pareil ?",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Puedo pagar el viernes? hasta entonces no cobro",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "I'll pay friday, skint till then",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        # A change of mind after the reason still drops the day.
        (
            "je paie vendredi. ah non je suis à découvert, plus tard",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
    ],
)
def test_kinds_of_round_35(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U55, U58's kinds (scored at 3502eab) and their neighbours. The customer's own income
        # paid to them is no payment report, and not a wait once it has come.
        (
            "demain matin dès que la banque a viré mon salaire",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        ("mon salaire a été viré, je vous paie", "fr_FR", (Intent.PAY_NOW, None, None)),
        (
            "Je préfère attendre après Noël, j'aurai touché mes congés payés",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 26), None),
        ),
        (
            "I'll pay friday once my salary has been paid in",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        ("me han pagado la nómina, ya te pago", "es_ES", (Intent.PAY_NOW, None, None)),
        ("je vous paie quand mon salaire est tombé", "fr_FR", (Intent.PAY_LATER, None, None)),
        # Settled by a day to come; money handed to whoever came.
        (
            "avant Noël c'est réglé, je vous le garantis",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 24), None),
        ),
        (
            "Le technicien est reparti avec un chèque de 180€ jeudi, vous l'avez pas reçu ?",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "the plumber left with a cheque on Thursday, did you not get it?",
            "en_GB",
            (Intent.ALREADY_PAID, None, None),
        ),
        # A day told of being away, beside a pay word said first: the reason, not the promise.
        (
            "PAYER svp, je pars en vacances demain je veux pas oublier",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("Bon allez je paie, c'est Noël 😅", "fr_FR", (Intent.PAY_NOW, None, None)),
        (
            "¿Cómo os pago? Estoy en Francia solo hasta el domingo",
            "es_ES",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je vous paie lundi, je pars en vacances mardi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        # A visit or a call made twice, a first time paying by text: no double charge.
        (
            "Which sessions are on this invoice? I only had physio twice in November",
            "en_GB",
            (Intent.STATUS, None, None),
        ),
        (
            "Could you give me a ring? Tried the shop twice, no answer",
            "en_GB",
            (Intent.ASK_AGENT, None, None),
        ),
        ("how do I pay this? never done it by text before", "en_GB", (Intent.PAY_NOW, None, None)),
        ("you charged me twice", "en_GB", (Intent.DISPUTE, None, None)),
        (
            "j'ai appelé 2 fois personne répond, rappelez moi",
            "fr_FR",
            (Intent.ASK_AGENT, None, None),
        ),
        ("le paiement est passé 2 fois", "fr_FR", (Intent.DISPUTE, None, None)),
        # Counts corrected.
        ("en 10 fois lol non serieux en 3 ça serait top", "fr_FR", (Intent.SPLIT, None, 3)),
        (
            "on avait dit 3 fois mais finalement 6 ce serait mieux pr moi",
            "fr_FR",
            (Intent.SPLIT, None, 6),
        ),
        ("2 fois ? ah non plutot 3 si c'est pareil pour vous", "fr_FR", (Intent.SPLIT, None, 3)),
        ("2 fois le même montant !!", "fr_FR", (Intent.DISPUTE, None, None)),
        (
            "Quiero pagarlo todo de una vez, nada de tres plazos",
            "es_ES",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "no pasa nada, pago el viernes",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        # A link that spins; a month's end in Spanish; out of work is money short.
        ("the link just spins forever on my phone", "en_GB", (Intent.HELP, None, None)),
        (
            "Te lo pago fin de abril, ahora estoy sin trabajo",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2027, 4, 30), None),
        ),
        (
            "je suis en congé vendredi mais je préfère régler tout de suite, c'est fait comme ça",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("Wait, is the 120 for both kids or just one?", "en_GB", (Intent.STATUS, None, None)),
        (
            "A la rentrée ça sera plus simple pour moi, je suis au chômage partiel cet été",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2027, 9, 1), None),
        ),
    ],
)
def test_kinds_of_round_36(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U61-U63's kinds (scored blind at add6067). A stop in a sentence that is not ours to act
        # on: denied, enough of something else, a compound, a hold-on, a class left.
        ("Not STOP lol just later pls, things are tight", "en_GB", (Intent.PAY_LATER, None, None)),
        (
            "STOP à la procrastination 😅 j'envoie le paiement maintenant, c'est quoi le lien ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "l'atelier stop motion des vacances a été annulé par VOUS, pourquoi je reçois"
            " une facture de 95€ ?",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "attendez stop, je paye maintenant finalement, pas la peine d'attendre la fin du mois",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je suis désinscrite depuis mars et vous continuez a me compter les cours du mardi ??",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        # Stops to our messages stay opt-outs.
        ("stop à vos relances", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("STOP au harcèlement, j'ai payé", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("je veux être désinscrite de la liste", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("not stop the reminders, I pay tomorrow", "en_GB", (Intent.OPT_OUT, None, None)),
        # Payments and disputes told around a repair, a return, an extra, money lent.
        (
            "comment on vous paie pour la réparation du pc ? je veux regler aujourd'hui",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "Paid at the desk when I returned the car, I've got the receipt",
            "en_GB",
            (Intent.ALREADY_PAID, None, None),
        ),
        ("I returned it, it was broken", "en_GB", (Intent.DISPUTE, None, None)),
        (
            "j'ai payé la vidange mais le filtre à huile facturé en plus non, il était compris"
            " dans le forfait",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "mon mari est passé payer en liquide samedi au salon",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "g deja mis 40 € la, le reste demain soir",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        (
            "je suis à découvert jusqu'à lundi... non en fait c'est bon ma soeur m'a fait un"
            " virement, je paie maintenant",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je paierai quand la mutuelle m'aura remboursé, c'est bon pour vous ?",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
        # Means, counts and chat.
        ("vous prenez les CESU pour la garderie ?", "fr_FR", (Intent.HELP, None, None)),
        (
            "Not disputing anything, I'd just rather pay the whole lot today than do instalments",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "on avait dit 3 mensualités mais je préférerais 6 si c possible",
            "fr_FR",
            (Intent.SPLIT, None, 6),
        ),
        ("Muchas gracias, el DJ estuvo genial!", "es_ES", (Intent.SMALLTALK, None, None)),
        (
            "je mets 150 tout de suite et je complete le 5",
            "fr_FR",
            (Intent.SPLIT, dt.date(2026, 12, 5), 2),
        ),
        (
            "Me cobran la cuota de noviembre pero me di de baja del gimnasio en octubre",
            "es_ES",
            (Intent.DISPUTE, None, None),
        ),
    ],
)
def test_kinds_of_round_36_blind(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U64's kinds (scored blind at 98fff71): enough of something that is not our messages,
        # the work of a day named as what is paid, a count preferred over the one proposed.
        (
            "non mais stop avec les heures sup, le déménageur a cassé mon miroir",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("stop avec vos relances", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("stop avec les sms", "fr_FR", (Intent.OPT_OUT, None, None)),
        (
            "Bonjour, comment on vous règle pour l'ouverture de porte de mardi ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je vous paie au cours de samedi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        (
            "vous proposez 3 mais je préfèrerais 4 fois si possible",
            "fr_FR",
            (Intent.SPLIT, None, 4),
        ),
        # Our "later" keyword said first, whatever chat follows; a "no" of something lacking
        # refuses nothing; a fault said to be fixed is no dispute, unless it came back.
        (
            "plus tard svp, on sort du déménagement on a rien déballé",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
        ("see you at the pub later?", "en_GB", (Intent.SMALLTALK, None, None)),
        (
            "I'll sort it in two weeks, travelling at the moment with no laptop",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 12, 2), None),
        ),
        ("no, I won't pay", "en_GB", (Intent.NO, None, None)),
        (
            "je conteste rien hein, la fuite est réparée nickel, c juste que je peux payer"
            " que le 5",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 5), None),
        ),
        (
            "la fuite a été réparée mais elle est revenue, je paie pas",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
    ],
)
def test_kinds_of_batch_u64(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U65's and U66's kinds (scored blind at 24eb8ef, the round's retrained state).
        ("c'etait pas un STOP, je veux payer, le lien svp", "fr_FR", (Intent.PAY_NOW, None, None)),
        ("it wasn't a STOP, I want to pay, link please", "en_GB", (Intent.PAY_NOW, None, None)),
        ("stop pestering me", "en_GB", (Intent.OPT_OUT, None, None)),
        ("stop sending me these", "en_GB", (Intent.OPT_OUT, None, None)),
        (
            "3 instalments is still too much per month for me, could we do 6?",
            "en_GB",
            (Intent.SPLIT, None, 6),
        ),
        (
            "STOP aux frais caches ! 15 € de frais de dossier, c'etait marqué nulle part",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("Vale, de acuerdo con los tres pagos", "es_ES", (Intent.YES, None, None)),
        (
            "Le pago a mediados de diciembre, ahora con los libros del cole no llego",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 12, 15), None),
        ),
        ("el paquete no llegó nunca", "es_ES", (Intent.DISPUTE, None, None)),
        (
            "Can it wait till next week? I've no laptop with me",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        ("plutot 2 fois... ah non 3 sinon je m'en sors pas", "fr_FR", (Intent.SPLIT, None, 3)),
    ],
)
def test_kinds_of_batches_u65_u66(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    "text", ["STOP aux SMS svp", "stop à la pub", "STOP au harcèlement, j'ai payé", "STOP"]
)
def test_a_stop_to_our_messages_stays_an_opt_out(text: str) -> None:
    found = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert found.intent is Intent.OPT_OUT


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U60b's kinds (scored at 5b367f0).
        (
            "j'ai hésité à répondre STOP mais bon, envoyez moi le lien de paiement",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "I almost replied STOP but fine, send me the link",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "oui oui je vais payer... le jour où vous m'enverrez la bonne taille 🙄",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "pas 3 mensualités, plutot 5 si c possible pour les lunettes",
            "fr_FR",
            (Intent.SPLIT, None, 5),
        ),
        (
            "c quoi le numero de l'opticien que je les appelle directement",
            "fr_FR",
            (Intent.ASK_AGENT, None, None),
        ),
        (
            "Can I settle the vet bill on Monday? Waiting for my wages to clear",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        # The bills a feast cost stay a reason, not a day.
        (
            "je paierai après les cadeaux de Noël",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
    ],
)
def test_kinds_of_batch_u60b(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U56's, U57's, U59b's and U60c's kinds (scored at edd467a).
        (
            "vous pouvez couper les notifications, on a déménagé et on n'ira plus chez vous",
            "fr_FR",
            (Intent.OPT_OUT, None, None),
        ),
        (
            "Va te faire voir avec ta facture, le boulot est fait à moitié alors tu seras payé "
            "à moitié",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Bonjour, j'ai déjà payé en ligne mais je n'ai pas eu de reçu, vous pouvez me "
            "l'envoyer ?",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "en 3 fois mais je paie la première aujourd'hui",
            "fr_FR",
            (Intent.SPLIT, None, 3),
        ),
        (
            "j'ai donné du liquide au moniteur a la fin de la lecon",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "d'accord pour le 12/12, le 12/01 et le 12/02",
            "fr_FR",
            (Intent.YES, None, None),
        ),
        (
            "Bonjour, il faudrait que je parle à quelqu'un de la compta",
            "fr_FR",
            (Intent.ASK_AGENT, None, None),
        ),
        (
            "¿Se puede en cuatro plazos? no, mejor en tres",
            "es_ES",
            (Intent.SPLIT, None, 3),
        ),
        (
            "¿Cómo lo pago? je suis un peu perdue avec le message",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "Can I pay the physio bill next week? Just back from holiday",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        # No money on the card ("no tengo saldo") is a reason, not a balance asked about.
        (
            "Te pago el sábado, ¿vale? hoy no tengo saldo en la tarjeta",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        ("¿cuál es el saldo?", "es_ES", (Intent.STATUS, None, None)),
        # U60a's (scored at ae4cb14): a visit made twice is no double charge; the repair
        # named as what is paid is no fault.
        (
            "Which visit is this one for? The pool guy came twice this month",
            "en_GB",
            (Intent.STATUS, None, None),
        ),
        (
            "Comment je fais pour vous régler la réparation du tableau électrique ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
    ],
)
def test_kinds_of_batches_u56_u57(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


def test_a_call_made_earlier_today_is_no_promise() -> None:
    found = understand_by_rules(
        "Salut ! oui c'est moi qui t'ai appelé tout a l'heure 😄", locale="fr_FR", now=NOW, tz=TZ
    )
    assert found.intent is not Intent.PAY_LATER and found.date is None
    later = understand_by_rules("je vous règle ça tout à l'heure", locale="fr_FR", now=NOW, tz=TZ)
    assert (later.intent, later.date) == (Intent.PAY_LATER, NOW.date())


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # Round 37's kinds (U67's leftovers and U68, U69: scored blind at 257b481).
        (
            "je viens de voir 2 prelevements de 129€ pour la meme vidange, remboursez en un svp",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "two charges of 80 for the same haircut on my statement",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        ("en 2 prélèvements pour la même facture ça irait ?", "fr_FR", (Intent.SPLIT, None, 2)),
        ("3x... non en fait en 2 c mieux", "fr_FR", (Intent.SPLIT, None, 2)),
        ("3 instalments... no actually 2 is better", "en_GB", (Intent.SPLIT, None, 2)),
        (
            "vous m'avez proposé 3 paiements, c possible en 6 plutôt ?",
            "fr_FR",
            (Intent.SPLIT, None, 6),
        ),
        ("you offered 3 payments, could you do 5 instead?", "en_GB", (Intent.SPLIT, None, 5)),
        ("¿A qué hora abrís el sábado?", "es_ES", (Intent.SMALLTALK, None, None)),
        (
            "attendez jprends ma carte dans mon sac, c'est ou qu'on paie",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "jvous fais un virement demain",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        (
            "c'est pour quel passage ? la femme de menage vient 2 fois par semaine",
            "fr_FR",
            (Intent.STATUS, None, None),
        ),
        (
            "which visit is this for? the cleaner comes twice a week",
            "en_GB",
            (Intent.STATUS, None, None),
        ),
        ("vous m'avez facturé 2 fois par erreur", "fr_FR", (Intent.DISPUTE, None, None)),
        (
            "Can I sort the florist bill next week? Bit skint after Valentine's lol",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        ("I'll sort the bill now", "en_GB", (Intent.PAY_NOW, None, None)),
        (
            "Which event is this invoice for? We booked two parties with you in January",
            "en_GB",
            (Intent.STATUS, None, None),
        ),
        (
            "on peut payer par cheque ? et si je reponds STOP ça annule quoi exactement ?",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        (
            "comment je vous regle la note du resto de samedi ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "comment je vous regle pour le buffet de samedi ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("how do I pay for the dinner from saturday?", "en_GB", (Intent.PAY_NOW, None, None)),
        ("como os pago la cena del sabado?", "es_ES", (Intent.PAY_NOW, None, None)),
        (
            "je vous règle le reste de samedi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        ("je paie à partir de lundi", "fr_FR", (Intent.PAY_LATER, dt.date(2026, 11, 23), None)),
        (
            "pourquoi vous me comptez 3 jours de location de chaises ? je les ai rendues le "
            "lendemain de la fete",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "why have you charged me for 3 nights? we left after two",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        ("je vous règle le lendemain", "fr_FR", (Intent.PAY_LATER, None, None)),
        ("I need till the next day", "en_GB", (Intent.PAY_LATER, None, None)),
        (
            "j'ai pas envoyé stop moi, je comprends juste pas ce que c'est que ce lien",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        (
            "super coupe, tout le monde me fait des compliments !",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        ("super, on valide", "fr_FR", (Intent.YES, None, None)),
        (
            "I pay tomorow ok? no card with me at the beach",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        ("3 FOIS SANS FRAIS C'EST POSSIBLE ?!", "fr_FR", (Intent.SPLIT, None, 3)),
        (
            "3 fois sans frais ?! vous m'avez prélevé des frais de 12 €",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
    ],
)
def test_kinds_of_round_37(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U70's and U71's kinds (scored blind at 3d0455a), two of them disputes read as promises.
        (
            "You charged 3 days of marquee hire, we had it Saturday to Sunday. That's 2 days. "
            "Fix it and I'll pay.",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Esta factura no es mía, mi hija dejó la academia de inglés en junio",
            "es_ES",
            (Intent.DISPUTE, None, None),
        ),
        (
            "jai jamais inscrit mon fils a votre club de foot, vous vous trompez de personne",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "I'll pay after payday, sorry it's been a tight month with Christmas and all",
            "en_GB",
            (Intent.PAY_LATER, None, None),
        ),
        (
            "c'est tendu avec Noël, je paie le 5",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 5), None),
        ),
        (
            "pago el viernes, con la navidad no llego",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        ("los regalos no llegaron", "es_ES", (Intent.DISPUTE, None, None)),
        (
            "pas besoin de faire en plusieurs fois, je paie les 60€ direct",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("je voudrais payer en plusieurs fois", "fr_FR", (Intent.SPLIT, None, None)),
        (
            "can I do 50 now and 50 sometime in January?",
            "en_GB",
            (Intent.SPLIT, dt.date(2027, 1, 1), 2),
        ),
        (
            "¿La señora de la limpieza viene el martes como siempre?",
            "es_ES",
            (Intent.SMALLTALK, None, None),
        ),
        (
            "Could I sort the riding lessons at the end of the month? Just bought two sets of "
            "school shoes, ouch",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 30), None),
        ),
        (
            "jpeux vous regler ca que mardi, ma cb est bloquee jusqu'a la. desole pr le fleuriste",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 24), None),
        ),
        (
            "ma cb est bloquée jusqu'à mardi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 24), None),
        ),
        ("ma cb est bloquee jusqu'a la", "fr_FR", (Intent.HELP, None, None)),
    ],
)
def test_kinds_of_round_37_final_batches(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U72's and U73's kinds (scored blind at 658e540).
        (
            "Lo pago dentro de una semana, hoy no llevo la tarjeta encima",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 11, 25), None),
        ),
        (
            "60 aujourd'hui et le reste mardi ça vous va ? c pour le toilettage de Pipo",
            "fr_FR",
            (Intent.SPLIT, dt.date(2026, 11, 24), 2),
        ),
        (
            "merkredi ca vous va ? pour les cours de piano",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 25), None),
        ),
        ("en 3 fois... non en 2 ce sera plus simple a suivre", "fr_FR", (Intent.SPLIT, None, 2)),
        ("card's in my hand, go", "en_GB", (Intent.PAY_NOW, None, None)),
        ("oui allez go", "fr_FR", (Intent.YES, None, None)),
        (
            "merci beaucoup, le jardin n'a jamais été aussi beau",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        (
            "pk attendre ? je paie maintenant le camp de vacances, comme ça c fait",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "le virement pour les honoraires est parti hier soir, vous devriez le voir demain",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "Le virement de 60 € est parti, il manquait 20 € je les fais mardi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 24), None),
        ),
        (
            "le chèque pour le voyage en Espagne est dans le cartable de Lucas depuis lundi",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        ("euh attends le", "fr_FR", (Intent.UNKNOWN, None, None)),
        ("attendez la fin du mois", "fr_FR", (Intent.PAY_LATER, dt.date(2026, 11, 30), None)),
    ],
)
def test_kinds_of_round_37_last_batches(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U74's and U75's kinds (scored blind at 0ee592b), three of them critical.
        (
            "Non mais stop là, le devis signé c'était 450 € pas 620, je paie rien avant "
            "correction",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("non mais stop là, arrêtez vos relances", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("non mais stop là, je vous ai déjà payé", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("stop là", "fr_FR", (Intent.OPT_OUT, None, None)),
        (
            "je paierai quand l'infirmiere sera venue faire les 3 pansements qui manquent, pas "
            "avant",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "les photos du mariage on les a jamais reçues, je paierai quand j'aurai la clé usb",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("je paierai quand le technicien sera passé", "fr_FR", (Intent.PAY_LATER, None, None)),
        (
            "pk vous me comptez l'adhesion 2 fois ? je l'ai payee en juin",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("How do I pay for Saturday's riding lesson?", "en_GB", (Intent.PAY_NOW, None, None)),
        (
            "jpeux payer vendredi stp c la fin de mois qui coince",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "Could I split the lens in 10 payments? joking... 5 would be great though",
            "en_GB",
            (Intent.SPLIT, None, 5),
        ),
        (
            "pls give me till the end of the month for the guitar lessons, car just died on me",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 30), None),
        ),
        (
            "mardii je vous fais ça pour le cours de dessin",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 24), None),
        ),
    ],
)
def test_kinds_of_round_37_after_the_last_batches(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U76's and U77's kinds left at stop 37, and U78's and U79's (scored blind at 7fc99c8).
        # A stop to something named that is not our messages: asked about, the rest acted on.
        (
            "STOP le suspense 😂 envoyez ce lien que je paie",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("stop the drama and send me the link", "en_GB", (Intent.PAY_NOW, None, None)),
        ("STOP les relances", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("STOP le harcèlement", "fr_FR", (Intent.OPT_OUT, None, None)),
        ("stop the texts", "en_GB", (Intent.OPT_OUT, None, None)),
        ("stop this now", "en_GB", (Intent.OPT_OUT, None, None)),
        # Our own message quoted: the keyword read out, not sent.
        (
            "Vous prenez les chèques ? Votre message dit répondez STOP ou PAYER mais moi j'ai "
            "pas de carte bancaire",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        (
            "your text says reply PAY or STOP but I just want to know if you take cash",
            "en_GB",
            (Intent.HELP, None, None),
        ),
        ("it says reply stop to unsubscribe so STOP", "en_GB", (Intent.OPT_OUT, None, None)),
        ("I will pay once you take the extra 20 off", "en_GB", (Intent.DISPUTE, None, None)),
        # Praise of a price with an eye-roll: outrage at it.
        (
            "Super le vernis qui tient 2 jours, ça vaut clairement 55€ 🙄",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Bravo, 45€ la sortie scolaire au zoo, ils ont dormi au Ritz les gamins ? 🙄",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        ("ok 🙄", "fr_FR", (Intent.YES, None, None)),
        # Thanks passed on to whoever did the work; a laugh in chat.
        (
            "le bruit de la clim a stoppé net depuis votre passage, merci au technicien 👌",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        ("thanks to the plumber 👍", "en_GB", (Intent.SMALLTALK, None, None)),
        (
            "ahah non mais t'as vu la tête de Kevin sur la photo 😂",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        # Income just received, a deadline wished beside the way asked: paying now.
        (
            "je viens de toucher ma paye donc je regle la facture du veto maintenant, c'est où ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        ("how do i pay this? want it sorted before xmas", "en_GB", (Intent.PAY_NOW, None, None)),
        (
            "want it sorted before xmas",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 12, 24), None),
        ),
        (
            "j'ai payé hier sur votre lien, c'est bon de votre coté ?",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        ("c'est sûr votre lien ?", "fr_FR", (Intent.HELP, None, None)),
        # Counts and rests.
        (
            "je peux mettre 60 € aujourd'hui et completer jeudi ?",
            "fr_FR",
            (Intent.SPLIT, dt.date(2026, 11, 19), 2),
        ),
        ("Can I split the summer camp in 3? 🙏", "en_GB", (Intent.SPLIT, None, 3)),
        (
            "Not 2 payments, I'd rather do 5 if that's ok, it's for both kids",
            "en_GB",
            (Intent.SPLIT, None, 5),
        ),
        # A day proposed first, then what is paid.
        (
            "plutot le 10 si ca vous derange pas ? pour les cours de piano de Léa",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 10), None),
        ),
        (
            "a la rentree pour les cours de piano de Lea, c possible ?",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2027, 9, 1), None),
        ),
        (
            "dans une semaine ca vous va ? je viens de payer le controle technique de l'autre "
            "voiture",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 25), None),
        ),
        ("demain ? c'est déjà payé", "fr_FR", (Intent.ALREADY_PAID, None, None)),
        # "start again" said of something else; an indirect question.
        (
            "what time does the Saturday workshop start again?",
            "en_GB",
            (Intent.SMALLTALK, None, None),
        ),
        ("START again please", "en_GB", (Intent.OPT_IN, None, None)),
        ("I just want to know if you take cash", "en_GB", (Intent.HELP, None, None)),
        # Payments reported in other words.
        (
            "le virement pr les billets est parti lundi, normalement c'est bon",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "C'est mon fils qui s'est occupé de payer l'entretien de la chaudière, il l'a fait "
            "lundi depuis son téléphone",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "75€ sont partis de mon compte le 28 au nom de votre société, c'est bien pour le "
            "ramonage ? donc c'est réglé non ?",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "g deja donné la moitié en liquide au plombier, le reste je vous le vire ce week-end",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        # Not paid after all, paying now.
        (
            "Was trying to remember if I'd paid... nope. Doing it right now, where's the link?",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je sais plus si j'avais payé... ben non. je le fais de suite",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "jamais inscrit mon fils a ce stage de foot, c quoi cette facture??",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        # A departure's day is not the payment's; money coming "never the same day" refuses
        # nothing; a holiday coming is why money is short.
        (
            "on part en vacances demain, je vous fais ça a notre retour",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
        (
            "ok je paie maintenant avant de partir en vacances demain",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je vous paie avant de partir samedi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 21), None),
        ),
        (
            "we're off to Spain on Friday, I'll pay when we get back",
            "en_GB",
            (Intent.PAY_LATER, None, None),
        ),
        (
            "jpeux regler le stage poney quand g ma paye? elle tombe jamais le meme jour dsl",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
        (
            "je peux donner 80 € aujourd'hui pour le stage poney et le solde mardi ?",
            "fr_FR",
            (Intent.SPLIT, dt.date(2026, 11, 24), 2),
        ),
        (
            "2 fois. ah non mettez 3, noel arrive et je suis à sec",
            "fr_FR",
            (Intent.SPLIT, None, 3),
        ),
        # Older kinds left open: a transfer asked about, money or someone awaited, a dispute
        # told as a condition, a short day misspelt.
        (
            "j'ai fait un virement de 48€ dimanche soir, c'est pas arrivé ?",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "I paid by bank transfer on Monday, has it not arrived?",
            "en_GB",
            (Intent.ALREADY_PAID, None, None),
        ),
        ("le colis est pas arrivé", "fr_FR", (Intent.DISPUTE, None, None)),
        (
            "je vous paie dès que l'assurance m'a remboursé le dégât des eaux",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
        ("je vous paie quand mon mari sera rentré", "fr_FR", (Intent.PAY_LATER, None, None)),
        ("je paierai quand les lunettes seront à ma vue", "fr_FR", (Intent.DISPUTE, None, None)),
        ("je paie quand ma paye sera versée", "fr_FR", (Intent.PAY_LATER, None, None)),
        (
            "je vous fais ça jedi promis",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        # A count agreed to with "!!" is enthusiasm (test_surface_changes_keep_the_intent).
        ("3 FOIS 48€ ÇA ME VA!!", "fr_FR", (Intent.SPLIT, None, 3)),
        ("vous m avez prélevé 2 fois 48€ !!", "fr_FR", (Intent.DISPUTE, None, None)),
        # Tuning lines of U72-U75 the rules still missed: the link asked for in a clause alone,
        # a visit's day, a monthly split asked "instead of" the whole.
        (
            "je pars en vacances samedi donc autant regler ce soir, c'est ou ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "je pars en week end prolongé vendredi donc autant payer ce soir, le lien svp",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "Est-ce que le jardinier passe toujours mardi prochain pour les feuilles ?",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        (
            "le technicien passe mardi, je paierai à ce moment là",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 24), None),
        ),
        (
            "Could I pay the nursery fees monthly instead of the whole term?",
            "en_GB",
            (Intent.SPLIT, None, None),
        ),
        ("why am I paying fees instead of the quote?", "en_GB", (Intent.DISPUTE, None, None)),
        (
            "on friday ok? for the riding lessons",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        ("euh ok mais le", "fr_FR", (Intent.UNKNOWN, None, None)),
        ("ok mais vite", "fr_FR", (Intent.YES, None, None)),
        (
            "mardi. ah non mardi j'ai le dentiste, mercredi plutot pour la leçon de conduite",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 25), None),
        ),
    ],
)
def test_kinds_of_round_38(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # A stop asked without its "ne"; our keyword read where it is printed, or asked about.
        (
            "c'est réglé depuis hier, merci de plus m'envoyer de sms pour ça",
            "fr_FR",
            (Intent.OPT_OUT, None, None),
        ),
        (
            "c'est quoi ce STOP en bas du message ? je comprends pas",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        ("why does it say STOP at the bottom of the text?", "en_GB", (Intent.HELP, None, None)),
        (
            "si je reponds STOP ça annule aussi les cours de ma fille ?",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        (
            "if I text STOP will the lessons be cancelled too?",
            "en_GB",
            (Intent.HELP, None, None),
        ),
        # Days gone by: work done or an event enjoyed.
        (
            "the lads worked flat out on Saturday, cheers",
            "en_GB",
            (Intent.SMALLTALK, None, None),
        ),
        (
            "the concert on Sunday was amazing, thank you!",
            "en_GB",
            (Intent.SMALLTALK, None, None),
        ),
        # The reason beside the day, not a second day or a problem to help with.
        (
            "je règle vendredi promis, ma carte est bloquée jusque là",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "mid Feb for the lessons please, money's tight after Christmas",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2027, 2, 15), None),
        ),
        (
            "can I settle it tomorrow? just off a night shift and I'm shattered",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        (
            "pas avant la fin du mois, la machine à laver est tombée en panne en plus",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 30), None),
        ),
        (
            "en plusieurs fois svp, j'ai pas fini de rembourser mon crédit",
            "fr_FR",
            (Intent.SPLIT, None, None),
        ),
        (
            "Can I sort the yoga class fee next week?",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        (
            "the 15th without fail for the swimming lessons",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 12, 15), None),
        ),
        # Paid, agreed, paying, or sent unfinished.
        (
            "je vous ai glissé un chèque sous la porte du cabinet lundi",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "oui parfait, on part sur les 3 mensualités",
            "fr_FR",
            (Intent.YES, None, None),
        ),
        ("ok I'm getting my card out, where do I click", "en_GB", (Intent.PAY_NOW, None, None)),
        ("euh attends jcrois bien que le", "fr_FR", (Intent.UNKNOWN, None, None)),
        (
            "c'est une arnaque ? jamais entendu parler de vous",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        # Stops told otherwise, and a stop that is a road sign.
        (
            "bon maintenant vous me lâchez avec vos relances",
            "fr_FR",
            (Intent.OPT_OUT, None, None),
        ),
        (
            "the van still stalls at every stop sign since you 'fixed' it, not paying",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        # Contests told as a condition, a count, a double charge or a doubt.
        (
            "je paierai quand il ira mieux, le traitement a servi à rien",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "déjà débité le mois dernier pour la même séance, ça fait deux fois",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "that can't be right, the cleaner only came 2 times this week not 4",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        # A payment named first then told done, and asked whether it arrived.
        (
            "le virement je l'ai fait hier, il est pas encore arrivé ?",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        # Days: away until one, the bill taken in hand another; a day proposed after a reason;
        # an event named by the season; a wait given up.
        (
            "on est en vacances jusqu'à samedi, je m'occupe de la facture lundi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 23), None),
        ),
        (
            "en janvier pour les cours de piano ce sera plus simple, le 8 janvier ça vous va ?",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2027, 1, 8), None),
        ),
        (
            "je peux payer les places du gala de fin d'année ?",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "was going to hold off till friday but might as well get it done",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "est-ce que je dois apporter une serviette au cours de yoga ?",
            "fr_FR",
            (Intent.SMALLTALK, None, None),
        ),
        # A day preferred after one taken back; the link asked for a day ("lien le 5" is a
        # day: "en" before it is the noun's end, not "en 8").
        (
            "lundi. ah non lundi j'ai rdv chez le dentiste, plutot jeudi",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        (
            "renvoyez moi le lien le 5, avant j'ai pas les fonds",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 12, 5), None),
        ),
        # A joke count taken back for a real one; paying, but only the right amount.
        (
            "10 payments lol no seriously 4 would really help",
            "en_GB",
            (Intent.SPLIT, None, 4),
        ),
        (
            "je veux bien payer en 2 fois mais le bon montant",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        # U84's: a count declined right after it, another count asked, paying once it works.
        ("le 4x ça me tente pas, je règle direct", "fr_FR", (Intent.PAY_NOW, None, None)),
        (
            "4 payments is a bit much for me, would 2 be possible?",
            "en_GB",
            (Intent.SPLIT, None, 2),
        ),
        (
            "je paierai quand le dentier tiendra enfin, là il bouge encore",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "I'll pay once the shower actually stays put on the wall",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
    ],
)
def test_kinds_of_round_39(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # What round 39's rules must not reach (from the review of its diff).
        ("mon fils veut plus les avoir le mardi, on peut changer ?", "fr_FR", Intent.PAY_LATER),
        ("Pouvez-vous de plus m'envoyer une copie de la facture ?", "fr_FR", Intent.STATUS),
        ("merci de plus m'envoyer le lien par mail", "fr_FR", Intent.PAY_NOW),
        ("c'est noté donc stop", "fr_FR", Intent.OPT_OUT),
        ("stop en fin de mois", "fr_FR", Intent.OPT_OUT),
        ("après la réparation la machine à laver est en panne aussi", "fr_FR", Intent.DISPUTE),
        ("I'll pay but it can't be right now, maybe friday", "en_GB", Intent.PAY_LATER),
        ("je paye vendredi pour les mêmes séances que d'habitude", "fr_FR", Intent.PAY_LATER),
        (
            "Le traitement n'a eu aucun effet secondaire, merci, je paie vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("ok je règle demain, mais le bon montant c'est 45 ou 54 ?", "fr_FR", Intent.PAY_LATER),
        ("j'ai mis l'argent de côté pour vous payer vendredi", "fr_FR", Intent.PAY_LATER),
        ("le virement je l'ai programmé pour vendredi", "fr_FR", Intent.PAY_LATER),
        ("money's tight till the 28th, I'll pay then", "en_GB", Intent.PAY_LATER),
        ("c'est serré jusqu'au 5", "fr_FR", Intent.PAY_LATER),
        ("can I pay for the trip at the start of next month?", "en_GB", Intent.PAY_LATER),
        ("I'll pay when the sofa is delivered on monday", "en_GB", Intent.PAY_LATER),
        (
            "ma carte est refusée pour l'instant, comment je fais ? je dois payer avant vendredi",
            "fr_FR",
            Intent.HELP,
        ),
        ("Friday. Promise. I already paid", "en_GB", Intent.ALREADY_PAID),
        ("j'attends ma paie et", "fr_FR", Intent.PAY_LATER),
        ("je paierai quand mon salaire sera versé", "fr_FR", Intent.PAY_LATER),
        ("le 3 fois ça m'intéresse", "fr_FR", Intent.SPLIT),
    ],
)
def test_round_39_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert not (reading is not Intent.OPT_OUT and found.maybe_opt_out)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U85's: the letter that leaves a club, a payment made elsewhere as the reason money
        # is short, an allowance named after the season, a club named "after-school", a fee
        # spread over the year, whether the means is a scam, an agreement cut off after "but".
        (
            "il est plus inscrit au judo depuis juin, on vous a envoyé la lettre de "
            "désinscription. je vois pas pourquoi je paierais le trimestre",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Can I settle the club fees on the 20th? Just paid for school uniforms and I'm skint",
            "en_GB",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "je peux payer le 20 ? je viens de payer les fournitures et je suis à sec",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        (
            "jpeux payer quand la CAF aura versé l'allocation de rentrée ?",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
        (
            "How do I pay for Oliver's after-school coding club?",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "is there an option to spread the Cubs annual fee over the year?",
            "en_GB",
            (Intent.SPLIT, None, None),
        ),
        (
            "c'est pas une arnaque votre truc ? j'ai jamais vu un fleuriste envoyer des liens",
            "fr_FR",
            (Intent.HELP, None, None),
        ),
        ("ok mais du coup le", "fr_FR", (Intent.UNKNOWN, None, None)),
        ("nah, not for me thanks", "en_GB", (Intent.NO, None, None)),
        # Contests: asked back whether we want paying, paying once the amount matches, only
        # for what was had, billed a second time.
        (
            "Le jardinier a coupé la haie du voisin au lieu de la mienne... "
            "et vous voulez que je paie ?",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "The tiler left half the bathroom undone and you want paying in full?",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Happy to pay once the amount matches the quote you gave me. It's 60 euros over.",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Happy to pay, but only for the 3 lessons my son actually attended, not 5",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        (
            "on m'a deja preleve cette seance la semaine derniere, "
            "la vous me la facturez une 2eme fois",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        # Lost track of the payments: whether up to date is asked, nothing lost of ours.
        (
            "je suis a jour ou pas ? j'ai perdu le fil des echeances avec les 2 enfants",
            "fr_FR",
            (Intent.STATUS, None, None),
        ),
        (
            "am I up to date? I've lost track of the instalments",
            "en_GB",
            (Intent.STATUS, None, None),
        ),
        # A person named, then more said.
        (
            "passez moi Sandrine svp, c'est elle qui a fait le devis",
            "fr_FR",
            (Intent.ASK_AGENT, None, None),
        ),
        (
            "Je voudrais avoir Mme Girard, la directrice, s'il vous plaît",
            "fr_FR",
            (Intent.ASK_AGENT, None, None),
        ),
        (
            "je peux avoir Sandrine du secretariat ? elle connait le dossier",
            "fr_FR",
            (Intent.ASK_AGENT, None, None),
        ),
        (
            "I'd like to speak to Coach Dan directly about the fees",
            "en_GB",
            (Intent.ASK_AGENT, None, None),
        ),
        # Praise said first, then a price and what it bought: outrage at the price.
        (
            "Bravo, 80 balles pour des ballons dégonflés avant la fête, super service 👏👏",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Oh great, 60 euros for gel nails that peeled off two days later. Amazing service",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        (
            "Oh brilliant, charging me for a full groom. Lovely.",
            "en_GB",
            (Intent.DISPUTE, None, None),
        ),
        # Instalments thanked for and declined before the payment in one go.
        (
            "non merci pour le 3x, je prefere tout payer maintenant, c'est que 45€",
            "fr_FR",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "no thanks to the instalments, I'll pay it all now",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        # A negator before another verb's subject ("je comprends pas j'ai payé").
        (
            "je comprends pas j'ai payé la facture de 80€ le 3 par virement",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        ("yes but the", "en_GB", (Intent.UNKNOWN, None, None)),
    ],
)
def test_kinds_of_round_40(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # What round 40's rules must not reach (some from the review of its diff).
        ("Ce SMS vaut lettre de désinscription.", "fr_FR", Intent.OPT_OUT),
        ("Envoyez-moi le formulaire de désinscription svp", "fr_FR", Intent.OPT_OUT),
        ("I paid by card this morning so I'm broke till Friday", "en_GB", Intent.ALREADY_PAID),
        ("j'ai payé par virement donc je suis à découvert", "fr_FR", Intent.ALREADY_PAID),
        ("just paid £80 and I'm skint", "en_GB", Intent.ALREADY_PAID),
        ("c est pas une arnaque votre truc?? j'ai déjà payé hier", "fr_FR", Intent.ALREADY_PAID),
        (
            "the damp has spread all over the wall since your visit, not paying",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("je vous règle le jour de rentrée", "fr_FR", Intent.PAY_LATER),
        ("I'll pay after school club finishes", "en_GB", Intent.PAY_LATER),
        ("ok mais faites-le", "fr_FR", Intent.YES),
        ("this invoice is not for me", "en_GB", Intent.DISPUTE),
        ("en 3x merci", "fr_FR", Intent.SPLIT),
        ("passez moi le lien svp", "fr_FR", Intent.PAY_NOW),
        ("vous avez perdu mon colis", "fr_FR", Intent.DISPUTE),
        ("vous voulez que je paie ? ok j'arrive", "fr_FR", Intent.PAY_NOW),
        # From the second review of the round's diff.
        ("Lovely, 45 pounds for the clean, I'll pay Friday", "en_GB", Intent.PAY_LATER),
        ("Génial, 45 € pour les deux séances, je règle ce soir", "fr_FR", Intent.PAY_LATER),
        ("Bravo, 50 € pour le cours, je viens de payer par le lien", "fr_FR", Intent.ALREADY_PAID),
        ("Perfecto, 50 euros por las dos clases, lo pago ahora", "es_ES", Intent.PAY_NOW),
        ("This bill is not for me thanks", "en_GB", Intent.DISPUTE),
        ("jamais j'ai payé ça moi", "fr_FR", Intent.NO),
        (
            "Pour le paiement en 3 fois, vous me facturez la deuxième fois quand ?",
            "fr_FR",
            Intent.SPLIT,
        ),
        (
            "Je reçois la facture une 2ème fois, c'est normal ? j'ai déjà payé",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("Just checking if the total is right before I pay tonight", "en_GB", Intent.PAY_LATER),
        (
            "je peux avoir confirmation du service que c'est bien payé ?",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        (
            "Non merci pour la proposition de paiement en 3 fois, je règle tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("on m'a déjà fait le même coup l'an dernier, je ne paierai pas", "fr_FR", Intent.NO),
        ("ok et vous voulez que je paie comment ?", "fr_FR", Intent.PAY_NOW),
        ("you lost my parcel", "en_GB", Intent.DISPUTE),
        ("bravo pour le travail, je paie vendredi", "fr_FR", Intent.PAY_LATER),
        ("great, 3 for the price of 2, I'll take it", "en_GB", Intent.YES),
        (
            "c pas que je conteste, g besoin d'un peu de temps pour payer",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("j'ai envoyé un formulaire de désinscription des sms", "fr_FR", Intent.OPT_OUT),
        ("désinscription svp", "fr_FR", Intent.OPT_OUT),
        ("I paid the invoice yesterday and I'm broke now", "en_GB", Intent.ALREADY_PAID),
        ("j'ai payé la facture et je suis à sec maintenant", "fr_FR", Intent.ALREADY_PAID),
        ("je paierai à la rentrée", "fr_FR", Intent.PAY_LATER),
        ("I'll pay after school pickup", "en_GB", Intent.PAY_LATER),
        ("c'est pas une arnaque ça ? 300 € pour un joint", "fr_FR", Intent.DISPUTE),
        ("ok mais je paie vendredi", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_round_40_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert not (reading is not Intent.OPT_OUT and found.maybe_opt_out)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U86/U87's: another count asked with "en" for the count, a plan turned down after
        # "rather … than", enrolling again in a class, a transfer to be seen, the card not at hand.
        ("au lieu de 3 paiements vous pouvez m'en faire 4 ?", "fr_FR", (Intent.SPLIT, None, 4)),
        (
            "plutot que 3 mensualites j'en voudrais 5 si c jouable",
            "fr_FR",
            (Intent.SPLIT, None, 5),
        ),
        (
            "vous m'aviez proposé 3 paiements, je prefererais en 2 si c'est faisable",
            "fr_FR",
            (Intent.SPLIT, None, 2),
        ),
        (
            "I'd rather just pay the full amount now than do the instalments, cheers",
            "en_GB",
            (Intent.PAY_NOW, None, None),
        ),
        (
            "Je paierai à la rentrée, en même temps que la réinscription au cours de danse",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2027, 9, 1), None),
        ),
        (
            "virement fait hier soir pour la garderie, vous le verrez d'ici demain normalement",
            "fr_FR",
            (Intent.ALREADY_PAID, None, None),
        ),
        (
            "lo pago el viernes, ahora mismo no llevo la tarjeta",
            "es_ES",
            (Intent.PAY_LATER, dt.date(2026, 11, 20), None),
        ),
        # U89's (after its figures were taken): no need to be put on STOP, paying once the
        # lessons cancelled are made up, the customer's own breakdown as the reason to wait.
        (
            "pas la peine de me mettre en STOP lol, je paie jeudi promis",
            "fr_FR",
            (Intent.PAY_LATER, dt.date(2026, 11, 19), None),
        ),
        (
            "je payerai le cours de violon quand le prof aura rattrapé les 2 cours annulés",
            "fr_FR",
            (Intent.DISPUTE, None, None),
        ),
        (
            "dès que possible promis, là c'est chaud avec la voiture en panne",
            "fr_FR",
            (Intent.PAY_LATER, None, None),
        ),
    ],
)
def test_kinds_of_round_40_after_the_retraining(
    text: str, locale: str, reading: tuple[Intent, dt.date | None, int | None]
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date, found.parts) == reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("réinscrivez-moi svp", "fr_FR", Intent.OPT_IN),
        ("je veux me réinscrire aux sms", "fr_FR", Intent.OPT_IN),
        ("je fais le virement demain, vous le verrez jeudi", "fr_FR", Intent.PAY_LATER),
        ("I'd rather pay in 3 than all now", "en_GB", Intent.SPLIT),
        ("mettez moi en STOP", "fr_FR", Intent.OPT_OUT),
        ("je paierai quand la banque m'aura remboursé", "fr_FR", Intent.PAY_LATER),
        ("c'est chaud avec la voiture en panne depuis votre passage", "fr_FR", Intent.DISPUTE),
    ],
)
def test_round_40_later_lookalikes_keep_their_reading(
    text: str, locale: str, reading: Intent
) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # U89/U90's critical kinds: our keywords asked about, not sent; a ceiling on what is paid.
        ("je comprends pas, faut répondre PAYER ou STOP ?", "fr_FR", Intent.HELP),
        ("je dois écrire STOP ou PAYER ?", "fr_FR", Intent.HELP),
        ("do I have to reply PAY or STOP?", "en_GB", Intent.HELP),
        ("¿tengo que responder PAGAR o STOP?", "es_ES", Intent.HELP),
        (
            "pourquoi vous me parlez de STOP, je veux juste régler le cours de yoga",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("why are you talking about STOP? I just want to pay", "en_GB", Intent.PAY_NOW),
        ("¿por qué me habláis de STOP? solo quiero pagar", "es_ES", Intent.PAY_NOW),
        (
            "on a attendu le DJ 2h au milieu de la soirée, 600 balles pour ça ? je paierai la"
            " moitié max",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("600 balles pour ça ?", "fr_FR", Intent.DISPUTE),
        ("je payerai que la moitié, le reste c'était pas fait", "fr_FR", Intent.DISPUTE),
        ("I'll pay half at most for that mess", "en_GB", Intent.DISPUTE),
        # What they must not reach.
        ("STOP", "fr_FR", Intent.OPT_OUT),
        ("je vous écris STOP, vos messages me saoulent", "fr_FR", Intent.OPT_OUT),
        ("STOP or I call the police", "en_GB", Intent.OPT_OUT),
        ("arrêtez de parler de stop et arrêtez vos sms", "fr_FR", Intent.OPT_OUT),
        ("je paie que la moitié maintenant, le reste vendredi", "fr_FR", Intent.SPLIT),
        ("je règle seulement une partie aujourd'hui et le reste le 5", "fr_FR", Intent.SPLIT),
        ("I'm paying half now and half on friday", "en_GB", Intent.SPLIT),
        ("en 3 fois svp, pas plus de 3 mois", "fr_FR", Intent.SPLIT),
        # U91's critical kind: a STOP the customer says they will not send.
        (
            "je vais pas vous envoyer stop rassurez vous 😅 je paie juste mercredi quand je"
            " dépose Léa au club",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("hors de question que je vous envoie stop, je paie lundi", "fr_FR", Intent.PAY_LATER),
        ("I'm not going to text STOP don't worry, I'll pay Friday", "en_GB", Intent.PAY_LATER),
        ("je vais vous envoyer stop", "fr_FR", Intent.OPT_OUT),
        ("je vais pas vous envoyer STOP mais arrêtez vos relances", "fr_FR", Intent.OPT_OUT),
        ("I'm going to text STOP", "en_GB", Intent.OPT_OUT),
        # U94's critical kind: paying once the fault stops, back again for the same fault.
        (
            "je paierai quand la couronne arretera de bouger, ça fait 3 fois que je reviens pour"
            " la même chose",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("je paierai quand ça ne fuira plus", "fr_FR", Intent.DISPUTE),
        ("ça fait 3 fois que je reviens pour la même chose", "fr_FR", Intent.DISPUTE),
        ("I'll pay when the tap stops leaking", "en_GB", Intent.DISPUTE),
        (
            "the brakes still squeal exactly like before, so what did i pay for??",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("je paierai quand j'arrêterai de bosser de nuit", "fr_FR", Intent.PAY_LATER),
        (
            "je paierai quand mon fils arrêtera de bouger dans tous les sens lol, vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
    ],
)
def test_kinds_of_round_41(text: str, locale: str, reading: Intent) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert not (reading is not Intent.OPT_OUT and found.maybe_opt_out)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # From the review of round 41's diff: stops said after a word it defused, and
        # promises and splits beside a ceiling or a part.
        ("Je sais pas de quoi vous parlez STOP", "fr_FR", Intent.OPT_OUT),
        ("C'est quoi ce truc STOP", "fr_FR", Intent.OPT_OUT),
        ("Fin de l'histoire STOP", "fr_FR", Intent.OPT_OUT),
        (
            "J'ai répondu STOP ou NON je sais plus, en tout cas arrêtez",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        ("Dejen de hablarme STOP", "es_ES", Intent.OPT_OUT),
        ("No sé de qué habláis STOP", "es_ES", Intent.OPT_OUT),
        (
            "I have no idea what you're talking about stop contacting me",
            "en_GB",
            Intent.OPT_OUT,
        ),
        ("what are you on about stop messaging me", "en_GB", Intent.OPT_OUT),
        ("Nothing to talk about STOP", "en_GB", Intent.OPT_OUT),
        ("I won't reply stop texting me", "en_GB", Intent.OPT_OUT),
        (
            "Je paie la moitié au plus tard vendredi et le reste fin du mois",
            "fr_FR",
            Intent.SPLIT,
        ),
        ("Je vous règle la moitié au plus tard lundi", "fr_FR", Intent.PAY_LATER),
        ("Je paierai dans pas plus de 2 ou 3 jours", "fr_FR", Intent.PAY_LATER),
        ("Je paie que la moitié, le reste à la fin du mois", "fr_FR", Intent.SPLIT),
        ("Je paie juste une partie en attendant mon salaire", "fr_FR", Intent.PAY_LATER),
        ("Je paie que la moitié, mon frère paie l'autre moitié", "fr_FR", Intent.SPLIT),
        ("50 euros pour ça, ok je paie demain", "fr_FR", Intent.PAY_LATER),
        ("Half max now, rest on Friday", "en_GB", Intent.SPLIT),
        ("I'm not paying more than 50 today, the rest next week", "en_GB", Intent.SPLIT),
        # From the review of U94's fragments: a payment tool or the customer's own life that
        # stops misbehaving is no fault in the work.
        ("je paierai quand votre site arrêtera de planter", "fr_FR", Intent.HELP),
        ("je réglerai dès que ma carte arrêtera de se bloquer", "fr_FR", Intent.HELP),
        ("déjà 2 fois que je passe pour ça, je paierai en 3 fois", "fr_FR", Intent.SPLIT),
        ("I'll pay when your website stops crashing", "en_GB", Intent.HELP),
        (
            "I'll pay once my back stops hurting, I can't get out at the moment",
            "en_GB",
            Intent.PAY_LATER,
        ),
        ("Can I still do the same as before and pay monthly?", "en_GB", Intent.SPLIT),
    ],
)
def test_round_41_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # U96's critical kind: a membership cancelled, still billed ("on a résilié").
        (
            "je veux bien payer mais pas 3 mois, on a résilié l'équitation en janvier",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "nous avons résilié en mars, pourquoi ce prélèvement ?",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        ("on a pas résilié, je paie vendredi", "fr_FR", Intent.PAY_LATER, "2026-11-20", None),
        # Money of the customer's own awaited, not a fault fixed or a refund owed by us.
        (
            "Will pay in two weeks once the insurance excess is sorted",
            "en_GB",
            Intent.PAY_LATER,
            "2026-12-02",
            None,
        ),
        ("I'll pay once the leak is sorted", "en_GB", Intent.DISPUTE, None, None),
        (
            "je vous fais le virement dans une semaine, le temps de recevoir le remboursement"
            " du CE",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-25",
            None,
        ),
        ("je veux le remboursement du cours annulé", "fr_FR", Intent.DISPUTE, None, None),
        (
            "je passerai régler mi-décembre en espèces au secrétariat si c'est ouvert",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-15",
            None,
        ),
        ("le colis est arrivé ouvert, je paie pas", "fr_FR", Intent.DISPUTE, None, None),
        # Another count asked once one is found too much; "le 6" stays a day.
        ("3 c trop serré pour moi, on peut passer a 6 ?", "fr_FR", Intent.SPLIT, None, 6),
        (
            "3 payments is too steep for me, could we do 6 months?",
            "en_GB",
            Intent.SPLIT,
            None,
            6,
        ),
        ("3 is too tight, can we make it 5?", "en_GB", Intent.SPLIT, None, 5),
        ("3 is too much, could we do the 6th?", "en_GB", Intent.PAY_LATER, "2026-12-06", None),
        # The split dropped for the whole now.
        ("no need to split it, I'll just pay the lot now x", "en_GB", Intent.PAY_NOW, None, None),
        # The day money comes in is why, not the day promised.
        (
            "Tuesday works better for me, payday is Monday",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-24",
            None,
        ),
        ("payday is Monday so I'll pay Tuesday", "en_GB", Intent.PAY_LATER, "2026-11-24", None),
        ("payday is Friday", "en_GB", Intent.PAY_LATER, "2026-11-20", None),
        # A day alone in its clause with a "first thing" / "sans faute": the answer.
        (
            "tomorrow first thing, the appointment ran late and I forgot my purse",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-19",
            None,
        ),
        (
            "demain à la première heure, le rdv a duré plus longtemps",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-19",
            None,
        ),
        ("el lunes sin falta, la cita se alargó", "es_ES", Intent.PAY_LATER, "2026-11-23", None),
        # What the invoice is for, asked between two services.
        (
            "cette facture c pour le buffet du samedi ou celui du baptême ?",
            "fr_FR",
            Intent.STATUS,
            None,
            None,
        ),
        # A part now and the rest completed on a day, further apart.
        (
            "je vous mets 150 € tout de suite pour le forfait permis et je complète le 5",
            "fr_FR",
            Intent.SPLIT,
            "2026-12-05",
            2,
        ),
        # Older misses (U92-U95, now in the tuning part): a price's weight, a wait said
        # pointless, a means asked about, a membership ended, a day with what it pays for,
        # a month's end said hard.
        (
            "possible de payer en plusieurs fois ? la facture du toit fait mal",
            "fr_FR",
            Intent.SPLIT,
            None,
            None,
        ),
        ("la facture est mal faite", "fr_FR", Intent.DISPUTE, None, None),
        (
            "I'll pay now rather than wait, no point dragging it out",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        ("Is PayPal ok?", "en_GB", Intent.HELP, None, None),
        (
            "Mon fils ne fait plus partie du club de foot depuis juin, c'est quoi cette"
            " cotisation ??",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "il fait toujours partie du club, je paie vendredi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        (
            "apres noel pour les cours de guitare svp, decembre c toujours la cata chez nous",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-26",
            None,
        ),
        (
            "je paierai plus tard, je conteste rien hein, c'est juste que la fin de mois est dure",
            "fr_FR",
            Intent.PAY_LATER,
            None,
            None,
        ),
        # Round 42's critical kinds, after U99-U101 were scored: a stop the customer cannot
        # make to pay, paying at all as the last straw, a membership fee said wrong, visits
        # counted contested.
        (
            "can't stop to do it now, I'm between clients, will pay tonight",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-18",
            None,
        ),
        (
            "super le balayage vert, et en plus faut payer 😡 je paye pas",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "j'ai pas dit stop, je dis que la cotisation de 250 est fausse, c'est 180",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "le prof de maths est venu 3 fois pas 5, je paie 3 et pas plus",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        ("the tutor came 3 times not 5, I'll pay for 3", "en_GB", Intent.DISPUTE, None, None),
        ("il est venu 3 fois, je paie vendredi", "fr_FR", Intent.PAY_LATER, "2026-11-20", None),
        ("la cotisation est de 250 ? je paie en 3 fois", "fr_FR", Intent.SPLIT, None, 3),
        ("can you stop texting me", "en_GB", Intent.OPT_OUT, None, None),
        # The bill got done now, a day told only as being away.
        (
            "I'm away from Friday so let's just get it done now",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
    ],
)
def test_kinds_of_round_42(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.parts) == (reading, parts)
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # From the review of round 42's diff: a refund owed by us, an income awaited, a
        # shop's opening hours, a third party's contract cancelled, a day with its month, a
        # lost purse asked about, a form completed.
        ("j attends toujours le remboursement de ce cours annulé", "fr_FR", Intent.DISPUTE),
        ("je voudrais recevoir mon remboursement", "fr_FR", Intent.DISPUTE),
        (
            "je paie vendredi, le temps de toucher le remboursement de la mutuelle",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("I'll pay when my benefits are sorted", "en_GB", Intent.PAY_LATER),
        ("I'll pay once the tax rebate is in", "en_GB", Intent.PAY_LATER),
        ("si le magasin est ouvert je passe payer", "fr_FR", Intent.PAY_NOW),
        ("le carton était ouvert !", "fr_FR", Intent.DISPUTE),
        (
            "on a résilié l assurance habitation donc je paie un peu plus tard, vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("on a résilié l abonnement en mars et vous prélevez encore", "fr_FR", Intent.DISPUTE),
        ("pension arrives Tuesday", "en_GB", Intent.PAY_LATER),
        ("benefits come on the 1st", "en_GB", Intent.PAY_LATER),
        (
            "Saturday, I left my purse at the lesson. Did anyone hand it in?",
            "en_GB",
            Intent.SMALLTALK,
        ),
        (
            "je vous dois 150 € pour le forfait de ma fille, je solde le 5",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        (
            "ma fille a 8 ans, pour l inscription au stage je complète le dossier vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        # The split set aside for the whole now; a fallback kept as one.
        ("forget the instalments, I'll pay now", "en_GB", Intent.PAY_NOW),
        ("dont bother with the instalments, ill pay now", "en_GB", Intent.PAY_NOW),
        (
            "en 3 fois c'est possible ? sinon laissez tomber je paie vendredi",
            "fr_FR",
            Intent.SPLIT,
        ),
        ("no point splitting it, send me the link and I'll pay the lot", "en_GB", Intent.PAY_NOW),
        ("laissez tomber je paie vendredi", "fr_FR", Intent.PAY_LATER),
        ("forget it", "en_GB", Intent.NO),
        # From the second review: a means asked beside a day or a count, a group changed, an
        # app account, a question, a month's end, a form.
        ("would cash be ok on friday?", "en_GB", Intent.PAY_LATER),
        ("is cash ok for the 3 instalments", "en_GB", Intent.SPLIT),
        (
            "ma fille ne fait plus partie de l'équipe A, elle est en B, je paie en 3 fois",
            "fr_FR",
            Intent.SPLIT,
        ),
        (
            "il ne fait plus partie du club mais je paierai ce qu'on doit vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("je ne suis plus inscrite sur votre appli, comment je paie ?", "fr_FR", Intent.PAY_NOW),
        ("j'ai reçu le colis, c'est ouvert", "fr_FR", Intent.DISPUTE),
        ("on a résilié ou pas ?", "fr_FR", Intent.UNKNOWN),
        ("mardi svp pour le rdv, lundi je travaille", "fr_FR", Intent.SMALLTALK),
        ("i'll pay cheque", "en_GB", Intent.PAY_NOW),
        ("let's sort it out, when is the lesson?", "en_GB", Intent.SMALLTALK),
        (
            "50 euros maintenant pour la séance et je complète la semaine prochaine",
            "fr_FR",
            Intent.SPLIT,
        ),
        # From the review of U99-U101's fragments: a grumble then a promise, a question, the
        # customer's own plan or misreading, instalments switched to, visits in Spanish.
        ("et en plus faut payer... bon je paye ce soir", "fr_FR", Intent.PAY_LATER),
        ("c est gratuit ou en plus faut payer ?", "fr_FR", Intent.HELP),
        (
            "mon forfait telephone pas bon plus de data, je paierai lundi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("le devis je l avais mal lu, desole je paye ce soir", "fr_FR", Intent.PAY_LATER),
        ("je passe en 3 fois pas 4 svp", "fr_FR", Intent.SPLIT),
        ("el profe vino 3 veces no 5", "es_ES", Intent.DISPUTE),
        ("en 3 veces no 4", "es_ES", Intent.SPLIT),
    ],
)
def test_round_42_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # Taken twice, seen on the account, after a word of it debited ("déjà débité").
        (
            "Vous m'avez deja debite hier, je vois 2 fois 240€ sur mon compte",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        ("ça apparaît 2 fois sur mon compte", "fr_FR", Intent.DISPUTE, None, None),
        # The instalments set aside with their count named.
        ("just pay it now, forget the 3 instalments thing", "en_GB", Intent.PAY_NOW, None, None),
        ("I'll pay it now, skip the 3 instalments", "en_GB", Intent.PAY_NOW, None, None),
        # Never the practice's patient: the invoice contested, not a wrong number.
        (
            "I think you've got the wrong person, I've never been a patient at this practice",
            "en_GB",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "erreur de personne, je n'ai jamais été patiente dans ce cabinet",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        # Someone else's refund to the customer, not come through: the reason for the day.
        (
            "mid december ok for you? the refund from the other festival hasn't come through yet",
            "en_GB",
            Intent.PAY_LATER,
            "2026-12-15",
            None,
        ),
        (
            "mi décembre ça vous va ? le remboursement de l'autre salon est toujours pas arrivé",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-15",
            None,
        ),
        # A wait given up for paying now ("rather than waiting till Friday").
        (
            "Rather than waiting till Friday I'll just pay it off now, send it over",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # The service paid for named by its name, not a fault.
        ("How do I pay you for the window repair?", "en_GB", Intent.PAY_NOW, None, None),
        # Two payments: tonight's part, the rest on the day said after it.
        (
            "je peux donner 30 balles ce soir et finir de payer le massage mardi ?",
            "fr_FR",
            Intent.SPLIT,
            "2026-11-24",
            2,
        ),
        ("je donne 30 ce soir et je paie le reste mardi", "fr_FR", Intent.SPLIT, "2026-11-24", 2),
    ],
)
def test_kinds_of_round_43(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.parts) == (reading, parts)
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # A refund owed by us stays contested; a thing that works now with a pay word is paid.
        ("the refund from you hasn't come through yet", "en_GB", Intent.DISPUTE),
        ("le remboursement de votre boutique est toujours pas arrivé", "fr_FR", Intent.DISPUTE),
        (
            "How do I pay you for the window repair? it broke again the next day",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("je peux payer en 2 fois sur ma carte ?", "fr_FR", Intent.SPLIT),
        ("30 ce soir et le reste ce soir aussi", "fr_FR", Intent.SPLIT),
        # From the reviews of round 43's diff: instalments on the card, a bank visited twice,
        # a link seen twice, refunds of ours, a patient as an adjective or a new one, a
        # repair contested while "pay you for the repair" is said.
        ("vous pouvez me prélever en 3 fois sur mon compte ?", "fr_FR", Intent.SPLIT),
        ("c'est passé en 2 fois sur ma carte, merci", "fr_FR", Intent.SPLIT),
        (
            "je suis passée 2 fois dans ma banque pour débloquer ma carte, je paie demain",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("j'ai vu 2 fois le lien dans mon appli, lequel je paie ?", "fr_FR", Intent.PAY_NOW),
        (
            "le remboursement du trop payé est toujours pas arrivé, je paie demain",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "le remboursement de mon acompte n'est toujours pas arrivé, je paie mardi",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("The refund from the second payment hasn't come through", "en_GB", Intent.DISPUTE),
        ("The refund from the overpayment hasn't come through yet", "en_GB", Intent.DISPUTE),
        (
            "je n'ai jamais été aussi patiente à votre égard, je paie vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        (
            "je n'ai jamais été patiente chez vous avant ce mois-ci, je paie vendredi",
            "fr_FR",
            Intent.PAY_LATER,
        ),
        ("I've never been a student here before, how do I pay?", "en_GB", Intent.PAY_NOW),
        ("Why on earth would I pay you for this repair", "en_GB", Intent.DISPUTE),
        ("Do you really expect me to pay you for the useless repair", "en_GB", Intent.DISPUTE),
        ("How can you ask me to pay you for the repair", "en_GB", Intent.DISPUTE),
    ],
)
def test_round_43_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # What the STOP button does, asked, beside "je veux pas me désinscrire" (critical).
        (
            "le bouton STOP dans le message il sert a quoi ? je veux pas me desinscrire",
            "fr_FR",
            Intent.HELP,
            None,
            None,
        ),
        ("à quoi sert le STOP ?", "fr_FR", Intent.HELP, None, None),
        ("what's the STOP button for?", "en_GB", Intent.HELP, None, None),
        ("¿para qué sirve el botón STOP?", "es_ES", Intent.HELP, None, None),
        # Not able before the day, then why (an event named): the promise.
        (
            "jpeux pas avant la fin du mois, c'est serré avec la rentrée des enfants",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-30",
            None,
        ),
        # Another count alone after the one refused, then politeness and a reason.
        (
            "pas 3 fois, 4 si ça vous dérange pas, la rentrée coûte une blinde",
            "fr_FR",
            Intent.SPLIT,
            None,
            4,
        ),
        # A hold-on that stops mid-word or after a hesitation: nothing to act on.
        ("wait wh", "en_GB", Intent.UNKNOWN, None, None),
        ("uhh wait its the", "en_GB", Intent.UNKNOWN, None, None),
        # The repair named in a how-to-pay question to "you guys".
        ("how do i pay u guys for the roof repair", "en_GB", Intent.PAY_NOW, None, None),
        # What the invoice covers, asked in Spanish.
        (
            "Esta factura es por las dos sesiones de abril o solo por una?",
            "es_ES",
            Intent.STATUS,
            None,
            None,
        ),
    ],
)
def test_kinds_of_u105_to_u107(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.parts) == (reading, parts)
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # From two reviews of the changes for U105-U107: exasperation with "stop" and what
        # follows it, a bare STOP clause, appointments moved, a contest after the question.
        ("STOP", "fr_FR", Intent.OPT_OUT),
        ("STOP je sais pas à quoi ça sert votre truc", "fr_FR", Intent.OPT_OUT),
        ("stop ça servirait à quoi de payer", "fr_FR", Intent.OPT_OUT),
        ("stop ça sert à quoi de m'envoyer 15 sms par jour", "fr_FR", Intent.OPT_OUT),
        ("STOP SMS ça sert à quoi", "fr_FR", Intent.OPT_OUT),
        ("Stop. stop sert à quoi ?", "fr_FR", Intent.OPT_OUT),
        ("vous savez pas ce que veut dire stop ?", "fr_FR", Intent.OPT_OUT),
        ("a quoi sert le stop si vous m'écrivez encore", "fr_FR", Intent.OPT_OUT),
        ("what is your stop for if you ignore it", "en_GB", Intent.OPT_OUT),
        ("je peux pas avant jeudi pour le rdv, on décale ?", "fr_FR", Intent.SMALLTALK),
        (
            "I can't before Tuesday for the piano lesson, can we move it?",
            "en_GB",
            Intent.SMALLTALK,
        ),
        ("how do I pay you guys for the repair? nothing was fixed", "en_GB", Intent.DISPUTE),
        ("how do I pay you guys for the wrong repair?", "en_GB", Intent.DISPUTE),
        ("¿el cobro es de las clases que se cancelaron?", "es_ES", Intent.DISPUTE),
        ("pas 3 fois, 2 ont déjà été prélevés", "fr_FR", Intent.ALREADY_PAID),
        ("c'est quoi ce harcèlement, STOP", "fr_FR", Intent.OPT_OUT),
        ("STOP what is this for", "en_GB", Intent.OPT_OUT),
        (
            "le cours ne commence pas avant la fin du mois, on se voit là",
            "fr_FR",
            Intent.SMALLTALK,
        ),
        ("il a bien bossé mais c'est trop cher, on avait dit 200", "fr_FR", Intent.DISPUTE),
        ("uhh wait till friday", "en_GB", Intent.PAY_LATER),
        ("esta factura es por las clases que no di, no pienso pagar", "es_ES", Intent.NO),
    ],
)
def test_u105_to_u107_lookalikes_keep_their_reading(
    text: str, locale: str, reading: Intent
) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        # U113's critical error: a STOP the customer does not feel like sending (round 59:
        # the call back from someone of the spa is read too).
        (
            "jai pas envie de faire stop, je veux juste que quelqu'un du spa me rappelle",
            Intent.ASK_AGENT,
        ),
        ("j'ai pas envie de faire stop", Intent.NO),
        ("j'ai pas envie de faire stop mais arrêtez les relances", Intent.OPT_OUT),
        ("j'ai envie de faire stop", Intent.OPT_OUT),
        ("pas envie de payer, stop", Intent.OPT_OUT),
    ],
)
def test_a_stop_not_felt_like_is_not_sent(text: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is reading


def test_two_payments_keep_the_part_paid_today_and_the_rest_day() -> None:
    # From a code review of round 43: tonight's 30 is the first part, not half of the bill.
    for text in (
        "30 balles ce soir et je paie le reste mardi",
        "je paie 30 ce soir et 30 mardi",
        "30 balles maintenant et le reste mardi",
    ):
        found = understand(text, locale="fr_FR", now=NOW, tz=TZ)
        assert (found.intent, found.parts, found.date) == (
            Intent.SPLIT,
            2,
            dt.date(2026, 11, 24),
        ), text
        assert found.first == Decimal(30), text


def test_not_before_a_day_then_an_appointment_is_not_a_promise() -> None:
    for text in ("je peux pas avant jeudi, pour le rdv", "pas avant mardi, le cours est annulé ?"):
        assert understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ).intent is (
            Intent.SMALLTALK
        ), text


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # From a blind probe of stop-like words (tests/intents/probes/R43-stop.jsonl): a stop
        # not wanted or not sent, in Spanish; real stops around them.
        ("No quiero darme de baja, solo saber cuánto debo", "es_ES", Intent.STATUS),
        ("No. Y no, no he mandado STOP", "es_ES", Intent.NO),
        ("no pienso darme de baja, pago el viernes", "es_ES", Intent.PAY_LATER),
        ("Bueno he mandado STOP tres veces y siguen llegando", "es_ES", Intent.OPT_OUT),
        ("quiero darme de baja", "es_ES", Intent.OPT_OUT),
        ("STOP", "es_ES", Intent.OPT_OUT),
    ],
)
def test_stop_words_of_the_stop_probe(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


def test_what_the_stop_button_does_asked_is_confirmed_not_dropped() -> None:
    # Asked about, the keyword may still be meant: the bot answers and asks for a STOP.
    for text, locale in (
        ("le bouton STOP il sert à quoi ?", "fr_FR"),
        ("what's the STOP button for?", "en_GB"),
        ("¿para qué sirve el botón STOP?", "es_ES"),
    ):
        found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
        assert (found.intent, found.maybe_opt_out) == (Intent.HELP, True), text


def test_messages_refused_by_a_pronoun_are_asked_about() -> None:
    # "je veux plus en recevoir": what "en" stands for is not said; the stop is confirmed.
    assert understand_by_rules(
        "je veux plus en recevoir", locale="fr_FR", now=NOW, tz=TZ
    ).maybe_opt_out


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # A care product named with "stop", in a dispute (critical: read as an opt-out).
        (
            "Le soin STOP ACNÉ à 90 € n'a rien changé, ma peau est pire qu'avant. je paierai "
            "pas plein tarif",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        # A count turned down after a hedge, or with "please", then the one wanted.
        ("finalement pas 3 paiements mais 2, j'ai eu une prime", "fr_FR", Intent.SPLIT, None, 2),
        ("not 3 please, make it 6 if you can", "en_GB", Intent.SPLIT, None, 6),
        # A count taken back at once for one that is enough.
        ("3 fois svp. ah attendez 2 ça suffira", "fr_FR", Intent.SPLIT, None, 2),
        # Someone else's refund to the customer, still to come: the reason for the day.
        (
            "in two weeks when the refund from the airline finally lands, if that's alright",
            "en_GB",
            Intent.PAY_LATER,
            "2026-12-02",
            None,
        ),
        (
            "Je vous règle ça dans 15 jours si ça ne vous dérange pas, les remboursements de la "
            "mutuelle ne sont pas encore arrivés",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-03",
            None,
        ),
    ],
)
def test_kinds_of_round_45(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.parts) == (reading, parts)
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # The stop word after a product's name is still a stop when our messages or a
        # strong word follow, or nothing does.
        ("le soin stop les sms svp", "fr_FR", Intent.OPT_OUT),
        ("la crème stop", "fr_FR", Intent.OPT_OUT),
        ("j'ai payé le soin stop merci", "fr_FR", Intent.OPT_OUT),
        ("payé pour le soin, stop immédiatement vos relances", "fr_FR", Intent.OPT_OUT),
        # A refund of ours stays contested, in the plural too; one from us to come as well.
        ("les remboursements de vos frais ne sont pas encore arrivés", "fr_FR", Intent.DISPUTE),
        ("when the refund from you finally lands I'll pay", "en_GB", Intent.DISPUTE),
        # From the review of round 45's diff: any other word after a product's "stop" may be
        # the keyword's; refunds of ours in the plural or named by what they were for; counts
        # of days, of charges taken, of visits; a day after a corrected number.
        ("J'ai fini la cure stop cordialement", "fr_FR", Intent.OPT_OUT),
        ("le soin stop textos", "fr_FR", Intent.OPT_OUT),
        ("Pas intéressée par votre gamme stop arrêtez", "fr_FR", Intent.OPT_OUT),
        ("le soin stop immédiat", "fr_FR", Intent.OPT_OUT),
        ("le soin stop non merci", "fr_FR", Intent.OPT_OUT),
        ("Vous m'avez facturé deux fois le programme stop stress", "fr_FR", Intent.DISPUTE),
        (
            "Je vous paie vendredi mais les remboursements des acomptes ne sont toujours pas "
            "arrivés",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "D'accord pour vendredi mais les remboursements des retours ne sont pas encore "
            "arrivés",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "I'll pay on Friday when the refund from the cancelled order comes through",
            "en_GB",
            Intent.DISPUTE,
        ),
        ("Prélevé 3 fois, non 2 c'est bon ?! remboursez", "fr_FR", Intent.DISPUTE),
        (
            "du coup pas 2 mais 3 passages facturés, le technicien est venu 2 fois",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("En fait pas 3 mais 5 décembre", "fr_FR", Intent.PAY_LATER),
        # From the second review: after a hedge, only a count of payments is corrected; "not
        # N please" only opening the message with nothing counted after; a product's stop
        # does not hide a later one.
        ("Finalement pas 2 mais 3 fois le prix annoncé !", "fr_FR", Intent.DISPUTE),
        ("du coup pas 2 mais 3 kilos de viande, la facture est juste ?", "fr_FR", Intent.DISPUTE),
        ("Finalement pas 3 mais 5 déc", "fr_FR", Intent.PAY_LATER),
        ("invoice says 3 lessons, not 3 please make it 2", "en_GB", Intent.DISPUTE),
        ("Votre soin stop douleurs ne marche pas stop", "fr_FR", Intent.OPT_OUT),
        ("Le soin stop acné n'a rien changé, arrêtez de me relancer", "fr_FR", Intent.OPT_OUT),
        ("Enfin pas 2 mais 3 relances alors que j'ai payé !", "fr_FR", Intent.ALREADY_PAID),
    ],
)
def test_round_45_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


def test_a_count_followed_by_another_unit_is_not_a_split_count() -> None:
    # "not 3 please, make it 6 days": six days, not six instalments (round 45's review).
    for text in (
        "not 3 please, make it 6 days",
        "Not 3 please, make it 2 weeks",
        "not 3 please, make it 4 visits",
        "not 3 please make it 6 pm",
    ):
        found = understand_by_rules(text, locale="en_GB", now=NOW, tz=TZ)
        assert found.intent is not Intent.SPLIT, text


def test_a_small_count_taken_back_is_chosen_but_an_amount_is_not() -> None:
    # "ah attendez 10 ça ira": ten euros (the sign is dropped in folding), not ten payments.
    found = understand_by_rules(
        "en 3 fois. Ah attendez 10 € ça ira pour aujourd'hui ?", locale="fr_FR", now=NOW, tz=TZ
    )
    assert found.parts == 3


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # What today lacks is why the customer waits, not a payment today.
        ("I pay tomorrow ok? no time today", "en_GB", Intent.PAY_LATER, "2026-11-19"),
        (
            "tuesday if thats ok, hit my transfer limit for today",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-24",
        ),
        # What the month cost, a reason to wait; not a price contested.
        (
            "jpeux pas avant vendredi dsl, la coloration m'a coûté plus que prévu ce mois ci 😅",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        # The day of an appointment given, in thanks.
        (
            "Non stop day here haha, thanks for fitting me in Saturday",
            "en_GB",
            Intent.SMALLTALK,
            None,
        ),
        # Money named by its kind, awaited.
        (
            "dès que la pension alimentaire arrive je paye l'équitation de ma fille",
            "fr_FR",
            Intent.PAY_LATER,
            None,
        ),
        # Covered in full by the customer's insurer.
        (
            "la mutuelle a tout pris en charge, c'est la pharmacienne qui me l'a dit",
            "fr_FR",
            Intent.ALREADY_PAID,
            None,
        ),
        ("the insurance covered it all", "en_GB", Intent.ALREADY_PAID, None),
        # What the invoice covers, with the months things were bought in.
        (
            "Which tickets does this cover? I bought some in March and some in April",
            "en_GB",
            Intent.STATUS,
            None,
        ),
    ],
)
def test_kinds_of_round_46(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # A payment now after the time lacking today, a link asked: still now.
        ("no time today so I'll just pay now", "en_GB", Intent.PAY_NOW),
        # A price that cost more than agreed, or is dearer than expected, is still contested.
        ("la coloration m'a coûté plus que prévu", "fr_FR", Intent.DISPUTE),
        ("la coloration m'a coûté plus cher que le devis", "fr_FR", Intent.DISPUTE),
        (
            "c'est plus cher que prévu, je paierai quand vous aurez corrigé",
            "fr_FR",
            Intent.DISPUTE,
        ),
        # Asking for an appointment and promising to pay on its day.
        ("can you fit me in Saturday? I'll pay then", "en_GB", Intent.PAY_LATER),
        # Covered asked about, covered in part, or covered but billed: not a report of payment.
        ("est ce que la mutuelle a pris en charge ?", "fr_FR", Intent.UNKNOWN),
        ("la mutuelle a pris en charge une partie, il reste combien ?", "fr_FR", Intent.STATUS),
        ("has the insurance covered it?", "en_GB", Intent.UNKNOWN),
        # Bought on a day and a promise on another.
        ("I'll pay friday, booked it for then", "en_GB", Intent.PAY_LATER),
        # From the review of round 46's diff: a price above the quote this week is contested;
        # coverage asked about or believed; time lacking for something else; an excess left.
        (
            "ça m'a coûté plus cher que le devis cette semaine, je veux le détail avant de payer",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("Est-ce que c'est pris en charge par la mutuelle ?", "fr_FR", Intent.UNKNOWN),
        ("I thought the insurance covered it? why am I getting a bill", "en_GB", Intent.STATUS),
        ("no time today for coffee sorry, another day! x", "en_GB", Intent.SMALLTALK),
        (
            "the insurance covered it, minus the excess which I'll pay friday",
            "en_GB",
            Intent.PAY_LATER,
        ),
        ("le chauffage m'a coûté plus cher que prévu cet hiver", "fr_FR", Intent.DISPUTE),
    ],
)
def test_round_46_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


def test_a_slip_of_a_day_word_is_one_in_the_language_of_that_word_only() -> None:
    from tests.intents.build_vocabulary import _day_slip

    day_words = {("demain", "fr"), ("tomorrow", "en")}
    assert _day_slip("demin", {"fr"}, day_words)  # however often the corpus holds it
    assert _day_slip("tomorow", {"en"}, day_words)
    assert _day_slip("samdi", {"fr"}, day_words)  # the weekdays, in any language
    assert not _day_slip("domain", {"en"}, day_words)  # an English word, not "demain"
    assert not _day_slip("demain", {"fr"}, day_words)


def test_a_recurring_slip_of_a_day_word_is_still_corrected_and_a_word_of_its_own_is_kept() -> None:
    # "demin" recurs in the corpus, "machin" is a word one letter short of "machine" (round 46).
    from tests.intents.build_vocabulary import render

    vocabulary = {line.split()[0] for line in render().splitlines()[1:]}
    assert "demin" not in vocabulary
    assert "machin" in vocabulary
    assert read("je pai demin").date == dt.date(2026, 11, 19)
    assert read("euh le machin de la dernière fois là").intent is Intent.UNKNOWN


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # Charged for something extra, or the full price where a part was covered: contested
        # (critical: read as pay now or as a promise). Round 46's review.
        ("I booked monday but you charged me for tuesday too", "en_GB", Intent.DISPUTE),
        (
            "The insurance covered it in full except the excess, and you've charged me the full "
            "amount",
            "en_GB",
            Intent.DISPUTE,
        ),
        # Debited three times, or a count corrected to the times debited: contested.
        ("Ah non pas 2 mais 3 fois débité", "fr_FR", Intent.DISPUTE),
        ("vous m'avez débité 3 fois", "fr_FR", Intent.DISPUTE),
        ("carrément débité 3 fois, je vais voir ma banque", "fr_FR", Intent.DISPUTE),
        # The plan's payments debited on a day stay a split; a charge told calmly, or someone
        # else's, is no contest (round 46's second review).
        ("non pas en 2, en 3 fois débité le 5", "fr_FR", Intent.SPLIT),
        ("je veux être débité en 3 fois", "fr_FR", Intent.SPLIT),
        ("ok pour être prélevée 3 fois sans frais", "fr_FR", Intent.SPLIT),
        ("j'ai déjà été prélevée 3 fois sur les 4, il me reste combien ?", "fr_FR", Intent.STATUS),
        (
            "you charged me the full amount, fair enough, I'll pay friday",
            "en_GB",
            Intent.PAY_LATER,
        ),
        (
            "they've charged me for the flights too so money is tight, can I pay next week?",
            "en_GB",
            Intent.PAY_LATER,
        ),
    ],
)
def test_charges_beyond_what_was_due_are_contested(
    text: str, locale: str, reading: Intent
) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # Paid once the work is put right, in words not known before U126-U133 (critical: read
        # as a promise or as pay now).
        (
            "je paierai quand le dentier sera réajusté, là il me blesse la gencive à chaque repas",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "oui oui je vais payer... le jour où votre électricien reviendra remettre le courant "
            "dans la cuisine 🙄",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "la manicura se levantó en dos días, quiero que me la rehagan antes de pagar nada",
            "es_ES",
            Intent.DISPUTE,
        ),
        # A visit planned, or the day someone comes, is no condition on a repair; nor the
        # customer's own pay adjusted (round 46's review of this change).
        ("quand votre technicien passera changer le filtre je paierai", "fr_FR", Intent.PAY_LATER),
        ("je paierai quand vous reviendrez, vendredi", "fr_FR", Intent.PAY_LATER),
        ("quand mon salaire sera réajusté je paierai", "fr_FR", Intent.PAY_LATER),
        (
            "le maçon reviendra terminer lundi, je paierai à ce moment là",
            "fr_FR",
            Intent.PAY_LATER,
        ),
    ],
)
def test_a_payment_on_condition_the_work_is_put_right_is_contested(
    text: str, locale: str, reading: Intent
) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


def test_a_spelling_list_holds_normalised_words_only() -> None:
    from tests.intents.build_vocabulary import _spelling

    assert _spelling({"language": "es", "spelling": {"day_words": ["manana"]}}, "day_words") == [
        "manana"
    ]
    for wrong in (["mañana"], ["Manana"], "manana", ["pasado manana"]):
        with pytest.raises(ValueError, match="normalised words"):
            _spelling({"language": "es", "spelling": {"day_words": wrong}}, "day_words")


def test_the_training_takes_one_job_or_more() -> None:
    from tests.intents.train_model import _positive

    assert _positive("2") == 2
    for wrong in ("0", "-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            _positive(wrong)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # A French day with its final "i" written as it sounds.
        ("jeudy je paye", "fr_FR", Intent.PAY_LATER, "2026-11-19"),
        ("samedy sans faute", "fr_FR", Intent.PAY_LATER, "2026-11-21"),
        # Half paid, the rest promised: the promise is what is acted on.
        (
            "Paid half already via the link, rest on Friday x",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        # A refund awaited from the CAF: money to come, not a refund claimed from the business.
        (
            "On attend le remboursement de la CAF pour la colo, dès qu'on l'a on vous paie",
            "fr_FR",
            Intent.PAY_LATER,
            None,
        ),
        (
            "on attend notre remboursement des impots, on regle des qu'il tombe",
            "fr_FR",
            Intent.PAY_LATER,
            None,
        ),
        # Away from a day, or the tickets for a day: the day is not the promise.
        ("I'm away from friday so let's just get it paid now", "en_GB", Intent.PAY_NOW, None),
        (
            "Je règle tout de suite les billets pour samedi, le lien svp",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        ("how do I pay for the stall at the Christmas market?", "en_GB", Intent.PAY_NOW, None),
        # Instalments turned down.
        (
            "finalement on oublie le paiement en plusieurs fois, je règle les 640 € du carreleur "
            "aujourd'hui",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        ("nan, l'échéancier ça m'intéresse pas", "fr_FR", Intent.NO, None),
        ("le paiement en 3 fois ça m'intéresse pas", "fr_FR", Intent.NO, None),
        ("instalments are not for me", "en_GB", Intent.NO, None),
        ("instalments aren't for me, send me the link", "en_GB", Intent.PAY_NOW, None),
        (
            "Rather pay the full whack today than faff about with instalments, link pls",
            "en_GB",
            Intent.PAY_NOW,
            None,
        ),
        ("prefiero pagar todo hoy en vez de a plazos", "es_ES", Intent.PAY_NOW, None),
        # A payment on condition that a fault is put right (critical when read as a promise).
        (
            "quand l'ourlet sera retouché je passerai payer, il est 3 cm trop court",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        (
            "quand le mur sera repeint correctement je paierai, y a des traces partout",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        (
            "necesito que me terminen el baño antes de pagar, llevan 2 semanas sin venir",
            "es_ES",
            Intent.DISPUTE,
            None,
        ),
        (
            "Quiero que me arreglen lo que rompieron primero, luego pago",
            "es_ES",
            Intent.DISPUTE,
            None,
        ),
        (
            "je paierai quand la robe sera retouchée, elle tombe de travers",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        (
            "primero arreglen lo que rompieron y luego hablamos de pagar",
            "es_ES",
            Intent.DISPUTE,
            None,
        ),
        (
            "dès qu'on l'a reçu on vous paie mais le colis est arrivé cassé",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        (
            "quand l'ourlet sera retouché je passerai payer, il est encore 2 cm trop court",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        ("I'll pay once that's removed from the bill", "en_GB", Intent.DISPUTE, None),
        (
            "quand les rideaux seront retouchés je paierai, ils sont trop longs de 10cm, "
            "c'était pas mes mesures",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        (
            "you charged me for the mirror as well and I'll pay the rest on friday once that's "
            "removed",
            "en_GB",
            Intent.DISPUTE,
            None,
        ),
    ],
)
def test_kinds_of_round_47(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # From the review of round 47's diff: a name after a title is no day.
        (
            "ma voisine Mme Jeudy passera vous regler lundi pour moi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-23",
        ),
        # The link awaited is a request for it, not a wait.
        ("dès qu'on a le lien on paie", "fr_FR", Intent.PAY_NOW, None),
        # The fault that was the reason the work was ordered.
        (
            "la robe de ma fille était trop grande, quand elle sera retouchée on passe payer "
            "vendredi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        # Broken by someone else, children absent from class: no complaint about the business.
        (
            "el vaso que rompió mi hijo lo pago yo, mañana os hago bizum",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-19",
        ),
        (
            "llevan 3 dias sin venir los niños a clase porque estan malos, pago el viernes",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        # Instalments preferred, Christmas as a day.
        ("I'd rather do instalments than pay it all at once", "en_GB", Intent.SPLIT, None),
        ("I'll pay after Christmas", "en_GB", Intent.PAY_LATER, "2026-12-26"),
        ("je veux le paiement en 3 fois", "fr_FR", Intent.SPLIT, None),
        # The second review: a name after "M.", an English word, a new year party's cost,
        # damage by burglars, a balance paid on completion.
        (
            "c'est pour le compte de M. Mardy, il réglera vendredi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        ("sorry been mardy all week, sending it now", "en_GB", Intent.PAY_NOW, None),
        (
            "pay u in the new year party cost a fortune lol",
            "en_GB",
            Intent.PAY_LATER,
            "2027-01-01",
        ),
        (
            "gracias por cambiar la ventana que nos rompieron en el robo, pago mañana",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-19",
        ),
        (
            "je réglerai le solde une fois que tout sera fini comme prévu au devis",
            "fr_FR",
            Intent.PAY_LATER,
            None,
        ),
        ("dès que je touche ma paye je vous règle", "fr_FR", Intent.PAY_LATER, None),
    ],
)
def test_round_47_lookalikes_keep_their_reading(
    text: str, locale: str, reading: Intent, day: str | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # The messages' stop named beside a payment told: the stop first (critical if missed).
        (
            "c réglé depuis mardi !!! vous me harcelez, ARRET des sms",
            "fr_FR",
            Intent.OPT_OUT,
            None,
        ),
        # A child taken off an activity, never attended: contested, not a stop of our messages.
        (
            "Ma fille n'est jamais allée à ce camp, on l'a désinscrite en mars avec accusé de "
            "réception !",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        # Our options compared: a question, not the keyword.
        (
            "c'est quoi la différence entre STOP et PLUS TARD dans votre message ? je comprends "
            "pas trop",
            "fr_FR",
            Intent.HELP,
            None,
        ),
        # A service cut short, a floor scratched: contested (critical when read as a promise).
        (
            "Charged me for a full hour massage but she stopped after 30 min. Want this "
            "corrected.",
            "en_GB",
            Intent.DISPUTE,
            None,
        ),
        (
            "Le parquet est déjà tout rayé, 2 semaines après la pose. Je ne règle pas ça en "
            "l'état.",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        # Getting the bill paid is paying it; the month's bills paid elsewhere are the reason.
        (
            "send me the link pls, want to get the holiday camp paid before I forget",
            "en_GB",
            Intent.PAY_NOW,
            None,
        ),
        ("I'll get the balance paid on friday", "en_GB", Intent.PAY_LATER, "2026-11-20"),
        (
            "jpeux pas avant le 5 dsl, g deja payé le loyer et les courses ce mois ci",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-05",
        ),
    ],
)
def test_kinds_of_round_48(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert found.date == (dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("arrêt des sms svp", "fr_FR", Intent.OPT_OUT),
        ("désinscrivez moi", "fr_FR", Intent.OPT_OUT),
        ("je me suis désinscrit, arrêtez", "fr_FR", Intent.OPT_OUT),
        ("STOP", "fr_FR", Intent.OPT_OUT),
        ("la différence entre payer et plus tard ? et STOP aussi", "fr_FR", Intent.OPT_OUT),
        ("the job is half done", "en_GB", Intent.DISPUTE),
        ("g deja payé", "fr_FR", Intent.ALREADY_PAID),
        ("did you get the deposit paid into your account?", "en_GB", Intent.ALREADY_PAID),
        # From the review of round 48's diff: a number or a child taken off our messages, a
        # question about when the reminders stop, a payment got done, a first visit, the bill
        # paid beside the rent, a charge accepted.
        ("Mon numéro, je l'ai désinscrit hier et vous m'écrivez encore", "fr_FR", Intent.OPT_OUT),
        (
            "c'est le numéro de ma fille, je l'ai désinscrite de vos sms, pourquoi elle reçoit "
            "encore ?",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        ("Merci de procéder à l'arrêt des SMS", "fr_FR", Intent.OPT_OUT),
        ("ok pour le paiement mais arret des pubs svp", "fr_FR", Intent.OPT_OUT),
        ("Merci, quel délai d'arrêt des relances si je paie par chèque ?", "fr_FR", Intent.HELP),
        ("Managed to get the invoice paid this morning 👍", "en_GB", Intent.ALREADY_PAID),
        (
            "Elle n'est jamais allée à la piscine avant, elle a adoré, je paie tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
        ),
        ("j'ai déjà réglé le loyer et votre facture hier soir", "fr_FR", Intent.ALREADY_PAID),
        (
            "you charged me for the full session, but no worries, paying now",
            "en_GB",
            Intent.PAY_NOW,
        ),
        ("I don't need the invoice corrected any more, paying now", "en_GB", Intent.PAY_NOW),
    ],
)
def test_round_48_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


# --- round 48's blind batches (U142-U149): their kinds, in words the batches did not use ---


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # A car's STOP lamp is no keyword (a false opt-out was critical).
        (
            "depuis la révision le voyant stop ne clignote plus, top merci",
            "fr_FR",
            Intent.SMALLTALK,
            None,
        ),
        # Not paying "for that" after a fault told: contested; a span it lasted is no day.
        (
            "les faux cils se sont décollés en 3 jours, je paierai pas pour ça",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        ("the hinge snapped in 3 days, not paying for that", "en_GB", Intent.DISPUTE, None),
        # The customer's own refund to come is the reason to wait, not one claimed from us.
        (
            "dans 10 jours ça irait ? l'assurance doit me rembourser d'ici là",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-28",
        ),
        (
            "ok pour lundi ? le temps que le remboursement de mon ancienne commande arrive",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-23",
        ),
        # Short of money "after the holidays", expenses on top, another bill paid: reasons.
        ("when I get paid, bit skint after the holidays", "en_GB", Intent.PAY_LATER, None),
        (
            "can it wait till the 30th? the van and the fridge both packed up this week",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-30",
        ),
        (
            "can I pay on the 30th? just paid the electrician and I'm broke",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-30",
        ),
        # A relative sorted the bill; "I'd rather get it paid" is paying.
        ("my partner sorted the swimming fees on monday", "en_GB", Intent.ALREADY_PAID, None),
        (
            "send the link, I'd rather get the piano lessons paid today",
            "en_GB",
            Intent.PAY_NOW,
            None,
        ),
        # Never been there: not the business's customer.
        ("nunca he ido a esa peluquería, se equivocan de persona", "es_ES", Intent.DISPUTE, None),
        # A moment asked for while the card is fetched: paying, not waiting.
        ("attendez 2 min je prends ma carte et je règle", "fr_FR", Intent.PAY_NOW, None),
    ],
)
def test_kinds_of_round_49(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert found.intent is reading
    assert found.date == (dt.date.fromisoformat(day) if day else None)


def test_a_day_taken_back_for_another_is_the_promise_without_a_question() -> None:
    # "ah non vendredi, jeudi j'ai…": the day after the "non" is chosen, the first is why.
    found = understand_by_rules(
        "jeudi. ah non vendredi, jeudi j'ai la réunion parents-profs",
        locale="fr_FR",
        now=NOW,
        tz=TZ,
    )
    assert (found.intent, found.date, found.is_unsure) == (
        Intent.PAY_LATER,
        dt.date(2026, 11, 20),
        False,
    )


def test_a_count_taken_back_keeps_the_count_said_after() -> None:
    found = understand_by_rules(
        "4 fois. enfin non, trois ça suffira largement", locale="fr_FR", now=NOW, tz=TZ
    )
    assert (found.intent, found.parts) == (Intent.SPLIT, 3)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        ("STOP, et le voyant moteur s'allume encore", "fr_FR", Intent.OPT_OUT, None),
        ("le voyant stop est allumé, arrêtez les sms", "fr_FR", Intent.OPT_OUT, None),
        (
            "je paie pas pour ça maintenant, vendredi plutôt",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        ("I'm broke until the 5th", "en_GB", Intent.PAY_LATER, "2026-12-05"),
        # The same day taken back: the other one is the promise.
        (
            "mercredi. ah non mercredi j'ai piscine, jeudi plutôt",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-19",
        ),
        ("je vous paie en 2 jours", "fr_FR", Intent.PAY_LATER, "2026-11-20"),
        ("c'est une arnaque ?", "fr_FR", Intent.HELP, None),
        ("paid the invoice already and I'm skint now", "en_GB", Intent.ALREADY_PAID, None),
        ("attendez 2 semaines svp", "fr_FR", Intent.PAY_LATER, None),
    ],
)
def test_round_49_lookalikes_keep_their_reading(
    text: str, locale: str, reading: Intent, day: str | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "reading"),
    [("c'est une arnaque", Intent.DISPUTE), ("c'est une arnaque ?", Intent.HELP)],
)
def test_outrage_at_a_scam_stays_a_dispute_the_arbiter_would_make_help(
    text: str, reading: Intent
) -> None:
    from flows import intents

    rules = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    chosen = intents._arbitrated(
        rules, Intent.HELP, 0.95, normalize(text), today=NOW.date(), locale="fr_FR"
    )
    assert chosen.intent is reading


# --- round 49's blind batches (U150-U157): their kinds, in words the batches did not use ---


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # A stop sign run is no keyword (a false opt-out was critical).
        ("j'ai grillé un stop en venant, bref je paie maintenant", "fr_FR", Intent.PAY_NOW, None),
        # Today's date told is no promise; the day named for paying is.
        (
            "on est le 18 et la paye tombe le 25, je règle ce jour là",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-25",
        ),
        (
            "on est mercredi, laissez-moi jusqu'à vendredi svp",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        # Instalments turned down to settle the whole at once.
        (
            "non merci pour l'échéancier, je préfère tout solder d'un coup",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
    ],
)
def test_kinds_of_round_50(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


def test_a_count_taken_back_may_say_what_the_payments_are_for() -> None:
    found = understand_by_rules(
        "en 3 fois... non en 2 ça ira pour les cours de piano", locale="fr_FR", now=NOW, tz=TZ
    )
    assert (found.intent, found.parts) == (Intent.SPLIT, 2)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        ("j'ai grillé le stop, stop les sms", "fr_FR", Intent.OPT_OUT, None),
        ("je suis grillé STOP", "fr_FR", Intent.OPT_OUT, None),
        # A day that is not today's, after "on est" / "it's only": the promise.
        ("je vous paierai dès qu'on est le 5", "fr_FR", Intent.PAY_LATER, "2026-12-05"),
        ("on est le 25 pour le paiement c'est ça ?", "fr_FR", Intent.PAY_LATER, "2026-11-25"),
        ("it's only friday I can pay", "en_GB", Intent.PAY_LATER, "2026-11-20"),
        ("today's the 18th, I'll pay on the 25th", "en_GB", Intent.PAY_LATER, "2026-11-25"),
        (
            "je peux pas tout solder ce mois-ci, je vous règle le 5",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-05",
        ),
    ],
)
def test_round_50_lookalikes_keep_their_reading(
    text: str, locale: str, reading: Intent, day: str | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    "text", ["paying 80 now, not the 20 late fee", "je paie 50 sur les 80", "je paie 80 pas 120"]
)
def test_two_amounts_or_a_negation_keep_the_readers_doubt_of_a_payment(text: str) -> None:
    reading = read(text, "en_GB" if text.startswith("paying") else "fr_FR")
    assert not (reading.intent is Intent.PAY_NOW and not reading.is_unsure)


class _NeverDoubts:
    """A reader that reads a payment in every text."""

    def probabilities(self, text: str) -> dict[str, float]:
        return {i.value: 0.0 for i in Intent} | {"pay_now": 1.0, "seen": float(len(text))}


def test_a_payment_the_reader_does_not_doubt_is_not_read_again() -> None:
    from flows import intents

    paying = Understanding(Intent.PAY_NOW, language="fr", confidence=1.0)
    found = intents._read_without_amounts_alone(paying, "je paye celle de 80", _NeverDoubts())  # type: ignore[arg-type]
    assert found["seen"] == len("je paye celle de 80")


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "unsure"),
    [
        # A count's purpose, not the bills contested nor a day.
        (
            "in 2 is fine for the bills but the late fee is wrong",
            "en_GB",
            Intent.DISPUTE,
            None,
            False,
        ),
        ("non en 2 ça ira pour le 5", "fr_FR", Intent.PAY_LATER, "2026-12-05", False),
        # Today told with its weekday and its date; "tonight" is no day told.
        (
            "on est mercredi 18 et la paye tombe le 25, je règle ce jour là",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-25",
            False,
        ),
        ("it's only tonight i can pay", "en_GB", Intent.PAY_LATER, "2026-11-18", False),
        # A day told, not promised, then corrected: asked.
        ("le prélèvement était lundi. non mardi", "fr_FR", Intent.PAY_LATER, "2026-11-24", True),
    ],
)
def test_round_50_review_lookalikes(
    text: str, locale: str, reading: Intent, day: str | None, unsure: bool
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    expected_day = dt.date.fromisoformat(day) if day else None
    assert (found.intent, found.date, found.is_unsure) == (reading, expected_day, unsure)


def test_the_readers_are_fitted_without_groups_of_readings_files_in_their_order() -> None:
    from tests.intents.train_model import groups

    paths = [Path(f"{name}.jsonl") for name in ("A", "B", "C", "D", "E")]
    assert groups(paths, 2) == [(paths[0], paths[1]), (paths[2], paths[3]), (paths[4],)]
    assert groups(paths, 1) == [(path,) for path in paths]
    assert groups(paths, 12) == [tuple(paths)]
    assert groups([], 3) == []


# --- round 50's blind batches (U158-U165): their kinds, in words the batches did not use ---


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # The STOP button said untouched (an opt-out there was critical).
        (
            "le bouton stop, j'ai jamais appuyé dessus, je veux payer",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        ("j'ai pas touché au bouton STOP, envoyez le lien", "fr_FR", Intent.PAY_NOW, None),
        # A stop sign run, then what followed it: no keyword.
        (
            "grillé un stop hier, arrêté par les gendarmes, je paie vendredi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        (
            "me salté un stop y la multa me mató, pago el viernes",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        ("ran a stop sign, got a fine, I'll pay friday", "en_GB", Intent.PAY_LATER, "2026-11-20"),
        # Wished paid before something: about to pay, not paid.
        (
            "send the link, I want the swimming lessons settled before the holidays",
            "en_GB",
            Intent.PAY_NOW,
            None,
        ),
        ("quiero dejarlo pagado hoy, ¿cómo pago?", "es_ES", Intent.PAY_NOW, None),
        # Leaving again, a repair named: nothing wrong.
        ("je peux payer maintenant ? je repars en Belgique demain", "fr_FR", Intent.PAY_NOW, None),
        ("¿cómo pago la reparación de la lavadora? lo hago ya", "es_ES", Intent.PAY_NOW, None),
        # No hurry, not forgotten: no refusal; the salary's end of the month.
        (
            "pago el viernes, me dijeron que no había prisa",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        ("a finales de mes le pago, no se me olvida", "es_ES", Intent.PAY_LATER, "2026-11-30"),
        ("mi sueldo llega a final de mes, pago entonces", "es_ES", Intent.PAY_LATER, "2026-11-30"),
        # The time of the day named, the day said with the pay verb, the day that will do.
        ("je passe payer jeudi en fin de journée", "fr_FR", Intent.PAY_LATER, "2026-11-19"),
        ("ma paye tombe le 28 donc je règle le 30", "fr_FR", Intent.PAY_LATER, "2026-11-30"),
        ("la rentrée a coûté cher, fin du mois ça ira", "fr_FR", Intent.PAY_LATER, "2026-11-30"),
        ("je règle à midi en passant", "fr_FR", Intent.PAY_LATER, "2026-11-18"),
        # A relative's money awaited; an event's month; a part handed over.
        (
            "mardi ou mercredi si mon frère me rembourse... non mardi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-24",
        ),
        (
            "le solde pour la salle, baptême en mars, je peux le verser avant noël ?",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-24",
        ),
        ("j'ai déjà donné 40, le reste lundi", "fr_FR", Intent.PAY_LATER, "2026-11-23"),
        # Instalments declined; a count raised.
        ("le 3x très peu pour moi, je règle tout maintenant", "fr_FR", Intent.PAY_NOW, None),
        ("I'd rather pay it all now than split it, no stress", "en_GB", Intent.PAY_NOW, None),
        # Never booked; the due date asked; billed what an insurer covered; glad of news.
        ("never booked a massage with you, wrong person I think", "en_GB", Intent.DISPUTE, None),
        ("what's the last day to pay the club fees?", "en_GB", Intent.STATUS, None),
        (
            "la sécu a déjà remboursé 60%, vous me facturez quand même tout",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        ("great news about the match on sunday!", "en_GB", Intent.SMALLTALK, None),
    ],
)
def test_kinds_of_round_51(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


def test_a_count_raised_is_the_count() -> None:
    found = understand_by_rules(
        "2 fois c'est trop juste, on peut monter à 4 ?", locale="fr_FR", now=NOW, tz=TZ
    )
    assert (found.intent, found.parts) == (Intent.SPLIT, 4)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        ("j'ai grillé un stop, arrêtez vos sms", "fr_FR", Intent.OPT_OUT, None),
        ("ran a stop and got fined. stop texting me", "en_GB", Intent.OPT_OUT, None),
        (
            "le bouton stop j'ai pas touché mais je veux plus vos sms",
            "fr_FR",
            Intent.OPT_OUT,
            None,
        ),
        ("no llego a fin de mes, pagaré el 5", "es_ES", Intent.PAY_LATER, "2026-12-05"),
        ("I want it paid back, you charged me twice", "en_GB", Intent.DISPUTE, None),
        ("la réparation est mal faite, je repars avec une fuite", "fr_FR", Intent.DISPUTE, None),
        ("je paie demain à midi", "fr_FR", Intent.PAY_LATER, "2026-11-19"),
    ],
)
def test_round_51_lookalikes_keep_their_reading(
    text: str, locale: str, reading: Intent, day: str | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # Wished paid beside a payment reported: the report (a pay now was critical).
        ("quería dejarlo pagado pero ya lo pagó mi marido", "es_ES", Intent.ALREADY_PAID, None),
        ("wanted it settled before I fly, paid it on monday", "en_GB", Intent.ALREADY_PAID, None),
        ("want the deposit paid back, you cancelled the class", "en_GB", Intent.DISPUTE, None),
        # Gone without finishing is contested; leaving again is not.
        ("le plombier est reparti sans finir, je paie pas ça", "fr_FR", Intent.DISPUTE, None),
        ("nous repartons demain, je paie maintenant", "fr_FR", Intent.PAY_NOW, None),
        # The day said with the pay verb past "así que"; the time before its day.
        (
            "la nómina me llega a final de mes así que pago el 1",
            "es_ES",
            Intent.PAY_LATER,
            "2026-12-01",
        ),
        ("a midi demain je paie", "fr_FR", Intent.PAY_LATER, "2026-11-19"),
        # The due date asked, then a day promised: the promise.
        (
            "what's the last day to pay? I'll pay on friday",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        (
            "if my sister sends me the money back I'll pay friday",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
        ),
        ("mon frère m'a remboursé, je paie maintenant", "fr_FR", Intent.PAY_NOW, None),
        ("l'assurance a tout couvert et vous me facturez encore", "fr_FR", Intent.DISPUTE, None),
        # The STOP button untouched, however written; a stop sign run, then arrested.
        ("le bouton stop jy ai jamais touche, envoyez moi le lien", "fr_FR", Intent.PAY_NOW, None),
        ("never touched the STOP button, send me the link", "en_GB", Intent.PAY_NOW, None),
        ("no toqué el boton stop, quiero pagar ya", "es_ES", Intent.PAY_NOW, None),
        (
            "je me suis fait arrêter après un stop grillé, je paie lundi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-23",
        ),
        ("j'ai cramé un stop, je paie vendredi", "fr_FR", Intent.PAY_LATER, "2026-11-20"),
        # Real opt-outs beside them.
        (
            "j'ai grillé un stop, je veux arrêter de recevoir vos messages",
            "fr_FR",
            Intent.OPT_OUT,
            None,
        ),
        ("no toqué el boton stop pero dejen de escribirme", "es_ES", Intent.OPT_OUT, None),
        (
            "le bouton stop de votre message marche pas, je veux plus de sms",
            "fr_FR",
            Intent.OPT_OUT,
            None,
        ),
        # Work never touched is still contested.
        (
            "half the rooms were never touched, I'm not paying full price",
            "en_GB",
            Intent.DISPUTE,
            None,
        ),
    ],
)
def test_round_51_review_lookalikes(
    text: str, locale: str, reading: Intent, day: str | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


def test_a_split_of_the_rest_after_a_part_handed_over_stays_a_split() -> None:
    found = understand_by_rules(
        "j'ai deja mis la moitie, le reste en 2 fois ?", locale="fr_FR", now=NOW, tz=TZ
    )
    assert (found.intent, found.parts) == (Intent.SPLIT, 2)


# --- round 51's blind batches (U166-U173): their kinds, in words the batches did not use ---


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # A STOP sent for a joke, told: no request (an opt-out was critical); the rest is read.
        (
            "c'est mon fils qui a tapé STOP pour rigoler, envoyez le lien",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        ("my daughter texted STOP for a laugh, send me the link", "en_GB", Intent.PAY_NOW, None),
        # An opt-out regretted or not meant (an opt-out was critical).
        (
            "I shouldn't have opted out, please keep the reminders coming",
            "en_GB",
            Intent.OPT_IN,
            None,
        ),
        ("didn't mean to unsubscribe, start again please", "en_GB", Intent.OPT_IN, None),
        ("j'aurais pas dû me désabonner, remettez-moi les messages", "fr_FR", Intent.OPT_IN, None),
        # Instalments turned down, then paying the whole: the count is no split.
        ("non pas en 4 fois, je solde maintenant", "fr_FR", Intent.PAY_NOW, None),
        ("le 3x c'est pas mon truc, je paie tout là", "fr_FR", Intent.PAY_NOW, None),
        # Charged twice, said as a second time.
        (
            "vous m'avez déjà débité le cours de lundi, là ça fait 2 fois",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        # The keyword not sent, said in passing; the bot blamed; a payment believed made.
        ("envoyez le lien svp (et non je réponds pas STOP)", "fr_FR", Intent.PAY_NOW, None),
        ("je veux parler à un humain, votre robot pige rien", "fr_FR", Intent.ASK_AGENT, None),
        (
            "je pensais que c'était déjà payé mais en fait non, envoyez le lien et on en "
            "parle plus",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        # A day in so many days for the balance; mid-month in Spanish; a tight month is no day.
        (
            "dans 10 jours ça irait pour le solde du stage ?",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-28",
        ),
        ("a mitad de diciembre le pago, ¿vale?", "es_ES", Intent.PAY_LATER, "2026-12-15"),
        ("je paierai quand j'aurai ma paye, fin de mois serrée", "fr_FR", Intent.PAY_LATER, None),
        ("je vous fais le virement jeudi", "fr_FR", Intent.PAY_LATER, "2026-11-19"),
        # A cheque handed over; a repair named, to pay or to spread; the amount said wrong.
        ("gave the coach a cheque after training", "en_GB", Intent.ALREADY_PAID, None),
        ("quiero pagar ya la reparación del tejado", "es_ES", Intent.PAY_NOW, None),
        ("the boiler repair, can I spread it over a few months?", "en_GB", Intent.SPLIT, None),
        ("el importe no es correcto, eran 40 euros", "es_ES", Intent.DISPUTE, None),
        # The budget, not the price; never booked.
        (
            "fin du mois ça irait ? les cadeaux c'était pas prévu dans le budget",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-30",
        ),
        ("arrêtez de me facturer des places jamais réservées", "fr_FR", Intent.DISPUTE, None),
        # A part paid for the broken thing the job was, the rest to come.
        (
            "j'ai payé la moitié pour la serrure cassée, le reste samedi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-21",
        ),
    ],
)
def test_kinds_of_round_52(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


def test_a_count_done_over_another_is_the_count() -> None:
    found = understand_by_rules(
        "3 instalments is a lot, could we do it over 6?", locale="en_GB", now=NOW, tz=TZ
    )
    assert (found.intent, found.parts) == (Intent.SPLIT, 6)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        (
            "mon fils a envoyé STOP pour rigoler mais en fait arrêtez vos sms",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        ("I shouldn't have to unsubscribe twice, stop texting me", "en_GB", Intent.OPT_OUT),
        ("non j'envoie pas stop, mais arrêtez vos sms", "fr_FR", Intent.OPT_OUT),
        ("non je paie pas", "fr_FR", Intent.NO),
        (
            "je croyais que c'était payé mais non, vous m'avez débité deux fois",
            "fr_FR",
            Intent.DISPUTE,
        ),
        ("j'ai payé pour la vitre cassée et elle est toujours cassée", "fr_FR", Intent.DISPUTE),
        ("la reparación está mal hecha, no pago", "es_ES", Intent.DISPUTE),
    ],
)
def test_round_52_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # A stop said or kept after a STOP sent for a joke, or beside a regret: the opt-out.
        (
            "ma fille a mis stop pour jouer mais laissez comme ça, j'en veux plus",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        (
            "ma fille a envoyé stop pour rigoler, gardez le stop quand même",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        ("my son sent STOP as a joke, but leave it, I don't want them", "en_GB", Intent.OPT_OUT),
        (
            "ma fille a écrit stop pour rigoler mais bon arrêtez quand même",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        ("ma fille a écrit stop pour rigoler, moi je veux arrêter", "fr_FR", Intent.OPT_OUT),
        (
            "le bouton stop j'ai pas appuyé dessus, mais maintenant arrêtez",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        # The joke alone is no request.
        ("mon fils a envoyé STOP pour rigoler, je veux payer", "fr_FR", Intent.PAY_NOW),
        # Exasperation is no stop order.
        ("non mais arrêtez, 200 euros pour ça ?", "fr_FR", Intent.DISPUTE),
        # Complaints kept beside a repair named; a count asked is no outrage.
        ("pay for the repair? it's worse than before", "en_GB", Intent.DISPUTE),
        ("la reparación no se hizo", "es_ES", Intent.DISPUTE),
        ("how can you bill me in 3 instalments?", "en_GB", Intent.SPLIT),
        ("I passed the credit check, can I pay in 3?", "en_GB", Intent.SPLIT),
        # Not handed over yet; said twice is no charge twice; the customer's own account.
        (
            "I haven't handed the coach the cash yet, will do it saturday",
            "en_GB",
            Intent.PAY_LATER,
        ),
        (
            "vous m'avez déjà débité, ça fait 2 fois que je vous le dis, envoyez le reçu",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("mi cuenta no esta bien ahora, te pago a final de mes", "es_ES", Intent.PAY_LATER),
        ("la mutuelle a remboursé, combien vous me demandez encore ?", "fr_FR", Intent.STATUS),
        (
            "stop de me compter la livraison express, j'avais choisi la standard",
            "fr_FR",
            Intent.DISPUTE,
        ),
    ],
)
def test_round_52_review_lookalikes(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "day"),
    [
        ("je paie à la fin du mois juste avant le loyer", "fr_FR", "2026-11-30"),
        ("no nos llega a fin de mes, pagaré el 5", "es_ES", "2026-12-05"),
        ("je ferai l'opération lundi", "fr_FR", "2026-11-23"),
    ],
)
def test_round_52_review_days(text: str, locale: str, day: str) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (Intent.PAY_LATER, dt.date.fromisoformat(day))


# --- round 52's blind batches (U174-U181): their kinds, in words the batches did not use ---


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # Billed for what was cancelled (a promise for May was critical).
        (
            "arrêtez de me réclamer des places que j'ai annulées en janvier",
            "fr_FR",
            Intent.DISPUTE,
            None,
        ),
        # The customer's own money not in yet is why the day, no parcel missing.
        (
            "jeudi ça ira ? j'ai toujours pas touché ma prime",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-19",
        ),
        # The day first, then the transfer.
        (
            "lundi je vous fais le virement pour la révision",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-23",
        ),
        # The link asked, the deadline only why now.
        ("link please, want it off my plate before friday", "en_GB", Intent.PAY_NOW, None),
        # Never had the lessons billed.
        ("I've never had sessions with your physio, wrong person", "en_GB", Intent.DISPUTE, None),
        # Instead of the instalments, in English: a way of paying, not a charge challenged.
        (
            "I'd rather pay all 80 pounds now instead of the instalments",
            "en_GB",
            Intent.PAY_NOW,
            None,
        ),
    ],
)
def test_kinds_of_round_53(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("vous m'avez facturé 90 au lieu de 60", "fr_FR", Intent.DISPUTE),
        ("you charged 90 instead of 60", "en_GB", Intent.DISPUTE),
        ("j'ai pas encore reçu la commande, je paierai à réception", "fr_FR", Intent.DISPUTE),
        ("the link doesn't work, I want it sorted before friday", "en_GB", Intent.HELP),
        ("arrêtez de me réclamer, j'ai payé hier par virement", "fr_FR", Intent.ALREADY_PAID),
        ("la facture que j'ai renvoyée par mail, je la règle vendredi", "fr_FR", Intent.PAY_LATER),
        ("vous m'avez tout prélevé d'un coup au lieu de 3 fois", "fr_FR", Intent.DISPUTE),
        (
            "don't need a link, I want it paid by friday by bank transfer",
            "en_GB",
            Intent.PAY_LATER,
        ),
        ("never had a massage this good, paying now!", "en_GB", Intent.PAY_NOW),
        (
            "vous deviez me verser une prime, toujours pas reçu la prime et vous me réclamez 80€",
            "fr_FR",
            Intent.DISPUTE,
        ),
    ],
)
def test_round_53_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


# --- round 53's blind batches (U182-U189): their kinds, in words the batches did not use ---


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day"),
    [
        # The stop of the messages said with the noun after "bah" (a promise read was critical).
        (
            "bah arrêt des relances svp, je passerai payer à la boutique",
            "fr_FR",
            Intent.OPT_OUT,
            None,
        ),
        # Time lacked now is why the day, no refusal.
        (
            "I'll do it this evening, at the office now no time",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-18",
        ),
        # A part paid, the rest "in" a while.
        (
            "paid half to the driver already, rest in a fortnight",
            "en_GB",
            Intent.PAY_LATER,
            "2026-12-02",
        ),
        # Another bill paid is why this one waits for the day named.
        (
            "the rent went out this morning, can I pay on the 25th?",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-25",
        ),
        (
            "j'ai déjà payé la cantine ce mois-ci, je vous règle lundi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-23",
        ),
        (
            "ya pagué el alquiler este mes, le pago el lunes",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-23",
        ),
        # A contest denied: the cost told after it is why the day.
        (
            "je me plains pas hein, c'est juste que le voyage a coûté plus que prévu,"
            " je vous règle le 5",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-05",
        ),
        # The fault named is the job paid for.
        ("je règle la facture de la fuite d'eau tout de suite", "fr_FR", Intent.PAY_NOW, None),
        (
            "je paie la facture de la panne de chaudière tout de suite",
            "fr_FR",
            Intent.PAY_NOW,
            None,
        ),
        # Days told with no pay verb, then "donc" and a payment now: why now, across clauses.
        ("samedi je travaille, du coup je paie tout de suite", "fr_FR", Intent.PAY_NOW, None),
        (
            "I'm at my mum's on friday with no signal, so I'm paying now",
            "en_GB",
            Intent.PAY_NOW,
            None,
        ),
    ],
)
def test_kinds_of_round_54(text: str, locale: str, reading: Intent, day: str | None) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    assert (found.intent, found.date) == (reading, dt.date.fromisoformat(day) if day else None)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("j'ai déjà payé les places vendredi", "fr_FR", Intent.ALREADY_PAID),
        ("je conteste rien mais la réparation a coûté plus que prévu", "fr_FR", Intent.DISPUTE),
        ("je règle la facture de la fuite, mais la fuite est revenue", "fr_FR", Intent.DISPUTE),
        ("bon arrêt des travaux demain", "fr_FR", Intent.PAY_LATER),
        # The reviews' lookalikes: this bill paid beside another, its money on the way.
        (
            "j'ai payé le loyer et votre facture hier, le virement arrive vendredi",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        (
            "I paid the rent and your invoice together, the transfer lands friday",
            "en_GB",
            Intent.ALREADY_PAID,
        ),
        ("je ne payerai jamais la facture de la fuite", "fr_FR", Intent.DISPUTE),
        ("jeudi je suis en déplacement, donc je vous paie vendredi", "fr_FR", Intent.PAY_LATER),
        # A reason given after "car": the day first is the promise.
        ("vendredi plutôt, car là tout de suite mon compte est bloqué", "fr_FR", Intent.PAY_LATER),
        # A denial taken back, a fault as the job refused.
        (
            "je me plains pas. toutefois l'intervention a coûté plus que prévu",
            "fr_FR",
            Intent.DISPUTE,
        ),
        (
            "aucune raison de payer la facture de la fuite, c'est la malfaçon de votre"
            " installateur",
            "fr_FR",
            Intent.DISPUTE,
        ),
        # A visit on a day gone by promises nothing.
        ("PAYER. merci au technicien d'être venu un samedi", "fr_FR", Intent.PAY_NOW),
    ],
)
def test_round_54_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "opts_out"),
    [
        # Whether the reminders stop once paid is asked, no stop asked.
        ("ok arrêt des relances dès que j'ai payé ? je paie ce soir", False),
        ("merci arrêt des sms dès que possible", True),
        ("bah arrêt des relances svp", True),
    ],
)
def test_round_54_stop_of_the_reminders_after_a_filler(text: str, opts_out: bool) -> None:
    found = understand_by_rules(text, locale="fr_FR", now=NOW, tz=TZ)
    assert (found.intent is Intent.OPT_OUT) is opts_out


@pytest.mark.parametrize("text", ["laissez moi tranquille", "fichez-moi la paix svp"])
def test_a_stop_said_alone_is_not_put_in_doubt_by_the_reader(text: str) -> None:
    found = understand(text, locale="fr_FR", now=NOW, tz=TZ)
    assert (found.intent, found.maybe_opt_out) == (Intent.OPT_OUT, False)


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # "sans stop" is without a break, not a stop.
        (
            "j'ai taffé sans stop toute la semaine, je vous règle samedi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-21",
            None,
        ),
        # A line to be taken off the bill: contested, whatever payment follows.
        (
            "knock the parking charge off the invoice and I'll pay it",
            "en_GB",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "borren la cuota de inscripción del recibo y lo pago",
            "es_ES",
            Intent.DISPUTE,
            None,
            None,
        ),
        # A call back asked for a time of day.
        ("vous pouvez me rappeler ce soir ?", "fr_FR", Intent.ASK_AGENT, None, None),
        # An amount contradicted in Spanish.
        ("la factura del taller está mal, eran 120 no 150", "es_ES", Intent.DISPUTE, None, None),
        # "no había problema" refuses nothing.
        (
            "¿puedo pagar el viernes? me dijeron que no habia problema",
            "es_ES",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        # The invoice named as what is paid, beside a week away: no service billed for nothing.
        (
            "Can I pay the piano lessons invoice on friday? we've been away all week and I'm"
            " behind on everything",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        # When something else happens, not the day promised.
        (
            "je peux régler le 5 ? le concert c'est pas avant mars de toute façon",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-05",
            None,
        ),
        # A day said, turned down with a reason, then another day: the other one.
        ("jeudi. non jeudi j'ai piscine, samedi", "fr_FR", Intent.PAY_LATER, "2026-11-21", None),
        # "je ferai ça" is the payment to come.
        (
            "samedi je suis au mariage de ma cousine, je ferai ça dimanche",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-22",
            None,
        ),
        # The wait asked of us is for the payment, whatever lessons it is for.
        (
            "pouvez-vous patienter jusqu'au 10 pour les cours de guitare ?",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-10",
            None,
        ),
        # Which payment this one is.
        ("is this the final instalment?", "en_GB", Intent.STATUS, None, None),
        # Thanks for organising.
        ("thanks for organising the fun run this weekend", "en_GB", Intent.SMALLTALK, None, None),
        # A count first, corrected, then what the bill is for.
        (
            "3 fois c'est jouable ? non 2 plutôt, c'est pour les lunettes de ma fille",
            "fr_FR",
            Intent.SPLIT,
            None,
            2,
        ),
        # A count said in jest, then the real one.
        ("en 10 fois ? je déconne, en 4 ça irait", "fr_FR", Intent.SPLIT, None, 4),
        ("could I spread it across 4 months?", "en_GB", Intent.SPLIT, None, 4),
        # Another provider paid, this bill promised.
        (
            "j'ai déjà payé le véto ce mois-ci, je vous règle vendredi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        # Half paid by cheque, the rest later.
        (
            "j'ai fait un chèque pour la moitié, le reste à la fin du mois",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-30",
            None,
        ),
        # Cut off after "ok and".
        ("ok and the", "en_GB", Intent.UNKNOWN, None, None),
        # Clearing the bill is paying it; the day is the lesson's.
        (
            "Before Thursday's lesson I'd like to clear the bill, send the link",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
    ],
)
def test_kinds_of_round_55(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    expected_day = dt.date.fromisoformat(day) if day else None
    assert (found.intent, found.date, found.parts) == (reading, expected_day, parts)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("je retire du liquide demain pour la facture", "fr_FR", Intent.PAY_LATER),
        ("pouvez-vous me rappeler le montant ?", "fr_FR", Intent.STATUS),
        ("my son was ill all month, why should I pay the invoice?", "en_GB", Intent.DISPUTE),
        ("je paie à Pâques", "fr_FR", Intent.PAY_LATER),
        ("c'est le dernier paiement, je le fais vendredi", "fr_FR", Intent.PAY_LATER),
        (
            "j'ai payé le dentiste et votre facture, le virement arrive vendredi",
            "fr_FR",
            Intent.ALREADY_PAID,
        ),
        ("en 3 fois, je plaisante pas", "fr_FR", Intent.SPLIT),
        ("3 no 2", "es_ES", Intent.SPLIT),
    ],
)
def test_round_55_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # A count refused, the new one asked "if that's doable".
        ("not 2 payments, 4 please if that's doable", "en_GB", Intent.SPLIT, None, 4),
        # The customer's own refund, or friends paying back: why the wait, no refund claimed.
        (
            "dès que le remboursement de la sécu arrive je vous règle, pas avant désolé",
            "fr_FR",
            Intent.PAY_LATER,
            None,
            None,
        ),
        (
            "je vous paie quand les copains me remboursent leur part",
            "fr_FR",
            Intent.PAY_LATER,
            None,
            None,
        ),
        # Never bought anything, whoever asks who we are.
        (
            "I've never purchased anything from your shop, who is this?",
            "en_GB",
            Intent.DISPUTE,
            None,
            None,
        ),
        # How to pay asked, a paper not understood.
        (
            "comment on vous paie ? j'ai rien compris au courrier",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # The broken thing named as the job paid for.
        ("jeudi sans faute pour la porte cassée", "fr_FR", Intent.PAY_LATER, "2026-11-19", None),
        # "le premier semestre" is no day of the month.
        (
            "je voudrais régler tout de suite le premier semestre de judo, envoyez le lien",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # Charged twice, the count said first.
        ("2 fois débité pour le stage de foot", "fr_FR", Intent.DISPUTE, None, None),
        # A visit to say goodbye.
        (
            "je passerai demain dire au revoir à la maîtresse, merci pour tout",
            "fr_FR",
            Intent.SMALLTALK,
            None,
            None,
        ),
        # "non j'ai jamais dit stop" refuses nothing.
        ("c'est bon pour moi, et non j'ai jamais dit stop", "fr_FR", Intent.YES, None, None),
        ("which is the last day for pay? thanks", "fr_FR", Intent.STATUS, None, None),
        # A bank card left somewhere is no payment.
        (
            "can I pay on friday? left my bank card at work",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        # Paid a salary, texted ("g été payée").
        (
            "g été payée hier finalement, je peux payer maintenant ?",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # A kiss after an ordinal day.
        ("I'll pay on the 3rd x", "en_GB", Intent.PAY_LATER, "2026-12-03", None),
        # The job named by its day, then how to pay asked.
        ("how do I pay? boiler servicing from monday", "en_GB", Intent.PAY_NOW, None, None),
        # A weekday cut short where only a day can stand.
        ("sun ok? we're away saturday", "en_GB", Intent.PAY_LATER, "2026-11-22", None),
        # A better count wished after the first.
        ("en 3 fois, voire 4 si c'est possible", "fr_FR", Intent.SPLIT, None, 4),
        # The code review's: a call back "quand vous avez un moment", "déduisez", a courtesy
        # after the question.
        (
            "pouvez-vous me rappeler ce soir quand vous avez un moment ?",
            "fr_FR",
            Intent.ASK_AGENT,
            None,
            None,
        ),
        (
            "déduisez les frais de déplacement et je vous règle lundi",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        ("is this the final instalment? thanks", "en_GB", Intent.STATUS, None, None),
    ],
)
def test_kinds_of_round_56(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    expected_day = dt.date.fromisoformat(day) if day else None
    assert (found.intent, found.date, found.parts) == (reading, expected_day, parts)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("sat down and paid it this morning", "en_GB", Intent.ALREADY_PAID),
        ("mon fils paiera vendredi", "fr_FR", Intent.PAY_LATER),
        ("je paie pas pour la vitre cassée", "fr_FR", Intent.DISPUTE),
        ("je paie mercredi pour la vitre que vous avez cassée", "fr_FR", Intent.DISPUTE),
        ("the money left my bank yesterday", "en_GB", Intent.ALREADY_PAID),
        ("will stop by the shop tomorrow", "en_GB", Intent.PAY_LATER),
        ("je paierai quand vous m'aurez remboursé le trop perçu", "fr_FR", Intent.DISPUTE),
        # The code review's lookalikes.
        ("vous m'envoyez des mails sans stop", "fr_FR", Intent.OPT_OUT),
        ("3 times I've asked, which invoice is this?", "en_GB", Intent.STATUS),
        ("oui ça me va et je serai là", "fr_FR", Intent.YES),
        (
            "enlevez la séance de jeudi de mon planning, je ne pourrai pas venir",
            "fr_FR",
            Intent.SMALLTALK,
        ),
        ("supprimez l'option sms, je préfère le mail", "fr_FR", Intent.HELP),
    ],
)
def test_round_56_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # A stop the customer asks not to be put on (the critical miss of round 56).
        (
            "ne me mettez pas en stop hein, je règle demain matin",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-19",
            None,
        ),
        ("don't put me on stop, I pay tomorrow", "en_GB", Intent.PAY_LATER, "2026-11-19", None),
        # The salon paid is the business, not a fair.
        (
            "away this weekend with no signal, I'll pay the salon next week",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-23",
            None,
        ),
        ("sorry i pay after-tomorow, card blocked", "en_GB", Intent.PAY_LATER, "2026-11-20", None),
        # Another bill paid, then this one promised.
        (
            "jpeux pas ce mois ci g deja payé le controle technique, je vous regle ca le 10",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-10",
            None,
        ),
        # Money awaited from an ex, the bill named as what is paid.
        (
            "la facture du centre aéré je la paye début du mois prochain, le temps que mon ex me"
            " rembourse sa part",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-01",
            None,
        ),
        (
            "début janvier pour la facture du carreleur, là ça passe pas du tout",
            "fr_FR",
            Intent.PAY_LATER,
            "2027-01-01",
            None,
        ),
        # Half handed over already: the rest is a promise.
        (
            "gave half to the coach in cash yesterday, rest on friday",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        # A fault fixed, thanked for.
        (
            "happy to pay straight away, cheers for sorting the leak so quickly",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "merci d'avoir réparé la fuite si vite, je paie maintenant",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # Two debits for one job, in sarcasm.
        (
            "bravo, 2 prelevements pour un seul detartrage, vraiment pro",
            "fr_FR",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "c quoi le num du club pour appeler ? le bureau est jamais ouvert",
            "fr_FR",
            Intent.ASK_AGENT,
            None,
            None,
        ),
        ("What do I do to pay you guys?", "en_GB", Intent.PAY_NOW, None, None),
        (
            "ok i have my salary today, i pay the nanny now, link pls",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "happy to pay right away, was going to wait till friday but let's just get it done",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "send me the link pls, want the nursery fees off my mind before monday",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "la CB est dans ma main, j'attends plus que votre lien",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # The link missing is not "not now".
        (
            "card in hand, where do I pay? the message doesnt show a link",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "quelles séances de soutien en maths ça couvre ? on en a sauté une",
            "fr_FR",
            Intent.STATUS,
            None,
            None,
        ),
        ("Could I split it over the next three months?", "en_GB", Intent.SPLIT, None, 3),
        ("two direct debits for one cleaning, great service", "en_GB", Intent.DISPUTE, None, None),
    ],
)
def test_kinds_of_round_57(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    expected_day = dt.date.fromisoformat(day) if day else None
    assert (found.intent, found.date, found.parts) == (reading, expected_day, parts)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("mettez moi en stop", "fr_FR", Intent.OPT_OUT),
        ("pas du tout", "fr_FR", Intent.NO),
        ("j'attends toujours mon remboursement et vous me facturez ??", "fr_FR", Intent.DISPUTE),
        ("thanks for fixing the leak, but it's leaking again", "en_GB", Intent.DISPUTE),
        ("je peux faire 2 prelevements pour une seule facture ?", "fr_FR", Intent.SPLIT),
        ("le colis est arrivé ouvert", "fr_FR", Intent.DISPUTE),
        ("what do I do to pay by cheque?", "en_GB", Intent.HELP),
        ("i pay when i have my salary", "en_GB", Intent.PAY_LATER),
        ("j'attends plus que ma paye pour regler", "fr_FR", Intent.PAY_LATER),
        ("I'm away over the next 2 months", "en_GB", Intent.UNKNOWN),
        # The review's lookalikes: a stop complained of, a split asked, an agreement.
        (
            "c'est dingue, vous ne me mettez jamais en stop alors que je le demande",
            "fr_FR",
            Intent.OPT_OUT,
        ),
        ("you do not put me on the stop list even after 3 requests", "en_GB", Intent.OPT_OUT),
        ("possible d'avoir 2 prélèvements pour un seul stage ?", "fr_FR", Intent.SPLIT),
        ("ok let's do it", "en_GB", Intent.YES),
    ],
)
def test_round_57_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # Our own message quoted (the critical miss of round 57).
        (
            "j'ai vu 'repondez STOP' mais moi je veux juste savoir si vous prenez les cheques",
            "fr_FR",
            Intent.HELP,
            None,
            None,
        ),
        (
            "I saw 'reply STOP' but I just want to know if you take cheques",
            "en_GB",
            Intent.HELP,
            None,
            None,
        ),
        (
            "Rather pay the lot today than drag it out over 3 months tbh",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # The broken thing named as the job taken in hand.
        (
            "ce week end je m'en occupe pour la vitre cassée",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-21",
            None,
        ),
        # The customer's own refund in.
        (
            "J'avais dit plus tard mais finalement le remboursement de la CAF est tombé, je paye"
            " maintenant",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        ("attendez jcherche ma cb et je paye", "fr_FR", Intent.PAY_NOW, None, None),
        ("Could I pay the venue hire in 4 monthly bits?", "en_GB", Intent.SPLIT, None, 4),
        # The season past, told as why.
        (
            "plus tard svp, la rentrée m'a ruinée entre les fournitures et les baskets",
            "fr_FR",
            Intent.PAY_LATER,
            None,
            None,
        ),
        ("vous pouvez étaler sur 4 mois au lieu de 3 ?", "fr_FR", Intent.SPLIT, None, 4),
        (
            "Hi, I'll sort out the tutoring invoice after payday, hope that's ok",
            "en_GB",
            Intent.PAY_LATER,
            None,
            None,
        ),
    ],
)
def test_kinds_of_round_58(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    expected_day = dt.date.fromisoformat(day) if day else None
    assert (found.intent, found.date, found.parts) == (reading, expected_day, parts)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        ("j'ai vu votre message, stop", "fr_FR", Intent.OPT_OUT),
        ("ok jai vu stop merci", "fr_FR", Intent.OPT_OUT),
        ("saw your text, STOP", "en_GB", Intent.OPT_OUT),
        # The code review's: a stop request after "I saw your text", "vous avez écrit".
        ("I saw your text stop messaging me", "en_GB", Intent.OPT_OUT),
        ("vous avez écrit 3 fois stop", "fr_FR", Intent.OPT_OUT),
        ("plus tard, la rentrée scolaire m'a ruinée", "fr_FR", Intent.PAY_LATER),
        ("c'est une fraude, je paie pas", "fr_FR", Intent.DISPUTE),
        ("vous m'avez facturé 4 mois au lieu de 3", "fr_FR", Intent.DISPUTE),
        ("can you sort out the invoice, it's wrong", "en_GB", Intent.DISPUTE),
        ("je paierai à la rentrée", "fr_FR", Intent.PAY_LATER),
    ],
)
def test_round_58_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading


@pytest.mark.parametrize(
    ("text", "locale", "reading", "day", "parts"),
    [
        # Our reply words listed in a question: asked about, not a stop.
        (
            "je comprends rien à votre message, c'est quoi ces PAYER, 3X, STOP ? je dois"
            " répondre quoi ?",
            "fr_FR",
            Intent.HELP,
            None,
            None,
        ),
        # The stop option turned down.
        (
            "the STOP option is not what I want, I just need until Friday",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        (
            "faut pas que je réponde STOP hein ? moi je veux juste payer la licence de basket,"
            " le lien svp",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        # A month gone by is no day; "we owe you nothing" contests.
        (
            "you've been texting non stop about a bill for a camp we cancelled back in october."
            " we owe you nothing",
            "en_GB",
            Intent.DISPUTE,
            None,
            None,
        ),
        (
            "c'est pas un STOP hein, je veux juste que qqn du cabinet me rappelle apres 18h",
            "fr_FR",
            Intent.ASK_AGENT,
            None,
            None,
        ),
        # A day turned down, another given.
        (
            "tomorrow isnt good, can i do it on friday?",
            "en_GB",
            Intent.PAY_LATER,
            "2026-11-20",
            None,
        ),
        (
            "mardi.. non attends mardi j'aurai pas encore ma paie, mettez jeudi",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-11-19",
            None,
        ),
        (
            "je conteste pas la facture de l'institut hein, je prefere juste payer dans 15 jours",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-03",
            None,
        ),
        (
            "a la rentree quand les enfants auront repris, la je suis ric rac",
            "fr_FR",
            Intent.PAY_LATER,
            "2027-09-01",
            None,
        ),
        (
            "pouvez vous attendre 15 jours ? c'est serré ce mois-ci",
            "fr_FR",
            Intent.PAY_LATER,
            "2026-12-03",
            None,
        ),
        ("4 fois possible au lieu de 3 ?", "fr_FR", Intent.SPLIT, None, 4),
        (
            "pas 3 versements svp, plutôt 5 c'est possible pour l'orthodontie ?",
            "fr_FR",
            Intent.SPLIT,
            None,
            5,
        ),
        ("pas 3 mensualités, 4 svp pour la crèche", "fr_FR", Intent.SPLIT, None, 4),
        (
            "vous proposez 3 mensualités mais jprefererais 5 si c possible",
            "fr_FR",
            Intent.SPLIT,
            None,
            5,
        ),
        # The summer camp names an event, not a day.
        (
            "envoyez moi le lien pour la colo de cet ete, je paye direct",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "Actually scrap the instalments, I'll just pay the whole riding lessons bill now",
            "en_GB",
            Intent.PAY_NOW,
            None,
            None,
        ),
        (
            "Please send me the reminders again, I missed the last deadline because I'd"
            " unsubscribed",
            "en_GB",
            Intent.OPT_IN,
            None,
            None,
        ),
        # Told never to come again: a stop (was read as the messages asked back).
        ("never send me texts again", "en_GB", Intent.OPT_OUT, None, None),
        ("bon j'ai ma paie, je paye maintenant", "fr_FR", Intent.PAY_NOW, None, None),
        ("my mum covered my physio bill", "en_GB", Intent.ALREADY_PAID, None, None),
        (
            "will sort the nursery fees after payday, sorry!!",
            "en_GB",
            Intent.PAY_LATER,
            None,
            None,
        ),
        (
            "je prefere payer maintenant que d'y repenser lundi",
            "fr_FR",
            Intent.PAY_NOW,
            None,
            None,
        ),
        ("omw, save me a seat x", "en_GB", Intent.SMALLTALK, None, None),
    ],
)
def test_kinds_of_round_59(
    text: str, locale: str, reading: Intent, day: str | None, parts: int | None
) -> None:
    found = understand_by_rules(text, locale=locale, now=NOW, tz=TZ)
    expected_day = dt.date.fromisoformat(day) if day else None
    assert (found.intent, found.date, found.parts) == (reading, expected_day, parts)


@pytest.mark.parametrize(
    ("text", "locale", "reading"),
    [
        # The review's: one word before a lone STOP is no list of our reply words.
        ("je refuse de payer, STOP. vous comprenez ?", "fr_FR", Intent.OPT_OUT),
        ("I'll pay later, STOP. how many times?", "en_GB", Intent.OPT_OUT),
        ("no voy a pagar, STOP ¿entienden?", "es_ES", Intent.OPT_OUT),
        ("the STOP option is what I want", "en_GB", Intent.OPT_OUT),
        ("faut pas que j'écrive STOP ? j'en ai marre de vos sms", "fr_FR", Intent.OPT_OUT),
        ("non, stop", "fr_FR", Intent.OPT_OUT),
        ("je réglerai quand les cours manqués seront remboursés", "fr_FR", Intent.DISPUTE),
        ("we don't owe you anything, right?", "en_GB", Intent.STATUS),
        ("do I owe you anything?", "en_GB", Intent.STATUS),
        ("I'll pay you back end of march", "en_GB", Intent.PAY_LATER),
        ("quand j'ai ma paie je vous règle", "fr_FR", Intent.PAY_LATER),
        ("I don't want you to text me again", "en_GB", Intent.OPT_OUT),
        ("send me texts again please", "en_GB", Intent.OPT_IN),
    ],
)
def test_round_59_lookalikes_keep_their_reading(text: str, locale: str, reading: Intent) -> None:
    assert understand_by_rules(text, locale=locale, now=NOW, tz=TZ).intent is reading
